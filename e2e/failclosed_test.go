package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/demostore"
)

// The attacks of issue 11, tried through the binary with a gate rule in force: every
// request the sidecar could read differently from Magento is refused and never forwarded,
// and no answer carries a gate code or a hidden field.

const cartCouponsQuery = `query($c: String!) { cart(cart_id: $c) { applied_coupons { code } prices { grand_total { value } discounts { label amount { value } } } } }`

// TestFailClosedRequests sends the attacker's spellings of requests to the GraphQL path.
func TestFailClosedRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sc, store := launchGate(t, "")
	base := sc.base

	// A member's cart holds the gate coupon; a non-member will try to read or reuse it.
	member := newShop(t, base, store, segVIP)
	member.cartID = newCart(t, base)
	member.op("ADD_ITEM", map[string]any{"cartItem": map[string]any{"sku": "24-WG02", "quantity": 1}})
	if got := backendCoupons(t, store, member.cartID); len(got) != 1 {
		t.Fatalf("member's cart coupons %q", got)
	}
	stranger := newCart(t, base, line{"24-MB01", 1})

	post := func(path, contentType string, body []byte) response {
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return do(t, req)
	}
	applyGate := func(cartID string) []byte {
		b, _ := json.Marshal(map[string]any{
			"query":     `mutation($c: String!, $code: String!) { applyCouponToCart(input: {cart_id: $c, coupon_code: $code}) { cart { applied_coupons { code } } } }`,
			"variables": map[string]any{"c": cartID, "code": "AUD-VIP-7Q2X"},
		})
		return b
	}
	refused := func(t *testing.T, r response, status int) {
		t.Helper()
		if r.status != status || !bytes.Contains(r.body, []byte(`"errors"`)) {
			t.Fatalf("status %d, want a %d GraphQL error: %s", r.status, status, r.body)
		}
		if bytes.Contains(bytes.ToUpper(r.body), []byte("AUD-VIP-7Q2X")) || bytes.Contains(r.body, []byte("_aud_")) {
			t.Fatalf("refusal leaks: %s", r.body)
		}
	}

	t.Run("padded apply", func(t *testing.T) {
		body := applyGate(stranger)
		padded := append(append(body[:len(body)-1:len(body)-1], bytes.Repeat([]byte(" "), 5<<20)...), '}')
		refused(t, post("/graphql", "application/json", padded), http.StatusRequestEntityTooLarge)
		if got := backendCoupons(t, store, stranger); len(got) != 0 {
			t.Fatalf("the padded apply reached Magento: coupons %q", got)
		}
	})
	t.Run("padded placeOrder", func(t *testing.T) {
		b, _ := json.Marshal(map[string]any{"query": `mutation($c: String!) { placeOrder(input: {cart_id: $c}) { orderV2 { number } } }`, "variables": map[string]any{"c": member.cartID}})
		padded := append(append(b[:len(b)-1:len(b)-1], bytes.Repeat([]byte(" "), 5<<20)...), '}')
		refused(t, post("/graphql", "application/json", padded), http.StatusRequestEntityTooLarge)
	})
	q := url.QueryEscape(cartCouponsQuery)
	v := url.QueryEscape(`{"c":"` + member.cartID + `"}`)
	harmless := url.QueryEscape(`{storeConfig{store_code}}`)
	for name, raw := range map[string]string{
		"percent-encoded name":    "%71uery=" + q + "&variables=" + v,
		"percent-encoded letter":  "qu%65ry=" + q + "&variables=" + v,
		"leading space":           "+query=" + q + "&variables=" + v,
		"NUL in the name":         "query%00=" + q + "&variables=" + v,
		"duplicate, last wins":    "query=" + harmless + "&query=" + q + "&variables=" + v,
		"array":                   "query[]=" + q + "&variables=" + v,
		"encoded letters in text": "query=" + strings.ReplaceAll(q, "cart", "c%61rt") + "&variables=" + v + "&variables=" + v,
	} {
		t.Run(name, func(t *testing.T) {
			r := do(t, mustRequest(t, http.MethodGet, base+"/graphql?"+raw, nil))
			refused(t, r, http.StatusBadRequest)
		})
	}
	// Caddy's reverse_proxy drops an Upgrade header that no "Connection: Upgrade" asks for and
	// forwards the request as any other: Magento answers it, so it must be read and gated.
	for name, header := range map[string]map[string]string{
		"upgrade header":             {"Upgrade": "websocket"},
		"upgrade with a connection":  {"Upgrade": "websocket", "Connection": "Upgrade"},
		"upgrade header, lower case": {"upgrade": "h2c"},
	} {
		t.Run(name, func(t *testing.T) {
			r := do(t, mustRequest(t, http.MethodGet, base+"/graphql?query="+q+"&variables="+v, header))
			if bytes.Contains(bytes.ToUpper(r.body), []byte("AUD-VIP")) || bytes.Contains(r.body, []byte("_aud_")) {
				t.Errorf("status %d, the gate code leaks: %s", r.status, r.body)
			}
			req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(applyGate(stranger)))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range header {
				req.Header.Set(k, v)
			}
			do(t, req)
			if got := backendCoupons(t, store, stranger); len(got) != 0 {
				t.Fatalf("the gate code was applied to a stranger's cart: coupons %q", got)
			}
		})
	}
	t.Run("encoded letters are read as PHP reads them", func(t *testing.T) {
		// Not ambiguous, only spelled oddly: the sidecar decodes it as PHP and gates it.
		raw := "query=" + strings.ReplaceAll(q, "cart", "c%61rt") + "&variables=" + v
		r := do(t, mustRequest(t, http.MethodGet, base+"/graphql?"+raw, map[string]string{"aep-segments-membership": ""}))
		if r.status != 200 || bytes.Contains(bytes.ToUpper(r.body), []byte("AUD-VIP")) || bytes.Contains(r.body, []byte("_aud_")) {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
	for name, path := range map[string]string{"trailing slash": "/graphql/", "case": "/GraphQL", "index.php": "/index.php/graphql", "store code": "/default/graphql"} {
		t.Run("path "+name, func(t *testing.T) {
			refused(t, post(path, "application/json", applyGate(stranger)), http.StatusBadRequest)
		})
	}
	for name, tc := range map[string]struct{ ct, body string }{
		"batch":          {"application/json", `[` + string(applyGate(stranger)) + `]`},
		"graphql body":   {"application/graphql", `mutation { applyCouponToCart(input: {cart_id: "` + stranger + `", coupon_code: "AUD-VIP-7Q2X"}) { cart { id } } }`},
		"text/plain":     {"text/plain;application/json", string(applyGate(stranger))},
		"lone surrogate": {"application/json", `{"query":"{ cart(cart_id: \"x\") { id } }","variables":{"a":"\udc00"}}`},
		"two operations": {"application/json", `{"query":"query A { storeConfig { store_code } } query B { cart(cart_id: \"` + member.cartID + `\") { applied_coupons { code } } }","operationName":"A"}`},
		"reserved alias": {"application/json", `{"query":"{ cart(cart_id: \"` + member.cartID + `\") { _aud_x: applied_coupons { code } } }"}`},
		"unparsable":     {"application/json", `{"query":"{ cart(cart_id: "}`},
	} {
		t.Run(name, func(t *testing.T) {
			refused(t, post("/graphql", tc.ct, []byte(tc.body)), http.StatusBadRequest)
		})
	}
	t.Run("duplicate JSON keys: the last wins, as in PHP", func(t *testing.T) {
		body := `{"query":"{ storeConfig { store_code } }","query":"mutation($c: String!) { applyCouponToCart(input: {cart_id: $c, coupon_code: \"AUD-VIP-7Q2X\"}) { cart { id } } }","variables":{"c":"` + stranger + `"}}`
		r := post("/graphql", "application/json", []byte(body))
		if !bytes.Contains(r.body, []byte("isn't valid")) || len(backendCoupons(t, store, stranger)) != 0 {
			t.Fatalf("the last query was not the one gated: %s", r.body)
		}
	})
	t.Run("refusals are counted", func(t *testing.T) {
		m := adminGet(t, sc.admin, "/metrics")
		for _, reason := range []string{"too_large", "ambiguous", "batch", "content_type", "unreadable", "unparsable", "reserved", "path"} {
			if !strings.Contains(m, fmt.Sprintf(`caddy_audiences_refused_requests_total{reason=%q}`, reason)) {
				t.Errorf("no refusal counted for %s:\n%s", reason, grepLines(m, "refused"))
			}
		}
	})
	t.Run("member still served", func(t *testing.T) {
		summary := member.op("getPriceSummaryQuery", nil)
		if label := dig(t, summary, "data", "cart", "prices", "discounts").([]any)[0].(map[string]any)["label"]; label != "VIP price" {
			t.Fatalf("member's discount %v", label)
		}
		member.noLeak()
	})
}

// TestFailClosedCouponRoutes types gate codes into Magento's other coupon routes.
func TestFailClosedCouponRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	sc, _ := launchGate(t, "")
	base := sc.base
	rest := func(method, path, body string) response {
		req := mustRequest(t, method, base+path, map[string]string{"Content-Type": "application/json"})
		if body != "" {
			req.Body = io.NopCloser(strings.NewReader(body))
			req.ContentLength = int64(len(body))
		}
		return do(t, req)
	}
	const invalid = `{"message":"The coupon code isn't valid. Verify the code and try again."}`
	for _, path := range []string{
		"/rest/default/V1/guest-carts/abc123/coupons/AUD-VIP-7Q2X",
		"/rest/V1/carts/mine/coupons/aud-vip-7q2x",
		"/rest/default/V1/guest-carts/abc123/coupons/%41UD-VIP-7Q2X",
		"/rest/default/V1/guest-carts/abc123/coupons/%20AUD-VIP-7Q2X%20",
		"/index.php/rest/all/V1/carts/mine/coupons/AUD-BAGS-K9",
		"/REST/default/v1/carts/5/coupons/AUD-BAGS-K9",
	} {
		r := rest(http.MethodPut, path, "")
		if r.status != http.StatusNotFound || string(r.body) != invalid {
			t.Errorf("PUT %s: %d %s", path, r.status, r.body)
		}
	}
	if r := rest(http.MethodPut, "/rest/default/V1/carts/mine", `{"quote":{"id":1,"coupon_code":"aud-vip-7q2x"}}`); r.status != http.StatusNotFound || string(r.body) != invalid {
		t.Errorf("gate code in a REST cart body: %d %s", r.status, r.body)
	}
	if r := rest(http.MethodPut, "/rest/default/V1/guest-carts/abc123/coupons/WELCOME10", ""); string(r.body) == invalid {
		t.Errorf("a shopper's own code was refused: %d %s", r.status, r.body)
	}

	form := func(path, contentType, body string) response {
		req := mustRequest(t, http.MethodPost, base+path, map[string]string{"Content-Type": contentType})
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: b}
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("form_key", "k")
	_ = mw.WriteField("coupon.code", "AUD-VIP-7Q2X")
	_ = mw.Close()
	for name, tc := range map[string]struct{ path, ct, body string }{
		"form":             {"/checkout/cart/couponPost/", "application/x-www-form-urlencoded", "form_key=k&coupon_code=AUD-VIP-7Q2X&remove=0"},
		"mangled name":     {"/checkout/cart/couponPost/", "application/x-www-form-urlencoded", "form_key=k&coupon%5Bcode=aud-vip-7q2x"},
		"path parameter":   {"/checkout/cart/couponPost/coupon_code/AUD-VIP-7Q2X/", "application/x-www-form-urlencoded", "form_key=k"},
		"query string":     {"/default/checkout/cart/couponpost?coupon_code=AUD-BAGS-K9", "application/x-www-form-urlencoded", "form_key=k"},
		"multipart mangle": {"/checkout/cart/couponPost/", mw.FormDataContentType(), mp.String()},
	} {
		r := form(tc.path, tc.ct, tc.body)
		if r.status != http.StatusFound || r.header.Get("Location") != "/checkout/cart/" || !strings.Contains(r.header.Get("Set-Cookie"), "mage-messages=") {
			t.Errorf("couponPost %s: %d %v", name, r.status, r.header)
		}
	}
	m := adminGet(t, sc.admin, "/metrics")
	if !strings.Contains(m, `caddy_audiences_gate_total{action="refused_code"} 12`) {
		t.Errorf("refused codes not counted:\n%s", grepLines(m, "gate_total"))
	}
}

// TestFailClosedAnswers: answers the sidecar used to pass unread, from a misbehaving
// backend, with a gate coupon on the cart: no gate code and no hidden field comes out, and
// the member still sees the audience price where the answer can be read.
func TestFailClosedAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	couponRules, err := demostore.LoadCouponRules("testdata/coupon_rules.json")
	if err != nil {
		t.Fatal(err)
	}
	upstream := misbehavingStore(t, demostore.Options{CouponRules: couponRules}, nil)
	sidecar := startSidecar(t, upstream, "audiences {\n\t\trules testdata/gate_rules.json\n\t\tmax_body 64KiB\n\t}")
	cartID := newCart(t, sidecar, line{"24-WG02", 1})
	send := func(mode string) response {
		return graphql(t, sidecar, cartCouponsQuery, map[string]any{"c": cartID}, map[string]string{
			"aep-segments-membership": segVIP, "X-Test-Upstream": mode, "Accept-Encoding": "gzip",
		})
	}
	clean := func(t *testing.T, r response) {
		t.Helper()
		if bytes.Contains(bytes.ToUpper(r.body), []byte("AUD-VIP-7Q2X")) || bytes.Contains(r.body, []byte("_aud_")) {
			t.Fatalf("leak (status %d): %.600s", r.status, r.body)
		}
	}
	discounted := func(t *testing.T, r response) {
		t.Helper()
		if !bytes.Contains(r.body, []byte(`"VIP price"`)) {
			t.Fatalf("the member lost the audience price: %.600s", r.body)
		}
	}
	for _, mode := range []string{"gzip", "bom", "notice"} {
		t.Run(mode, func(t *testing.T) {
			r := send(mode)
			clean(t, r)
			discounted(t, r)
			if r.header.Get("Content-Encoding") != "" {
				t.Fatalf("answered encoded: %v", r.header)
			}
		})
	}
	t.Run("bom kept, as browsers accept it", func(t *testing.T) {
		if r := send("bom"); !bytes.HasPrefix(r.body, []byte("\xef\xbb\xbf{")) {
			t.Fatalf("body starts %q", r.body[:8])
		}
	})
	for _, mode := range []string{"huge", "deep", "sse-json", "multipart-json", "invalid", "bad-gateway"} {
		t.Run(mode, func(t *testing.T) {
			clean(t, send(mode))
		})
	}
}

func mustRequest(t *testing.T, method, target string, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}
