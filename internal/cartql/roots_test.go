package cartql

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestAppliedCouponInputs(t *testing.T) {
	tests := []struct {
		name  string
		query string
		op    string
		vars  map[string]any
		want  []string
	}{
		{
			name:  "literal, trimmed",
			query: `mutation { applyCouponToCart(input: {cart_id: "c", coupon_code: " SECRET\t"}) { cart { id } } }`,
			want:  []string{"SECRET"},
		},
		{
			name:  "Venia: code in a variable",
			query: veniaApplyCoupon,
			vars:  map[string]any{"cartId": "c", "couponCode": "secret"},
			want:  []string{"secret"},
		},
		{
			name:  "the whole input in a variable",
			query: `mutation ($in: ApplyCouponToCartInput!) { applyCouponToCart(input: $in) { cart { id } } }`,
			vars:  map[string]any{"in": map[string]any{"cart_id": "c", "coupon_code": "SECRET"}},
			want:  []string{"SECRET"},
		},
		{
			name:  "variable default",
			query: `mutation ($code: String = "SECRET") { applyCouponToCart(input: {cart_id: "c", coupon_code: $code}) { cart { id } } }`,
			want:  []string{"SECRET"},
		},
		{
			name:  "a value given beats the default",
			query: `mutation ($code: String = "SECRET") { applyCouponToCart(input: {cart_id: "c", coupon_code: $code}) { cart { id } } }`,
			vars:  map[string]any{"code": "OTHER"},
			want:  []string{"OTHER"},
		},
		{
			name:  "missing variable",
			query: `mutation ($code: String) { applyCouponToCart(input: {cart_id: "c", coupon_code: $code}) { cart { id } } }`,
		},
		{
			name:  "multi-coupon literal list, alias, no cart selected",
			query: `mutation { x: applyCouponsToCart(input: {cart_id: "c", coupon_codes: ["A", "B"], type: APPEND}) { __typename } }`,
			want:  []string{"A", "B"},
		},
		{
			name:  "multi-coupon list of variables",
			query: `mutation ($a: String!, $b: String!) { applyCouponsToCart(input: {cart_id: "c", coupon_codes: [$a, $b]}) { cart { id } } }`,
			vars:  map[string]any{"a": "A", "b": "B"},
			want:  []string{"A", "B"},
		},
		{
			name:  "multi-coupon list in a variable, numbers included",
			query: `mutation ($codes: [String!]!) { applyCouponsToCart(input: {cart_id: "c", coupon_codes: $codes}) { cart { id } } }`,
			vars:  map[string]any{"codes": []any{"A", json.Number("12345"), 7.0, nil, ""}},
			want:  []string{"A", "12345", "7"},
		},
		{
			name:  "a single code where a list is expected (input coercion)",
			query: `mutation ($codes: [String!]!) { applyCouponsToCart(input: {cart_id: "c", coupon_codes: $codes}) { cart { id } } }`,
			vars:  map[string]any{"codes": "SECRET"},
			want:  []string{"SECRET"},
		},
		{
			name:  "nested input object in a variable",
			query: `mutation ($in: ApplyCouponsToCartInput!) { applyCouponsToCart(input: $in) { cart { id } } }`,
			vars:  map[string]any{"in": map[string]any{"cart_id": "c", "coupon_codes": []string{"A"}}},
			want:  []string{"A"},
		},
		{
			name: "fragments, conditions and several fields",
			query: `mutation ($skip: Boolean!) { ...M a: applyCouponToCart(input: {cart_id: "c", coupon_code: "B"}) @skip(if: $skip) { cart { id } } }
				fragment M on Mutation { ... on Mutation { applyCouponToCart(input: {cart_id: "c", coupon_code: "A"}) { cart { id } } } }`,
			vars: map[string]any{"skip": true},
			want: []string{"A", "B"},
		},
		{
			name:  "the operation named",
			query: `mutation One { applyCouponToCart(input: {cart_id: "c", coupon_code: "A"}) { cart { id } } } mutation Two { applyCouponToCart(input: {cart_id: "c", coupon_code: "B"}) { cart { id } } }`,
			op:    "Two",
			want:  []string{"B"},
		},
		{
			name:  "a client text holding the hidden prefix is still read",
			query: `mutation { applyCouponToCart(input: {cart_id: "c", coupon_code: "SECRET"}) { _aud_x: cart { id } } }`,
			want:  []string{"SECRET"},
		},
		{
			name:  "not a mutation",
			query: `query { applyCouponToCart(input: {cart_id: "c", coupon_code: "SECRET"}) { cart { id } } }`,
		},
		{
			name:  "removing is not applying",
			query: `mutation { removeCouponFromCart(input: {cart_id: "c"}) { cart { id } } }`,
		},
	}
	pl := newPlanner(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPlan(t, pl, tt.query, tt.op)
			if got := p.AppliedCouponInputs(tt.vars); !slices.Equal(got, tt.want) {
				t.Errorf("AppliedCouponInputs = %q, want %q", got, tt.want)
			}
			if p.PlacesOrder() || len(p.OrderCartIDs(tt.vars)) > 0 {
				t.Errorf("no order is placed")
			}
		})
	}
}

const veniaApplyCoupon = `mutation applyCouponToCart($cartId: String!, $couponCode: String!) {
	applyCouponToCart(input: { cart_id: $cartId, coupon_code: $couponCode }) { cart { id applied_coupons { code } } } }`

