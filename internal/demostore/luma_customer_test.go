package demostore

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// customerLoose are the members that are null for the recorded guest and set for a
// signed-in customer, or that hold the coupon the customer keeps at checkout.
var customerLoose = shapeRules{
	maps: configRules.maps,
	loose: map[string]bool{
		".customerData": true, ".quoteData.customer_id": true, ".quoteData.customer_email": true,
		".quoteData.customer_firstname": true, ".quoteData.customer_lastname": true,
	},
}

// withCouponLoose adds the members that differ from fixture 15 (taken without a coupon) when
// the quote carries one.
func withCouponLoose(items int) shapeRules {
	r := shapeRules{maps: customerLoose.maps, loose: map[string]bool{
		".quoteData.coupon_code": true, ".quoteData.applied_rule_ids": true, ".totalsData.coupon_code": true,
		".totalsData.extension_attributes": true,
	}}
	for k := range customerLoose.loose {
		r.loose[k] = true
	}
	for i := 0; i < items; i++ {
		r.loose[".quoteItemData["+strconv.Itoa(i)+"].applied_rule_ids"] = true
	}
	return r
}

// signIn posts the sign-in form with the demo customer's credentials.
func (c *lumaClient) signIn(password string) *lumaResp {
	c.t.Helper()
	return c.post("customer/account/loginPost/", url.Values{
		"form_key": {c.cookie(formKeyCookieName)}, "login[username]": {"Roni_Cost@example.com"}, "login[password]": {password},
	}, false)
}

