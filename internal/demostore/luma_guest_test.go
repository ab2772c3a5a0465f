package demostore

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// lumaCouponRules is the cart price rule of the recorded store: a specific coupon, 15% off,
// store label "VIP price"; and a rule without a label.
const lumaCouponRules = `{"rules": [
  {"id": "vip-price", "coupon": "LAB-GATE-CODE-1", "label": "VIP price", "action": {"type": "by_percent", "amount": 15}},
  {"id": "plain", "coupon": "PLAIN5", "action": {"type": "by_percent", "amount": 5}}
]}`

// lumaStore is a store with the recorded store's coupon rule.
func lumaStore(t *testing.T, opts Options) *Store {
	t.Helper()
	rs, err := rules.Decode([]byte(lumaCouponRules))
	if err != nil {
		t.Fatal(err)
	}
	opts.CouponRules = rs
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	return New(opts)
}

// The request bodies of the recordings (fixtures 08, 16, 18).
var (
	recordedEstimate = map[string]any{"addressInformation": map[string]any{
		"address":              map[string]any{"countryId": "US", "region": "TX", "postcode": "78701"},
		"shipping_method_code": "flatrate", "shipping_carrier_code": "flatrate"}}
	recordedAddress = map[string]any{"firstname": "A", "lastname": "B", "street": []string{"1 Main St"}, "city": "Austin",
		"region": "TX", "region_id": 57, "postcode": "78701", "country_id": "US", "telephone": "5125550100", "email": "s@example.com"}
	recordedShipping = map[string]any{"addressInformation": map[string]any{
		"shipping_address": recordedAddress, "billing_address": recordedAddress,
		"shipping_method_code": "flatrate", "shipping_carrier_code": "flatrate"}}
	recordedPayment = map[string]any{"email": "s@example.com", "paymentMethod": map[string]any{"method": "checkmo"},
		"billingAddress": recordedAddress}
)

// sessionCookieRe is the recorded form of the session cookie.
var sessionCookieRe = regexp.MustCompile(`^PHPSESSID=[0-9a-v]{26}; expires=[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT; Max-Age=3600; path=/; domain=127\.0\.0\.1; HttpOnly; SameSite=Lax$`)