func TestOrderCartIDs(t *testing.T) {
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  []string
	}{
		{
			name:  "Venia placeOrder",
			query: `mutation placeOrder($cartId: String!) { placeOrder(input: { cart_id: $cartId }) { orderV2 { number } } }`,
			vars:  map[string]any{"cartId": "abc"},
			want:  []string{"abc"},
		},
		{
			name:  "literal",
			query: `mutation { placeOrder(input: {cart_id: "abc"}) { orderV2 { number } } }`,
			want:  []string{"abc"},
		},
		{
			name:  "whole input",
			query: `mutation ($in: PlaceOrderInput!) { placeOrder(input: $in) { errors { code } } }`,
			vars:  map[string]any{"in": map[string]any{"cart_id": "abc"}},
			want:  []string{"abc"},
		},
		{
			name: "setPaymentMethodAndPlaceOrder with an alias and a fragment",
			query: `mutation ($id: String!) { ...P }
				fragment P on Mutation { o: setPaymentMethodAndPlaceOrder(input: {cart_id: $id, payment_method: {code: "checkmo"}}) { order { order_number } } }`,
			vars: map[string]any{"id": "abc"},
			want: []string{"abc"},
		},
		{
			name:  "id missing: still an order",
			query: `mutation ($id: String) { placeOrder(input: {cart_id: $id}) { orderV2 { number } } }`,
		},
	}
	pl := newPlanner(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPlan(t, pl, tt.query, "")
			if !p.PlacesOrder() {
				t.Error("PlacesOrder = false")
			}
			if got := p.OrderCartIDs(tt.vars); !slices.Equal(got, tt.want) {
				t.Errorf("OrderCartIDs = %q, want %q", got, tt.want)
			}
			if p.HasCart() {
				t.Error("an order has no cart")
			}
		})
	}
	p := mustPlan(t, pl, `query { placeOrder(input: {cart_id: "abc"}) { orderV2 { number } } }`, "")
	if p.PlacesOrder() || p.OrderCartIDs(nil) != nil {
		t.Error("a query places no order")
	}
}

func TestRootFields(t *testing.T) {
	p := mustPlan(t, newPlanner(t), `mutation { a: placeOrder(input: {cart_id: "x"}) { errors { code } } ...F b: placeOrder(input: {cart_id: "y"}) { errors { code } } }
		fragment F on Mutation { a: placeOrder(input: {cart_id: "x"}) { errors { code } } c: clearCart(input: {uid: "x"}) { cart { id } } }`, "")
	if got := p.RootFields(); !slices.Equal(got, []string{"a", "c", "b"}) {
		t.Errorf("RootFields = %q", got)
	}
}

// TestHiddenCouponCart covers a coupon mutation whose client selects no cart: the planner
// adds one under a hidden alias, so the gate sees the cart, and the client sees nothing of it.
func TestHiddenCouponCart(t *testing.T) {
	pl := newPlanner(t)
	q := `mutation ($code: String!) { applyCouponToCart(input: {cart_id: "cart-1", coupon_code: $code}) { __typename } }`
	p := mustPlan(t, pl, q, "")
	if !p.HasCart() || sitePaths(p) != "applyCouponToCart."+hiddenCartKey || p.Sites()[0].Field != "Mutation.applyCouponToCart.cart" {
		t.Fatalf("HasCart %v, sites %q", p.HasCart(), sitePaths(p))
	}
	checkAugmented(t, p, q)
	body := execute(t, p.Query(), "", nil, mockCart{lines: 2, coupon: true}.model())
	snaps, err := p.Snapshots(body, RewriteOptions{})
	if err != nil || len(snaps) != 1 || snaps[0].CartID != "cart-1" || !slices.Equal(snaps[0].Cart.Coupons, []string{"WELCOME10"}) {
		t.Fatalf("snapshots %+v %v", snaps, err)
	}
	want := `{"data":{"applyCouponToCart":{"__typename":"Output"}}}`
	got, out, err := p.Rewrite(body, nil, evaluator(testRules(t), "vip"), RewriteOptions{})
	if err != nil || string(got) != want || out.Carts != 0 {
		t.Errorf("rewrite: %s %+v %v", got, out, err)
	}
	if got, err := p.Strip(body); err != nil || string(got) != want {
		t.Errorf("strip: %s %v", got, err)
	}

	// A cart the client selects is enough; several fields get one hidden cart each.
	for query, sites := range map[string]string{
		`mutation { applyCouponToCart(input: {cart_id: "x", coupon_code: "A"}) { cart { id } } }`:                                                                                    "applyCouponToCart.cart",
		`mutation { a: applyCouponToCart(input: {cart_id: "x", coupon_code: "A"}) { __typename } a: applyCouponToCart(input: {cart_id: "x", coupon_code: "A"}) { cart { id } } }`:    "a.cart",
		`mutation { a: applyCouponToCart(input: {cart_id: "x", coupon_code: "A"}) { __typename } b: applyCouponsToCart(input: {cart_id: "x", coupon_codes: ["A"]}) { __typename } }`: "a._aud_cart,b._aud_cart",
		`mutation { removeCouponFromCart(input: {cart_id: "x"}) { __typename } }`:                                                                                                    "",
	} {
		p := mustPlan(t, pl, query, "")
		if got := sitePaths(p); got != sites {
			t.Errorf("%s: sites %q, want %q", query, got, sites)
		}
		if p.HasCart() {
			checkAugmented(t, p, query)
		}
	}

	// Conditions: the hidden cart goes into an occurrence that is always there.
	q = `mutation ($i: Boolean!) { a: applyCouponToCart(input: {cart_id: "x", coupon_code: "A"}) @include(if: $i) { __typename } a: applyCouponToCart(input: {cart_id: "x", coupon_code: "A"}) { uid: __typename } }`
	p = mustPlan(t, pl, q, "")
	if aug := p.Query(); !strings.Contains(aug, "{ uid: __typename  "+hiddenCartKey+":cart{") || p.sites[0].optional {
		t.Errorf("hidden cart in the conditional occurrence:\n%s", aug)
	}
}
