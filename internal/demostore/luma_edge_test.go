package demostore

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestLumaWrongFormKey: Magento refuses a post whose form_key is not the session's. An AJAX
// add meets Add's own check (302 to the cart page, "Your session has expired"); a plain post
// meets the CSRF validator (302 back, "Invalid Form Key. Please refresh the page."). Nothing
// changes.
func TestLumaWrongFormKey(t *testing.T) {
	c := newLumaClient(t, lumaStore(t, Options{}))
	c.get("").must(t, http.StatusOK)
	r := c.post("checkout/cart/add/uenc/x/product/1/", url.Values{"product": {"1"}, "form_key": {"nope"}, "qty": {"1"}}, true).must(t, http.StatusFound)
	if r.header.Get("Location") != c.base+"checkout/cart/" {
		t.Errorf("AJAX add Location %q", r.header.Get("Location"))
	}
	wantMessage(t, r, "error", msgSessionExpired)
	r = c.post("checkout/cart/add/uenc/x/product/1/", url.Values{"product": {"1"}, "qty": {"1"}}, false).must(t, http.StatusFound)
	if r.header.Get("Location") != c.base {
		t.Errorf("plain add Location %q", r.header.Get("Location"))
	}
	wantMessage(t, r, "error", msgInvalidFormKey)
	c.addToCart(3, 1).must(t, http.StatusOK)
	r = c.post("checkout/cart/couponPost/", url.Values{"form_key": {"nope"}, "coupon_code": {"LAB-GATE-CODE-1"}}, false).must(t, http.StatusFound)
	wantMessage(t, r, "error", msgInvalidFormKey)
	mini := c.ajaxGet("customer/section/load/?sections=cart").must(t, http.StatusOK).jsonValue(t)
	if numAt(t, mini, "cart.summary_count") != "1" {
		t.Errorf("a refused add changed the cart: %v", numAt(t, mini, "cart.summary_count"))
	}
	page := c.get("checkout/cart/").must(t, http.StatusOK)
	if jpath(t, mustConfig(t, page.body), "quoteData.coupon_code") != nil {
		t.Errorf("a refused couponPost applied the coupon")
	}
}

// TestLumaCouponPost follows Magento's CouponPost: an invalid code replaces (removes) the
// applied one, cancel removes it, an empty form without a coupon does nothing; the
// messages are Magento's, escaped as the recording shows.
func TestLumaCouponPost(t *testing.T) {
	c := newLumaClient(t, lumaStore(t, Options{}))
	c.get("").must(t, http.StatusOK)
	if r := c.couponPost("", false).must(t, http.StatusFound); r.messagesCookie(t) != nil {
		t.Errorf("empty form: %v", r.messagesCookie(t))
	}
	// A known code on an empty quote is kept, as Magento saves it on the quote.
	wantMessage(t, c.couponPost("PLAIN5", false), "success", "You used coupon code &quot;PLAIN5&quot;.")
	c.addToCart(1, 1).must(t, http.StatusOK)
	page := c.get("checkout/cart/").must(t, http.StatusOK)
	cfg := mustConfig(t, page.body)
	// A rule without a label shows its code in the discount title.
	if jpath(t, cfg, "quoteData.coupon_code") != "PLAIN5" || jpath(t, cfg, "totalsData.total_segments.1.title") != "Discount (PLAIN5)" {
		t.Errorf("PLAIN5: %s", checkoutConfigOf(t, page.body))
	}
	if ext := jpath(t, cfg, "totalsData.extension_attributes"); jsonKind(ext) != "array" {
		t.Errorf("a rule without label has a coupon_label: %v", ext)
	}
	wantMessage(t, c.couponPost(`<b>"x"</b>`, false), "error", "The coupon code &quot;&lt;b&gt;&quot;x&quot;&lt;/b&gt;&quot; is not valid.")
	if jpath(t, mustConfig(t, c.get("checkout/cart/").body), "quoteData.coupon_code") != nil {
		t.Errorf("an invalid code left the earlier coupon on the quote")
	}
	wantMessage(t, c.couponPost("LAB-GATE-CODE-1", false), "success", "You used coupon code &quot;LAB-GATE-CODE-1&quot;.")
	wantMessage(t, c.couponPost("LAB-GATE-CODE-1", true), "success", msgCouponCanceled)
	if jpath(t, mustConfig(t, c.get("checkout/cart/").body), "quoteData.coupon_code") != nil {
		t.Errorf("cancel left the coupon")
	}
}

