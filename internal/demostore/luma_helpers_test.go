package demostore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// lumaFixtures is the directory of the Magento 2.4.7 Luma recordings shared by the project.
var lumaFixtures = filepath.Join("..", "..", "..", "shared", "fixtures", "magento-2.4.7", "luma")

// recordedHost is the host of the recorded store, replaced by the test server's in comparisons.
const recordedHost = "127.0.0.1:8080"

// fixture reads a recorded body; ok is false when the recordings are not available, and the
// shape checks that need them are skipped (the walks still run).
func fixture(t *testing.T, name string) ([]byte, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(lumaFixtures, name))
	if err != nil {
		t.Logf("recording %s not available, shape check skipped: %v", name, err)
		return nil, false
	}
	return b, true
}

// lumaClient is a browser for the demo store's Luma surface: a cookie jar, no redirects
// followed, the test server's base URL.
type lumaClient struct {
	t        *testing.T
	store    *Store
	srv      *httptest.Server
	hc       *http.Client
	base     string
	segments string // sent as X-Audience-Segments when set
}

func newLumaClient(t *testing.T, store *Store) *lumaClient {
	t.Helper()
	srv := httptest.NewServer(store)
	t.Cleanup(srv.Close)
	return store.lumaClientFor(t, srv)
}

// lumaClientFor is another shopper (own cookie jar) on the same server.
func (s *Store) lumaClientFor(t *testing.T, srv *httptest.Server) *lumaClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &lumaClient{t: t, store: s, srv: srv, hc: hc, base: srv.URL + "/"}
}

// lumaResp is one exchange.
type lumaResp struct {
	status int
	header http.Header
	body   []byte
}

func (c *lumaClient) do(method, path string, body io.Reader, header map[string]string) *lumaResp {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+strings.TrimPrefix(path, "/"), body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c.segments != "" {
		req.Header.Set("X-Audience-Segments", c.segments)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &lumaResp{status: res.StatusCode, header: res.Header, body: b}
}

// get fetches a storefront path.
func (c *lumaClient) get(path string) *lumaResp {
	c.t.Helper()
	return c.do(http.MethodGet, path, nil, nil)
}

// ajaxGet fetches with X-Requested-With, as Luma's customer-data.js does.
func (c *lumaClient) ajaxGet(path string) *lumaResp {
	c.t.Helper()
	return c.do(http.MethodGet, path, nil, map[string]string{"X-Requested-With": "XMLHttpRequest"})
}

// post sends a form; ajax adds X-Requested-With.
func (c *lumaClient) post(path string, form url.Values, ajax bool) *lumaResp {
	c.t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if ajax {
		h["X-Requested-With"] = "XMLHttpRequest"
	}
	return c.do(http.MethodPost, path, strings.NewReader(form.Encode()), h)
}

// rest calls the REST API with an optional JSON body.
func (c *lumaClient) rest(method, path string, body any) *lumaResp {
	c.t.Helper()
	var r io.Reader
	h := map[string]string{}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
		h["Content-Type"] = "application/json"
	}
	return c.do(method, "rest/default/V1/"+path, r, h)
}

// cookie returns a cookie the jar holds for the store.
func (c *lumaClient) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// addToCart posts Luma's AJAX add to cart for a product id.
func (c *lumaClient) addToCart(productID, qty int) *lumaResp {
	c.t.Helper()
	return c.post(fmt.Sprintf("checkout/cart/add/uenc/%s/product/%d/", uenc(c.base), productID), url.Values{
		"product": {fmt.Sprint(productID)}, "form_key": {c.cookie(formKeyCookieName)}, "qty": {fmt.Sprint(qty)},
	}, true)
}

// couponPost submits the cart page's discount form.
func (c *lumaClient) couponPost(code string, remove bool) *lumaResp {
	c.t.Helper()
	r := "0"
	if remove {
		r = "1"
	}
	return c.post("checkout/cart/couponPost/", url.Values{"form_key": {c.cookie(formKeyCookieName)}, "coupon_code": {code}, "remove": {r}}, false)
}

// must checks a status.
func (r *lumaResp) must(t *testing.T, status int) *lumaResp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// jsonValue decodes the body keeping the order of object keys.
func (r *lumaResp) jsonValue(t *testing.T) any {
	t.Helper()
	v, err := decodeOrdered(r.body)
	if err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	return v
}

// messagesCookie decodes the mage-messages cookie the answer set.
func (r *lumaResp) messagesCookie(t *testing.T) []map[string]string {
	t.Helper()
	for _, sc := range r.header.Values("Set-Cookie") {
		name, rest, _ := strings.Cut(sc, "=")
		if name != messagesCookieName {
			continue
		}
		raw, err := url.PathUnescape(strings.SplitN(rest, ";", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]string
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatalf("mage-messages %q: %v", raw, err)
		}
		return out
	}
	return nil
}

// checkoutConfigRe finds window.checkoutConfig's JSON on a page.
var checkoutConfigRe = regexp.MustCompile(`window\.checkoutConfig = (.*);\n`)

// checkoutConfigOf returns the raw checkoutConfig JSON of a page.
func checkoutConfigOf(t *testing.T, page []byte) []byte {
	t.Helper()
	m := checkoutConfigRe.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no window.checkoutConfig in page:\n%.2000s", page)
	}
	return m[1]
}

// discountFormOf cuts the cart page's discount block.
func discountFormOf(t *testing.T, page []byte) string {
	t.Helper()
	s := string(page)
	start := strings.Index(s, `<div class="block discount"`)
	if start < 0 {
		t.Fatalf("no discount block in page")
	}
	end := strings.Index(s[start:], "</div>\n</div>\n")
	return s[start : start+end+len("</div>\n</div>\n")]
}

