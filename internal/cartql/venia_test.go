package cartql

import (
	"bytes"
	"strings"
	"testing"

	"github.com/govalues/decimal"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
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
					got, out, err := rewriteChecked(t, p, body, vars, evaluator(rs, "vip"), veniaOptions)
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

// TestVeniaAddsNoSelectedField: for every Venia operation, in every form a client sends it,
// no hidden field of the augmented query is a field the client selects itself at the same
// place (the same field names from the operation down, through fragments). Plans that add
// every fact hidden (as the first releases did) do duplicate them, and Augmentation counts
// those.
func TestVeniaAddsNoSelectedField(t *testing.T) {
	pl := newPlanner(t)
	hiddenOnly, err := NewPlanner(Options{HiddenOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]func(string) string{
		"as-is":      func(q string) string { return q },
		"apollo-get": func(q string) string { return minify(withTypename(t, q)) },
	}
	for _, op := range veniaOps(t) {
		for form, f := range forms {
			name := op.Source[strings.LastIndex(op.Source, "/")+1:] + "/" + form
			query := f(op.Query)
			p := mustPlan(t, pl, query, "")
			selected := selectedPaths(t, query, false)
			for path := range selectedPaths(t, p.Query(), true) {
				if selected[path] {
					t.Errorf("%s: the augmented query selects %s again:\n%s", name, path, p.Query())
				}
			}
			if a := p.Augmentation(); a.Duplicates != 0 {
				t.Errorf("%s: Augmentation %+v", name, a)
			}
			old := mustPlan(t, hiddenOnly, query, "")
			a, b := old.Augmentation(), p.Augmentation()
			if a.Duplicates == 0 && strings.Contains(query, "items") {
				t.Errorf("%s: hidden-only plan reports no duplicate: %+v", name, a)
			}
			if b.Fields > a.Fields {
				t.Errorf("%s: adds more fields than a hidden-only plan: %+v > %+v", name, b, a)
			}
			t.Logf("%-70s hidden-only %4d B %3d fields %d dup | default %4d B %3d fields", name, a.Bytes, a.Fields, a.Duplicates, b.Bytes, b.Fields)
		}
	}
}

// selectedPaths lists the field-name paths of a document's operation, walking fragments
// (conditions and type conditions ignored): every field's, or with hidden only those of the
// fields under a HiddenPrefix alias.
func selectedPaths(t *testing.T, query string, hidden bool) map[string]bool {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	out := map[string]bool{}
	var walk func(set ast.SelectionSet, prefix string, depth int)
	walk = func(set ast.SelectionSet, prefix string, depth int) {
		if depth > 64 {
			t.Fatal("fragments too deep")
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				path := prefix + s.Name
				if !hidden || strings.HasPrefix(s.Alias, HiddenPrefix) {
					out[path] = true
				}
				if !strings.HasPrefix(s.Alias, HiddenPrefix) {
					walk(s.SelectionSet, path+".", depth+1)
				}
			case *ast.InlineFragment:
				walk(s.SelectionSet, prefix, depth+1)
			case *ast.FragmentSpread:
				walk(doc.Fragments.ForName(s.Name).SelectionSet, prefix, depth+1)
			}
		}
	}
	walk(doc.Operations[0].SelectionSet, "", 0)
	return out
}
