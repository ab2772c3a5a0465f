package rules

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"
)

var noon = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func mustCart(t testing.TB, data string) *Cart {
	t.Helper()
	c, err := DecodeCart([]byte(data))
	if err != nil {
		t.Fatalf("DecodeCart: %v", err)
	}
	return c
}

// itemDiscounts returns each item's discount as text, in cart order.
func itemDiscounts(res *Result) []string {
	out := make([]string, len(res.Items))
	for i, it := range res.Items {
		out[i] = it.Discount.Trim(0).String()
	}
	return out
}

// cartDiscounts returns the cart-level entries as "rule:amount:TARGET".
func cartDiscounts(res *Result) []string {
	var out []string
	for _, d := range res.Discounts {
		out = append(out, fmt.Sprintf("%s:%s:%s", d.RuleID, d.Amount.Trim(0), d.AppliedTo))
	}
	return out
}

func traceOf(res *Result) []string {
	var out []string
	for _, e := range res.Trace {
		s := e.RuleID + "="
		if e.Applied {
			s += "applied"
		} else {
			s += e.Reason
		}
		if e.Enforce {
			s += "(enforce)"
		}
		out = append(out, s)
	}
	return out
}

// twoItems is Magento's test cart: 5.99 × 2 and 15.99 × 2.
const twoItems = `{"currency": "USD", "items": [{"sku": "simple1", "qty": 2, "price": 5.99}, {"sku": "simple2", "qty": 2, "price": 15.99}]}`

func action(typ string, amount string, extra string) string {
	return fmt.Sprintf(`{"type": %q, "amount": %s%s}`, typ, amount, extra)
}