// TestLumaMessagesCookie holds the mage-messages cookie to fixture 09's form.
func TestLumaMessagesCookie(t *testing.T) {
	c := newLumaClient(t, lumaStore(t, Options{}))
	c.get("").must(t, http.StatusOK)
	c.addToCart(1, 1).must(t, http.StatusOK)
	c.get("checkout/cart/").must(t, http.StatusOK) // shows, and so consumes, the add message
	r := c.couponPost("LAB-GATE-CODE-1", false).must(t, http.StatusFound)
	var got string
	for _, sc := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, messagesCookieName+"=") {
			got = sc
		}
	}
	want := `mage-messages=%5B%7B%22type%22%3A%22success%22%2C%22text%22%3A%22You%20used%20coupon%20code%20%26quot%3BLAB-GATE-CODE-1%26quot%3B.%22%7D%5D; expires=`
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "; Max-Age=31536000; path=/; SameSite=Strict") {
		t.Errorf("mage-messages cookie %q", got)
	}
}

// TestLumaNonceCSP: with LumaCSPNonce the checkout page's inline scripts carry the nonce of
// its policy, as the recorded 2.4.7-p3 store does.
func TestLumaNonceCSP(t *testing.T) {
	c := newLumaClient(t, lumaStore(t, Options{LumaCSP: LumaCSPNonce}))
	c.get("").must(t, http.StatusOK)
	c.addToCart(1, 1).must(t, http.StatusOK)
	r := c.get("checkout/").must(t, http.StatusOK)
	m := regexp.MustCompile(`script-src [^;]*'nonce-([^']+)'`).FindStringSubmatch(r.header.Get("Content-Security-Policy"))
	if m == nil {
		t.Fatalf("no nonce in %q", r.header.Get("Content-Security-Policy"))
	}
	attr := ` nonce="` + escapeHTMLAttr(m[1]) + `"`
	n := 0
	for _, s := range scriptRe.FindAllSubmatch(r.body, -1) {
		attrs := string(s[1])
		if strings.Contains(attrs, "src=") || strings.Contains(attrs, "x-magento-init") {
			continue
		}
		n++
		if !strings.Contains(attrs, attr) {
			t.Errorf("inline script without the nonce: <script%s>", attrs)
		}
	}
	if n < 3 || !strings.Contains(attr, "&#x3D;") {
		t.Errorf("%d nonced scripts, attribute %q", n, attr)
	}
}

// TestLumaSignInMergesGuestQuote: at sign-in the guest quote's items and coupon move into the
// customer cart the customer already has, and the guest quote ends.
func TestLumaSignInMergesGuestQuote(t *testing.T) {
	store := lumaStore(t, Options{})
	c := newLumaClient(t, store)
	gql := &client{t: t, store: store, headers: map[string]string{"Authorization": "Bearer " + demoCustomerToken}}
	id := gql.post(`{ customerCart { id } }`, nil).must(t).str(t, "customerCart.id")
	gql.add(id, "24-UG06", 3)

	c.get("").must(t, http.StatusOK)
	c.addToCart(1, 2).must(t, http.StatusOK)
	c.couponPost("LAB-GATE-CODE-1", false).must(t, http.StatusFound)
	masked, _ := jpath(t, mustConfig(t, c.get("checkout/cart/").body), "quoteData.entity_id").(string)
	c.signIn(demoCustomerPassword).must(t, http.StatusFound)

	r := gql.post(`{ customerCart { id total_quantity applied_coupons { code } } }`, nil).must(t)
	if r.str(t, "customerCart.id") != id || r.num(t, "customerCart.total_quantity") != 5 || r.str(t, "customerCart.applied_coupons.0.code") != "LAB-GATE-CODE-1" {
		t.Errorf("customerCart after sign-in: %s", r.body)
	}
	if g := (&client{t: t, store: store, headers: map[string]string{}}).get(`query($id: String!) { cart(cart_id: $id) { id } }`, "", map[string]any{"id": masked}); g.firstError() != msgCartNotActive {
		t.Errorf("guest quote after sign-in: %s", g.body)
	}
	cfg := mustConfig(t, c.get("checkout/cart/").must(t, http.StatusOK).body)
	if numAt(t, cfg, "quoteData.items_qty") != "5.0000" {
		t.Errorf("the session's quote is not the customer cart: %v", numAt(t, cfg, "quoteData.items_qty"))
	}
}

// TestLumaRESTErrors: Magento's error shapes and status codes.
func TestLumaRESTErrors(t *testing.T) {
	c := newLumaClient(t, lumaStore(t, Options{}))
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "guest-carts/nope/totals", 404, `{"message":"No such entity with %fieldName = %fieldValue","parameters":{"fieldName":"cartId","fieldValue":null}}`},
		{http.MethodGet, "carts/mine/totals", 401, `{"message":"The consumer isn't authorized to access %resources.","parameters":{"resources":"self"}}`},
		{http.MethodGet, "guest-carts/x/no-such-route", 404, `{"message":"Request does not match any route."}`},
	}
	for _, tc := range cases {
		r := c.rest(tc.method, tc.path, nil)
		if r.status != tc.status || string(r.body) != tc.body {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.body)
		}
	}
	id := string(c.rest(http.MethodPost, "guest-carts", nil).must(t, http.StatusOK).body)
	id = strings.Trim(id, `"`)
	r := c.rest(http.MethodPut, "guest-carts/"+id+"/coupons/LAB-GATE-CODE-1", nil).must(t, http.StatusNotFound)
	if !bytes.HasPrefix(r.body, []byte(`{"message":"The \"%1\" Cart doesn't contain products.","parameters":["`)) {
		t.Errorf("coupon on an empty cart: %s", r.body)
	}
	// /rest/V1 is the default store.
	c.do(http.MethodGet, "rest/V1/guest-carts/"+id+"/totals", nil, nil).must(t, http.StatusOK)
}

