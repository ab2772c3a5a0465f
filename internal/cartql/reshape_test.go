package cartql

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// reshape turns a response to old's augmented query into the response to p's: the model of
// the backend's data is rebuilt from body (response keys mapped back to field names, hidden
// copies merged with the client's fields) and p's query executed on it again. Errors are
// kept, their locations moved from old's augmented query to p's. It lets the golden cases,
// written for hidden-only plans, check the plans that read the client's own fields.
func reshape(t testing.TB, old, p *Plan, vars map[string]any, body []byte) []byte {
	t.Helper()
	var resp struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("reshape: %v", err)
	}
	var out bytes.Buffer
	out.WriteByte('{')
	if resp.Errors != nil {
		out.WriteString(`"errors":[`)
		for i, e := range resp.Errors {
			if i > 0 {
				out.WriteByte(',')
			}
			out.Write(moveLocations(t, old, p, e))
		}
		out.WriteString(`]`)
		if resp.Data == nil {
			out.WriteByte('}')
			return out.Bytes()
		}
		out.WriteByte(',')
	}
	out.WriteString(`"data":`)
	var data any
	d := json.NewDecoder(bytes.NewReader(resp.Data))
	d.UseNumber()
	if err := d.Decode(&data); err != nil {
		t.Fatalf("reshape: %v", err)
	}
	if data == nil {
		out.WriteString("null}")
		return out.Bytes()
	}
	oldDoc, oldOp := parseOperation(t, old.Query(), old.OperationName())
	col := &collector{frags: fragments(oldDoc)}
	model := unalias(col, []occ{{f: &ast.Field{SelectionSet: oldOp.SelectionSet}}}, data)
	doc, op := parseOperation(t, p.Query(), p.OperationName())
	executed := executeModel(t, doc, op, vars, model.(map[string]any))
	out.Write(bytes.TrimPrefix(executed, []byte(`{"data":`)))
	return out.Bytes()
}

func parseOperation(t testing.TB, query, name string) (*ast.QueryDocument, *ast.OperationDefinition) {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("reshape: %v", err)
	}
	op, err := operation(doc, name)
	if err != nil {
		t.Fatal(err)
	}
	return doc, op
}

func fragments(doc *ast.QueryDocument) map[string]*ast.FragmentDefinition {
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		frags[f.Name] = f
	}
	return frags
}

// unalias maps a response value selected by occs back to a model keyed by field names (and
// arguments, for fields that have them). Fields selected twice are merged.
func unalias(col *collector, occs []occ, v any) any {
	switch v := v.(type) {
	case map[string]any:
		children := col.collectAll(occs)
		model := map[string]any{}
		keys := slices.Collect(maps.Keys(v))
		// The client's fields first: where test data disagrees, they win.
		slices.SortFunc(keys, func(a, b string) int {
			ha, hb := strings.HasPrefix(a, HiddenPrefix), strings.HasPrefix(b, HiddenPrefix)
			switch {
			case ha == hb:
				return strings.Compare(a, b)
			case hb:
				return -1
			}
			return 1
		})
		for _, key := range keys {
			val := v[key]
			var sub []occ
			name := ""
			for _, c := range children {
				if c.key == key {
					name = c.f.Name + printArgs(c.f.Arguments)
					sub = append(sub, c)
				}
			}
			if name == "" {
				continue
			}
			model[name] = merge(model[name], unalias(col, sub, val))
		}
		return model
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = unalias(col, occs, e)
		}
		return out
	}
	return v
}

// merge combines two models of one field: objects key by key, lists of one length element
// by element; otherwise the value that is not null.
func merge(a, b any) any {
	switch a := a.(type) {
	case nil:
		return b
	case map[string]any:
		if bm, ok := b.(map[string]any); ok {
			for k, v := range bm {
				a[k] = merge(a[k], v)
			}
		}
		return a
	case []any:
		if bl, ok := b.([]any); ok && len(bl) == len(a) {
			for i := range a {
				a[i] = merge(a[i], bl[i])
			}
		}
		return a
	}
	return a
}

// moveLocations moves the locations of error e from old's augmented query to p's.
func moveLocations(t testing.TB, old, p *Plan, e json.RawMessage) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e, &m); err != nil {
		t.Fatal(err)
	}
	raw, ok := m["locations"]
	if !ok {
		return e
	}
	var locs []struct{ Line, Column int }
	if err := json.Unmarshal(raw, &locs); err != nil {
		t.Fatal(err)
	}
	for i, l := range locs {
		client := remapColumn(old.ins, l.Line, l.Column)
		locs[i].Column = forwardColumn(p.ins, l.Line, client)
	}
	var b bytes.Buffer
	b.WriteString(`{`)
	// Keep the members in the order they came in.
	d := json.NewDecoder(bytes.NewReader(e))
	d.UseNumber()
	first := true
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		key := tok.(string)
		var val json.RawMessage
		if err := d.Decode(&val); err != nil {
			t.Fatal(err)
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		if key == "locations" {
			var parts [][]byte
			for _, l := range locs {
				parts = append(parts, []byte(`{"line":`+strconv.Itoa(l.Line)+`,"column":`+strconv.Itoa(l.Column)+`}`))
			}
			b.WriteString("[" + string(bytes.Join(parts, []byte(","))) + "]")
			continue
		}
		var c bytes.Buffer
		if err := json.Compact(&c, val); err != nil {
			t.Fatal(err)
		}
		b.Write(c.Bytes())
	}
	b.WriteByte('}')
	return b.Bytes()
}

// forwardColumn maps a column of the client's query to the augmented query (the inverse of
// remapColumn outside hidden text).
func forwardColumn(ins []insertion, line, col int) int {
	shift := 0
	for _, in := range ins {
		if in.line == line && in.col <= col {
			shift += len(in.text)
		}
	}
	return col + shift
}
