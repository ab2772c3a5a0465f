package rules

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/govalues/decimal"
)

// randomMoney returns a price with 2 decimals in [0, max).
func randomMoney(r *rand.Rand, max int) string {
	cents := r.IntN(max * 100)
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

var skus = []string{"24-MB01", "24-MB04", "24-WB01", "MH01", "WS03", "free-gift"}

// randomRules returns rule objects with random actions, limits and item filters. Ids are
// unique; priorities often tie.
func randomRules(r *rand.Rand) []string {
	n := 1 + r.IntN(8)
	out := make([]string, n)
	for i := range n {
		var act string
		switch r.IntN(4) {
		case 0:
			act = fmt.Sprintf(`"type": "by_percent", "amount": %d`, r.IntN(101))
		case 1:
			act = fmt.Sprintf(`"type": "by_fixed", "amount": %s`, randomMoney(r, 30))
		case 2:
			act = fmt.Sprintf(`"type": "cart_fixed", "amount": %s`, randomMoney(r, 150))
		default:
			act = fmt.Sprintf(`"type": "buy_x_get_y", "amount": %d, "step": %d`, r.IntN(4), 1+r.IntN(3))
		}
		if r.IntN(3) == 0 {
			act += fmt.Sprintf(`, "max_qty": %d`, r.IntN(4))
		}
		if r.IntN(4) == 0 && !strings.Contains(act, "step") {
			act += fmt.Sprintf(`, "step": %d`, r.IntN(3))
		}
		if r.IntN(3) == 0 {
			act += `, "apply_to_shipping": true`
		}
		rule := fmt.Sprintf(`{"id": "r%02d", "label": "Rule %d", "labels": {"fr": "R%d", "de": "R%d"}, "priority": %d, "stop_further_rules": %v, "action": {%s}`,
			i, i, i, i, r.IntN(3), r.IntN(4) == 0, act)
		if r.IntN(2) == 0 {
			rule += fmt.Sprintf(`, "items": {"field": "sku", "op": "matches", "value": "%s*"}`, skus[r.IntN(len(skus))][:2])
		}
		out[i] = rule + "}"
	}
	return out
}

func randomCart(r *rand.Rand) string {
	n := 1 + r.IntN(6)
	items := make([]string, n)
	for i := range n {
		qty := 1 + r.IntN(6)
		price := randomMoney(r, 200)
		p := decimal.MustParse(price)
		row, _ := p.Mul(decimal.MustNew(int64(qty), 0))
		disc := "0"
		if r.IntN(3) == 0 && row.IsPos() {
			d, _ := row.Quo(decimal.MustNew(int64(2+r.IntN(5)), 0))
			disc = d.Round(2).String()
		}
		items[i] = fmt.Sprintf(`{"sku": %q, "qty": %d, "price": %s, "discount": %s}`, skus[r.IntN(len(skus))], qty, price, disc)
	}
	return fmt.Sprintf(`{"currency": "USD", "store": "fr", "shipping_amount": %s, "items": [%s]}`, randomMoney(r, 20), strings.Join(items, ","))
}

// checkInvariants verifies what must hold for every evaluation.
func checkInvariants(t *testing.T, rs *RuleSet, cart *Cart, res *Result) {
	t.Helper()
	if res.Error != "" {
		t.Fatalf("unexpected error %s", res.Error)
	}
	// The engine works in cents, as Magento does: rows, discounts and shipping are rounded.
	maxTotal := round2(cart.ShippingAmount)
	items := decimal.Zero
	for i, it := range res.Items {
		in := cart.Items[i]
		row := in.RowTotal
		if row.IsZero() {
			row, _ = in.Qty.Mul(in.Price)
		}
		left := clampZero(sub(round2(row), round2(in.Discount)))
		maxTotal = add(maxTotal, left)
		if it.Discount.IsNeg() || it.Discount.Cmp(left) > 0 {
			t.Errorf("item %d: discount %s outside [0, %s]", i, it.Discount, left)
		}
		sum := decimal.Zero
		for _, d := range it.Discounts {
			if !d.Amount.IsPos() || d.Amount.Scale() > 2 {
				t.Errorf("item %d: bad amount %s", i, d.Amount)
			}
			sum = add(sum, d.Amount)
		}
		if sum.Cmp(it.Discount) != 0 {
			t.Errorf("item %d: breakdown %s != discount %s", i, sum, it.Discount)
		}
		items = add(items, it.Discount)
	}
	if res.TotalDiscount.Cmp(maxTotal) > 0 {
		t.Errorf("total %s exceeds the cart %s", res.TotalDiscount, maxTotal)
	}
	if add(items, res.ShippingDiscount).Cmp(res.TotalDiscount) != 0 {
		t.Errorf("total %s != items %s + shipping %s", res.TotalDiscount, items, res.ShippingDiscount)
	}
	if res.ShippingDiscount.Cmp(round2(cart.ShippingAmount)) > 0 {
		t.Errorf("shipping discount %s exceeds shipping %s", res.ShippingDiscount, cart.ShippingAmount)
	}
	// Applied names every rule that took something off, once, with all it took off.
	perRule := map[string]decimal.Decimal{}
	applied := decimal.Zero
	for _, a := range res.Applied {
		if _, twice := perRule[a.RuleID]; twice || !a.Amount.IsPos() {
			t.Errorf("applied: rule %s twice or with %s", a.RuleID, a.Amount)
		}
		perRule[a.RuleID] = a.Amount
		applied = add(applied, a.Amount)
	}
	if applied.Cmp(res.TotalDiscount) != 0 {
		t.Errorf("applied rules %s != total %s", applied, res.TotalDiscount)
	}
	// Every item discount is listed; a shipping part may be left out of the list (it did not
	// fit uncapped) but never listed beyond what was taken off.
	listed := map[string]decimal.Decimal{}
	itemEntries, shipEntries := decimal.Zero, decimal.Zero
	for _, d := range res.Discounts {
		listed[d.RuleID] = add(listed[d.RuleID], d.Amount)
		if d.AppliedTo == AppliedToShipping {
			shipEntries = add(shipEntries, d.Amount)
		} else {
			itemEntries = add(itemEntries, d.Amount)
		}
	}
	if itemEntries.Cmp(items) != 0 || shipEntries.Cmp(res.ShippingDiscount) > 0 {
		t.Errorf("entries %s/%s != items %s / shipping %s", itemEntries, shipEntries, items, res.ShippingDiscount)
	}
	for id, amount := range listed {
		if amount.Cmp(perRule[id]) > 0 {
			t.Errorf("rule %s lists %s but applied %s", id, amount, perRule[id])
		}
	}
	for _, r := range rs.Rules() {
		if r.Action != nil && r.Action.Type == CartFixed && perRule[r.ID].Cmp(r.Action.Amount) > 0 {
			t.Errorf("cart_fixed %s gave %s of %s", r.ID, perRule[r.ID], r.Action.Amount)
		}
	}
}

func add(a, b decimal.Decimal) decimal.Decimal {
	r, err := a.Add(b)
	if err != nil {
		panic(err)
	}
	return r
}

func sub(a, b decimal.Decimal) decimal.Decimal {
	r, err := a.Sub(b)
	if err != nil {
		panic(err)
	}
	return r
}

func TestPropertiesRandomCarts(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	for n := range 2000 {
		rules := randomRules(r)
		cartJSON := randomCart(r)
		rs := mustDecode(t, rulesFile(rules...))
		cart := mustCart(t, cartJSON)
		res := rs.Evaluate(cart, nil, noon)
		checkInvariants(t, rs, cart, res)
		want, _ := json.Marshal(res)

		// The file's order of rules (and of keys inside maps) must not matter.
		r.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
		shuffled := mustDecode(t, rulesFile(rules...))
		got, _ := json.Marshal(shuffled.Evaluate(cart, nil, noon))
		if string(got) != string(want) {
			t.Fatalf("case %d: result depends on rule order\nrules %s\ncart %s\n got %s\nwant %s", n, rules, cartJSON, got, want)
		}
		// Evaluating again (now from the candidate cache) gives the same answer.
		again, _ := json.Marshal(rs.Evaluate(cart, nil, noon))
		if string(again) != string(want) {
			t.Fatalf("case %d: second evaluation differs", n)
		}
		if t.Failed() {
			t.Fatalf("case %d: rules %s\ncart %s\nresult %s", n, rules, cartJSON, want)
		}
	}
}

func TestPropertyCartFixedBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 42))
	for range 2000 {
		amount := randomMoney(r, 300)
		toShipping := r.IntN(2) == 0
		rs := mustDecode(t, rulesFile(`{"id": "cf", "action": {"type": "cart_fixed", "amount": `+amount+`, "apply_to_shipping": `+fmt.Sprint(toShipping)+`}}`))
		cart := mustCart(t, randomCart(r))
		res := rs.Evaluate(cart, nil, noon)
		checkInvariants(t, rs, cart, res)
		// When what it applies to is worth more than the budget, the whole budget is given.
		worth := decimal.Zero
		if toShipping {
			worth = cart.ShippingAmount
		}
		for _, it := range cart.Items {
			worth = add(worth, clampZero(sub(it.RowTotal, it.Discount)))
		}
		if a := decimal.MustParse(amount); worth.Cmp(add(a, decimal.MustNew(1, 0))) > 0 && res.TotalDiscount.Cmp(a) != 0 {
			t.Fatalf("cart_fixed %s over a cart worth %s gave %s: %s", amount, worth, res.TotalDiscount, mustJSON(res))
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