// TestLumaSessions: a request without a session gets one; an unknown id is replaced (strict
// mode); a regenerated id still leads to the session for a while.
func TestLumaSessions(t *testing.T) {
	store := lumaStore(t, Options{})
	srv := httptest.NewServer(store)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/checkout/cart/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookieName, Value: "chosenbytheclient"})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if sc := res.Header.Get("Set-Cookie"); !sessionCookieRe.MatchString(sc) || strings.Contains(sc, "chosenbytheclient") {
		t.Errorf("unknown session id: %q", sc)
	}

	c := store.lumaClientFor(t, srv)
	c.get("").must(t, http.StatusOK)
	c.addToCart(1, 1).must(t, http.StatusOK)
	old := c.cookie(sessionCookieName)
	c.get("checkout/").must(t, http.StatusOK)
	stale := store.lumaClientFor(t, srv)
	u, _ := url.Parse(c.base)
	stale.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookieName, Value: old}})
	mini := stale.ajaxGet("customer/section/load/?sections=cart").must(t, http.StatusOK)
	if numAt(t, mini.jsonValue(t), "cart.summary_count") != "1" || stale.cookie(sessionCookieName) != c.cookie(sessionCookieName) {
		t.Errorf("the regenerated session is not reachable by its old id: %s", mini.body)
	}
}

// TestLumaEmptyPages: an empty cart page has no checkoutConfig; the checkout page of an empty
// quote redirects to the cart; the success page without an order too.
func TestLumaEmptyPages(t *testing.T) {
	c := newLumaClient(t, lumaStore(t, Options{}))
	page := c.get("checkout/cart/").must(t, http.StatusOK)
	if bytes.Contains(page.body, []byte("window.checkoutConfig")) || !bytes.Contains(page.body, []byte("You have no items in your shopping cart.")) {
		t.Errorf("empty cart page:\n%s", page.body)
	}
	for _, p := range []string{"checkout/", "checkout/index/index/", "checkout/onepage/success/"} {
		if r := c.get(p).must(t, http.StatusFound); r.header.Get("Location") != c.base+"checkout/cart/" {
			t.Errorf("%s: Location %q", p, r.header.Get("Location"))
		}
	}
	c.get("no/such/page/").must(t, http.StatusNotFound)
}

// TestLumaConcurrentShoppers runs shoppers side by side, each with its own session, through
// add, coupon, totals and order; each order charges what its shopper's last totals showed
// (run with -race).
func TestLumaConcurrentShoppers(t *testing.T) {
	store := lumaStore(t, Options{})
	srv := httptest.NewServer(store)
	defer srv.Close()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		charged = map[string]string{} // order id → grand total of the last totals
	)
	for i := 1; i <= 8; i++ {
		c := store.lumaClientFor(t, srv)
		wg.Add(1)
		go func(qty int) {
			defer wg.Done()
			c.get("")
			c.addToCart(1, qty)
			c.couponPost("LAB-GATE-CODE-1", false)
			masked, _ := jpath(t, mustConfig(t, c.get("checkout/cart/").body), "quoteData.entity_id").(string)
			c.rest(http.MethodPost, "guest-carts/"+masked+"/shipping-information", recordedShipping)
			pay := c.rest(http.MethodGet, "guest-carts/"+masked+"/payment-information", nil)
			placed := c.rest(http.MethodPost, "guest-carts/"+masked+"/payment-information", recordedPayment)
			if placed.status != http.StatusOK {
				t.Errorf("shopper %d: order %d %s", qty, placed.status, placed.body)
				return
			}
			mu.Lock()
			charged[string(placed.body)] = numAt(t, pay.jsonValue(t), "totals.grand_total")
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	r := store.lumaClientFor(t, srv).get("demo/orders").must(t, http.StatusOK)
	var out struct{ Orders []orderView }
	if err := json.Unmarshal(r.body, &out); err != nil || len(out.Orders) != 8 {
		t.Fatalf("orders %s: %v", r.body, err)
	}
	for _, o := range out.Orders {
		agree(t, "order "+o.Number, o.GrandTotal.String(), charged[strconv.Itoa(o.ID)])
	}
}
