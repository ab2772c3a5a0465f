package merch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// object is a JSON object kept in its members' order, values raw.
type object struct {
	keys []string
	vals []json.RawMessage
}

// parseObject reads a JSON object; ok is false when raw is not one.
func parseObject(raw []byte) (*object, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	o := &object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		o.keys, o.vals = append(o.keys, key), append(o.vals, v)
	}
	return o, true
}

// get returns the value of key, or nil.
func (o *object) get(key string) json.RawMessage {
	for i, k := range o.keys {
		if k == key {
			return o.vals[i]
		}
	}
	return nil
}

// set replaces the value of key.
func (o *object) set(key string, v json.RawMessage) {
	for i, k := range o.keys {
		if k == key {
			o.vals[i] = v
			return
		}
	}
}

// encode writes the object back, members in their order.
func (o *object) encode() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(o.vals[i])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// parseArray reads a JSON array's elements raw; ok is false when raw is not one.
func parseArray(raw []byte) ([]json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, false
	}
	return out, true
}

// encodeArray writes elements as a JSON array.
func encodeArray(elems []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// stringAt returns the string member key of an object, or "".
func stringAt(raw json.RawMessage, key string) string {
	o, ok := parseObject(raw)
	if !ok {
		return ""
	}
	var s string
	_ = json.Unmarshal(o.get(key), &s)
	return s
}

// walk calls visit for every object reached from raw along path (response keys; arrays are
// walked element by element) and returns raw with the objects visit changed; visit returns
// the new object, or nil for unchanged.
func walk(raw json.RawMessage, path []string, visit func(json.RawMessage) (json.RawMessage, error)) (json.RawMessage, bool, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return raw, false, nil
	}
	if trimmed[0] == '[' {
		elems, ok := parseArray(trimmed)
		if !ok {
			return raw, false, errors.New("invalid array")
		}
		changed := false
		for i, e := range elems {
			out, c, err := walk(e, path, visit)
			if err != nil {
				return raw, false, err
			}
			if c {
				elems[i], changed = out, true
			}
		}
		if !changed {
			return raw, false, nil
		}
		return encodeArray(elems), true, nil
	}
	if len(path) == 0 {
		out, err := visit(trimmed)
		if err != nil || out == nil {
			return raw, false, err
		}
		return out, true, nil
	}
	o, ok := parseObject(trimmed)
	if !ok {
		return raw, false, fmt.Errorf("expected an object at %q", path[0])
	}
	child := o.get(path[0])
	if child == nil {
		return raw, false, nil
	}
	out, changed, err := walk(child, path[1:], visit)
	if err != nil || !changed {
		return raw, false, err
	}
	o.set(path[0], out)
	return o.encode(), true, nil
}
