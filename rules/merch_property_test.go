package rules

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// merchSKUs are the SKUs random rules and lists use; some differ only in case.
var merchSKUs = []string{"A", "a", "B", "C", "D", "E", "P", "p", "W1", "w2", "X"}

var merchSegments = []string{"s1", "s2", "s3"}

// pickSKUs returns up to max SKUs from merchSKUs, never two that differ only in case.
func pickSKUs(r *rand.Rand, max int, patterns bool) []string {
	n := r.IntN(max + 1)
	var out []string
	for range n {
		s := merchSKUs[r.IntN(len(merchSKUs))]
		if patterns && r.IntN(4) == 0 {
			s = []string{"W*", "?", "*1", "a*"}[r.IntN(4)]
		}
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, s) }) {
			out = append(out, s)
		}
	}
	return out
}

func jsonList(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}

// randomAudience returns an audiences field (with its trailing comma) or nothing; with
// members false it never returns one without audiences or with "none".
func randomAudience(r *rand.Rand, everyone bool) string {
	segs := func() string { return jsonList(pickNonEmpty(r, merchSegments)) }
	switch k := r.IntN(4); {
	case k == 0 && everyone:
		return ""
	case k == 1 && everyone:
		return `"audiences": {"none": ` + segs() + `}, `
	case k == 2:
		return `"audiences": {"all": ` + segs() + `}, `
	}
	return `"audiences": {"any": ` + segs() + `}, `
}