// orderedObject is a JSON object with its keys in order.
type orderedObject struct {
	keys []string
	vals map[string]any
}

// decodeOrdered decodes JSON keeping object key order; numbers stay json.Number.
func decodeOrdered(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeOrderedValue(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

func decodeOrderedValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch d := tok.(type) {
	case json.Delim:
		if d == '[' {
			list := []any{}
			for dec.More() {
				v, err := decodeOrderedValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token()
			return list, err
		}
		obj := &orderedObject{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string)
			v, err := decodeOrderedValue(dec)
			if err != nil {
				return nil, err
			}
			obj.keys = append(obj.keys, k)
			obj.vals[k] = v
		}
		_, err := dec.Token()
		return obj, err
	}
	return tok, nil
}

// jsonKind names a JSON value's type.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case string:
		return "string"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case *orderedObject:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// shapeRules relax sameShape: maps are objects keyed by data (item ids, countries) whose
// values are compared with the recording's first value; loose are paths whose type may
// differ (a signed-in customer's fields that are null for the recorded guest).
type shapeRules struct {
	maps  map[string]bool
	loose map[string]bool
}

// sameShape reports every difference of shape between got and the recording want: object keys
// (set and order), JSON types (null included); list elements are compared with the
// recording's first element.
func sameShape(got, want any, path string, rules shapeRules) []string {
	if rules.loose[path] {
		return nil
	}
	if jsonKind(got) != jsonKind(want) {
		return []string{fmt.Sprintf("%s: %s, recorded %s", path, jsonKind(got), jsonKind(want))}
	}
	var diffs []string
	switch w := want.(type) {
	case []any:
		g := got.([]any)
		if len(w) == 0 {
			return nil
		}
		for i, e := range g {
			diffs = append(diffs, sameShape(e, counterpart(e, w), fmt.Sprintf("%s[%d]", path, i), rules)...)
		}
	case *orderedObject:
		g := got.(*orderedObject)
		if rules.maps[path] {
			if len(w.keys) == 0 {
				return nil
			}
			for _, k := range g.keys {
				diffs = append(diffs, sameShape(g.vals[k], w.vals[w.keys[0]], path+".*", rules)...)
			}
			return diffs
		}
		if strings.Join(g.keys, ",") != strings.Join(w.keys, ",") {
			diffs = append(diffs, fmt.Sprintf("%s: keys %v, recorded %v", path, g.keys, w.keys))
		}
		for _, k := range g.keys {
			if _, ok := w.vals[k]; ok {
				diffs = append(diffs, sameShape(g.vals[k], w.vals[k], path+"."+k, rules)...)
			}
		}
	}
	return diffs
}

// counterpart is the recorded list element to compare an element with: the one with the same
// "code" (total segments), else the first.
func counterpart(e any, recorded []any) any {
	if o, ok := e.(*orderedObject); ok {
		for _, r := range recorded {
			if ro, ok := r.(*orderedObject); ok && o.vals["code"] != nil && ro.vals["code"] == o.vals["code"] {
				return r
			}
		}
	}
	return recorded[0]
}

// checkShape compares a JSON answer with a recorded body.
func checkShape(t *testing.T, what string, got []byte, recording string, rules shapeRules) {
	t.Helper()
	want, ok := fixture(t, recording)
	if !ok {
		return
	}
	wv, err := decodeOrdered(bytes.TrimSpace(want))
	if err != nil {
		t.Fatalf("recording %s: %v", recording, err)
	}
	gv, err := decodeOrdered(got)
	if err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", what, err, got)
	}
	for _, d := range sameShape(gv, wv, "", rules) {
		t.Errorf("%s vs %s: %s", what, recording, d)
	}
}

// checkConfigShape compares a page's checkoutConfig with a recorded page's.
func checkConfigShape(t *testing.T, what string, page []byte, recording string, rules shapeRules) {
	t.Helper()
	want, ok := fixture(t, recording)
	if !ok {
		return
	}
	wv, err := decodeOrdered(checkoutConfigOf(t, want))
	if err != nil {
		t.Fatal(err)
	}
	gv, err := decodeOrdered(checkoutConfigOf(t, page))
	if err != nil {
		t.Fatalf("%s checkoutConfig: %v", what, err)
	}
	for _, d := range sameShape(gv, wv, "", rules) {
		t.Errorf("%s checkoutConfig vs %s: %s", what, recording, d)
	}
}

// configRules are the data-keyed maps of checkoutConfig.
var configRules = shapeRules{maps: map[string]bool{".postCodes": true, ".postCodes.*": true, ".imageData": true, ".quoteMessages": true}}

// jpath walks an ordered JSON value by dotted keys and list indexes.
func jpath(t *testing.T, v any, p string) any {
	t.Helper()
	for _, key := range strings.Split(p, ".") {
		switch cur := v.(type) {
		case *orderedObject:
			var ok bool
			if v, ok = cur.vals[key]; !ok {
				t.Fatalf("path %s: no key %q", p, key)
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(key, &i); err != nil || i >= len(cur) {
				t.Fatalf("path %s: bad index %q", p, key)
			}
			v = cur[i]
		default:
			t.Fatalf("path %s: cannot descend into %T at %q", p, v, key)
		}
	}
	return v
}

// numAt reads a number (or numeric string) as its text.
func numAt(t *testing.T, v any, p string) string {
	t.Helper()
	switch x := jpath(t, v, p).(type) {
	case json.Number:
		return x.String()
	case string:
		return x
	default:
		t.Fatalf("path %s: %T is not a number", p, x)
	}
	return ""
}
