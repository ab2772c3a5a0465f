package cartql

import (
	"bytes"
	"strings"
	"testing"

	"github.com/govalues/decimal"
)

// TestVeniaOperations runs every Venia fixture operation, as written, with Apollo's
// __typename and minified, through plan, mock backend and rewrite, and compares the result
// with what a backend applying the audience rule itself answers for the client's own query.
func TestVeniaOperations(t *testing.T) {
	veniaOptions := RewriteOptions{Store: "default", TaxAfterDiscount: true,
		TaxRates: map[string]decimal.Decimal{"US-CA-*-Rate 1": decimal.MustParse("8.25")}}
	pl := newPlanner(t)
	rs := testRules(t)
	forms := map[string]func(string) string{
		"as-is":      func(q string) string { return q },
		"typename":   func(q string) string { return withTypename(t, q) },
		"minified":   minify,
		"apollo-get": func(q string) string { return minify(withTypename(t, q)) },
	}
	carts := []mockCart{
		{lines: 1},
		{lines: 3, coupon: true, shipping: true},
		{lines: 5, shipping: true},
	}
	for _, op := range veniaOps(t) {
		for form, f := range forms {
			name := op.Source[strings.LastIndex(op.Source, "/")+1:] + "/" + form
			t.Run(name, func(t *testing.T) {
				query := f(op.Query)
				p := mustPlan(t, pl, query, "")
				if !p.HasCart() {
					t.Fatalf("not recognised as a cart operation")
				}
				if strings.Contains(op.Query, "mutation") != p.IsMutation() {
					t.Errorf("IsMutation = %v", p.IsMutation())
				}
				vars := map[string]any{"cartId": "cart-1"}
				for _, c := range carts {
					body := execute(t, p.Query(), "", vars, c.model())
					got, out, err := p.Rewrite(body, vars, evaluator(rs, "vip"), veniaOptions)
					if err != nil {
						t.Fatalf("rewrite %+v: %v", c, err)
					}
					if out.Carts != 1 || out.Rewritten != 1 {
						t.Errorf("outcome %+v", out)
					}
					ref := c
					ref.vip = true
					want := execute(t, query, "", vars, ref.model())
					if !bytes.Equal(got, want) {
						t.Errorf("cart %+v:\n got %s\nwant %s", c, got, want)
					}
					if keys := hiddenKeys(t, got); len(keys) > 0 {
						t.Errorf("hidden keys left: %v", keys)
					}

					// Out of the audience: the backend's answer to the client's own query.
					same, out, err := p.Rewrite(body, vars, evaluator(rs), RewriteOptions{TaxAfterDiscount: true})
					if err != nil || out.Rewritten != 0 {
						t.Fatalf("rewrite without segments: %+v %v", out, err)
					}
					if want := execute(t, query, "", vars, c.model()); !bytes.Equal(same, want) {
						t.Errorf("no rule applies but the body changed:\n got %s\nwant %s", same, want)
					}
				}
			})
		}
	}
}