// TestLumaGuestWalk walks a guest through the recorded Luma session: product page, AJAX add
// ×2, mini cart, cart page, REST totals, couponPost, the cart page with the coupon, REST
// totals and coupons, a wrong code, the checkout page, shipping and payment information, the
// order and the success page; every answer is held to the shape of its recording and every
// price to GraphQL's for the same cart.
func TestLumaGuestWalk(t *testing.T) {
	store := lumaStore(t, Options{})
	c := newLumaClient(t, store)
	gql := &client{t: t, store: store, headers: map[string]string{}}

	// Product page: a new session, the form key, Luma's add-to-cart form for entity id 1.
	page := c.get("24-mb01.html").must(t, http.StatusOK)
	if sc := page.header.Values("Set-Cookie"); len(sc) == 0 || !sessionCookieRe.MatchString(sc[0]) {
		t.Fatalf("session cookie %q", sc)
	}
	formKey := c.cookie(formKeyCookieName)
	if len(formKey) != 16 || !bytes.Contains(page.body, []byte(`<input name="form_key" type="hidden" value="`+formKey+`" />`)) ||
		!bytes.Contains(page.body, []byte(`/product/1/" method="post"`)) {
		t.Fatalf("product page lacks the form key %q or the add form:\n%s", formKey, page.body)
	}

	// AJAX add to cart ×2 (fixtures 02, 03).
	for _, add := range []struct{ id, qty int }{{1, 2}, {2, 1}} {
		r := c.addToCart(add.id, add.qty).must(t, http.StatusOK)
		if string(r.body) != "[]" || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("add %d: %s %q", add.id, r.body, r.header.Get("Content-Type"))
		}
		if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), versionCookieName+"=") {
			t.Errorf("add %d: no private_content_version cookie", add.id)
		}
	}

	// Mini cart (fixture 04): subtotal before discounts, newest item first.
	mini := c.ajaxGet("customer/section/load/?sections=cart&force_new_section_timestamp=true&_=1").must(t, http.StatusOK)
	checkShape(t, "section cart", mini.body, "04-section-cart.body", shapeRules{})
	mv := mini.jsonValue(t)
	if got := numAt(t, mv, "cart.subtotalAmount"); got != "160.0000" || numAt(t, mv, "cart.summary_count") != "3" ||
		jpath(t, mv, "cart.items.0.product_sku") != "24-WG02" {
		t.Fatalf("mini cart: %s", mini.body)
	}

	// Cart page (fixture 05).
	cartPage := c.get("checkout/cart/").must(t, http.StatusOK)
	checkPageHeaders(t, cartPage, false)
	if !bytes.Contains(cartPage.body, []byte("You added Joust Duffle Bag to your <a href=\""+c.base+"checkout/cart/\">shopping cart</a>.")) {
		t.Errorf("cart page lacks the add message")
	}
	checkConfigShape(t, "cart page", cartPage.body, "05-cart-page.body", configRules)
	checkDiscountForm(t, c, cartPage.body, "05-cart-page.body")
	cfg := mustConfig(t, cartPage.body)
	masked, _ := jpath(t, cfg, "quoteData.entity_id").(string)
	if len(masked) != 32 || jpath(t, cfg, "quoteData.coupon_code") != nil || jpath(t, cfg, "isCustomerLoggedIn") != false {
		t.Fatalf("quoteData: entity_id %q, coupon_code %v", masked, jpath(t, cfg, "quoteData.coupon_code"))
	}
	agree(t, "cart page", numAt(t, cfg, "totalsData.grand_total"), graphQLGrandTotal(t, gql, masked))

	// REST totals, items, totals-information (fixtures 06-08).
	totals := c.rest(http.MethodGet, "guest-carts/"+masked+"/totals", nil).must(t, http.StatusOK)
	checkShape(t, "totals", totals.body, "06-rest-totals.body", shapeRules{})
	checkRESTHeaders(t, totals)
	agree(t, "REST totals", numAt(t, totals.jsonValue(t), "grand_total"), graphQLGrandTotal(t, gql, masked))
	items := c.rest(http.MethodGet, "guest-carts/"+masked+"/items", nil).must(t, http.StatusOK)
	checkShape(t, "items", items.body, "07-rest-items.body", shapeRules{})
	if jpath(t, items.jsonValue(t), "0.quote_id") != masked {
		t.Errorf("items: quote_id is not the masked id: %s", items.body)
	}
	estimate := c.rest(http.MethodPost, "guest-carts/"+masked+"/totals-information", recordedEstimate).must(t, http.StatusOK)
	checkShape(t, "totals-information", estimate.body, "08-rest-totals-information.body", shapeRules{})
	agree(t, "totals-information", numAt(t, estimate.jsonValue(t), "grand_total"), graphQLGrandTotal(t, gql, masked))

	// couponPost (fixture 09): trimmed, case-insensitive; 302 back with Magento's message.
	post := c.couponPost("  lab-gate-code-1 ", false).must(t, http.StatusFound)
	if post.header.Get("Location") != c.base {
		t.Errorf("couponPost Location %q", post.header.Get("Location"))
	}
	wantMessage(t, post, "success", "You used coupon code &quot;lab-gate-code-1&quot;.")

	// The cart page with the coupon (fixture 10), the mini cart (11), REST totals and coupons
	// (12, 13).
	cartPage = c.get("checkout/cart/").must(t, http.StatusOK)
	checkConfigShape(t, "cart page with coupon", cartPage.body, "10-cart-page-with-coupon.body", configRules)
	checkDiscountForm(t, c, cartPage.body, "10-cart-page-with-coupon.body")
	cfg = mustConfig(t, cartPage.body)
	if jpath(t, cfg, "quoteData.coupon_code") != "LAB-GATE-CODE-1" || jpath(t, cfg, "totalsData.coupon_code") != "LAB-GATE-CODE-1" ||
		jpath(t, cfg, "totalsData.total_segments.1.title") != "Discount (VIP price)" {
		t.Errorf("checkoutConfig with coupon: %s", checkoutConfigOf(t, cartPage.body))
	}
	mini = c.ajaxGet("customer/section/load/?sections=cart&force_new_section_timestamp=true&_=2").must(t, http.StatusOK)
	checkShape(t, "section cart with coupon", mini.body, "11-section-cart-with-coupon.body", shapeRules{})
	if got := numAt(t, mini.jsonValue(t), "cart.subtotalAmount"); got != "160.0000" {
		t.Errorf("mini cart subtotal moved with the coupon: %s", got)
	}
	totals = c.rest(http.MethodGet, "guest-carts/"+masked+"/totals", nil).must(t, http.StatusOK)
	checkShape(t, "totals with coupon", totals.body, "12-rest-totals-with-coupon.body", shapeRules{})
	tv := totals.jsonValue(t)
	if jpath(t, tv, "coupon_code") != "LAB-GATE-CODE-1" || numAt(t, tv, "discount_amount") != "-24" ||
		numAt(t, tv, "items.0.discount_percent") != "15" || jpath(t, tv, "extension_attributes.coupon_label") != "VIP price" {
		t.Errorf("totals with coupon: %s", totals.body)
	}
	agree(t, "REST totals with coupon", numAt(t, tv, "grand_total"), graphQLGrandTotal(t, gql, masked))
	agree(t, "cart page with coupon", numAt(t, cfg, "totalsData.grand_total"), numAt(t, tv, "grand_total"))
	coupons := c.rest(http.MethodGet, "guest-carts/"+masked+"/coupons", nil).must(t, http.StatusOK)
	checkShape(t, "coupons", coupons.body, "13-rest-coupons.body", shapeRules{})
	if string(coupons.body) != `"LAB-GATE-CODE-1"` {
		t.Errorf("coupons: %s", coupons.body)
	}

	// A wrong code over REST (fixture 14) answers 404 and takes the applied coupon away.
	wrong := c.rest(http.MethodPut, "guest-carts/"+masked+"/coupons/WRONG-CODE", nil).must(t, http.StatusNotFound)
	if rec, ok := fixture(t, "14-rest-coupon-wrong.body"); ok && !bytes.Equal(wrong.body, bytes.TrimSpace(rec)) {
		t.Errorf("wrong code: %s, recorded %s", wrong.body, rec)
	}
	if r := c.rest(http.MethodGet, "guest-carts/"+masked+"/coupons", nil); string(r.body) != "null" {
		t.Errorf("coupons after a wrong code: %s", r.body)
	}

	// Checkout page (fixture 15): a new session id, an enforcing CSP with real hashes.
	oldSession := c.cookie(sessionCookieName)
	checkout := c.get("checkout/").must(t, http.StatusOK)
	checkPageHeaders(t, checkout, true)
	if c.cookie(sessionCookieName) == oldSession {
		t.Errorf("the checkout page kept the session id")
	}
	checkCSPHashes(t, checkout)
	checkConfigShape(t, "checkout page", checkout.body, "15-checkout-page.body", configRules)
	cfg = mustConfig(t, checkout.body)
	if jpath(t, cfg, "quoteData.entity_id") != masked {
		t.Errorf("checkout page entity_id %v", jpath(t, cfg, "quoteData.entity_id"))
	}

	// shipping-information, payment-information (fixtures 16, 17), the order (18).
	ship := c.rest(http.MethodPost, "guest-carts/"+masked+"/shipping-information", recordedShipping).must(t, http.StatusOK)
	checkShape(t, "shipping-information", ship.body, "16-rest-shipping-information.body", shapeRules{})
	pay := c.rest(http.MethodGet, "guest-carts/"+masked+"/payment-information", nil).must(t, http.StatusOK)
	checkShape(t, "payment-information", pay.body, "17-rest-payment-information.body", shapeRules{})
	charged := numAt(t, pay.jsonValue(t), "totals.grand_total")
	agree(t, "payment-information", charged, graphQLGrandTotal(t, gql, masked))
	placed := c.rest(http.MethodPost, "guest-carts/"+masked+"/payment-information", recordedPayment).must(t, http.StatusOK)
	checkShape(t, "place order", placed.body, "18-rest-place-order.body", shapeRules{})
	var id int
	if err := json.Unmarshal(placed.body, &id); err != nil || id < 1 {
		t.Fatalf("order id %s: %v", placed.body, err)
	}
	orderID := string(placed.body)

	// Success page (fixture 19), once.
	success := c.get("checkout/onepage/success/").must(t, http.StatusOK)
	if !bytes.Contains(success.body, []byte("<p>Your order # is: <span>00000000"+orderID+"</span>.</p>")) {
		t.Errorf("success page:\n%s", success.body)
	}
	c.get("checkout/onepage/success/").must(t, http.StatusFound)

	// What the order charged, from the test endpoint.
	o := lastOrder(t, c)
	agree(t, "order", o.GrandTotal.String(), charged)
	if o.Email != "s@example.com" || len(o.CouponCodes) != 0 || o.CustomerID != 0 {
		t.Errorf("order: %+v", o)
	}
	// The ordered quote is gone.
	gone := c.rest(http.MethodGet, "guest-carts/"+masked+"/totals", nil).must(t, http.StatusNotFound)
	if !bytes.Contains(gone.body, []byte(`"fieldName":"cartId"`)) {
		t.Errorf("totals of an ordered cart: %s", gone.body)
	}
}