func TestActions(t *testing.T) {
	tests := []struct {
		name   string
		action string
		items  string // item filter, optional
		cart   string
		want   []string
	}{
		{"by_percent", action("by_percent", "10", ""), "", twoItems, []string{"1.2", "3.2"}},
		{"by_percent 100", action("by_percent", "100", ""), "", twoItems, []string{"11.98", "31.98"}},
		{"by_percent after backend discount", action("by_percent", "20", ""), "",
			`{"items": [{"sku": "a", "qty": 2, "price": 34, "row_total": 68, "discount": 6.8}]}`, []string{"12.24"}},
		{"by_percent max_qty", action("by_percent", "50", `, "max_qty": 1`), "", twoItems, []string{"3", "8"}},
		{"by_percent max_qty with backend discount", action("by_percent", "50", `, "max_qty": 1`), "",
			`{"items": [{"sku": "a", "qty": 2, "price": 10, "discount": 4}]}`, []string{"4"}},
		{"by_percent step floors qty", action("by_percent", "10", `, "step": 2`), "",
			`{"items": [{"sku": "a", "qty": 5, "price": 10}]}`, []string{"4"}},
		{"by_percent step above qty skips", action("by_percent", "10", `, "step": 3`), "", twoItems, []string{"0", "0"}},
		{"by_fixed", action("by_fixed", "2.5", ""), "", twoItems, []string{"5", "5"}},
		{"by_fixed capped at row", action("by_fixed", "10", ""), "", twoItems, []string{"11.98", "20"}},
		{"by_fixed max_qty", action("by_fixed", "1", `, "max_qty": 3`), "",
			`{"items": [{"sku": "a", "qty": 5, "price": 10}]}`, []string{"3"}},
		{"by_fixed step", action("by_fixed", "1", `, "step": 2`), "",
			`{"items": [{"sku": "a", "qty": 5, "price": 10}]}`, []string{"4"}},
		{"by_fixed 4 decimals rounds", action("by_fixed", "0.3333", ""), "",
			`{"items": [{"sku": "a", "qty": 3, "price": 10}]}`, []string{"1"}},
		{"cart_fixed", action("cart_fixed", "5", ""), "", twoItems, []string{"1.36", "3.64"}},
		{"cart_fixed larger than cart", action("cart_fixed", "100", ""), "", twoItems, []string{"11.98", "31.98"}},
		{"cart_fixed only filtered items", action("cart_fixed", "5", ""), `{"field": "sku", "op": "==", "value": "simple2"}`, twoItems, []string{"0", "5"}},
		{"cart_fixed shares remaining amounts", action("cart_fixed", "10", ""), "",
			`{"items": [{"sku": "a", "qty": 1, "price": 20, "discount": 10}, {"sku": "b", "qty": 1, "price": 10}]}`, []string{"5", "5"}},
		{"cart_fixed max_qty weights", action("cart_fixed", "6", `, "max_qty": 1`), "",
			`{"items": [{"sku": "a", "qty": 2, "price": 10}, {"sku": "b", "qty": 1, "price": 20}]}`, []string{"2", "4"}},
		{"cart_fixed zero-priced item", action("cart_fixed", "15", ""), "",
			`{"items": [{"sku": "a", "qty": 1, "price": 22}, {"sku": "b", "qty": 1, "price": 14}, {"sku": "c", "qty": 1, "price": 43}, {"sku": "d", "qty": 1, "price": 7.5}, {"sku": "e", "qty": 1, "price": 0}]}`,
			[]string{"3.82", "2.42", "7.46", "1.3", "0"}},
		{"buy 1 get 1", action("buy_x_get_y", "1", `, "step": 1`), "",
			`{"items": [{"sku": "a", "qty": 4, "price": 10}, {"sku": "b", "qty": 5, "price": 10}]}`, []string{"20", "20"}},
		{"buy 2 get 1 remainder beyond X", action("buy_x_get_y", "1", `, "step": 2`), "",
			`{"items": [{"sku": "a", "qty": 6, "price": 10}, {"sku": "b", "qty": 8, "price": 10}]}`, []string{"20", "20"}},
		{"buy 3 get 2 partial remainder", action("buy_x_get_y", "2", `, "step": 3`), "",
			`{"items": [{"sku": "a", "qty": 9, "price": 1}]}`, []string{"3"}},
		{"buy_x_get_y qty equal to X skipped", action("buy_x_get_y", "1", `, "step": 2`), "",
			`{"items": [{"sku": "a", "qty": 2, "price": 10}]}`, []string{"0"}},
		{"buy_x_get_y Y greater than X", action("buy_x_get_y", "3", `, "step": 2`), "",
			`{"items": [{"sku": "a", "qty": 10, "price": 10}]}`, []string{"0"}},
		{"buy_x_get_y max_qty", action("buy_x_get_y", "1", `, "step": 1, "max_qty": 4`), "",
			`{"items": [{"sku": "a", "qty": 10, "price": 10}]}`, []string{"20"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := `{"id": "r", "action": ` + tt.action
			if tt.items != "" {
				rule += `, "items": ` + tt.items
			}
			rs := mustDecode(t, rulesFile(rule+`}`))
			res := rs.Evaluate(mustCart(t, tt.cart), nil, noon)
			if got := itemDiscounts(res); !slices.Equal(got, tt.want) {
				t.Errorf("item discounts = %q, want %q (trace %q)", got, tt.want, traceOf(res))
			}
		})
	}
}

