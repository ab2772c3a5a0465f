package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// luma is a Luma storefront session through the sidecar: a cookie jar, the form key, and
// every answer it saw (bodies, headers, cookies) so a test can check no gate code leaked.
type luma struct {
	t      *testing.T
	base   string
	client *http.Client
	mu     sync.Mutex
	seen   []string
}

func newLuma(t *testing.T, base string) *luma {
	jar, _ := cookiejar.New(nil)
	l := &luma{t: t, base: base, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	l.page("/")
	return l
}

// join sets the audience cookie Adobe's collector writes (nil: member of nothing).
func (l *luma) join(segments ...string) {
	u, _ := url.Parse(l.base)
	l.client.Jar.SetCookies(u, []*http.Cookie{{Name: "aep-segments-membership", Value: strings.Join(segments, ","), Path: "/"}})
}

func (l *luma) cookie(name string) string {
	u, _ := url.Parse(l.base)
	for _, c := range l.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (l *luma) do(method, path, contentType string, body []byte, header map[string]string) response {
	l.t.Helper()
	req, err := http.NewRequest(method, l.base+path, bytes.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	l.mu.Lock()
	var hdr strings.Builder
	_ = resp.Header.Write(&hdr)
	l.seen = append(l.seen, string(b), hdr.String())
	l.mu.Unlock()
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (l *luma) page(path string) response {
	l.t.Helper()
	r := l.do(http.MethodGet, path, "", nil, nil)
	if r.status != http.StatusOK {
		l.t.Fatalf("GET %s: %d", path, r.status)
	}
	return r
}

func (l *luma) add(productID string, qty int) {
	l.t.Helper()
	form := url.Values{"product": {productID}, "form_key": {l.cookie("form_key")}, "qty": {strings.Repeat("1", 0) + string(rune('0'+qty))}}
	r := l.do(http.MethodPost, "/checkout/cart/add/uenc/x/product/"+productID+"/", "application/x-www-form-urlencoded", []byte(form.Encode()), map[string]string{"X-Requested-With": "XMLHttpRequest"})
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != "[]" {
		l.t.Fatalf("add %s: %d %s", productID, r.status, r.body)
	}
}

func (l *luma) signIn() {
	l.t.Helper()
	form := url.Values{"form_key": {l.cookie("form_key")}, "login[username]": {"roni_cost@example.com"}, "login[password]": {"roni_cost3@example.com"}}
	if r := l.do(http.MethodPost, "/customer/account/loginPost/", "application/x-www-form-urlencoded", []byte(form.Encode()), nil); r.status != http.StatusFound {
		l.t.Fatalf("sign in: %d %s", r.status, r.body)
	}
}

// rest calls a REST cart route and decodes its JSON answer.
func (l *luma) rest(method, path string, body any) (int, any) {
	l.t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	r := l.do(method, path, "application/json", b, nil)
	var v any
	_ = json.Unmarshal(r.body, &v)
	return r.status, v
}

var checkoutConfigJSON = regexp.MustCompile(`window\.checkoutConfig = (\{.*?\});\s*\n`)

// checkoutConfig returns a page's window.checkoutConfig.
func checkoutConfigOf(t *testing.T, page []byte) map[string]any {
	t.Helper()
	i := bytes.Index(page, []byte("window.checkoutConfig = "))
	if i < 0 {
		t.Fatalf("no checkoutConfig in the page")
	}
	var cfg map[string]any
	if err := json.NewDecoder(bytes.NewReader(page[i+len("window.checkoutConfig = "):])).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// cartBase is the REST path of the session's cart.
func (l *luma) cartBase(page []byte, customer bool) string {
	if customer {
		return "/rest/default/V1/carts/mine"
	}
	id := checkoutConfigOf(l.t, page)["quoteData"].(map[string]any)["entity_id"].(string)
	return "/rest/default/V1/guest-carts/" + id
}

// noLeak fails when any answer the shopper saw holds a gate code, even URL-encoded.
func (l *luma) noLeak() {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.seen {
		decoded, err := url.QueryUnescape(s)
		if err != nil {
			decoded = s
		}
		for _, code := range gateCodes {
			if strings.Contains(strings.ToUpper(s), code) || strings.Contains(strings.ToUpper(decoded), code) {
				l.t.Fatalf("gate code %s leaked: %.300s", code, s)
			}
		}
	}
}

// number reads a number, or a number Magento wrote as a string ("-24.0000").
func number(t *testing.T, v any, path ...string) float64 {
	t.Helper()
	switch x := dig(t, v, path...).(type) {
	case float64:
		return x
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err == nil {
			return f
		}
	}
	t.Fatalf("%v is not a number", path)
	return 0
}

// scriptsAllowed fails unless the page's CSP allows every inline script, by hash or nonce.
func scriptsAllowed(t *testing.T, r response) {
	t.Helper()
	csp := r.header.Get("Content-Security-Policy")
	if csp == "" {
		t.Fatal("the checkout page has no Content-Security-Policy")
	}
	tags := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	for _, m := range tags.FindAllSubmatch(r.body, -1) {
		attrs, text := html.UnescapeString(string(m[1])), m[2]
		if strings.Contains(attrs, "src=") || !executable(attrs) {
			continue // only scripts a browser runs are checked against script-src
		}
		if n := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(attrs); n != nil && strings.Contains(csp, "'nonce-"+n[1]+"'") {
			continue
		}
		sum := sha256.Sum256(text)
		if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
			t.Fatalf("an inline script is not allowed by the page's CSP (the browser would not run it): %.120s", text)
		}
	}
}

// executable reports a script type a browser runs (none, or a JavaScript one); Magento's
// text/x-magento-init blocks are data.
func executable(attrs string) bool {
	m := regexp.MustCompile(`(?i)\btype="([^"]*)"`).FindStringSubmatch(attrs)
	if m == nil {
		return true
	}
	t := strings.ToLower(m[1])
	return t == "" || t == "module" || strings.Contains(t, "javascript") || strings.Contains(t, "ecmascript")
}

func startLumaGate(t *testing.T, storeArgs ...string) (sidecar, string) {
	t.Helper()
	store := startStore(t, append([]string{"-coupon-rules", "testdata/coupon_rules.json"}, storeArgs...)...)
	return launchSidecar(t, store, "audiences {\n\t\trules testdata/gate_rules.json\n\t}"), store
}

// checkoutLuma walks from the checkout page to the order and returns the grand total the
// last totals showed and the order's number.
func (l *luma) checkoutLuma(base string) (shown float64, order any) {
	l.t.Helper()
	address := map[string]any{"firstname": "A", "lastname": "B", "street": []string{"1 Main St"}, "city": "Austin", "region": "TX", "region_id": 57, "postcode": "78701", "country_id": "US", "telephone": "5125550100", "email": "s@example.com"}
	if st, v := l.rest(http.MethodPost, base+"/shipping-information", map[string]any{"addressInformation": map[string]any{"shipping_address": address, "billing_address": address, "shipping_method_code": "flatrate", "shipping_carrier_code": "flatrate"}}); st != 200 {
		l.t.Fatalf("shipping-information: %d %v", st, v)
	}
	st, info := l.rest(http.MethodGet, base+"/payment-information", nil)
	if st != 200 {
		l.t.Fatalf("payment-information: %d %v", st, info)
	}
	shown = number(l.t, info, "totals", "grand_total")
	st, order = l.rest(http.MethodPost, base+"/payment-information", map[string]any{"email": "s@example.com", "paymentMethod": map[string]any{"method": "checkmo"}, "billingAddress": address})
	if st != 200 {
		l.t.Fatalf("place order: %d %v", st, order)
	}
	return shown, order
}

// lastOrder reads the demo store's last placed order.
func lastOrder(t *testing.T, store string) map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + store + "/demo/orders")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	var list []any
	switch v := out.(type) {
	case []any:
		list = v
	case map[string]any:
		list, _ = v["orders"].([]any)
	}
	if len(list) == 0 {
		t.Fatalf("no orders: %v", out)
	}
	return list[len(list)-1].(map[string]any)
}

// TestLumaGuestPaysTheAudiencePrice: a qualifying Luma guest sees the audience price on the
// cart page, in REST totals and at checkout, and the order charges what the last totals
// showed; no gate code shows anywhere.
func TestLumaGuestPaysTheAudiencePrice(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	// Magento 2.4.7-p3 allows its inline scripts by nonce; a store may also list hashes.
	for _, csp := range []string{"hash", "nonce"} {
		t.Run("csp "+csp, func(t *testing.T) { lumaGuestWalk(t, "-luma-csp", csp) })
	}
}

func lumaGuestWalk(t *testing.T, storeArgs ...string) {
	sc, store := startLumaGate(t, storeArgs...)
	l := newLuma(t, sc.base)
	l.join(segVIP)
	l.add("2", 1) // 24-WG02, 92.00
	cart := l.page("/checkout/cart/")
	cfg := checkoutConfigOf(t, cart.body)
	if c := dig(t, cfg, "quoteData", "coupon_code"); c != nil {
		t.Fatalf("quoteData.coupon_code = %v", c)
	}
	if d := number(t, cfg, "totalsData", "discount_amount"); math.Abs(d+13.8) > 0.001 {
		t.Fatalf("cart page discount %v, want -13.80 (15%% of 92)", d)
	}
	if !bytes.Contains(cart.body, []byte(`class="fieldset coupon"`)) || bytes.Contains(cart.body, []byte("Cancel Coupon")) {
		t.Fatal("the discount form shows an applied coupon")
	}
	base := l.cartBase(cart.body, false)
	if got := backendCoupons(t, store, strings.TrimPrefix(base, "/rest/default/V1/guest-carts/")); len(got) != 1 || got[0] != "AUD-VIP-7Q2X" {
		t.Fatalf("backend coupons %q", got)
	}
	_, totals := l.rest(http.MethodGet, base+"/totals", nil)
	if d := number(t, totals, "discount_amount"); math.Abs(d+13.8) > 0.001 {
		t.Fatalf("REST totals discount %v", d)
	}
	checkout := l.page("/checkout/")
	scriptsAllowed(t, checkout)
	if d := number(t, checkoutConfigOf(t, checkout.body), "totalsData", "discount_amount"); math.Abs(d+13.8) > 0.001 {
		t.Fatalf("checkout page discount %v", d)
	}
	shown, _ := l.checkoutLuma(base)
	if charged := number(t, lastOrder(t, store), "grand_total"); charged != shown {
		t.Fatalf("charged %v, the last totals showed %v", charged, shown)
	}
	l.noLeak()
}

// TestLumaCustomerPaysTheAudiencePrice is the same walk for a signed-in customer, whose
// cart the gate reaches through the session.
func TestLumaCustomerPaysTheAudiencePrice(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sc, store := startLumaGate(t)
	l := newLuma(t, sc.base)
	l.signIn()
	l.join(segVIP)
	l.add("2", 1)
	cart := l.page("/checkout/cart/")
	cfg := checkoutConfigOf(t, cart.body)
	if logged, _ := cfg["isCustomerLoggedIn"].(bool); !logged {
		t.Fatal("not signed in")
	}
	if d := number(t, cfg, "totalsData", "discount_amount"); math.Abs(d+13.8) > 0.001 {
		t.Fatalf("customer cart page discount %v", d)
	}
	_, totals := l.rest(http.MethodGet, "/rest/default/V1/carts/mine/totals", nil)
	if d := number(t, totals, "discount_amount"); math.Abs(d+13.8) > 0.001 {
		t.Fatalf("customer REST totals discount %v", d)
	}
	scriptsAllowed(t, l.page("/checkout/"))
	shown, _ := l.checkoutLuma("/rest/default/V1/carts/mine")
	if charged := number(t, lastOrder(t, store), "grand_total"); charged != shown {
		t.Fatalf("charged %v, the last totals showed %v", charged, shown)
	}
	l.noLeak()
}

// TestLumaLeavingTheAudience: full price on the next page and REST call after leaving the
// audience, and the order charges it.
func TestLumaLeavingTheAudience(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sc, store := startLumaGate(t)
	l := newLuma(t, sc.base)
	l.join(segVIP)
	l.add("2", 1)
	cart := l.page("/checkout/cart/")
	base := l.cartBase(cart.body, false)
	l.join()
	_, totals := l.rest(http.MethodGet, base+"/totals", nil)
	if d := number(t, totals, "discount_amount"); d != 0 {
		t.Fatalf("after leaving: REST discount %v", d)
	}
	if d := number(t, checkoutConfigOf(t, l.page("/checkout/cart/").body), "totalsData", "discount_amount"); d != 0 {
		t.Fatalf("after leaving: cart page discount %v", d)
	}
	// Back in the audience: the page itself brings the coupon back, rendered again.
	l.join(segVIP)
	if d := number(t, checkoutConfigOf(t, l.page("/checkout/cart/").body), "totalsData", "discount_amount"); math.Abs(d+13.8) > 0.001 {
		t.Fatalf("back in the audience: cart page discount %v", d)
	}
	l.join()
	shown, _ := l.checkoutLuma(base)
	order := lastOrder(t, store)
	if charged := number(t, order, "grand_total"); charged != shown || order["coupon_codes"] != nil && len(order["coupon_codes"].([]any)) != 0 {
		t.Fatalf("charged %v with coupons %v, shown %v", charged, order["coupon_codes"], shown)
	}
	l.noLeak()
}

// TestLumaTypedGateCodeRefused: the form and REST refuse a gate code; a shopper's own code
// still works.
func TestLumaTypedGateCodeRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sc, store := startLumaGate(t)
	l := newLuma(t, sc.base)
	l.add("1", 2) // 24-MB01 ×2
	cart := l.page("/checkout/cart/")
	base := l.cartBase(cart.body, false)
	form := url.Values{"form_key": {l.cookie("form_key")}, "coupon_code": {"aud-vip-7q2x"}, "remove": {"0"}}
	if r := l.do(http.MethodPost, "/checkout/cart/couponPost/", "application/x-www-form-urlencoded", []byte(form.Encode()), nil); r.status != http.StatusFound {
		t.Fatalf("couponPost: %d", r.status)
	}
	if st, _ := l.rest(http.MethodPut, base+"/coupons/AUD-BAGS-K9", nil); st != http.StatusNotFound {
		t.Fatalf("REST PUT gate code: %d", st)
	}
	if got := backendCoupons(t, store, strings.TrimPrefix(base, "/rest/default/V1/guest-carts/")); len(got) != 0 {
		t.Fatalf("a typed gate code reached Magento: %q", got)
	}
	if st, v := l.rest(http.MethodPut, base+"/coupons/SPRING5", nil); st != 200 {
		t.Fatalf("own code: %d %v", st, v)
	}
	_, totals := l.rest(http.MethodGet, base+"/totals", nil)
	if totals.(map[string]any)["coupon_code"] != "SPRING5" {
		t.Fatalf("own code not shown: %v", totals)
	}
	l.noLeak()
}

// TestLumaAndHeadlessTogether: a Luma guest and a headless shopper on one store at once
// both pay the audience price.
func TestLumaAndHeadlessTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sc, store := startLumaGate(t)
	var wg sync.WaitGroup
	var lumaShown float64
	wg.Add(1)
	go func() {
		defer wg.Done()
		l := newLuma(t, sc.base)
		l.join(segVIP)
		l.add("2", 1)
		base := l.cartBase(l.page("/checkout/cart/").body, false)
		lumaShown, _ = l.checkoutLuma(base)
		l.noLeak()
	}()
	s := newShop(t, sc.base, store, segVIP)
	s.cartID = newCart(t, sc.base)
	s.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": "24-WG02", "quantity": 1}})
	shown := s.grandTotal()
	charged, msg := s.checkout()
	wg.Wait()
	if msg != "" || charged != round2(shown+5) {
		t.Fatalf("headless: charged %v (%s), shown %v", charged, msg, shown)
	}
	if lumaShown == 0 {
		t.Fatal("the Luma shopper did not check out")
	}
	s.noLeak()
}

