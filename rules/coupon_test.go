package rules

import (
	"fmt"
	"slices"
	"testing"
)

// labelled returns the cart-level entries as "rule:label:amount".
func labelled(res *Result) []string {
	var out []string
	for _, d := range res.Discounts {
		out = append(out, fmt.Sprintf("%s:%s:%s", d.RuleID, d.Label, d.Amount.Trim(0)))
	}
	return out
}

func TestDecodeCoupon(t *testing.T) {
	pct := `"action": {"type": "by_percent", "amount": 10}`
	tests := []struct {
		name string
		file string
		want []string // problems; nil means valid
	}{
		{"coupon rule", rulesFile(`{"id": "a", "coupon": "SPRING", ` + pct + `}`), nil},
		{"coupon beside an enforced rule", rulesFile(`{"id": "a", "coupon": "SPRING", `+pct+`}`, `{"id": "b", "enforce": {"coupon": "VIP"}}`), nil},
		{"not a string", rulesFile(`{"id": "a", "coupon": 10, ` + pct + `}`),
			[]string{`rules[0] "a": coupon: must be a string, got number`}},
		{"blank", rulesFile(`{"id": "a", "coupon": " ", ` + pct + `}`),
			[]string{`rules[0] "a": coupon: must not be empty`}},
		{"without action", rulesFile(`{"id": "a", "coupon": "SPRING"}`),
			[]string{`rules[0] "a": action: required (or enforce)`}},
		{"on an enforced rule", rulesFile(`{"id": "a", "coupon": "SPRING", "enforce": {"coupon": "VIP"}}`),
			[]string{`rules[0] "a": coupon: an enforced rule names its coupon in enforce.coupon`}},
		{"shared by two rules, other case", rulesFile(`{"id": "a", "coupon": "spring", `+pct+`}`, `{"id": "b", "coupon": "SPRING", `+pct+`}`),
			[]string{`rules[1] "b": coupon: "SPRING" is already used by rule "a"`}},
		{"equal to a later enforce.coupon", rulesFile(`{"id": "a", "coupon": "Vip", `+pct+`}`, `{"id": "b", "enforce": {"coupon": "VIP"}}`),
			[]string{`rules[1] "b": enforce.coupon: "VIP" is already used by rule "a" as its coupon`}},
		{"equal to an earlier enforce.coupon", rulesFile(`{"id": "a", "enforce": {"coupon": "VIP"}}`, `{"id": "b", "coupon": "vip", `+pct+`}`),
			[]string{`rules[1] "b": coupon: "vip" is already used by rule "a" as its enforce.coupon`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == nil {
				mustDecode(t, tt.file)
				return
			}
			if got := decodeProblems(t, tt.file); !slices.Equal(got, tt.want) {
				t.Errorf("problems %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCouponRule(t *testing.T) {
	rs := mustDecode(t, rulesFile(
		`{"id": "spring", "coupon": "Spring-25", "action": {"type": "by_percent", "amount": 25}}`,
		`{"id": "vip", "enforce": {"coupon": "VIP"}}`,
		`{"id": "plain", "action": {"type": "by_percent", "amount": 1}}`,
	))
	for _, tt := range []struct {
		code, id string
		ok       bool
	}{
		{"Spring-25", "spring", true}, {"SPRING-25", "spring", true}, {"spring-25", "spring", true},
		{"VIP", "", false}, {"spring", "", false}, {"", "", false},
	} {
		if id, ok := rs.CouponRule(tt.code); id != tt.id || ok != tt.ok {
			t.Errorf("CouponRule(%q) = %q, %v; want %q, %v", tt.code, id, ok, tt.id, tt.ok)
		}
	}
	if got := rs.Rules()[1].Coupon; got != "Spring-25" {
		t.Errorf("Rule.Coupon = %q", got)
	}
}

func TestEvaluateCoupon(t *testing.T) {
	rs := mustDecode(t, rulesFile(
		`{"id": "spring", "priority": 1, "coupon": "SPRING", "action": {"type": "by_percent", "amount": 10}}`,
		`{"id": "labelled", "priority": 2, "coupon": "BAGS", "label": "Bags 5 off", "items": {"field": "sku", "op": "matches", "value": "24-MB*"}, "action": {"type": "by_fixed", "amount": 5}}`,
		`{"id": "big", "priority": 3, "coupon": "BIG", "conditions": {"field": "subtotal", "op": ">=", "value": 100}, "action": {"type": "cart_fixed", "amount": 20}}`,
		`{"id": "later", "priority": 4, "coupon": "LATER", "from": "2027-01-01", "action": {"type": "by_percent", "amount": 50}}`,
		`{"id": "always", "priority": 5, "action": {"type": "by_fixed", "amount": 1}}`,
	))
	cart := func(coupons ...string) *Cart {
		c := mustCart(t, `{"currency": "USD", "items": [{"sku": "24-MB01", "qty": 1, "price": 34}, {"sku": "24-WG02", "qty": 2, "price": 12}]}`)
		c.Coupons = coupons
		return c
	}
	tests := []struct {
		name      string
		coupons   []string
		trace     []string
		discounts []string
	}{
		{"no coupon", nil,
			[]string{"spring=coupon_mismatch", "labelled=coupon_mismatch", "big=coupon_mismatch", "later=not_started", "always=applied"},
			[]string{"always:Discount:3"}},
		{"other coupon", []string{"WELCOME10"},
			[]string{"spring=coupon_mismatch", "labelled=coupon_mismatch", "big=coupon_mismatch", "later=not_started", "always=applied"},
			[]string{"always:Discount:3"}},
		{"code in another case; label falls back to the code", []string{"spring"},
			[]string{"spring=applied", "labelled=coupon_mismatch", "big=coupon_mismatch", "later=not_started", "always=applied"},
			[]string{"spring:SPRING:5.8", "always:Discount:3"}},
		{"item filter and store label", []string{"Bags"},
			[]string{"spring=coupon_mismatch", "labelled=applied", "big=coupon_mismatch", "later=not_started", "always=applied"},
			[]string{"labelled:Bags 5 off:5", "always:Discount:3"}},
		{"conditions false", []string{"BIG"},
			[]string{"spring=coupon_mismatch", "labelled=coupon_mismatch", "big=conditions_false", "later=not_started", "always=applied"},
			[]string{"always:Discount:3"}},
		{"dates before the coupon", []string{"LATER"},
			[]string{"spring=coupon_mismatch", "labelled=coupon_mismatch", "big=coupon_mismatch", "later=not_started", "always=applied"},
			[]string{"always:Discount:3"}},
		{"two coupons", []string{"BAGS", "SPRING"},
			[]string{"spring=applied", "labelled=applied", "big=coupon_mismatch", "later=not_started", "always=applied"},
			[]string{"spring:SPRING:5.8", "labelled:Bags 5 off:5", "always:Discount:3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := rs.Evaluate(cart(tt.coupons...), nil, noon)
			if got := traceOf(res); !slices.Equal(got, tt.trace) {
				t.Errorf("trace\n got %q\nwant %q", got, tt.trace)
			}
			if got := labelled(res); !slices.Equal(got, tt.discounts) {
				t.Errorf("discounts %q, want %q", got, tt.discounts)
			}
		})
	}
	big := mustCart(t, `{"items": [{"sku": "24-MB01", "qty": 3, "price": 34}]}`)
	big.Coupons = []string{"big"}
	if got := labelled(rs.Evaluate(big, nil, noon)); !slices.Equal(got, []string{"big:BIG:20", "always:Discount:3"}) {
		t.Errorf("cart_fixed coupon: %q", got)
	}
}