// mustConfig decodes a page's checkoutConfig.
func mustConfig(t *testing.T, page []byte) any {
	t.Helper()
	v, err := decodeOrdered(checkoutConfigOf(t, page))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// agree fails when two amounts differ.
func agree(t *testing.T, what, got, want string) {
	t.Helper()
	g, err1 := decimal.Parse(got)
	w, err2 := decimal.Parse(want)
	if err1 != nil || err2 != nil || g.Cmp(w) != 0 {
		t.Errorf("%s: %s, GraphQL / expected %s", what, got, want)
	}
}

// graphQLGrandTotal reads a guest cart's grand total over GraphQL.
func graphQLGrandTotal(t *testing.T, gql *client, masked string) string {
	t.Helper()
	r := gql.post(`query($id: String!) { cart(cart_id: $id) { prices { grand_total { value } } } }`, map[string]any{"id": masked}).must(t)
	return decimalText(r.num(t, "cart.prices.grand_total.value"))
}

// decimalText prints a GraphQL float exactly enough for cents.
func decimalText(f float64) string {
	d, err := decimal.NewFromFloat64(f)
	if err != nil {
		return "NaN"
	}
	return d.Round(2).String()
}

// checkPageHeaders checks the cache and CSP headers of a page as recorded.
func checkPageHeaders(t *testing.T, r *lumaResp, checkout bool) {
	t.Helper()
	h := r.header
	if h.Get("Cache-Control") != noStore || h.Get("Pragma") != "no-cache" || h.Get("X-Magento-Tags") != "FPC" {
		t.Errorf("cache headers: %v", h)
	}
	if checkout != (h.Get("Content-Security-Policy") != "") || checkout == (h.Get("Content-Security-Policy-Report-Only") != "") {
		t.Errorf("CSP headers (checkout %v): enforcing %q, report-only set %v", checkout,
			h.Get("Content-Security-Policy"), h.Get("Content-Security-Policy-Report-Only") != "")
	}
}

// checkRESTHeaders checks the headers of a REST answer as recorded.
func checkRESTHeaders(t *testing.T, r *lumaResp) {
	t.Helper()
	h := r.header
	if h.Get("Cache-Control") != "no-store" || h.Get("Expires") != restExpires || h.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("REST headers: %v", h)
	}
}