func pickNonEmpty(r *rand.Rand, from []string) []string {
	out := []string{from[r.IntN(len(from))]}
	for _, s := range from {
		if r.IntN(3) == 0 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// randomMerchRules returns merchandising rule objects: product-list rules with random steps,
// filters and limits, and block rules; with everyone false every rule has an audience that
// a shopper in no audience is not in.
func randomMerchRules(r *rand.Rand, everyone bool) []string {
	n := 1 + r.IntN(6)
	out := make([]string, n)
	for i := range n {
		head := fmt.Sprintf(`{"id": "m%02d", "priority": %d, "stop_further_rules": %v, %s`, i, r.IntN(3), r.IntN(5) == 0, randomAudience(r, everyone))
		if r.IntN(4) == 0 {
			blocks := []string{"b1", "b2", "b3", "b4"}
			r.Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
			var parts []string
			if r.IntN(2) == 0 {
				parts = append(parts, `"show": ["`+blocks[0]+`"]`)
			}
			if r.IntN(2) == 0 {
				parts = append(parts, `"hide": ["`+blocks[1]+`"]`)
			}
			if r.IntN(2) == 0 || len(parts) == 0 {
				parts = append(parts, `"replace": {"`+blocks[2]+`": "`+blocks[3]+`"}`)
			}
			out[i] = head + `"blocks": {` + strings.Join(parts, ", ") + `}}`
			continue
		}
		var fields []string
		if r.IntN(2) == 0 {
			fields = append(fields, `"products": {"field": "sku", "op": "in", "value": `+jsonList(pickNonEmpty(r, []string{"P", "Q"}))+`}`)
		}
		if r.IntN(3) == 0 {
			fields = append(fields, `"lists": `+jsonList(pickNonEmpty(r, productLists)))
		}
		add, remove, first := pickSKUs(r, 4, false), pickSKUs(r, 2, true), pickSKUs(r, 2, false)
		if len(add) > 0 {
			fields = append(fields, `"add": `+jsonList(add))
			if r.IntN(3) == 0 {
				fields = append(fields, fmt.Sprintf(`"limit": %d`, 1+r.IntN(3)))
			}
		}
		if len(remove) > 0 {
			fields = append(fields, `"remove": `+jsonList(remove))
		}
		if len(add) == 0 && len(remove) == 0 && len(first) == 0 {
			first = []string{"X"}
		}
		if len(first) > 0 {
			fields = append(fields, `"first": `+jsonList(first))
		}
		out[i] = head + strings.Join(fields, ", ") + `}`
	}
	return out
}

// randomList returns a list without duplicates (ignoring case) and without the product.
func randomList(r *rand.Rand, product string) []string {
	var out []string
	for _, s := range pickSKUs(r, 6, false) {
		if !strings.EqualFold(s, product) {
			out = append(out, s)
		}
	}
	return out
}

func listedFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// checkListInvariants verifies what must hold for every product-list evaluation of an input
// without duplicates and without the product.
func checkListInvariants(t *testing.T, rs *RuleSet, p Product, in []string, res *ListResult) {
	t.Helper()
	if res == nil {
		return
	}
	var addable []string
	for _, m := range rs.Merchandising() {
		addable = append(addable, m.Add...)
	}
	for i, s := range res.Items {
		if strings.EqualFold(s, p.SKU) {
			t.Errorf("the product lists itself: %v", res.Items)
		}
		if listedFold(res.Items[:i], s) {
			t.Errorf("duplicate %q in %v", s, res.Items)
		}
	}
	for _, s := range res.Added {
		if !slices.Contains(res.Items, s) || listedFold(in, s) || !slices.Contains(addable, s) {
			t.Errorf("added %q: not in the result %v, or in the input %v, or in no rule's add", s, res.Items, in)
		}
	}
	for _, s := range res.Removed {
		if !slices.Contains(in, s) || slices.Contains(res.Items, s) {
			t.Errorf("removed %q: not in the input %v or still in the result %v", s, in, res.Items)
		}
	}
	// result = input − removed + added, as sets (all are duplicate-free).
	var want []string
	for _, s := range in {
		if !slices.Contains(res.Removed, s) {
			want = append(want, s)
		}
	}
	want = append(want, res.Added...)
	got := slices.Clone(res.Items)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("items %v != input %v − removed %v + added %v", res.Items, in, res.Removed, res.Added)
	}
	if res.Changed == slices.Equal(res.Items, in) {
		t.Errorf("changed = %v for %v → %v", res.Changed, in, res.Items)
	}
	for _, e := range res.Trace {
		if e.Applied != (e.Reason == "") {
			t.Errorf("trace entry %+v", e)
		}
	}
}

func TestPropertiesProductLists(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 18))
	for n := range 3000 {
		rules := randomMerchRules(r, true)
		rs := mustDecode(t, merchFile(rules...))
		p := Product{SKU: []string{"P", "Q"}[r.IntN(2)], Type: "simple"}
		list := productLists[r.IntN(3)]
		in := randomList(r, p.SKU)
		var segs []string
		if r.IntN(2) == 0 {
			segs = pickNonEmpty(r, merchSegments)
		}
		res := rs.ProductList(p, list, in, segs, noon, Scope{}, EvalOptions{})
		if res == nil {
			if rs.HasProductLists() {
				t.Fatalf("case %d: nil result with product-list rules", n)
			}
			continue
		}
		checkListInvariants(t, rs, p, in, res)
		want, _ := json.Marshal(res)

		// The file's order, the order and duplicates of segments, the cache and the trace
		// mode do not change the answer.
		r.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
		shuffled := mustDecode(t, merchFile(rules...))
		rev := slices.Clone(segs)
		slices.Reverse(rev)
		rev = append(rev, rev...)
		for _, got := range []*ListResult{
			shuffled.ProductList(p, list, in, rev, noon, Scope{}, EvalOptions{}),
			rs.ProductList(p, list, in, segs, noon, Scope{}, EvalOptions{}),
		} {
			if b, _ := json.Marshal(got); string(b) != string(want) {
				t.Fatalf("case %d: answers differ\nrules %s\n got %s\nwant %s", n, rules, b, want)
			}
		}
		off := rs.ProductList(p, list, in, segs, noon, Scope{}, EvalOptions{Trace: TraceOff})
		if !slices.Equal(off.Items, res.Items) || !slices.Equal(off.Added, res.Added) || !slices.Equal(off.Removed, res.Removed) || off.Changed != res.Changed {
			t.Fatalf("case %d: TraceOff differs: %+v vs %+v", n, off, res)
		}
		if t.Failed() {
			t.Fatalf("case %d: rules %s\nproduct %v list %s input %v segments %v\nresult %s", n, rules, p, list, in, segs, want)
		}
	}
}

