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

// parseObject reads a JSON object; ok is false when raw is not one. raw must be valid JSON
// (Rewrite checks the answer once): the members are found by scanning, not decoded.
func parseObject(raw []byte) (*object, bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	o := &object{}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return o, true
	}
	for i < len(raw) {
		if raw[i] != '"' {
			return nil, false
		}
		end := skipValue(raw, i)
		if end < 0 {
			return nil, false
		}
		key, ok := decodeKey(raw[i:end])
		if !ok {
			return nil, false
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		start := skipSpace(raw, i+1)
		end = skipValue(raw, start)
		if end < 0 {
			return nil, false
		}
		o.keys, o.vals = append(o.keys, key), append(o.vals, json.RawMessage(raw[start:end]))
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
			continue
		}
		return o, i < len(raw) && raw[i] == '}'
	}
	return nil, false
}

// decodeKey decodes a JSON string, quotes included.
func decodeKey(quoted []byte) (string, bool) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1]), true
	}
	var s string
	return s, json.Unmarshal(quoted, &s) == nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := skipValue(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
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

// parseArray reads a JSON array's elements raw; ok is false when raw is not one. Like
// parseObject it scans valid JSON.
func parseArray(raw []byte) ([]json.RawMessage, bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, false
	}
	out := []json.RawMessage{}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return out, true
	}
	for i < len(raw) {
		end := skipValue(raw, i)
		if end < 0 {
			return nil, false
		}
		out = append(out, json.RawMessage(raw[i:end]))
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
			continue
		}
		return out, i < len(raw) && raw[i] == ']'
	}
	return nil, false
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