// TestLumaCustomerWalk walks the signed-in demo customer through the same session: sign-in,
// add ×2, mini cart, cart page, REST carts/mine totals, couponPost, the cart page with the
// coupon, a wrong code, the coupon again, checkout, shipping and payment information, the
// order and the success page. The customer's quote is GraphQL's customerCart throughout, and
// the order charges what the last totals showed, discount included.
func TestLumaCustomerWalk(t *testing.T) {
	store := lumaStore(t, Options{})
	c := newLumaClient(t, store)
	gql := &client{t: t, store: store, headers: map[string]string{"Authorization": "Bearer " + demoCustomerToken}}

	// Sign-in: a wrong password first, then the right one; the session id changes.
	c.get("customer/account/login/").must(t, http.StatusOK)
	bad := c.signIn("wrong").must(t, http.StatusFound)
	if bad.header.Get("Location") != c.base+"customer/account/login/" {
		t.Errorf("bad sign-in Location %q", bad.header.Get("Location"))
	}
	wantMessage(t, bad, "error", msgLoginIncorrect)
	guestSession := c.cookie(sessionCookieName)
	ok := c.signIn(demoCustomerPassword).must(t, http.StatusFound)
	if ok.header.Get("Location") != c.base+"customer/account/" || c.cookie(sessionCookieName) == guestSession {
		t.Fatalf("sign-in: Location %q, session kept: %v", ok.header.Get("Location"), c.cookie(sessionCookieName) == guestSession)
	}
	if !bytes.Contains(c.get("customer/account/").must(t, http.StatusOK).body, []byte(demoCustomerEmail)) {
		t.Errorf("account page does not show the customer")
	}

	c.get("24-mb01.html").must(t, http.StatusOK)
	c.addToCart(1, 2).must(t, http.StatusOK)
	c.addToCart(2, 1).must(t, http.StatusOK)
	mini := c.ajaxGet("customer/section/load/?sections=cart,customer&force_new_section_timestamp=true&_=1").must(t, http.StatusOK)
	if mv := mini.jsonValue(t); numAt(t, mv, "cart.summary_count") != "3" || jpath(t, mv, "customer.firstname") != demoCustomerFirstname {
		t.Errorf("sections: %s", mini.body)
	}

	// Cart page: numeric entity_id, the customer's fields, GraphQL's customerCart.
	cartPage := c.get("checkout/cart/").must(t, http.StatusOK)
	checkConfigShape(t, "customer cart page", cartPage.body, "05-cart-page.body", customerLoose)
	cfg := mustConfig(t, cartPage.body)
	quoteID, _ := jpath(t, cfg, "quoteData.entity_id").(string)
	if _, err := strconv.Atoi(quoteID); err != nil || jpath(t, cfg, "isCustomerLoggedIn") != true ||
		jpath(t, cfg, "quoteData.customer_id") != "1" || jpath(t, cfg, "quoteData.customer_email") != demoCustomerEmail {
		t.Fatalf("customer quoteData: %s", checkoutConfigOf(t, cartPage.body))
	}
	agree(t, "customer cart page", numAt(t, cfg, "totalsData.grand_total"), customerCartTotal(t, gql, ""))

	totals := c.rest(http.MethodGet, "carts/mine/totals", nil).must(t, http.StatusOK)
	checkShape(t, "mine totals", totals.body, "06-rest-totals.body", shapeRules{})
	agree(t, "mine totals", numAt(t, totals.jsonValue(t), "grand_total"), customerCartTotal(t, gql, ""))
	items := c.rest(http.MethodGet, "carts/mine/items", nil).must(t, http.StatusOK)
	if jpath(t, items.jsonValue(t), "0.quote_id") != quoteID {
		t.Errorf("mine items quote_id: %s", items.body)
	}
	c.rest(http.MethodPost, "carts/mine/totals-information", recordedEstimate).must(t, http.StatusOK)

	// The coupon through the form, then REST.
	wantMessage(t, c.couponPost("LAB-GATE-CODE-1", false).must(t, http.StatusFound), "success", "You used coupon code &quot;LAB-GATE-CODE-1&quot;.")
	cartPage = c.get("checkout/cart/").must(t, http.StatusOK)
	checkDiscountForm(t, c, cartPage.body, "10-cart-page-with-coupon.body")
	checkConfigShape(t, "customer cart page with coupon", cartPage.body, "10-cart-page-with-coupon.body", customerLoose)
	totals = c.rest(http.MethodGet, "carts/mine/totals", nil).must(t, http.StatusOK)
	checkShape(t, "mine totals with coupon", totals.body, "12-rest-totals-with-coupon.body", shapeRules{})
	agree(t, "mine totals with coupon", numAt(t, totals.jsonValue(t), "grand_total"), customerCartTotal(t, gql, "LAB-GATE-CODE-1"))
	if r := c.rest(http.MethodGet, "carts/mine/coupons", nil); string(r.body) != `"LAB-GATE-CODE-1"` {
		t.Errorf("mine coupons: %s", r.body)
	}

	// A wrong code drops it; the form puts it back.
	wrong := c.rest(http.MethodPut, "carts/mine/coupons/WRONG-CODE", nil).must(t, http.StatusNotFound)
	if string(wrong.body) != `{"message":"The coupon code isn't valid. Verify the code and try again."}` {
		t.Errorf("wrong code: %s", wrong.body)
	}
	customerCartTotal(t, gql, "")
	wantMessage(t, c.couponPost("lab-gate-code-1", false), "success", "You used coupon code &quot;lab-gate-code-1&quot;.")

	// Checkout, shipping and payment information, the order.
	checkout := c.get("checkout/").must(t, http.StatusOK)
	checkCSPHashes(t, checkout)
	checkConfigShape(t, "customer checkout page", checkout.body, "15-checkout-page.body", withCouponLoose(2))
	ship := c.rest(http.MethodPost, "carts/mine/shipping-information", recordedShipping).must(t, http.StatusOK)
	checkNestedShape(t, "mine shipping-information totals", ship, "totals", "12-rest-totals-with-coupon.body")
	pay := c.rest(http.MethodGet, "carts/mine/payment-information", nil).must(t, http.StatusOK)
	pv := pay.jsonValue(t)
	charged := numAt(t, pv, "totals.grand_total")
	agree(t, "mine payment-information", charged, customerCartTotal(t, gql, "LAB-GATE-CODE-1"))
	placed := c.rest(http.MethodPost, "carts/mine/payment-information", map[string]any{
		"paymentMethod": map[string]any{"method": "checkmo"}, "billingAddress": recordedAddress}).must(t, http.StatusOK)
	var id int
	if err := json.Unmarshal(placed.body, &id); err != nil {
		t.Fatalf("order id %s: %v", placed.body, err)
	}
	success := c.get("checkout/onepage/success/").must(t, http.StatusOK)
	if !bytes.Contains(success.body, []byte(`" class="order-number"><strong>00000000`+string(placed.body)+`</strong></a>.</p>`)) {
		t.Errorf("customer success page:\n%s", success.body)
	}
	o := lastOrder(t, c)
	agree(t, "customer order", o.GrandTotal.String(), charged)
	if o.CustomerID != demoCustomerID || len(o.CouponCodes) != 1 || o.CouponCodes[0] != "LAB-GATE-CODE-1" || o.Discount.String() != "24" {
		t.Errorf("customer order: %+v", o)
	}

	// After the order the customer has no active cart; after sign-out carts/mine is refused.
	if r := c.rest(http.MethodGet, "carts/mine/totals", nil).must(t, http.StatusNotFound); string(r.body) != `{"message":"`+msgNoActiveCart+`"}` {
		t.Errorf("totals after the order: %s", r.body)
	}
	// logoutSuccess is the signed-out page for anyone, a signed-in customer too (Magento's
	// action needs no sign-in and shows no account).
	if page := c.get("customer/account/logoutSuccess/").must(t, http.StatusOK); !bytes.Contains(page.body, []byte("You are signed out")) {
		t.Errorf("logoutSuccess page while signed in:\n%.300s", page.body)
	}
	if out := c.get("customer/account/logout/").must(t, http.StatusFound); out.header.Get("Location") != c.base+"customer/account/logoutSuccess/" {
		t.Errorf("logout Location %q", out.header.Get("Location"))
	}
	if page := c.get("customer/account/logoutSuccess/").must(t, http.StatusOK); !bytes.Contains(page.body, []byte("You are signed out")) {
		t.Errorf("logoutSuccess page:\n%.300s", page.body)
	}
	// Only the logoutSuccess action is the signed-out page: the dashboard with the word in
	// its parameters still sends a guest to the login page.
	if r := c.get("customer/account/index/logoutsuccess/1/").must(t, http.StatusFound); r.header.Get("Location") != c.base+"customer/account/login/" {
		t.Errorf("guest dashboard Location %q", r.header.Get("Location"))
	}
	refused := c.rest(http.MethodGet, "carts/mine/totals", nil).must(t, http.StatusUnauthorized)
	if string(refused.body) != `{"message":"The consumer isn't authorized to access %resources.","parameters":{"resources":"self"}}` {
		t.Errorf("carts/mine after sign-out: %s", refused.body)
	}
}

// customerCartTotal reads GraphQL's customerCart grand total and checks its coupon.
func customerCartTotal(t *testing.T, gql *client, coupon string) string {
	t.Helper()
	r := gql.post(`{ customerCart { applied_coupons { code } prices { grand_total { value } } } }`, nil).must(t)
	codes := r.path(t, "customerCart.applied_coupons")
	switch {
	case coupon == "" && codes != nil:
		t.Errorf("customerCart coupons %v, want none", codes)
	case coupon != "" && (codes == nil || r.str(t, "customerCart.applied_coupons.0.code") != coupon):
		t.Errorf("customerCart coupons %v, want %s", codes, coupon)
	}
	return decimalText(r.num(t, "customerCart.prices.grand_total.value"))
}

// checkNestedShape compares a member of a JSON answer with a whole recorded body.
func checkNestedShape(t *testing.T, what string, r *lumaResp, member, recording string) {
	t.Helper()
	inner := jpath(t, r.jsonValue(t), member)
	want, ok := fixture(t, recording)
	if !ok {
		return
	}
	wv, err := decodeOrdered(bytes.TrimSpace(want))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sameShape(inner, wv, "", shapeRules{}) {
		t.Errorf("%s vs %s: %s", what, recording, d)
	}
}
