package cartql

import (
	"net/url"
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
