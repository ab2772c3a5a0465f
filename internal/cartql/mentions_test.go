package cartql

import (
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestMentions(t *testing.T) {
	p, err := NewPlanner(Options{CartFields: []string{"Query.myBasket"}})
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]bool{
		`{ cart(cart_id: "x") { id } }`:                                      true,
		`{ customerCart { id } }`:                                            true,
		`mutation { mergeCarts(source_cart_id: "a") { id } }`:                true,
		`mutation { estimateTotals(input: {}) { cart { id } } }`:             true,
		`mutation { placeOrder(input: {cart_id: "a"}) { errors { code } } }`: true,
		`{ myBasket { id } }`:                                                true,
		`{ products(search: "bag") { total_count } }`:                        false,
		`{ storeConfig { store_code } }`:                                     false,
		url.Values{"query": {`{ cart(cart_id: "x") { id } }`}}.Encode():      true,
		url.Values{"query": {`{ storeConfig { store_code } }`}}.Encode():     false,
	} {
		if got := p.Mentions(text); got != want {
			t.Errorf("Mentions(%q) = %v, want %v", text, got, want)
		}
	}
}

// TestMentionsAgreesWithPlan checks the pre-filter never hides a cart the planner finds.
func TestMentionsAgreesWithPlan(t *testing.T) {
	p, err := NewPlanner(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range veniaOps(t) {
		plan, err := p.Plan(f.Query, "")
		if err != nil {
			t.Fatal(err)
		}
		if plan.HasCart() && !p.Mentions(f.Query) {
			t.Errorf("%s has a cart but Mentions is false", f.Source)
		}
	}
}

// TestMentionsAnchors checks the anchor pre-filter and the memo change no answer: on texts
// made of pieces of the names (near misses abound), Mentions agrees with strings.Contains
// per name.
func TestMentionsAnchors(t *testing.T) {
	for _, opt := range []Options{{}, {Merchandising: true}, {CartFields: []string{"Query.myBasket", "Mutation.q"}}} {
		p, err := NewPlanner(opt)
		if err != nil {
			t.Fatal(err)
		}
		// The names, derived here rather than taken from the planner.
		names := slices.Concat(couponFields, orderFields)
		for _, spec := range slices.Concat(DefaultCartFields(), opt.CartFields) {
			names = append(names, strings.Split(spec, ".")[1])
		}
		if opt.Merchandising {
			names = append(names, merchNames...)
		}
		for _, name := range names {
			if !containsAny(name, p.anchors) {
				t.Fatalf("%q holds none of the anchors %q", name, p.anchors)
			}
		}
		var pieces []string
		for _, name := range names {
			for i := 0; i < len(name); i += 3 {
				pieces = append(pieces, name[i:min(i+5, len(name))])
			}
		}
		pieces = append(pieces, " ", "%20", "{", "(", "Cart", "Order", "cart")
		rng := rand.New(rand.NewPCG(uint64(len(names)), 7))
		for range 20000 {
			var b strings.Builder
			for range rng.IntN(10) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			text := b.String()
			// Asked twice: the second answer may come from the memo, as may the first
			// (the texts repeat).
			for range 2 {
				if got, want := p.Mentions(text), containsAny(text, names); got != want {
					t.Fatalf("%+v: Mentions(%q) = %v, strings.Contains says %v (anchors %q)", opt, text, got, want, p.anchors)
				}
			}
		}
		t.Logf("%+v: anchors %q", opt, p.anchors)
	}
}
