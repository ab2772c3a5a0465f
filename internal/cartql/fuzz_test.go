package cartql

import (
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"testing"
)

// FuzzRewrite feeds arbitrary backend bodies to Rewrite and Strip under the plans of the
// golden cases: they must never panic, and whatever they return successfully is JSON without
// a hidden key. The seeds are the golden inputs.
func FuzzRewrite(f *testing.F) {
	pl := newPlanner(f)
	hiddenOnly, err := NewPlanner(Options{HiddenOnly: true})
	if err != nil {
		f.Fatal(err)
	}
	cases := loadCases(f)
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	var plans []*Plan
	var vars []map[string]any
	for _, name := range names {
		c := cases[name]
		// The plan that reads the client's fields and its body, then the hidden-only one.
		p, body := c.reused(f, pl)
		f.Add(uint8(len(plans)), body)
		plans, vars = append(plans, p), append(vars, c.Variables)
		old := mustPlan(f, hiddenOnly, c.Query, c.OperationName)
		f.Add(uint8(len(plans)), c.body(f, old))
		plans, vars = append(plans, old), append(vars, c.Variables)
	}
	f.Add(uint8(0), []byte(`{"data":{"cart":{"_aud_items":[],"_aud_prices":{},"_aud_coupons":null,"_aud_ship":[]},"x":{"_aud_\u0078":1,"_aud_y":{"_aud_z":2}}},"errors":[{"path":["_aud_q"]},{"path":["cart"],"locations":[{"line":1,"column":900}]}]}`))
	f.Add(uint8(1), []byte(`{"data":{"a":[{"prices":null},null,{"_aud_items":null}]},"errors":[]}`))
	eval := evaluator(testRules(f), "vip", "shipfan", "fixed")
	opt := RewriteOptions{Store: "default", TaxAfterDiscount: true}
	f.Fuzz(func(t *testing.T, sel uint8, body []byte) {
		i := int(sel) % len(plans)
		p := plans[i]
		if out, _, err := rewriteChecked(t, p, body, vars[i], eval, opt); err == nil {
			checkClean(t, "rewrite", body, out)
		}
		if out, err := p.Strip(body); err == nil {
			checkClean(t, "strip", body, out)
		}
	})
}

func checkClean(t *testing.T, what string, in, out []byte) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("%s returned invalid JSON for %q:\n%s", what, in, out)
	}
	if keys := hiddenKeys(t, out); len(keys) > 0 {
		t.Fatalf("%s left hidden keys %v for %q:\n%s", what, keys, in, out)
	}
}

// FuzzTape checks the JSON indexer against encoding/json: same verdict on validity, and
// every node's bytes are themselves valid JSON. Indexed by a shape that skips most of the
// body, it gives the same verdict and finds the same hidden members.
func FuzzTape(f *testing.F) {
	for _, c := range loadCases(f) {
		if c.ResponseText != "" {
			f.Add([]byte(c.ResponseText))
		} else {
			f.Add([]byte(c.Response))
		}
	}
	for _, s := range []string{`{"data":{"cart":{"a":[{"b":1}],"x":{"y":[{"_aud_z":1}]}},"p":{"q":[1,{"r":"\u005faud_s"}]}}}`, `{"data":{"x":[[[{"\u005faud_y":2}]]]}}`, `"\u00e9\"\\"`, `[1,-0.5e+3,true,false,null]`, `{"a" : { } , "b":[ ]}`, "\"a\x01\"", `01`, `1.`, `"\ud800"`, `{"_aud_x":1,"\u005faud_y":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var tp tape
		err := tp.parse(body)
		if valid := json.Valid(body); valid != (err == nil) && !(valid && errors.Is(err, errDepth)) {
			t.Fatalf("parse error %v, json.Valid %v for %q", err, valid, body)
		}
		if err != nil {
			return
		}
		for i := range tp.nodes {
			if !json.Valid(tp.raw(int32(i))) {
				t.Fatalf("node %d %q is not a JSON value", i, tp.raw(int32(i)))
			}
		}
		var keys []int32
		for _, m := range tp.hidden {
			nd := tp.nodes[m.node]
			if !hiddenKey(tp.src[nd.key:nd.keyEnd], nd.keyEsc) {
				t.Fatalf("node %d listed as hidden", m.node)
			}
			keys = append(keys, nd.key)
		}
		var shaped tape
		if err := shaped.parseShape(body, fuzzShape); err != nil {
			t.Fatalf("shaped parse: %v for %q", err, body)
		}
		var shapedKeys []int32
		for _, m := range shaped.hidden {
			shapedKeys = append(shapedKeys, shaped.nodes[m.node].key)
		}
		if !slices.Equal(keys, shapedKeys) {
			t.Fatalf("hidden members at %v, shaped %v for %q", keys, shapedKeys, body)
		}
		for i := range shaped.nodes {
			if !json.Valid(shaped.raw(int32(i))) {
				t.Fatalf("shaped node %d %q is not a JSON value", i, shaped.raw(int32(i)))
			}
		}
	})
}

// fuzzShape indexes errors, data.cart.a and everything under data.x.y; the rest is skipped.
var fuzzShape = func() shapeTable {
	s := &shape{}
	s.full("errors")
	cart := s.child("data").child("cart")
	cart.full("a")
	cart.child("x").full("y")
	return s.compile()
}()