func TestShipping(t *testing.T) {
	cart := `{"shipping_amount": 10, "items": [{"sku": "a", "qty": 2, "price": 20}, {"sku": "b", "qty": 1, "price": 10}]}`
	tests := []struct {
		name  string
		rules []string
		items []string
		cart  []string
		ship  string
	}{
		{"by_percent", []string{`{"id": "p", "action": ` + action("by_percent", "10", `, "apply_to_shipping": true`) + `}`},
			[]string{"4", "1"}, []string{"p:5:ITEM", "p:1:SHIPPING"}, "1"},
		{"by_fixed once", []string{`{"id": "f", "action": ` + action("by_fixed", "3", `, "apply_to_shipping": true`) + `}`},
			[]string{"6", "3"}, []string{"f:9:ITEM", "f:3:SHIPPING"}, "3"},
		{"cart_fixed shares with shipping", []string{`{"id": "c", "action": ` + action("cart_fixed", "12", `, "apply_to_shipping": true`) + `}`},
			[]string{"8", "2"}, []string{"c:10:ITEM", "c:2:SHIPPING"}, "2"},
		// b's 8 does not fit on top of a's 8: Magento takes the 2 left off without listing it.
		{"shipping capped, not listed", []string{
			`{"id": "a", "priority": 1, "action": ` + action("by_fixed", "8", `, "max_qty": 0.0001, "apply_to_shipping": true`) + `}`,
			`{"id": "b", "priority": 2, "action": ` + action("by_fixed", "8", `, "max_qty": 0.0001, "apply_to_shipping": true`) + `}`},
			[]string{"0", "0"}, []string{"a:8:SHIPPING"}, "10"},
		{"shipping fits exactly", []string{
			`{"id": "a", "priority": 1, "action": ` + action("by_fixed", "8", `, "max_qty": 0.0001, "apply_to_shipping": true`) + `}`,
			`{"id": "b", "priority": 2, "action": ` + action("by_fixed", "2", `, "max_qty": 0.0001, "apply_to_shipping": true`) + `}`},
			[]string{"0", "0"}, []string{"a:8:SHIPPING", "b:2:SHIPPING"}, "10"},
		// The uncapped share of 100 is 100 × 10 / (50 + 10) = 16.67: it does not fit in 10.
		{"cart_fixed share does not fit", []string{`{"id": "c", "action": ` + action("cart_fixed", "100", `, "apply_to_shipping": true`) + `}`},
			[]string{"40", "10"}, []string{"c:50:ITEM"}, "10"},
		{"buy_x_get_y shipping per free unit", []string{`{"id": "x", "action": ` + action("buy_x_get_y", "1", `, "step": 1, "apply_to_shipping": true`) + `}`},
			[]string{"20", "0"}, []string{"x:20:ITEM", "x:3.33:SHIPPING"}, "3.33"},
		{"stop_further_rules stops shipping", []string{
			`{"id": "a", "priority": 1, "stop_further_rules": true, "items": {"field": "sku", "op": "==", "value": "a"}, "action": ` + action("by_percent", "10", `, "apply_to_shipping": true`) + `}`,
			`{"id": "b", "priority": 2, "action": ` + action("by_percent", "50", `, "apply_to_shipping": true`) + `}`},
			[]string{"4", "5"}, []string{"a:4:ITEM", "b:5:ITEM", "a:1:SHIPPING"}, "1"},
		{"without apply_to_shipping", []string{`{"id": "p", "action": ` + action("by_percent", "10", "") + `}`},
			[]string{"4", "1"}, []string{"p:5:ITEM"}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := mustDecode(t, rulesFile(tt.rules...))
			res := rs.Evaluate(mustCart(t, cart), nil, noon)
			if got := itemDiscounts(res); !slices.Equal(got, tt.items) {
				t.Errorf("items = %q, want %q", got, tt.items)
			}
			if got := cartDiscounts(res); !slices.Equal(got, tt.cart) {
				t.Errorf("discounts = %q, want %q", got, tt.cart)
			}
			if got := res.ShippingDiscount.Trim(0).String(); got != tt.ship {
				t.Errorf("shipping = %s, want %s", got, tt.ship)
			}
			sum := res.ShippingDiscount
			for _, it := range res.Items {
				sum, _ = sum.Add(it.Discount)
			}
			if sum.Cmp(res.TotalDiscount) != 0 {
				t.Errorf("total %s != items + shipping %s", res.TotalDiscount, sum)
			}
		})
	}
}

func TestStopFurtherRules(t *testing.T) {
	rs := mustDecode(t, rulesFile(
		`{"id": "first", "priority": 1, "stop_further_rules": true, "items": {"field": "sku", "op": "==", "value": "simple1"}, "action": `+action("by_percent", "10", "")+`}`,
		`{"id": "second", "priority": 2, "action": `+action("by_percent", "10", "")+`}`,
		`{"id": "third", "priority": 3, "items": {"field": "sku", "op": "==", "value": "simple1"}, "action": `+action("by_percent", "10", "")+`}`,
		`{"id": "zero-stop", "priority": 4, "stop_further_rules": true, "items": {"field": "sku", "op": "==", "value": "simple2"}, "action": `+action("by_percent", "0", "")+`}`,
		`{"id": "fifth", "priority": 5, "items": {"field": "sku", "op": "==", "value": "simple2"}, "action": `+action("by_fixed", "1", "")+`}`,
	))
	res := rs.Evaluate(mustCart(t, twoItems), nil, noon)
	if got, want := itemDiscounts(res), []string{"1.2", "3.2"}; !slices.Equal(got, want) {
		t.Errorf("items = %q, want %q", got, want)
	}
	want := []string{"first=applied", "second=applied", "third=stopped_by:first", "zero-stop=zero_discount", "fifth=stopped_by:zero-stop"}
	if got := traceOf(res); !slices.Equal(got, want) {
		t.Errorf("trace = %q, want %q", got, want)
	}
}

