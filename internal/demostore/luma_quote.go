package demostore

import (
	"context"
	"strconv"
	"strings"

	"github.com/govalues/decimal"
)

// A Luma quote is the store's cart: a guest's session quote is a guest cart (its masked id
// works with GraphQL's cart(cart_id:)), a signed-in customer's is the customer cart
// (GraphQL's customerCart). Every Luma answer is printed from the same totals engine as
// GraphQL, so both agree to the cent.

// sessionCartLocked returns the session's active quote: the customer cart for a signed-in
// customer, else the guest cart the session created. With create it makes one when there is
// none, as Magento does on the first add to cart; otherwise it returns nil. s.mu must be held.
func (s *Store) sessionCartLocked(sess *lumaSession, create bool) *cart {
	if sess.customer {
		if create {
			return s.customerCartLocked()
		}
		return s.activeCustomerCartLocked()
	}
	if c, ok := s.carts[sess.cartID]; ok && c.active && c.customerID == 0 {
		return c
	}
	if !create {
		return nil
	}
	c := s.newCartLocked("", 0)
	sess.cartID = c.maskedID
	return c
}

// sessionCart returns a snapshot of the session's quote, nil when it has none.
func (lc *lumaCall) sessionCart() *cart {
	lc.s.mu.Lock()
	defer lc.s.mu.Unlock()
	if c := lc.s.sessionCartLocked(lc.sess, false); c != nil {
		return c.clone()
	}
	return nil
}

// touchLocked records a change of a cart made outside updateCart. s.mu must be held.
func (s *Store) touchLocked(c *cart) {
	c.version++
	c.updatedAt = s.Now().UTC()
}

// lumaQuote is a cart snapshot with its collected totals.
type lumaQuote struct {
	s     *Store
	c     *cart
	t     *totals
	store string
}

// quoteOf collects the totals of a cart snapshot for the request.
func (s *Store) quoteOf(ctx context.Context, c *cart, req *requestInfo) (*lumaQuote, error) {
	t, err := s.collectTotals(ctx, c, req)
	if err != nil {
		return nil, err
	}
	return &lumaQuote{s: s, c: c, t: t, store: req.store}, nil
}

// couponCode is the quote's coupon_code: its first coupon, "" when none.
func (q *lumaQuote) couponCode() string {
	if len(q.c.coupons) == 0 {
		return ""
	}
	return q.c.coupons[0]
}

// couponValue is coupon_code as a JSON value: the code, or null.
func (q *lumaQuote) couponValue() any {
	if code := q.couponCode(); code != "" {
		return code
	}
	return nil
}

// couponLabel is the store label of the coupon's rule ("" when no coupon or no label).
func (q *lumaQuote) couponLabel() string {
	if code := q.couponCode(); code != "" {
		return q.s.coupons.storeLabel(code, q.store)
	}
	return ""
}

// discountTitle is the title of the discount total: "Discount (<description>)" with the
// discount description (a coupon rule without label shows its code), or "Discount" when
// there is none.
func (q *lumaQuote) discountTitle() string {
	if d := q.t.discountDescription(); d != "" {
		return "Discount (" + d + ")"
	}
	return "Discount"
}

// shippingTitle is the title of the shipping total, with the carrier once a method is set.
func (q *lumaQuote) shippingTitle() string {
	if q.t.hasShipping {
		return "Shipping & Handling (" + carrierTitle + " - " + methodTitle + ")"
	}
	return "Shipping & Handling"
}

// appliedRuleIDs is Magento's applied_rule_ids of an item (index ≥ 0) or of the quote
// (index -1): the numeric ids of the coupon rules that discounted it, null when none.
func (q *lumaQuote) appliedRuleIDs(index int) any {
	var ids []string
	add := func(ds []appliedDiscount) {
		for _, d := range ds {
			if n := q.s.coupons.ruleNumber(d.coupon); n > 0 && !containsFold(ids, strconv.Itoa(n)) {
				ids = append(ids, strconv.Itoa(n))
			}
		}
	}
	if index >= 0 {
		add(q.t.lines[index].discounts)
	} else {
		for _, l := range q.t.lines {
			add(l.discounts)
		}
		add(q.t.discounts)
	}
	if len(ids) == 0 {
		return nil
	}
	return strings.Join(ids, ",")
}

// taxPercent is the rate on an item: the store's one rate.
func taxPercent() decimal.Decimal { return decimal.MustNew(825, 2) }

// itemName is the quote item's name: the added product's (a configurable item carries its
// parent's name).
func itemName(it cartItem) string { return it.product.name }

// itemOptions is the JSON text Magento's totals carry as an item's "options": "[]", or a
// configurable item's chosen values.
func itemOptions(it cartItem) string {
	if it.child == nil {
		return "[]"
	}
	var list []any
	for _, attr := range it.product.super {
		list = append(list, jObj{{"value", it.child.labels[attr.id]}, {"label", attr.label}})
	}
	return string(phpJSON(list))
}

// maskedOrNumeric is the quote id a Luma answer shows: the masked id of a guest quote, the
// numeric id of a customer's (Magento gives guests masked ids only).
func (q *lumaQuote) maskedOrNumeric() string {
	if q.c.customerID != 0 {
		return strconv.Itoa(q.c.quoteID)
	}
	return q.c.maskedID
}
