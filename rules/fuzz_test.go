package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// fuzzCart is evaluated against every rule file the fuzzer manages to decode.
const fuzzCart = `{"currency": "USD", "store": "default", "coupons": ["WELCOME10"], "shipping_amount": 7.5,
  "items": [{"sku": "24-MB01", "qty": 3, "price": 34, "discount": 6.8}, {"sku": "24-WG02", "qty": 1, "price": 0.15},
            {"sku": "MH01", "qty": 2, "price": 52, "product_type": "configurable"}]}`

func FuzzDecode(f *testing.F) {
	for _, gc := range loadJSONFiles[goldenCase](f, "golden") {
		f.Add([]byte(gc.Rules))
	}
	if data, err := os.ReadFile(filepath.Join("..", "examples", "rules.json")); err == nil {
		f.Add(data)
	}
	for _, g := range loadJSONFiles[merchGolden](f, "merch") {
		f.Add([]byte(g.Rules))
	}
	for _, s := range []string{
		``, `{}`, `{"rules": []}`, `{"rules": [{}]}`, `{"rules": [null]}`, `[`, `{"rules": [{"id": "x"}]}`,
		`{"timezone": "Europe/Paris", "rules": [{"id": "a", "from": "2026-01-01", "to": "2026-01-01T10:00:00Z", "action": {"type": "by_fixed", "amount": 1e2}}]}`,
		`{"rules": [{"id": "a", "conditions": {"subselect": {"items": {"not": {"field": "sku", "op": "matches", "value": "*?*"}}, "field": "qty", "op": "in", "value": [1, 2.5]}}, "action": {"type": "cart_fixed", "amount": 10, "apply_to_shipping": true}}]}`,
		`{"rules": [{"id": "a", "enforce": {"coupon": "X"}}, {"id": "b", "enforce": {"coupon": "x"}}]}`,
		`{"rules": [{"id": "a", "coupon": "welcome10", "action": {"type": "by_percent", "amount": 10}}, {"id": "b", "coupon": "Y", "enforce": {"coupon": "Z"}}]}`,
		`{"rules": [{"id": "a", "audiences": {"all": ["s1", "s2"]}, "stop_further_rules": true, "action": {"type": "buy_x_get_y", "amount": 1, "step": 2, "max_qty": 3}}]}`,
		`{"rules": [{"id": "\u00e9", "action": {"type": "by_percent", "amount": 100.00001}}]}`,
		`{"merchandising": []}`, `{"merchandising": [{}]}`, `{"merchandising": [null]}`, `{"rules": [], "merchandising": [{"id": "x"}]}`,
		`{"merchandising": [{"id": "a", "products": {"not": {"field": "type", "op": "in", "value": ["simple"]}}, "lists": ["upsell"], "add": ["24-MB01", "P"], "limit": 1, "remove": ["*"], "first": ["?"]}]}`,
		`{"merchandising": [{"id": "a", "audiences": {"any": ["s1"]}, "stop_further_rules": true, "blocks": {"show": ["x"], "hide": ["y"], "replace": {"z": "x"}}}, {"id": "b", "blocks": {"hide": ["x"]}}]}`,
		`{"rules": [{"id": "a", "action": {"type": "by_fixed", "amount": 1}}], "merchandising": [{"id": "a", "add": ["A", "a"], "blocks": {}}]}`,
	} {
		f.Add([]byte(s))
	}
	cart, err := DecodeCart([]byte(fuzzCart))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Decode(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			if _, err2 := Decode(data); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("decoding is not deterministic: %v vs %v", err, err2)
			}
			return
		}
		for _, segs := range [][]string{nil, {"s1", "s2"}, {"6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"}} {
			res := rs.Evaluate(cart, segs, noon)
			checkInvariants(t, rs, cart, res)
			if out, err := json.Marshal(res); err != nil || !json.Valid(out) {
				t.Fatalf("result JSON %s: %v", out, err)
			}
			rs.Qualifying(cart, segs, noon)
		}
		for _, r := range rs.Rules() {
			if out, err := json.Marshal(r); err != nil || !json.Valid(out) {
				t.Fatalf("rule JSON %s: %v", out, err)
			}
		}
		fuzzMerchandising(t, rs)
	})
}