func TestDateBoundaries(t *testing.T) {
	rs := mustDecode(t, `{"timezone": "America/Los_Angeles", "rules": [
	  {"id": "bf", "from": "2026-11-27", "to": "2026-11-27", "action": {"type": "by_percent", "amount": 10}},
	  {"id": "hour", "from": "2026-11-27T09:00:00-08:00", "to": "2026-11-27T10:00:00-08:00", "action": {"type": "by_percent", "amount": 10}}
	]}`)
	la, _ := time.LoadLocation("America/Los_Angeles")
	tests := []struct {
		at   time.Time
		want []string
	}{
		{time.Date(2026, 11, 26, 23, 59, 59, 0, la), []string{"bf=not_started", "hour=not_started"}},
		{time.Date(2026, 11, 27, 0, 0, 0, 0, la), []string{"bf=applied", "hour=not_started"}},
		{time.Date(2026, 11, 27, 7, 59, 59, 0, time.UTC), []string{"bf=not_started", "hour=not_started"}}, // still the 26th in Los Angeles
		{time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), []string{"bf=applied", "hour=not_started"}},
		{time.Date(2026, 11, 27, 9, 0, 0, 0, la), []string{"bf=applied", "hour=applied"}},
		{time.Date(2026, 11, 27, 10, 0, 0, 0, la), []string{"bf=applied", "hour=applied"}},
		{time.Date(2026, 11, 27, 10, 0, 1, 0, la), []string{"bf=applied", "hour=expired"}},
		{time.Date(2026, 11, 27, 23, 59, 59, 999999999, la), []string{"bf=applied", "hour=expired"}},
		{time.Date(2026, 11, 28, 0, 0, 0, 0, la), []string{"bf=expired", "hour=expired"}},
		{time.Date(2026, 11, 28, 7, 59, 0, 0, time.UTC), []string{"bf=applied", "hour=expired"}}, // still the 27th in Los Angeles
	}
	for _, tt := range tests {
		res := rs.Evaluate(mustCart(t, twoItems), nil, tt.at)
		if got := traceOf(res); !slices.Equal(got, tt.want) {
			t.Errorf("at %v: trace %q, want %q", tt.at, got, tt.want)
		}
	}
}

