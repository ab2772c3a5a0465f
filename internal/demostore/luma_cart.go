package demostore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/govalues/decimal"
)

// Luma's cart controllers: add to cart (checkout/cart/add, fixtures 02-03) and the discount
// form (checkout/cart/couponPost, fixture 09), with the messages and redirects of Magento
// 2.4.7's controllers.

// Messages of Magento's storefront controllers.
const (
	msgInvalidFormKey  = "Invalid Form Key. Please refresh the page."
	msgSessionExpired  = "Your session has expired"
	msgChooseOptions   = "You need to choose options for your item."
	msgCouponCanceled  = "You canceled the coupon code."
	couponCodeMaxBytes = 255 // Magento\Checkout\Helper\Cart::COUPON_CODE_MAX_LENGTH
)

// addMessage queues a session message (HTML).
func (lc *lumaCall) addMessage(typ, text string) {
	lc.s.mu.Lock()
	lc.sess.addMessage(typ, text)
	lc.s.mu.Unlock()
}

// addToCart is checkout/cart/add: the product (form field "product", else the URL's
// /product/<id>/) and qty go into the session's quote, created on the first add. An AJAX
// post answers [] on success and {"backUrl": …} when the product could not be added; a plain
// post redirects back. The success message waits in the session for the next page.
//
// A wrong form_key is refused as Magento refuses it: an AJAX post gets Add's own check (302
// to the cart page, "Your session has expired"); a plain post never reaches the controller
// (CsrfValidator: 302 back to the referer or the home page, "Invalid Form Key. Please
// refresh the page."). Both messages travel in the mage-messages cookie.
func (s *Store) addToCart(lc *lumaCall, pathProduct string) {
	r := lc.r
	ajax := isAJAX(r)
	if !lc.validFormKeyPost() {
		if !ajax {
			lc.addMessage("error", msgInvalidFormKey)
			lc.redirect(lc.refererOrBase())
			return
		}
		lc.addMessage("error", msgSessionExpired)
		lc.redirect(lc.url("checkout/cart/"))
		return
	}
	idText := r.PostFormValue("product")
	if idText == "" {
		idText = pathProduct
	}
	id, _ := strconv.Atoi(strings.TrimSpace(idText))
	p, ok := s.catalog.byID(id)
	if !ok {
		lc.goBack(ajax, "")
		return
	}
	child, msg := configurableChoice(p, r.PostForm)
	if msg != "" {
		lc.addMessage("error", escapeHTML(msg))
		lc.goBack(ajax, lc.url(p.urlKey+".html"))
		return
	}
	qty, msg := formQty(r.PostFormValue("qty"))
	if msg == "" {
		s.mu.Lock()
		c := s.sessionCartLocked(lc.sess, true)
		msg = s.addLocked(c, p, child, qty)
		s.touchLocked(c)
		s.mu.Unlock()
	}
	if msg != "" {
		lc.addMessage("error", escapeHTML(msg))
		lc.goBack(ajax, lc.refererOr(lc.url("checkout/cart/")))
		return
	}
	lc.privateChanged = true
	lc.addMessage("success", fmt.Sprintf(`You added %s to your <a href="%s">shopping cart</a>.`,
		escapeHTML(p.name), escapeHTML(lc.url("checkout/cart/"))))
	lc.goBack(ajax, "")
}

// goBack ends a cart controller: AJAX answers [] or {"backUrl": …}; a plain post redirects to
// backURL, else to the referer or the home page (Magento's _goBack).
func (lc *lumaCall) goBack(ajax bool, backURL string) {
	if ajax {
		body := []byte("[]")
		if backURL != "" {
			body = phpJSON(jObj{{"backUrl", backURL}})
		}
		lc.ajaxJSON(kindAJAX, body)
		return
	}
	if backURL == "" {
		backURL = lc.refererOrBase()
	}
	lc.redirect(backURL)
}