// A shopper in no audience, when every rule has an audience such a shopper is not in, gets
// the lists exactly as the backend returned them, and every block except those a show rule
// keeps for its audience.
func TestPropertyNoAudienceSeesTheBackend(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 2026))
	for n := range 2000 {
		rules := randomMerchRules(r, false)
		rs := mustDecode(t, merchFile(rules...))
		p := Product{SKU: "P"}
		in := randomList(r, p.SKU)
		for _, list := range productLists {
			res := rs.ProductList(p, list, in, nil, noon, Scope{}, EvalOptions{})
			if res != nil && (res.Changed || !slices.Equal(res.Items, in) || res.Added != nil || res.Removed != nil) {
				t.Fatalf("case %d: rules %s\nchanged %v into %+v", n, rules, in, res)
			}
		}
		ids := []string{"b1", "b2", "b3", "b4", "other"}
		res := rs.Blocks(ids, nil, noon, Scope{}, EvalOptions{})
		if res == nil {
			continue
		}
		for _, d := range res.Blocks {
			if d.Action == BlockKeep {
				continue
			}
			shown := false
			for _, m := range rs.Merchandising() {
				shown = shown || m.ID == d.RuleID && m.Blocks != nil && slices.Contains(m.Blocks.Show, d.ID)
			}
			if d.Action != BlockHide || !shown {
				t.Fatalf("case %d: rules %s\nblock %+v for a shopper in no audience", n, rules, d)
			}
		}
	}
}

func TestPropertiesBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 18))
	ids := []string{"b1", "b2", "b3", "b4", "other", "b1"}
	for n := range 2000 {
		rules := randomMerchRules(r, true)
		rs := mustDecode(t, merchFile(rules...))
		segs := pickNonEmpty(r, merchSegments)
		res := rs.Blocks(ids, segs, noon, Scope{}, EvalOptions{})
		if res == nil {
			continue
		}
		byID := map[string]MerchRule{}
		for _, m := range rs.Merchandising() {
			byID[m.ID] = m
		}
		changed := false
		for i, d := range res.Blocks {
			m := byID[d.RuleID]
			switch {
			case d.ID != ids[i]:
				t.Errorf("decision %d is for %q", i, d.ID)
			case d.RuleID == "" && d.Action != BlockKeep:
				t.Errorf("%+v without a rule", d)
			case d.RuleID != "" && (m.Blocks == nil || !slices.Contains(m.Blocks.Show, d.ID) && !slices.Contains(m.Blocks.Hide, d.ID) && m.Blocks.Replace[d.ID] == ""):
				t.Errorf("%+v by a rule that does not name the block", d)
			case (d.Action == BlockReplace) != (d.With != "") || d.Action == BlockReplace && m.Blocks.Replace[d.ID] != d.With:
				t.Errorf("%+v: replacement", d)
			}
			changed = changed || d.Action != BlockKeep
		}
		if changed != res.Changed || res.Blocks[0] != res.Blocks[5] {
			t.Errorf("changed %v, decisions %+v", res.Changed, res.Blocks)
		}
		want, _ := json.Marshal(res)
		r.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
		got, _ := json.Marshal(mustDecode(t, merchFile(rules...)).Blocks(ids, segs, noon, Scope{}, EvalOptions{}))
		if string(got) != string(want) {
			t.Errorf("answers differ with the rules' order\n got %s\nwant %s", got, want)
		}
		off := rs.Blocks(ids, segs, noon, Scope{}, EvalOptions{Trace: TraceOff})
		if !slices.Equal(off.Blocks, res.Blocks) || off.Changed != res.Changed {
			t.Errorf("TraceOff differs: %+v", off)
		}
		if t.Failed() {
			t.Fatalf("case %d: rules %s segments %v\nresult %s", n, rules, segs, want)
		}
	}
}

// TestPropertyListsForBlocksFor: when ListsFor or BlocksFor says no rule can change a list or
// a block for a shopper, none changes for them.
func TestPropertyListsForBlocksFor(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 18))
	said := 0
	for n := range 3000 {
		rules := randomMerchRules(r, true)
		rs := mustDecode(t, merchFile(rules...))
		var segs []string
		if r.IntN(2) == 0 {
			segs = pickNonEmpty(r, merchSegments)
		}
		p := Product{SKU: "P", Type: "simple"}
		if !rs.ListsFor(segs) {
			said++
			for _, list := range productLists {
				in := randomList(r, p.SKU)
				if res := rs.ProductList(p, list, in, segs, noon, Scope{}, EvalOptions{}); res != nil && res.Changed {
					t.Fatalf("case %d: rules %s, segments %v: list %s changed %v into %v", n, rules, segs, list, in, res.Items)
				}
			}
		}
		if rs.BlocksFor(segs) {
			continue
		}
		if res := rs.Blocks([]string{"b1", "b2", "b3", "b4", "other"}, segs, noon, Scope{}, EvalOptions{}); res != nil && res.Changed {
			t.Fatalf("case %d: rules %s, segments %v: blocks changed %+v", n, rules, segs, res.Blocks)
		}
	}
	if said < 100 {
		t.Fatalf("ListsFor said no only %d times", said)
	}
}