func TestTraceReasons(t *testing.T) {
	const vip = "6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"
	rs := mustDecode(t, rulesFile(
		`{"id": "r01-inactive", "priority": 1, "active": false, "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r02-not-started", "priority": 2, "from": "2027-01-01", "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r03-expired", "priority": 3, "to": "2025-01-01", "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r04-audience", "priority": 4, "audiences": {"any": ["someone-else"]}, "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r05-store", "priority": 5, "stores": ["fr"], "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r06-website", "priority": 6, "websites": ["eu"], "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r07-currency", "priority": 7, "currencies": ["EUR"], "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r08-conditions", "priority": 8, "conditions": {"field": "subtotal", "op": ">", "value": 1000}, "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r09-no-items", "priority": 9, "items": {"field": "sku", "op": "==", "value": "nope"}, "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r10-stopper", "priority": 10, "stop_further_rules": true, "audiences": {"any": ["`+vip+`"]}, "action": `+action("by_percent", "10", "")+`}`,
		`{"id": "r11-stopped", "priority": 11, "action": `+action("by_percent", "1", "")+`}`,
		`{"id": "r12-budget", "priority": 0, "action": `+action("cart_fixed", "0", "")+`}`,
		`{"id": "r13-zero", "priority": 0, "action": `+action("by_fixed", "0", "")+`}`,
		`{"id": "r14-enforced", "priority": 14, "enforce": {"coupon": "SECRET"}}`,
		`{"id": "r15-enforced-no", "priority": 15, "enforce": {"coupon": "OTHER"}, "conditions": {"field": "coupon", "op": "==", "value": "X"}}`,
	))
	cart := mustCart(t, `{"currency": "USD", "store": "default", "website": "base", "items": [{"sku": "a", "qty": 1, "price": 10}]}`)
	res := rs.Evaluate(cart, []string{vip}, noon)
	want := []string{
		"r12-budget=budget_exhausted", "r13-zero=zero_discount",
		"r01-inactive=inactive", "r02-not-started=not_started", "r03-expired=expired",
		"r04-audience=audience_mismatch", "r05-store=store_mismatch", "r06-website=store_mismatch",
		"r07-currency=currency_mismatch", "r08-conditions=conditions_false", "r09-no-items=no_eligible_items",
		"r10-stopper=applied", "r11-stopped=stopped_by:r10-stopper",
		"r14-enforced=applied(enforce)", "r15-enforced-no=conditions_false(enforce)",
	}
	if got := traceOf(res); !slices.Equal(got, want) {
		t.Errorf("trace:\n got %q\nwant %q", got, want)
	}
	if got := itemDiscounts(res); !slices.Equal(got, []string{"1"}) {
		t.Errorf("items = %q", got)
	}

	cands := rs.EvaluateWith(cart, []string{vip}, noon, EvalOptions{Trace: TraceCandidates})
	if len(cands.Trace) != len(res.Trace)-1 {
		t.Errorf("TraceCandidates has %d entries, want %d", len(cands.Trace), len(res.Trace)-1)
	}
	off := rs.EvaluateWith(cart, []string{vip}, noon, EvalOptions{Trace: TraceOff})
	if off.Trace != nil || !off.TotalDiscount.Equal(res.TotalDiscount) {
		t.Errorf("TraceOff: trace %v total %s", off.Trace, off.TotalDiscount)
	}
}

