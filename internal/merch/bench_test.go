package merch

import (
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// BenchmarkRewrite measures the merchandising of Vue Storefront's related-products answer
// for a member (the added product from the cache) and for a shopper in no audience.
func BenchmarkRewrite(b *testing.B) {
	s := newStore(b)
	rs := sampleRules(b)
	var query string
	for _, op := range clientOpsFrom(b) {
		if op.Source == "lib/api/relatedProducts/relatedProducts.d.ts#default" {
			query = op.Query
		}
	}
	planner, err := cartql.NewPlanner(cartql.Options{Merchandising: true})
	if err != nil {
		b.Fatal(err)
	}
	plan, err := planner.Plan(query, "")
	if err != nil || !plan.HasMerch() {
		b.Fatalf("plan: %v", err)
	}
	vars := map[string]any{"filter": map[string]any{"sku": map[string]any{"eq": "24-MB01"}}}
	body := s.post(plan.Query(), vars)
	rw := New(0, 0)
	for _, bc := range []struct {
		name     string
		segments []string
	}{{"member", []string{bagLovers}}, {"no-audience", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			a := Answer{Plan: plan, Variables: vars, Rules: rs, Doer: s, Body: body,
				Shopper: Shopper{Segments: bc.segments, At: time.Now(), Scope: rules.Scope{Store: "default"}, Store: "default"}}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				out, _, err := rw.Rewrite(a)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := plan.Strip(out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
