package cartql

import (
	"encoding/json"
	"errors"
	"sort"
	"testing"
)

// FuzzRewrite feeds arbitrary backend bodies to Rewrite and Strip under the plans of the
// golden cases: they must never panic, and whatever they return successfully is JSON without
// a hidden key. The seeds are the golden inputs.
func FuzzRewrite(f *testing.F) {
	pl := newPlanner(f)
	cases := loadCases(f)
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	var plans []*Plan
	var vars []map[string]any
	for i, name := range names {
		c := cases[name]
		p := mustPlan(f, pl, c.Query, c.OperationName)
		plans = append(plans, p)
		vars = append(vars, c.Variables)
		f.Add(uint8(i), c.body(f, p))
	}
	f.Add(uint8(0), []byte(`{"data":{"cart":{"_aud_items":[],"_aud_prices":{},"_aud_coupons":null,"_aud_ship":[]},"x":{"_aud_\u0078":1,"_aud_y":{"_aud_z":2}}},"errors":[{"path":["_aud_q"]},{"path":["cart"],"locations":[{"line":1,"column":900}]}]}`))
	f.Add(uint8(1), []byte(`{"data":{"a":[{"prices":null},null,{"_aud_items":null}]},"errors":[]}`))
	eval := evaluator(testRules(f), "vip", "shipfan", "fixed")
	opt := RewriteOptions{Store: "default", TaxAfterDiscount: true}
	f.Fuzz(func(t *testing.T, sel uint8, body []byte) {
		i := int(sel) % len(plans)
		p := plans[i]
		if out, _, err := p.Rewrite(body, vars[i], eval, opt); err == nil {
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
// every node's bytes are themselves valid JSON.
func FuzzTape(f *testing.F) {
	for _, c := range loadCases(f) {
		if c.ResponseText != "" {
			f.Add([]byte(c.ResponseText))
		} else {
			f.Add([]byte(c.Response))
		}
	}
	for _, s := range []string{`"\u00e9\"\\"`, `[1,-0.5e+3,true,false,null]`, `{"a" : { } , "b":[ ]}`, "\"a\x01\"", `01`, `1.`, `"\ud800"`, `{"_aud_x":1,"\u005faud_y":2}`} {
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
		for _, m := range tp.hidden {
			nd := tp.nodes[m.node]
			if !hiddenKey(tp.src[nd.key:nd.keyEnd], nd.keyEsc) {
				t.Fatalf("node %d listed as hidden", m.node)
			}
		}
	})
}