func TestAudiences(t *testing.T) {
	rs := mustDecode(t, rulesFile(
		`{"id": "any", "audiences": {"any": ["a", "b"]}, "action": `+action("by_fixed", "1", "")+`}`,
		`{"id": "all", "audiences": {"all": ["a", "c"]}, "action": `+action("by_fixed", "1", "")+`}`,
		`{"id": "none", "audiences": {"none": ["b"]}, "action": `+action("by_fixed", "1", "")+`}`,
		`{"id": "everyone", "action": `+action("by_fixed", "1", "")+`}`,
	))
	cart := mustCart(t, `{"items": [{"sku": "x", "qty": 1, "price": 100}]}`)
	tests := []struct {
		segs []string
		want []string
	}{
		{nil, []string{"none", "everyone"}},
		{[]string{"a"}, []string{"any", "none", "everyone"}},
		{[]string{"b"}, []string{"any", "everyone"}},
		{[]string{"a", "c"}, []string{"any", "all", "none", "everyone"}},
		{[]string{"c", "a", "a"}, []string{"any", "all", "none", "everyone"}}, // unsorted input is normalized
		{[]string{"a", "b", "c"}, []string{"any", "all", "everyone"}},
	}
	for _, tt := range tests {
		for range 2 { // cold, then from the candidate cache
			var got []string
			for _, e := range rs.Evaluate(cart, tt.segs, noon).Trace {
				if e.Applied {
					got = append(got, e.RuleID)
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("segments %q: applied %q, want %q", tt.segs, got, want)
			}
		}
	}
}

func TestLabels(t *testing.T) {
	rs := mustDecode(t, rulesFile(
		`{"id": "l", "label": "Default label", "labels": {"fr": "Remise", "de": ""}, "action": `+action("by_fixed", "1", "")+`}`,
	))
	for store, want := range map[string]string{"fr": "Remise", "de": "Default label", "default": "Default label", "": "Default label"} {
		res := rs.Evaluate(&Cart{Store: store, Items: []Item{{SKU: "a", Qty: decimal.One, Price: decimal.Ten}}}, nil, noon)
		if got := res.Discounts[0].Label; got != want {
			t.Errorf("store %q: label %q, want %q", store, got, want)
		}
		if got := res.Items[0].Discounts[0].Label; got != want {
			t.Errorf("store %q: item label %q, want %q", store, got, want)
		}
	}
}

func TestQualifying(t *testing.T) {
	rs := mustDecode(t, rulesFile(
		`{"id": "vip-coupon", "audiences": {"any": ["vip"]}, "enforce": {"coupon": "VIP-7F3A"}}`,
		`{"id": "bags-coupon", "items": {"field": "sku", "op": "matches", "value": "24-MB*"}, "enforce": {"coupons_file": "bags.txt"}}`,
		`{"id": "big-cart", "conditions": {"field": "subtotal", "op": ">=", "value": 100}, "enforce": {"coupon": "BIG"}}`,
		`{"id": "off", "active": false, "enforce": {"coupon": "OFF"}}`,
		`{"id": "rewrite", "action": `+action("by_percent", "10", "")+`}`,
	))
	cart := mustCart(t, `{"items": [{"sku": "24-MB01", "qty": 1, "price": 34}]}`)
	got := rs.Qualifying(cart, []string{"vip"}, noon)
	want := []EnforcedRule{{RuleID: "bags-coupon", CouponsFile: "bags.txt"}, {RuleID: "vip-coupon", Coupon: "VIP-7F3A"}}
	if !slices.Equal(got, want) {
		t.Errorf("Qualifying = %+v, want %+v", got, want)
	}
	if got := rs.Qualifying(mustCart(t, `{"items": [{"sku": "24-WB01", "qty": 1, "price": 34}]}`), nil, noon); len(got) != 0 {
		t.Errorf("Qualifying without segments or bags = %+v", got)
	}
	// Enforced rules never discount.
	res := rs.Evaluate(cart, []string{"vip"}, noon)
	if got := cartDiscounts(res); !slices.Equal(got, []string{"rewrite:3.4:ITEM"}) {
		t.Errorf("discounts = %q", got)
	}
}

func TestInvalidCart(t *testing.T) {
	rs := mustDecode(t, rulesFile(`{"id": "r", "action": `+action("by_percent", "10", "")+`}`))
	neg, _ := decimal.New(-1, 0)
	res := rs.Evaluate(&Cart{Items: []Item{{SKU: "a", Qty: neg, Price: decimal.One}}}, nil, noon)
	if res.Error == "" || !res.TotalDiscount.IsZero() || len(res.Items) != 1 || res.Items[0].SKU != "a" {
		t.Errorf("result = %+v", res)
	}
	if res := rs.Evaluate(nil, nil, time.Time{}); res.Error != "" || len(res.Items) != 0 {
		t.Errorf("nil cart: %+v", res)
	}
	out, err := json.Marshal(res)
	if err != nil || !strings.Contains(string(out), `"error":"invalid cart: items[0].qty: -1 is out of range`) {
		t.Errorf("JSON = %s, %v", out, err)
	}
}

func TestDecodeCart(t *testing.T) {
	c := mustCart(t, `{"currency": "USD", "store": "default", "website": "base", "coupons": ["WELCOME10"], "shipping_amount": 10,
	  "items": [{"sku": "24-MB01", "qty": 2, "price": 34, "row_total": 68, "discount": 6.8, "product_type": "simple"},
	            {"sku": "24-WB01", "qty": 3, "price": 1.5}]}`)
	if c.Items[1].RowTotal.String() != "4.5" || c.Items[1].ProductType != "simple" || c.Coupons[0] != "WELCOME10" || c.Website != "base" {
		t.Errorf("cart = %+v", c)
	}
	_, err := DecodeCart([]byte(`{"items": [{"sku": 1, "qty": -1, "colour": "red"}, 3], "shipping": 1, "coupons": "X"}`))
	var de *DecodeError
	if !errorsAs(err, &de) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`shipping: unknown field`, `coupons: must be an array of strings, got string`,
		`items[0].colour: unknown field`, `items[0].qty: must not be negative, got -1`, `items[0].price: required`,
		`items[0].sku: must be a string, got number`, `items[1]: must be an object, got number`,
	}
	for _, w := range want {
		if !slices.Contains(de.Problems, w) {
			t.Errorf("missing %q in %q", w, de.Problems)
		}
	}
	for _, bad := range []string{``, `[]`, `{"items": {}}`, `{`} {
		if _, err := DecodeCart([]byte(bad)); err == nil {
			t.Errorf("DecodeCart(%q) accepted", bad)
		}
	}
}

