package luma

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
)

const fixtures = "../../../shared/fixtures/magento-2.4.7/luma/"

// The recordings' coupon is the gate code here.
const code = "LAB-GATE-CODE-1"

func scrubber() Scrubber {
	return Scrubber{
		IsGate:  func(c string) bool { return strings.EqualFold(strings.TrimSpace(c), code) },
		Label:   func(string) string { return "VIP price" },
		Secrets: sanitize.NewSecrets([]string{code}, nil),
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Skipf("recordings not found: %v", err)
	}
	return b
}

// fixtureHeader reads the answer headers of a .meta recording.
func fixtureHeader(t *testing.T, name string) http.Header {
	t.Helper()
	h := http.Header{}
	sc := bufio.NewScanner(bytes.NewReader(fixture(t, name)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ": "); ok && !strings.Contains(k, " ") {
			h.Add(k, v)
		}
	}
	return h
}

func TestReadPage(t *testing.T) {
	p, ok := ReadPage(fixture(t, "05-cart-page.body"))
	if !ok || p.CartID != "PzqhDgWM06pjFZCaolENXyl6ammKtQxg" || p.Customer || p.Store != "default" {
		t.Fatalf("page %+v %v", p, ok)
	}
	if _, ok := ReadPage([]byte("<html>no config</html>")); ok {
		t.Fatal("a page without checkoutConfig was read")
	}
}

// TestPageLooksUncouponed: the cart page with the gate coupon, cleaned, shows the discount
// form exactly as the page without a coupon does, and no code anywhere.
func TestPageLooksUncouponed(t *testing.T) {
	with := fixture(t, "10-cart-page-with-coupon.body")
	out := scrubber().Page(with, http.Header{})
	if bytes.Contains(bytes.ToUpper(out), []byte(code)) {
		t.Fatal("the code is still on the page")
	}
	form := regexp.MustCompile(`(?s)<div class="block discount".*?</form>`)
	space := regexp.MustCompile(`\s+`)
	got := space.ReplaceAll(form.Find(out), []byte(" "))
	want := space.ReplaceAll(form.Find(fixture(t, "05-cart-page.body")), []byte(" "))
	if !bytes.Equal(got, want) {
		t.Fatalf("discount form\n got: %s\nwant: %s", got, want)
	}
	raw, _, _ := checkoutConfig(out)
	var cfg struct {
		QuoteData  map[string]any `json:"quoteData"`
		TotalsData map[string]any `json:"totalsData"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.QuoteData["coupon_code"] != nil || cfg.TotalsData["coupon_code"] != nil {
		t.Fatalf("checkoutConfig coupon codes %v %v", cfg.QuoteData["coupon_code"], cfg.TotalsData["coupon_code"])
	}
}

// TestCheckoutPageCSP: the checkout page's inline scripts that changed get their new hashes
// in the enforcing CSP, so the browser still runs them.
func TestCheckoutPageCSP(t *testing.T) {
	html := fixture(t, "15-checkout-page.body")
	header := fixtureHeader(t, "15-checkout-page.meta")
	csp := header.Get("Content-Security-Policy")
	if csp == "" {
		t.Skip("no enforcing CSP recorded")
	}
	before := inlineScripts(html)
	out := scrubber().Page(html, header)
	after := inlineScripts(out)
	changed := 0
	for i := range before {
		if !strings.Contains(csp, scriptHash(before[i])) {
			continue // allowed by nonce or not at all; nothing to keep
		}
		if before[i] != after[i] {
			changed++
		}
		if !strings.Contains(header.Get("Content-Security-Policy"), scriptHash(after[i])) {
			t.Fatalf("script %d is no longer allowed by the CSP", i)
		}
	}
	if bytes.Contains(bytes.ToUpper(out), []byte(code)) {
		t.Fatal("the code is still on the checkout page")
	}
	t.Logf("%d hashed scripts changed", changed)
}

func TestJSON(t *testing.T) {
	s := scrubber()
	if got := s.JSON(fixture(t, "13-rest-coupons.body")); string(got) != "null" {
		t.Fatalf("GET coupons → %s", got)
	}
	var totals map[string]any
	if err := json.Unmarshal(s.JSON(fixture(t, "12-rest-totals-with-coupon.body")), &totals); err != nil {
		t.Fatal(err)
	}
	if totals["coupon_code"] != nil || totals["grand_total"].(float64) != 151 {
		t.Fatalf("totals %v", totals)
	}
	title := `{"total_segments":[{"code":"discount","title":"Discount (lab-gate-code-1)","value":-24}]}`
	if got := string(s.JSON([]byte(title))); got != `{"total_segments":[{"code":"discount","title":"Discount (VIP price)","value":-24}]}` {
		t.Fatalf("title → %s", got)
	}
	plain := fixture(t, "06-rest-totals.body")
	if got := s.JSON(plain); !jsonEqual(got, plain) {
		t.Fatal("an answer without a gate code changed")
	}
}

func TestCookies(t *testing.T) {
	h := http.Header{}
	h.Add("Set-Cookie", "mage-messages=%5B%7B%22type%22%3A%22success%22%2C%22text%22%3A%22You%20used%20coupon%20code%20%26quot%3BLAB-GATE-CODE-1%26quot%3B.%22%7D%5D; path=/")
	h.Add("Set-Cookie", "PHPSESSID=abc; path=/")
	scrubber().Cookies(h)
	if got := h.Values("Set-Cookie"); len(got) != 1 || !strings.HasPrefix(got[0], "PHPSESSID") {
		t.Fatalf("cookies %q", got)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && equalJSON(x, y)
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestChangedScriptKeepsItsCSPHash: a hashed inline script holding the code is changed, and
// the enforcing and report-only policies allow its new text.
func TestChangedScriptKeepsItsCSPHash(t *testing.T) {
	script := `window.checkoutConfig = {"quoteData":{"entity_id":"abc","coupon_code":"LAB-GATE-CODE-1"},"totalsData":{"coupon_code":"LAB-GATE-CODE-1"},"storeCode":"default"};`
	other := `var x = 1;`
	html := []byte("<html><script>" + script + "</script><script src=\"a.js\"></script><script type=\"text/javascript\">" + other + "</script></html>")
	header := http.Header{}
	header.Set("Content-Security-Policy", "script-src 'self' "+scriptHash(script)+" "+scriptHash(other))
	header.Set("Content-Security-Policy-Report-Only", "script-src "+scriptHash(script))
	out := scrubber().Page(html, header)
	after := inlineScripts(out)
	if len(after) != 2 || after[1] != other || strings.Contains(after[0], code) {
		t.Fatalf("scripts %q", after)
	}
	for _, name := range []string{"Content-Security-Policy", "Content-Security-Policy-Report-Only"} {
		if v := header.Get(name); !strings.Contains(v, scriptHash(after[0])) || strings.Contains(v, scriptHash(script)) {
			t.Fatalf("%s = %s", name, v)
		}
	}
	if !strings.Contains(header.Get("Content-Security-Policy"), scriptHash(other)) {
		t.Fatal("an unchanged script lost its hash")
	}
}
