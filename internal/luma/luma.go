// Package luma reads and cleans what Magento's Luma storefront shows a shopper about the
// coupon gate: the cart and checkout pages (window.checkoutConfig, the discount form, the
// Content-Security-Policy hashes of their inline scripts), the REST answers of Luma's
// checkout, and cookies. It finds the shopper's cart on a page and hides gate codes
// everywhere they would show, as if the cart had no coupon, with the gate rule's label where
// Magento would show the code as a discount's title.
package luma

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
)

// Page is what the sidecar reads of a Luma cart or checkout page.
type Page struct {
	// CartID is quoteData.entity_id: the masked id of a guest's cart, the numeric id of a
	// signed-in customer's.
	CartID string
	// Customer reports a signed-in customer (isCustomerLoggedIn).
	Customer bool
	// Store is the page's store view code (storeCode).
	Store string
}

var configStart = []byte("window.checkoutConfig = ")

// ReadPage finds window.checkoutConfig in a page; ok is false when the page has none.
func ReadPage(html []byte) (Page, bool) {
	raw, _, ok := checkoutConfig(html)
	if !ok {
		return Page{}, false
	}
	var cfg struct {
		QuoteData struct {
			EntityID json.RawMessage `json:"entity_id"`
		} `json:"quoteData"`
		IsCustomerLoggedIn bool   `json:"isCustomerLoggedIn"`
		StoreCode          string `json:"storeCode"`
	}
	if json.Unmarshal(raw, &cfg) != nil {
		return Page{}, false
	}
	id := strings.Trim(string(cfg.QuoteData.EntityID), `"`)
	if id == "null" {
		id = ""
	}
	return Page{CartID: id, Customer: cfg.IsCustomerLoggedIn, Store: cfg.StoreCode}, id != ""
}

// checkoutConfig returns the JSON of window.checkoutConfig and where it starts.
func checkoutConfig(html []byte) (json.RawMessage, int, bool) {
	i := bytes.Index(html, configStart)
	if i < 0 {
		return nil, 0, false
	}
	start := i + len(configStart)
	dec := json.NewDecoder(bytes.NewReader(html[start:]))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return nil, 0, false
	}
	return raw, start, true
}

// Scrubber hides gate codes on Luma's surfaces.
type Scrubber struct {
	// IsGate reports whether a code is a gate code (compared as Magento compares codes).
	IsGate func(code string) bool
	// Label is the shopper-facing label that stands in for a gate code in a discount title.
	Label func(code string) string
	// Secrets are cut from whatever is left, as a last resort.
	Secrets *sanitize.Secrets
}

// JSON cleans a JSON answer or document: a coupon_code (or the whole answer) that is a gate
// code becomes null, as without a coupon; a string naming a gate code ("Discount (CODE)")
// names the rule's label instead; anything left is cut.
func (s Scrubber) JSON(body []byte) []byte {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '"' {
		var v string
		if json.Unmarshal(trimmed, &v) == nil && s.IsGate(v) {
			return []byte("null") // GET …/coupons: no coupon
		}
	}
	var out bytes.Buffer
	w := sanitize.NewWriter(&out, "", s.Secrets)
	w.Replace = s.replace
	_, _ = w.Write(body)
	_ = w.Close()
	return out.Bytes()
}

// replace is the sanitizer hook of JSON.
func (s Scrubber) replace(key, value string) ([]byte, bool) {
	if s.IsGate(value) {
		if key == "coupon_code" || key == "code" || key == "" {
			return []byte("null"), true
		}
		b, _ := json.Marshal(s.Label(value))
		return b, true
	}
	if !s.Secrets.Contains(value) {
		return nil, false
	}
	out := value
	for _, word := range codeWords(value) {
		if s.IsGate(word) {
			out = strings.ReplaceAll(out, word, s.Label(word))
		}
	}
	out, _ = s.Secrets.Cut(out)
	b, _ := json.Marshal(out)
	return b, true
}

// codeWords returns the words of a text that could be coupon codes: the runs of sanitize's
// code characters.
func codeWords(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r >= utf8.RuneSelf || !sanitize.IsCodeChar(byte(r)) })
}

// Page cleans a cart or checkout page: window.checkoutConfig as JSON, the discount form as it
// shows without a coupon when it holds a gate code, then every other occurrence of a code.
// Inline scripts it changed get their new hashes in the page's Content-Security-Policy
// headers (enforcing and report-only), which Magento 2.4.7+ checkout pages use.
func (s Scrubber) Page(html []byte, header http.Header) []byte {
	before := inlineScripts(html)
	out := html
	if raw, start, ok := checkoutConfig(out); ok {
		cleaned := s.JSON(raw)
		if !bytes.Equal(cleaned, raw) {
			out = splice(out, start, start+len(raw), cleaned)
		}
	}
	out = s.discountForm(out)
	if cut, changed := s.Secrets.Cut(string(out)); changed {
		out = []byte(cut)
	}
	if after := inlineScripts(out); len(after) == len(before) {
		for i := range before {
			if before[i] != after[i] {
				replaceHash(header, before[i], after[i])
			}
		}
	}
	return out
}

