package cartql

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func merchPlan(t *testing.T, query string) *Plan {
	t.Helper()
	pl, err := NewPlanner(Options{Merchandising: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pl.Plan(query, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMerchSites finds product lists and blocks through aliases and fragments and adds the
// hidden fields each needs, once per selection set.
func TestMerchSites(t *testing.T) {
	p := merchPlan(t, `query($sku: String, $n: Int) {
		bag: products(filter: {sku: {eq: $sku}}) { items { ...Bag ... on SimpleProduct { upsell_products { sku } } } }
		cmsBlocks(identifiers: ["a"]) { items { identifier content } }
	}
	fragment Bag on ProductInterface { mates: related_products { ...Tile } }
	fragment Tile on ProductInterface { name reviews(pageSize: $n) { items { summary } } }`)
	if !p.HasMerch() || p.HasCart() {
		t.Fatalf("merch %v cart %v", p.HasMerch(), p.HasCart())
	}
	want := []string{"related bag.items mates", "upsell bag.items upsell_products"}
	var got []string
	for _, s := range p.ListSites() {
		got = append(got, s.List+" "+strings.Join(s.Path, ".")+" "+s.Key)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("lists %v, want %v", got, want)
	}
	if len(p.BlockSites()) != 1 || p.BlockSites()[0].Key != "cmsBlocks" {
		t.Errorf("blocks %+v", p.BlockSites())
	}
	q := p.Query()
	for _, s := range []string{
		"fragment Bag on ProductInterface { mates: related_products { ...Tile  _aud_msku:sku}  _aud_msku:sku _aud_mtype:__typename}",
		"upsell_products { sku  _aud_msku:sku} ",
		"items { identifier content  _aud_mid:identifier}",
	} {
		if !strings.Contains(q, s) {
			t.Errorf("augmented query lacks %q:\n%s", s, q)
		}
	}
	// Each lookup is a valid operation with the client's selection, the fragments it spreads
	// and the variables it uses.
	tile := p.ListSites()[0].Lookup
	if v := p.ListSites()[0].Variables; len(v) != 1 || v[0] != "n" {
		t.Errorf("lookup variables %v", v)
	}
	for _, s := range []string{"$_aud_skus: [String], $n: Int", "...Tile", "fragment Tile on ProductInterface"} {
		if !strings.Contains(tile, s) {
			t.Errorf("lookup lacks %q: %s", s, tile)
		}
	}
	for _, lookup := range []string{tile, p.ListSites()[1].Lookup, p.BlockSites()[0].Lookup} {
		doc, err := parser.ParseQuery(&ast.Source{Input: lookup})
		if err != nil || len(doc.Operations) != 1 {
			t.Errorf("lookup %s: %v", lookup, err)
		}
		if strings.Contains(lookup, "fragment Bag") {
			t.Errorf("lookup carries a fragment it does not use: %s", lookup)
		}
	}
}

// TestMerchSitesLeftAlone: operations without lists or blocks, mutations, and lists at the
// root or blocks without items are not merchandising sites; the query goes as it came.
func TestMerchSitesLeftAlone(t *testing.T) {
	for _, q := range []string{
		`{ products(search: "bag") { items { sku name } } }`,
		`{ cmsBlocks(identifiers: ["a"]) { __typename } }`,
		`{ route(url: "x") { ... on CmsPage { title } } }`,
		`mutation { addProductsToCart(cartId: "x", cartItems: []) { cart { items { product { related_products { sku } } } } } }`,
		`query { related_products { sku } }`,
	} {
		p := merchPlan(t, q)
		if p.HasMerch() {
			t.Errorf("%s: sites %+v %+v", q, p.ListSites(), p.BlockSites())
		}
		if !p.HasCart() && p.Query() != q {
			t.Errorf("%s: query changed to %s", q, p.Query())
		}
	}
}

// TestMerchSitesWithCart keeps the cart's own hidden fields and adds the lists'.
func TestMerchSitesWithCart(t *testing.T) {
	p := merchPlan(t, `query($id: String!) { cart(cart_id: $id) { id items { uid product { sku crosssell_products { sku name } } } } }`)
	if !p.HasCart() || !p.HasMerch() {
		t.Fatalf("cart %v merch %v", p.HasCart(), p.HasMerch())
	}
	if s := p.ListSites(); len(s) != 1 || strings.Join(s[0].Path, ".") != "cart.items.product" {
		t.Errorf("sites %+v", s)
	}
	if !strings.Contains(p.Query(), "_aud_msku:sku _aud_mtype:__typename") || !strings.Contains(p.Query(), "crosssell_products { sku name  _aud_msku:sku}") {
		t.Errorf("augmented: %s", p.Query())
	}
}

// TestMerchSitesOnlyWithMerchandising: a planner without Options.Merchandising finds no
// product lists or blocks, adds nothing for them, and does not want an operation only for
// them.
func TestMerchSitesOnlyWithMerchandising(t *testing.T) {
	pl, err := NewPlanner(Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := `query($id: String!) { cart(cart_id: $id) { id items { uid product { sku crosssell_products { sku name } } } } }`
	p, err := pl.Plan(q, "")
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasCart() || p.HasMerch() || strings.Contains(p.Query(), "_aud_m") {
		t.Errorf("cart %v merch %v query %s", p.HasCart(), p.HasMerch(), p.Query())
	}
	blocks := `{ cmsBlocks(identifiers: ["a"]) { items { identifier } } }`
	if pl.Mentions(blocks) || !merchPlan(t, blocks).HasMerch() {
		t.Error("a blocks query wanted without merchandising, or not planned with it")
	}
	withMerch, _ := NewPlanner(Options{Merchandising: true})
	if !withMerch.Mentions(blocks) {
		t.Error("a merchandising planner does not want a blocks query")
	}
}

// TestMerchFragmentsWalkedOnce: a fragment spread again at the same path is walked once —
// one list site, not one per spread — so fragments that spread each other many times cannot
// make planning exponential (12 levels of four spreads took minutes before).
func TestMerchFragmentsWalkedOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString(`query { products(search: "x") { items { ...F0 } } }` + "\n")
	const levels = 12
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on ProductInterface { sku %s }\n", i, strings.Repeat(fmt.Sprintf("...F%d ", i+1), 4))
	}
	fmt.Fprintf(&b, "fragment F%d on ProductInterface { related_products { sku } }\n", levels)
	for _, q := range []string{
		b.String(),
		`{ products(search: "x") { items { ...F ...F } } } fragment F on ProductInterface { sku related_products { sku } }`,
	} {
		p := merchPlan(t, q)
		if n := len(p.ListSites()); n != 1 {
			t.Errorf("%d list sites, want 1, for %.60q", n, q)
		}
	}
}
