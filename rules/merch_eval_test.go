package rules

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestSimulationWithoutMerchandisingIsTheCartResult(t *testing.T) {
	for name, gc := range loadJSONFiles[goldenCase](t, "golden") {
		rs, err := Decode(gc.Rules)
		if err != nil {
			t.Fatal(err)
		}
		cart, err := DecodeCart(gc.Cart)
		if err != nil {
			t.Fatal(err)
		}
		sim, err := DecodeSimulation(gc.Cart)
		if err != nil {
			t.Fatalf("%s: DecodeSimulation: %v", name, err)
		}
		want, _ := json.Marshal(rs.Evaluate(cart, gc.Segments, noon))
		res := rs.Simulate(sim, gc.Segments, noon)
		got, _ := json.Marshal(res)
		value, _ := json.Marshal(*res)
		if string(got) != string(want) || string(value) != string(want) || res.Merchandising != nil {
			t.Errorf("%s: simulate\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestDecodeSimulationErrors(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`{"products": {}}`, []string{`products: must be an array, got object`}},
		{`{"products": [1]}`, []string{`products[0]: must be an object, got number`}},
		{`{"products": [{"type": 1, "related": "A", "upsell": [1], "similar": []}]}`, []string{
			`products[0].similar: unknown field`,
			`products[0].sku: required: a non-empty string`,
			`products[0].type: must be a string, got number`,
			`products[0].related: must be an array of strings, got string`,
			`products[0].upsell[0]: must be a string, got number`,
		}},
		{`{"blocks": "x", "items": [{"sku": "A", "qty": -1, "price": 1}], "extra": 1}`, []string{
			`extra: unknown field`,
			`items[0].qty: must not be negative, got -1`,
			`blocks: must be an array of strings, got string`,
		}},
		{`[]`, []string{`cart must be a JSON object`}},
	}
	for _, tt := range tests {
		_, err := DecodeSimulation([]byte(tt.in))
		de, ok := err.(*DecodeError)
		if !ok || !slices.Equal(de.Problems, tt.want) {
			t.Errorf("%s: problems\n got %v\nwant %q", tt.in, err, tt.want)
		}
	}
	// The cart decoder itself still refuses products and blocks.
	if _, err := DecodeCart([]byte(`{"products": [], "blocks": []}`)); err == nil || !strings.Contains(err.Error(), "products: unknown field") {
		t.Errorf("DecodeCart accepts products: %v", err)
	}
	sim, err := DecodeSimulation([]byte(`{"products": [{"sku": "A", "crosssell": ["B"], "related": []}], "blocks": []}`))
	if err != nil || !sim.HasMerchandising() || sim.Blocks == nil || len(sim.Products[0].Lists) != 2 ||
		sim.Products[0].Lists[0].Name != ListRelated || sim.Products[0].Lists[1].Name != ListCrosssell {
		t.Errorf("DecodeSimulation = %+v, %v", sim, err)
	}
}

const traceRules = `{"merchandising": [
  {"id": "vip", "audiences": {"any": ["vip"]}, "add": ["V"]},
  {"id": "all", "add": ["E"]},
  {"id": "gold-block", "audiences": {"any": ["gold"]}, "blocks": {"hide": ["h"]}},
  {"id": "vip-block", "audiences": {"any": ["vip"]}, "blocks": {"show": ["s"]}},
  {"id": "block-all", "blocks": {"replace": {"r": "r2"}}}
]}`

func traceStrings(trace []TraceEntry) []string {
	var out []string
	for _, e := range trace {
		s := e.RuleID + "="
		if e.Applied {
			s += "applied"
		} else {
			s += e.Reason
		}
		out = append(out, s)
	}
	return out
}

func TestMerchandisingTraceModes(t *testing.T) {
	rs := mustDecode(t, traceRules)
	p := Product{SKU: "P", Type: "simple"}
	items := []string{"A"}
	for _, tt := range []struct {
		mode   TraceMode
		lists  []string
		blocks []string
	}{
		{TraceAll, []string{"all=applied", "vip=audience_mismatch"},
			[]string{"block-all=applied", "gold-block=audience_mismatch", "vip-block=applied"}},
		{TraceCandidates, []string{"all=applied"}, []string{"block-all=applied", "vip-block=applied"}},
		{TraceOff, nil, nil},
	} {
		l := rs.ProductList(p, ListRelated, items, nil, noon, Scope{}, EvalOptions{Trace: tt.mode})
		if got := traceStrings(l.Trace); !slices.Equal(got, tt.lists) || !slices.Equal(l.Items, []string{"A", "E"}) {
			t.Errorf("mode %d: list trace %v, items %v", tt.mode, got, l.Items)
		}
		b := rs.Blocks([]string{"s", "h", "r"}, nil, noon, Scope{}, EvalOptions{Trace: tt.mode})
		if got := traceStrings(b.Trace); !slices.Equal(got, tt.blocks) {
			t.Errorf("mode %d: blocks trace %v", tt.mode, got)
		}
		want := []BlockDecision{{ID: "s", Action: BlockHide, RuleID: "vip-block"}, {ID: "h", Action: BlockKeep},
			{ID: "r", Action: BlockReplace, With: "r2", RuleID: "block-all"}}
		if !slices.Equal(b.Blocks, want) || !b.Changed {
			t.Errorf("mode %d: blocks %+v", tt.mode, b)
		}
	}
}

func TestProductListUnchangedIsTheInput(t *testing.T) {
	rs := mustDecode(t, merchFile(`{"id": "vip", "audiences": {"any": ["vip"]}, "lists": ["upsell"], "add": ["V"]}`))
	items := []string{"A", "B"}
	for _, list := range []string{ListRelated, ListUpsell, "unknown"} {
		for _, mode := range []TraceMode{TraceAll, TraceOff} {
			res := rs.ProductList(Product{SKU: "P"}, list, items, nil, noon, Scope{}, EvalOptions{Trace: mode})
			if res.Changed || &res.Items[0] != &items[0] || res.Added != nil || res.Removed != nil || res.List != list {
				t.Errorf("%s, mode %d: %+v", list, mode, res)
			}
		}
	}
	res := rs.ProductList(Product{SKU: "P"}, "unknown", items, []string{"vip"}, noon, Scope{}, EvalOptions{})
	if got := traceStrings(res.Trace); !slices.Equal(got, []string{"vip=list_mismatch"}) {
		t.Errorf("unknown list: trace %v", got)
	}
	// A list that rules change back to what it was is unchanged, though the rules applied.
	rs = mustDecode(t, merchFile(`{"id": "a", "first": ["B"]}`, `{"id": "b", "first": ["A"]}`))
	res = rs.ProductList(Product{SKU: "P"}, ListRelated, items, nil, noon, Scope{}, EvalOptions{})
	if res.Changed || !slices.Equal(res.Items, items) || !slices.Equal(traceStrings(res.Trace), []string{"a=applied", "b=applied"}) {
		t.Errorf("back and forth: %+v", res)
	}
}

func TestBlocksShortcut(t *testing.T) {
	rs := mustDecode(t, traceRules)
	// No requested block is named: every block stays, without looking at audiences.
	res := rs.Blocks([]string{"x", "y"}, []string{"vip"}, noon, Scope{}, EvalOptions{Trace: TraceOff})
	want := []BlockDecision{{ID: "x", Action: BlockKeep}, {ID: "y", Action: BlockKeep}}
	if res.Changed || !slices.Equal(res.Blocks, want) || res.Trace != nil {
		t.Errorf("Blocks = %+v", res)
	}
	// A block requested twice gets the same decision twice.
	res = rs.Blocks([]string{"s", "s"}, []string{"vip"}, noon, Scope{}, EvalOptions{Trace: TraceOff})
	want = []BlockDecision{{ID: "s", Action: BlockKeep, RuleID: "vip-block"}, {ID: "s", Action: BlockKeep, RuleID: "vip-block"}}
	if res.Changed || !slices.Equal(res.Blocks, want) {
		t.Errorf("Blocks = %+v", res)
	}
}

func TestMerchandisingResultJSON(t *testing.T) {
	rs := mustDecode(t, traceRules)
	l := rs.ProductList(Product{SKU: "P<1>", Type: "simple"}, ListCrosssell, nil, []string{"vip"}, noon, Scope{}, EvalOptions{})
	got, _ := json.Marshal(l)
	want := `{"sku":"P\u003c1\u003e","type":"simple","list":"crosssell","items":["E","V"],"added":["E","V"],"removed":[],"changed":true,` +
		`"trace":[{"rule_id":"all","applied":true},{"rule_id":"vip","applied":true}]}`
	if string(got) != want {
		t.Errorf("ListResult JSON\n got %s\nwant %s", got, want)
	}
	b := rs.Blocks([]string{"r"}, nil, noon, Scope{}, EvalOptions{Trace: TraceOff})
	got, _ = json.Marshal(b)
	if want := `{"blocks":[{"id":"r","action":"replace","with":"r2","rule_id":"block-all"}],"changed":true,"trace":[]}`; string(got) != want {
		t.Errorf("BlocksResult JSON\n got %s\nwant %s", got, want)
	}
	var nilList *ListResult
	var nilBlocks *BlocksResult
	var nilMerch *MerchandisingResult
	for _, v := range []json.Marshaler{nilList, nilBlocks, nilMerch} {
		if out, err := v.MarshalJSON(); err != nil || string(out) != "null" {
			t.Errorf("nil %T: %s, %v", v, out, err)
		}
	}
}