// fuzzMerchandising evaluates a decoded set's merchandising rules and checks their
// invariants.
func fuzzMerchandising(t *testing.T, rs *RuleSet) {
	for _, m := range rs.Merchandising() {
		if out, err := json.Marshal(m); err != nil || !json.Valid(out) {
			t.Fatalf("merchandising rule JSON %s: %v", out, err)
		}
	}
	p := Product{SKU: "P", Type: "simple"}
	in := []string{"24-MB01", "24-WB04", "A"}
	for _, segs := range [][]string{nil, {"s1", "s2"}} {
		for _, list := range productLists {
			res := rs.ProductList(p, list, in, segs, noon, Scope{Store: "default", Website: "base"}, EvalOptions{})
			checkListInvariants(t, rs, p, in, res)
			if out, err := json.Marshal(res); err != nil || !json.Valid(out) {
				t.Fatalf("list result JSON %s: %v", out, err)
			}
		}
		res := rs.Blocks([]string{"x", "y", "z", "home"}, segs, noon, Scope{Store: "default"}, EvalOptions{})
		if out, err := json.Marshal(res); err != nil || !json.Valid(out) {
			t.Fatalf("blocks result JSON %s: %v", out, err)
		}
	}
}

func FuzzDecodeCart(f *testing.F) {
	f.Add([]byte(fuzzCart))
	f.Add([]byte(`{"items": [{"qty": 1e5, "price": 99999999999}]}`))
	f.Add([]byte(`{"items": [{"qty": 0.0000000000000000001, "price": 1}]}`))
	rs, err := Decode([]byte(`{"rules": [
	  {"id": "p", "action": {"type": "by_percent", "amount": 33.3333, "apply_to_shipping": true}},
	  {"id": "c", "action": {"type": "cart_fixed", "amount": 99.99, "apply_to_shipping": true}},
	  {"id": "x", "action": {"type": "buy_x_get_y", "amount": 1, "step": 1}}]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cart, err := DecodeCart(data)
		if err != nil {
			return
		}
		res := rs.Evaluate(cart, nil, noon)
		checkInvariants(t, rs, cart, res)
	})
}

func FuzzDecodeSimulation(f *testing.F) {
	f.Add([]byte(fuzzCart))
	f.Add([]byte(`{"products": [{"sku": "P", "type": "simple", "related": ["A", "a"], "upsell": [], "crosssell": ["P"]}], "blocks": ["x", "x", ""]}`))
	f.Add([]byte(`{"products": [{"sku": ""}], "blocks": [1]}`))
	for _, g := range loadJSONFiles[merchGolden](f, "merch") {
		for _, c := range g.Cases {
			f.Add([]byte(c.Input))
		}
	}
	rs, err := Decode([]byte(`{"rules": [{"id": "p", "action": {"type": "by_percent", "amount": 10}}], "merchandising": [
	  {"id": "l", "remove": ["a*"], "add": ["B", "P", "24-MB01"], "first": ["B"]},
	  {"id": "b", "audiences": {"none": ["s1"]}, "blocks": {"show": ["x"], "replace": {"y": "z"}}}]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sim, err := DecodeSimulation(data)
		if err != nil {
			return
		}
		res := rs.Simulate(sim, []string{"s2"}, noon)
		if out, err := json.Marshal(res); err != nil || !json.Valid(out) {
			t.Fatalf("simulation JSON %s: %v", out, err)
		}
		if (res.Merchandising != nil) != sim.HasMerchandising() {
			t.Fatalf("merchandising %v for %s", res.Merchandising, data)
		}
	})
}