// formQty reads the qty field: empty means 1.
func formQty(v string) (decimal.Decimal, string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return decimal.One, ""
	}
	qty, err := decimal.Parse(v)
	if err != nil {
		return zero, "The product quantity should be greater than 0"
	}
	return qty, checkQty(qty)
}

// configurableChoice finds the child a configurable product's super_attribute[<id>] fields
// choose; other products need no choice.
func configurableChoice(p *product, form map[string][]string) (*product, string) {
	if p.typ != typeConfigurable {
		return nil, ""
	}
	want := map[int]int{}
	for _, attr := range p.super {
		got := ""
		if vals := form[fmt.Sprintf("super_attribute[%d]", attr.id)]; len(vals) > 0 {
			got = strings.TrimSpace(vals[0])
		}
		// Only a value index as strconv.Itoa spells it can match.
		n, err := strconv.Atoi(got)
		if err != nil || strconv.Itoa(n) != got {
			return nil, msgChooseOptions
		}
		want[attr.id] = n
	}
	if v := p.variantWith(want); v != nil {
		return v, ""
	}
	return nil, msgChooseOptions
}

// couponPost is checkout/cart/couponPost (Magento's CouponPost controller): remove=1 cancels,
// otherwise the trimmed coupon_code replaces whatever coupon the quote had; a code that does
// not apply leaves the quote without a coupon, as Magento saves the quote before it checks.
// It always redirects back (the referer, else the home page, fixture 09) with one of
// Magento's messages in the mage-messages cookie. Codes match case-insensitively; the quote
// keeps the code as its rule spells it.
func (s *Store) couponPost(lc *lumaCall) {
	r := lc.r
	if !isAJAX(r) && !lc.validFormKeyPost() {
		lc.addMessage("error", msgInvalidFormKey)
		lc.redirect(lc.refererOrBase())
		return
	}
	code := ""
	if !phpEqualsOne(r.FormValue("remove")) {
		code = phpTrim(r.FormValue("coupon_code"))
	}
	msgType, msg := s.applyFormCoupon(lc, code)
	if msg != "" {
		lc.privateChanged = true
		lc.addMessage(msgType, msg)
	}
	lc.redirect(lc.refererOrBase())
}

// applyFormCoupon does the work of couponPost under the store lock and returns the message
// to show ("" for none).
func (s *Store) applyFormCoupon(lc *lumaCall, code string) (msgType, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.sessionCartLocked(lc.sess, false)
	old := ""
	if c != nil && len(c.coupons) > 0 {
		old = c.coupons[0]
	}
	if code == "" && old == "" {
		return "", ""
	}
	lengthOK := code != "" && len(code) <= couponCodeMaxBytes
	canonical, known := "", false
	if lengthOK {
		canonical, known = s.coupons.lookup(code)
	}
	used := fmt.Sprintf("You used coupon code &quot;%s&quot;.", escapeHTML(code))
	invalid := fmt.Sprintf("The coupon code &quot;%s&quot; is not valid.", escapeHTML(code))
	if c == nil || len(c.items) == 0 {
		if code == "" {
			return "success", msgCouponCanceled
		}
		if !known {
			return "error", invalid
		}
		c = s.sessionCartLocked(lc.sess, true)
		c.coupons = []string{canonical}
		s.coupons.noteApplied(c.maskedID, c.coupons)
		s.touchLocked(c)
		return "success", used
	}
	applied := false
	c.coupons = nil
	if known {
		applied, _ = s.setCouponIfAppliesLocked(lc.r.Context(), c, lc.req, canonical)
	}
	s.touchLocked(c)
	switch {
	case code == "":
		return "success", msgCouponCanceled
	case applied:
		return "success", used
	}
	return "error", invalid
}

// phpEqualsOne is PHP's loose $x == 1 for a request parameter: true for "1", " 1", "1.0".
func phpEqualsOne(v string) bool {
	d, err := decimal.Parse(strings.TrimSpace(v))
	return err == nil && d.Cmp(decimal.One) == 0
}