// TestLumaShopperCouponWins: with gate_policy shopper_wins (the default) a member's own code
// takes the single slot on Luma too, and keeps it on the next cart reads.
func TestLumaShopperCouponWins(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sc, store := startLumaGate(t)
	l := newLuma(t, sc.base)
	l.join(segVIP)
	l.add("2", 1)
	base := l.cartBase(l.page("/checkout/cart/").body, false)
	cartID := strings.TrimPrefix(base, "/rest/default/V1/guest-carts/")
	if got := backendCoupons(t, store, cartID); len(got) != 1 || got[0] != "AUD-VIP-7Q2X" {
		t.Fatalf("member's coupons %q", got)
	}
	if st, v := l.rest(http.MethodPut, base+"/coupons/SPRING5", nil); st != 200 {
		t.Fatalf("own code: %d %v", st, v)
	}
	for i := 0; i < 2; i++ {
		_, totals := l.rest(http.MethodGet, base+"/totals", nil)
		if totals.(map[string]any)["coupon_code"] != "SPRING5" {
			t.Fatalf("read %d: the shopper's code lost its slot: %v", i, totals)
		}
	}
	if got := backendCoupons(t, store, cartID); len(got) != 1 || got[0] != "SPRING5" {
		t.Fatalf("backend coupons %q", got)
	}
	l.noLeak()
}
