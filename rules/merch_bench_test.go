package rules

import (
	"fmt"
	"strings"
	"testing"
)

// benchMerch returns a rule file with 20 cart rules and n merchandising rules: rule i
// targets audience seg-(i/10), so every audience has 10 rules; rules 5 and 15 are for
// everyone. Three in four rules change product lists of the SKU-0* products (add three SKUs
// up to 2, remove a glob, move one first), one in four shows, hides or replaces blocks.
func benchMerch(n int) []byte {
	var b strings.Builder
	cart := string(benchRules(20))
	b.WriteString(strings.TrimSuffix(cart, "}"))
	b.WriteString(`, "merchandising": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		var body string
		if i%4 == 3 {
			body = fmt.Sprintf(`"blocks": {"show": ["only-%d"], "hide": ["hero-%d"], "replace": {"footer-%d": "footer-%d-vip"}}`, i, i%50, i%20, i)
		} else {
			body = fmt.Sprintf(`"products": {"field": "sku", "op": "matches", "value": "SKU-0*"}, "lists": ["related", "crosssell"],
			  "add": ["ADD-%d-1", "ADD-%d-2", "ADD-%d-3"], "limit": 2, "remove": ["SKU-1%d*"], "first": ["SKU-00%d"]`, i, i, i, i%10, i%10)
		}
		fmt.Fprintf(&b, `{"id": "merch-%05d", "priority": %d, "from": "2026-01-01", %s %s}`, i, i%7, benchAudience(i), body)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func benchList(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("SKU-%03d", i+1)
	}
	return out
}

var benchProduct = Product{SKU: "SKU-000", Type: "simple"}

// BenchmarkProductList measures the serving path (TraceOff) for one related list of 20 SKUs.
// none: a set without merchandising rules; untargeted: no rule changes the list asked for;
// no-audience: 1,000 rules, a shopper in no audience (2 candidate rules); two-audiences: a
// shopper in two audiences (up to 20 candidates, 15 of them for lists), warm cache.
func BenchmarkProductList(b *testing.B) {
	items := benchList(20)
	off := EvalOptions{Trace: TraceOff}
	run := func(name string, rs *RuleSet, list string, segs []string) {
		b.Run(name, func(b *testing.B) {
			rs.ProductList(benchProduct, list, items, segs, benchAt, Scope{}, off)
			b.ReportAllocs()
			for b.Loop() {
				rs.ProductList(benchProduct, list, items, segs, benchAt, Scope{}, off)
			}
		})
	}
	run("none", mustDecode(b, string(benchRules(20))), ListRelated, []string{"seg-00000"})
	for _, n := range []int{10, 1000, 10000} {
		rs := mustDecode(b, string(benchMerch(n)))
		run(fmt.Sprintf("rules=%d/untargeted", n), rs, ListUpsell, []string{"seg-00000"})
		run(fmt.Sprintf("rules=%d/no-audience", n), rs, ListRelated, nil)
		run(fmt.Sprintf("rules=%d/two-audiences", n), rs, ListRelated, []string{"seg-00000", "seg-00001"})
	}
}

// BenchmarkProductListTrace is the simulator's path: every rule traced.
func BenchmarkProductListTrace(b *testing.B) {
	items := benchList(20)
	for _, n := range []int{1000, 10000} {
		rs := mustDecode(b, string(benchMerch(n)))
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs.ProductList(benchProduct, ListRelated, items, []string{"seg-00000", "seg-00001"}, benchAt, Scope{}, EvalOptions{})
			}
		})
	}
}

// BenchmarkBlocks measures the serving path for a page asking for 5 blocks. none: a set
// without merchandising rules; unnamed: no rule names a requested block; named: every
// requested block is named by some rule, for a shopper in two audiences.
func BenchmarkBlocks(b *testing.B) {
	unnamed := []string{"cms-a", "cms-b", "cms-c", "cms-d", "cms-e"}
	named := []string{"hero-3", "only-7", "footer-3", "only-1003", "cms-e"}
	off := EvalOptions{Trace: TraceOff}
	run := func(name string, rs *RuleSet, ids, segs []string) {
		b.Run(name, func(b *testing.B) {
			rs.Blocks(ids, segs, benchAt, Scope{}, off)
			b.ReportAllocs()
			for b.Loop() {
				rs.Blocks(ids, segs, benchAt, Scope{}, off)
			}
		})
	}
	run("none", mustDecode(b, string(benchRules(20))), named, []string{"seg-00000"})
	for _, n := range []int{10, 1000, 10000} {
		rs := mustDecode(b, string(benchMerch(n)))
		run(fmt.Sprintf("rules=%d/unnamed", n), rs, unnamed, []string{"seg-00000", "seg-00001"})
		run(fmt.Sprintf("rules=%d/named", n), rs, named, []string{"seg-00000", "seg-00001"})
	}
}

// BenchmarkDecodeMerchandising decodes 1,000 merchandising rules beside 20 cart rules.
func BenchmarkDecodeMerchandising(b *testing.B) {
	data := benchMerch(1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
