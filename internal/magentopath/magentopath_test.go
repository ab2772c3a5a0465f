package magentopath

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		path   string
		kind   Kind
		coupon string
	}{
		{"/graphql", GraphQL, ""},
		{"/graphql/", GraphQL, ""},
		{"/GraphQL", GraphQL, ""},
		{"//graphql", GraphQL, ""},
		{"/index.php/graphql", GraphQL, ""},
		{"/default/graphql", GraphQL, ""},
		{"/gr%61phql", GraphQL, ""},
		{"/gr%2561phql", GraphQL, ""},
		{"/x/../graphql", GraphQL, ""},
		{"/graphql/anything", GraphQL, ""},
		{"/graphql.png", Other, ""},
		{"/media/x/graphql", Other, ""},
		{"/rest/default/V1/carts/mine/coupons/AUD-VIP", RESTCart, "AUD-VIP"},
		{"/rest/V1/guest-carts/abc/coupons/AUD%2DVIP", RESTCart, "AUD-VIP"},
		{"/index.php/rest/all/v1/carts/5/coupons/aud-vip", RESTCart, "aud-vip"},
		{"/rest/default/V1/guest-carts/abc/totals", RESTCart, ""},
		{"/rest/default/V1/guest-carts/abc/coupons", RESTCart, ""},
		{"/rest/default/V1/products/x", Other, ""},
		{"/checkout/cart/couponPost/", CouponPost, ""},
		{"/default/checkout/cart/couponpost/coupon_code/AUD-VIP", CouponPost, ""},
		{"/checkout/cart/", CartPage, ""},
		{"/checkout/cart/index", CartPage, ""},
		{"/checkout/", CheckoutPage, ""},
		{"/default/checkout/index/index/", CheckoutPage, ""},
		{"/checkout/cart/add/uenc/x/product/1/", Other, ""},
		{"/checkout/onepage/success/", Other, ""},
	}
	for _, tt := range tests {
		r := Match(tt.path)
		if r.Kind != tt.kind || r.Coupon != tt.coupon {
			t.Errorf("Match(%q) = %+v, want kind %d coupon %q", tt.path, r, tt.kind, tt.coupon)
		}
	}
	if r := Match("/checkout/cart/couponPost/coupon_code/AUD-VIP/remove/0"); r.Params["coupon_code"] != "aud-vip" || r.Params["remove"] != "0" {
		t.Errorf("params = %v", r.Params)
	}
	r := Match("/rest/fr/V1/guest-carts/PzqhDgWM06pjFZCaolENXyl6ammKtQxg/payment-information")
	if r.Store != "fr" || r.CartID != "PzqhDgWM06pjFZCaolENXyl6ammKtQxg" || r.Mine || r.Action != "payment-information" {
		t.Errorf("REST route = %+v", r)
	}
	if r := Match("/rest/all/V1/carts/mine/totals"); r.Store != "" || !r.Mine || r.Action != "totals" {
		t.Errorf("REST mine route = %+v", r)
	}
}