// checkDiscountForm holds the discount block byte for byte to a recorded cart page's.
func checkDiscountForm(t *testing.T, c *lumaClient, page []byte, recording string) {
	t.Helper()
	rec, ok := fixture(t, recording)
	if !ok {
		return
	}
	want := strings.ReplaceAll(discountFormOf(t, rec), recordedHost, strings.TrimSuffix(strings.TrimPrefix(c.base, "http://"), "/"))
	if got := discountFormOf(t, page); got != want {
		t.Errorf("discount form differs from %s:\n%s\nrecorded:\n%s", recording, got, want)
	}
}

// scriptRe finds script elements.
var scriptRe = regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`)

// checkCSPHashes requires the checkout page's script-src to allow every executable inline
// script by its real hash, and not by 'unsafe-inline'.
func checkCSPHashes(t *testing.T, r *lumaResp) {
	t.Helper()
	csp := r.header.Get("Content-Security-Policy")
	var scriptSrc string
	for _, d := range strings.Split(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "script-src ") {
			scriptSrc = d
		}
	}
	if scriptSrc == "" || strings.Contains(scriptSrc, "'unsafe-inline'") {
		t.Fatalf("script-src %q", scriptSrc)
	}
	n := 0
	for _, m := range scriptRe.FindAllSubmatch(r.body, -1) {
		attrs := string(m[1])
		if strings.Contains(attrs, "src=") || strings.Contains(attrs, "x-magento-init") {
			continue
		}
		n++
		sum := sha256.Sum256(m[2])
		if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(scriptSrc, h) {
			t.Errorf("inline script %.80q: %s not in script-src", m[2], h)
		}
	}
	if n < 3 {
		t.Errorf("only %d inline scripts on the checkout page", n)
	}
}

// wantMessage requires the answer's mage-messages cookie to end with a message; the ones
// before it were in the cookie already (a browser's Luma clears it once shown).
func wantMessage(t *testing.T, r *lumaResp, typ, text string) {
	t.Helper()
	msgs := r.messagesCookie(t)
	if len(msgs) == 0 || msgs[len(msgs)-1]["type"] != typ || msgs[len(msgs)-1]["text"] != text {
		t.Errorf("mage-messages %v, want %s %q last", msgs, typ, text)
	}
}

// lastOrder reads the newest order from /demo/orders.
func lastOrder(t *testing.T, c *lumaClient) orderView {
	t.Helper()
	r := c.get("demo/orders").must(t, http.StatusOK)
	var out struct{ Orders []orderView }
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil || len(out.Orders) == 0 {
		t.Fatalf("orders %s: %v", r.body, err)
	}
	return out.Orders[len(out.Orders)-1]
}