func TestResultJSON(t *testing.T) {
	res := &Result{
		TotalDiscount: decimal.MustParse("12.240"),
		Items: []ItemResult{{SKU: "a\"<\n", Discount: decimal.MustParse("12.24"),
			Discounts: []RuleDiscount{{RuleID: "r", Label: "L\u2028", Amount: decimal.MustParse("12.24")}}}},
		Discounts:        []CartDiscount{{RuleID: "r", Label: "L", Amount: decimal.MustParse("12.24"), AppliedTo: AppliedToItem}},
		ShippingDiscount: decimal.Zero,
		Trace:            []TraceEntry{{RuleID: "r", Applied: true}, {RuleID: "e", Reason: ReasonConditionsFalse, Enforce: true}},
	}
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"total_discount":12.24,"items":[{"sku":"a\"\u003c\n","discount":12.24,"discounts":[{"rule_id":"r","label":"L\u2028","amount":12.24}]}],` +
		`"discounts":[{"rule_id":"r","label":"L","amount":12.24,"applied_to":"ITEM"}],"shipping_discount":0,` +
		`"trace":[{"rule_id":"r","applied":true},{"rule_id":"e","applied":false,"reason":"conditions_false","enforce":true}]}`
	if string(out) != want {
		t.Errorf("JSON\n got %s\nwant %s", out, want)
	}
	if !json.Valid(out) {
		t.Error("invalid JSON")
	}
}

func TestRound2(t *testing.T) {
	for in, want := range map[string]string{
		"0.005": "0.01", "0.015": "0.02", "0.025": "0.03", "-0.005": "-0.01", "1.2349999": "1.23",
		"2.675": "2.68", "1.3626023657870791": "1.36", "3": "3", "0.0049999999999999999": "0.00",
	} {
		if got := round2(decimal.MustParse(in)).String(); got != want {
			t.Errorf("round2(%s) = %s, want %s", in, got, want)
		}
	}
}

func errorsAs(err error, target **DecodeError) bool {
	de, ok := err.(*DecodeError)
	if ok {
		*target = de
	}
	return ok
}

func TestConcurrentEvaluate(t *testing.T) {
	rs := mustDecode(t, string(benchRules(200)), WithCacheSize(8))
	cart := benchCart(20)
	want := mustJSON(rs.Evaluate(cart, []string{"seg-00001"}, benchAt))
	done := make(chan string)
	for g := range 8 {
		go func() {
			var last string
			for i := range 200 {
				segs := []string{"seg-00001", fmt.Sprintf("x-%d-%d", g, i%20)}
				last = mustJSON(rs.Evaluate(cart, segs, benchAt))
			}
			done <- last
		}()
	}
	for range 8 {
		if got := <-done; !strings.Contains(got, `"total_discount"`) || strings.Count(got, `"applied":true`) != strings.Count(want, `"applied":true`) {
			t.Errorf("concurrent result differs:\n%s\n%s", got, want)
		}
	}
}

// TestCheckAmount: amounts are accepted up to their limit inclusive, at any scale, and
// refused below zero or above it.
func TestCheckAmount(t *testing.T) {
	for _, tc := range []struct {
		v     string
		limit decimal.Decimal
		ok    bool
	}{
		{"0", maxAmount, true}, {"0.0000", maxAmount, true}, {"83.18", maxAmount, true},
		{"100000000000", maxAmount, true}, {"100000000000.00", maxAmount, true},
		{"99999999999.9999", maxAmount, true}, {"100000000000.01", maxAmount, false},
		{"100000000001", maxAmount, false}, {"-0.01", maxAmount, false},
		{"1000000", maxQty, true}, {"1000000.0", maxQty, true}, {"1000000.5", maxQty, false},
		{"999999.9999", maxQty, true}, {"-1", maxQty, false},
	} {
		err := checkAmount("x", decimal.MustParse(tc.v), tc.limit)
		if (err == nil) != tc.ok {
			t.Errorf("checkAmount(%s, %s) = %v, want ok %v", tc.v, tc.limit, err, tc.ok)
		}
	}
}
