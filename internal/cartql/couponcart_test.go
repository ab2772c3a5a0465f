package cartql

import (
	"slices"
	"testing"
)

func TestCouponCartIDs(t *testing.T) {
	p, err := NewPlanner(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		vars  map[string]any
		want  []string
	}{
		{`mutation($c: String!, $code: String!) { applyCouponToCart(input: {cart_id: $c, coupon_code: $code}) { cart { id } } }`, map[string]any{"c": "abc", "code": "X"}, []string{"abc"}},
		{`mutation { applyCouponsToCart(input: {cart_id: "lit", coupon_codes: ["A"], type: APPEND}) { cart { id } } }`, nil, []string{"lit"}},
		{`mutation($in: ApplyCouponToCartInput) { applyCouponToCart(input: $in) { cart { id } } }`, map[string]any{"in": map[string]any{"cart_id": "v"}}, []string{"v"}},
		{`mutation { removeCouponFromCart(input: {cart_id: "x"}) { cart { id } } }`, nil, nil},
	} {
		plan, err := p.Plan(tc.query, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := plan.CouponCartIDs(tc.vars); !slices.Equal(got, tc.want) {
			t.Errorf("%s: CouponCartIDs = %q, want %q", tc.query, got, tc.want)
		}
	}
}