// Cookies drops every Set-Cookie whose value holds a gate code (such as a mage-messages
// cookie saying "You used coupon code …").
func (s Scrubber) Cookies(header http.Header) {
	cookies := header.Values("Set-Cookie")
	if len(cookies) == 0 {
		return
	}
	kept := cookies[:0:0]
	for _, c := range cookies {
		decoded, err := url.QueryUnescape(c)
		if err != nil {
			decoded = c
		}
		if !s.Secrets.Contains(c) && !s.Secrets.Contains(decoded) {
			kept = append(kept, c)
		}
	}
	header.Del("Set-Cookie")
	for _, c := range kept {
		header.Add("Set-Cookie", c)
	}
}

// The discount form as Magento renders it with and without a coupon.
var (
	discountBlock   = regexp.MustCompile(`(?s)<div class="block discount".*?</form>`)
	couponInput     = regexp.MustCompile(`(?s)<input[^>]*\bid="coupon_code"[^>]*>`)
	inputValue      = regexp.MustCompile(`\bvalue="([^"]*)"`)
	inputDisabled   = regexp.MustCompile(`\s*\bdisabled="disabled"`)
	cancelButton    = regexp.MustCompile(`(?s)<button\s+type="button" class="action cancel primary"\s*value="[^"]*">\s*<span>[^<]*</span>\s*</button>`)
	appliedFieldset = `class="fieldset coupon applied"`
)

// applyButton is the button of the discount form without a coupon.
const applyButton = `<button class="action apply primary" type="button"
                                value="Apply&#x20;Discount">
                            <span>Apply Discount</span>
                        </button>`

// discountForm renders the cart page's discount form as without a coupon when the coupon it
// shows is a gate code.
func (s Scrubber) discountForm(html []byte) []byte {
	return discountBlock.ReplaceAllFunc(html, func(block []byte) []byte {
		input := couponInput.Find(block)
		m := inputValue.FindSubmatch(input)
		if m == nil || !s.IsGate(htmlUnescape(string(m[1]))) {
			return block
		}
		clean := inputValue.ReplaceAll(input, []byte(`value=""`))
		clean = inputDisabled.ReplaceAll(clean, nil)
		block = bytes.Replace(block, input, clean, 1)
		block = bytes.Replace(block, []byte(appliedFieldset), []byte(`class="fieldset coupon"`), 1)
		block = bytes.Replace(block, []byte(`"collapsible":{"active": true`), []byte(`"collapsible":{"active": false`), 1)
		return cancelButton.ReplaceAll(block, []byte(applyButton))
	})
}

// htmlUnescape decodes the entities Magento's escaper writes in attribute values.
func htmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return attrEntities.Replace(s)
}

var attrEntities = strings.NewReplacer("&#x20;", " ", "&#x2D;", "-", "&#x5F;", "_", "&amp;", "&", "&quot;", `"`, "&#039;", "'", "&lt;", "<", "&gt;", ">")

// inlineScripts returns the text of every inline script (a <script> without src), in page
// order.
func inlineScripts(html []byte) []string {
	var out []string
	lower := bytes.ToLower(html)
	for i := 0; ; {
		j := bytes.Index(lower[i:], []byte("<script"))
		if j < 0 {
			return out
		}
		open := i + j
		end := bytes.IndexByte(lower[open:], '>')
		if end < 0 {
			return out
		}
		tagEnd := open + end + 1
		k := bytes.Index(lower[tagEnd:], []byte("</script"))
		if k < 0 {
			return out
		}
		if !bytes.Contains(lower[open:tagEnd], []byte("src=")) {
			out = append(out, string(html[tagEnd:tagEnd+k]))
		}
		i = tagEnd + k
	}
}

// replaceHash swaps the CSP hash of a script's old text for that of its new text.
func replaceHash(header http.Header, oldScript, newScript string) {
	oldHash, newHash := scriptHash(oldScript), scriptHash(newScript)
	for _, name := range []string{"Content-Security-Policy", "Content-Security-Policy-Report-Only"} {
		values := header.Values(name)
		for i, v := range values {
			values[i] = strings.ReplaceAll(v, oldHash, newHash)
		}
	}
}

// scriptHash is the CSP source expression of a script's text.
func scriptHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func splice(b []byte, from, to int, with []byte) []byte {
	out := make([]byte, 0, len(b)-(to-from)+len(with))
	out = append(out, b[:from]...)
	out = append(out, with...)
	return append(out, b[to:]...)
}
