package demostore

import (
	"strconv"

	"github.com/govalues/decimal"
)

// Magento's TotalsInterface in its two Luma spellings: the REST answer of …/totals,
// totals-information, shipping-information and payment-information (fixtures 06, 08, 12, 16,
// 17: numbers, null members dropped), and totalsData of window.checkoutConfig (fixtures 05,
// 10, 15: amounts as the decimal(20,4) strings the database returns, every member present).

// restTotalsVariant selects the members that differ between the REST routes.
type restTotalsVariant int

const (
	// totalsGet is GET …/totals and the totals inside shipping/payment-information:
	// coupon_code only when a coupon is on the cart.
	totalsGet restTotalsVariant = iota
	// totalsEstimate is POST …/totals-information: base_subtotal_incl_tax too, and
	// coupon_code always ("" without a coupon).
	totalsEstimate
)

// restTotals is the REST TotalsInterface of a quote.
func (q *lumaQuote) restTotals(variant restTotalsVariant) jObj {
	t := q.t
	discount := t.discount.Neg()
	if discount.IsZero() {
		discount = zero
	}
	shipping := t.shipping
	o := jObj{
		{"grand_total", num(t.grandTotal)},
		{"base_grand_total", num(t.grandTotal)},
		{"subtotal", num(t.subtotal)},
		{"base_subtotal", num(t.subtotal)},
		{"discount_amount", num(discount)},
		{"base_discount_amount", num(discount)},
		{"subtotal_with_discount", num(t.subtotalWithDiscount())},
		{"base_subtotal_with_discount", num(t.subtotalWithDiscount())},
		{"shipping_amount", num(shipping)},
		{"base_shipping_amount", num(shipping)},
		{"shipping_discount_amount", num(t.shippingDiscount)},
		{"base_shipping_discount_amount", num(t.shippingDiscount)},
		{"tax_amount", num(t.tax)},
		{"base_tax_amount", num(t.tax)},
		{"weee_tax_applied_amount", nil},
		{"shipping_tax_amount", jNum("0")},
		{"base_shipping_tax_amount", jNum("0")},
		{"subtotal_incl_tax", num(t.subtotalInclTax)},
	}
	if variant == totalsEstimate {
		o.set("base_subtotal_incl_tax", num(t.subtotalInclTax))
	}
	o = append(o, jObj{
		{"shipping_incl_tax", num(shipping)},
		{"base_shipping_incl_tax", num(shipping)},
		{"base_currency_code", currencyUSD},
		{"quote_currency_code", currencyUSD},
	}...)
	if code := q.couponCode(); code != "" || variant == totalsEstimate {
		o.set("coupon_code", code)
	}
	o.set("items_qty", num(q.c.totalQty()))
	items := make([]any, len(q.c.items))
	for i, it := range q.c.items {
		items[i] = q.restTotalsItem(i, it)
	}
	o.set("items", items)
	o.set("total_segments", q.restSegments())
	if label := q.couponLabel(); label != "" {
		o.set("extension_attributes", jObj{{"coupon_label", label}})
	}
	return o
}

// restTotalsItem is one TotalsItemInterface of the REST totals.
func (q *lumaQuote) restTotalsItem(i int, it cartItem) jObj {
	l := q.t.lines[i]
	return jObj{
		{"item_id", it.id},
		{"price", num(l.price)},
		{"base_price", num(l.price)},
		{"qty", num(it.qty)},
		{"row_total", num(l.rowTotal)},
		{"base_row_total", num(l.rowTotal)},
		{"row_total_with_discount", jNum("0")},
		{"tax_amount", num(l.tax)},
		{"base_tax_amount", num(l.tax)},
		{"tax_percent", num(taxPercent())},
		{"discount_amount", num(l.discount)},
		{"base_discount_amount", num(l.discount)},
		{"discount_percent", num(l.discountPercent)},
		{"price_incl_tax", num(l.priceInclTax)},
		{"base_price_incl_tax", num(l.priceInclTax)},
		{"row_total_incl_tax", num(l.rowTotalInclTax)},
		{"base_row_total_incl_tax", num(l.rowTotalInclTax)},
		{"options", itemOptions(it)},
		{"weee_tax_applied_amount", nil},
		{"weee_tax_applied", nil},
		{"name", itemName(it)},
	}
}

// restSegments are the REST total_segments: subtotal, discount (when any), shipping (unless
// the cart is virtual), tax with its details, grand total.
func (q *lumaQuote) restSegments() []any {
	t := q.t
	segs := []any{jObj{{"code", "subtotal"}, {"title", "Subtotal"}, {"value", num(t.subtotal)}}}
	if t.discount.IsPos() {
		segs = append(segs, jObj{{"code", "discount"}, {"title", q.discountTitle()}, {"value", num(t.discount.Neg())}})
	}
	if !q.c.isVirtual() {
		segs = append(segs, jObj{{"code", "shipping"}, {"title", q.shippingTitle()}, {"value", num(t.shipping)}})
	}
	segs = append(segs,
		jObj{{"code", "tax"}, {"title", "Tax"}, {"value", num(t.tax)}, {"extension_attributes", jObj{{"tax_grandtotal_details", q.taxDetails()}}}},
		jObj{{"code", "grand_total"}, {"title", "Grand Total"}, {"value", num(t.grandTotal)}, {"area", "footer"}},
	)
	return segs
}

// taxDetails is the tax segment's tax_grandtotal_details: one entry for the store's rate when
// tax is due, else empty.
func (q *lumaQuote) taxDetails() []any {
	if !q.t.tax.IsPos() {
		return []any{}
	}
	return []any{jObj{
		{"amount", num(q.t.tax)},
		{"rates", []any{jObj{{"percent", taxPercent().Trim(0).String()}, {"title", taxLabel}}}},
		{"group_id", 1},
	}}
}

// shippingAmount4 is how checkoutConfig spells the shipping amount: a number once a method is
// selected (Magento computes it while loading the page), the stored "0.0000" before.
func (q *lumaQuote) shippingAmount4() any {
	if q.t.hasShipping {
		return num(q.t.shipping)
	}
	return amt4(zero)
}

// totalsData is window.checkoutConfig.totalsData.
func (q *lumaQuote) totalsData() jObj {
	t := q.t
	discount := t.discount.Neg()
	o := jObj{
		{"subtotal", amt4(t.subtotal)},
		{"base_subtotal", amt4(t.subtotal)},
		{"subtotal_with_discount", amt4(t.subtotalWithDiscount())},
		{"base_subtotal_with_discount", amt4(t.subtotalWithDiscount())},
		{"tax_amount", amt4(t.tax)},
		{"base_tax_amount", amt4(t.tax)},
		{"shipping_amount", q.shippingAmount4()},
		{"base_shipping_amount", q.shippingAmount4()},
		{"shipping_tax_amount", amt4(zero)},
		{"base_shipping_tax_amount", amt4(zero)},
		{"discount_amount", amt4(discount)},
		{"base_discount_amount", amt4(discount)},
		{"grand_total", amt4(t.grandTotal)},
		{"base_grand_total", amt4(t.grandTotal)},
		{"shipping_discount_amount", amt4(t.shippingDiscount)},
		{"base_shipping_discount_amount", amt4(t.shippingDiscount)},
		{"subtotal_incl_tax", amt4(t.subtotalInclTax)},
		{"shipping_incl_tax", amt4(t.shipping)},
		{"base_shipping_incl_tax", amt4(t.shipping)},
		{"total_segments", q.configSegments()},
		{"coupon_code", q.couponValue()},
	}
	items := make([]any, len(q.c.items))
	for i, it := range q.c.items {
		l := t.lines[i]
		items[i] = jObj{
			{"item_id", strconv.Itoa(it.id)},
			{"name", itemName(it)},
			{"qty", num(it.qty)},
			{"price", amt4(l.price)},
			{"base_price", amt4(l.price)},
			{"discount_percent", amt4(l.discountPercent)},
			{"discount_amount", amt4(l.discount)},
			{"base_discount_amount", amt4(l.discount)},
			{"tax_percent", amt4(taxPercent())},
			{"tax_amount", amt4(l.tax)},
			{"base_tax_amount", amt4(l.tax)},
			{"row_total", amt4(l.rowTotal)},
			{"base_row_total", amt4(l.rowTotal)},
			{"row_total_with_discount", amt4(zero)},
			{"price_incl_tax", amt4(l.priceInclTax)},
			{"base_price_incl_tax", amt4(l.priceInclTax)},
			{"row_total_incl_tax", amt4(l.rowTotalInclTax)},
			{"base_row_total_incl_tax", amt4(l.rowTotalInclTax)},
			{"weee_tax_applied", nil},
			{"weee_tax_applied_amount", nil},
			{"options", itemOptions(it)},
		}
	}
	o.set("items", items)
	o.set("items_qty", amt4(q.c.totalQty()))
	o.set("base_currency_code", currencyUSD)
	o.set("quote_currency_code", currencyUSD)
	ext := jObj{}
	if label := q.couponLabel(); label != "" {
		ext.set("coupon_label", label)
	}
	o.set("extension_attributes", ext)
	return o
}

// configSegments are totalsData.total_segments: each with area and extension_attributes.
func (q *lumaQuote) configSegments() []any {
	t := q.t
	seg := func(code, title string, value any, area any, ext jObj) jObj {
		return jObj{{"code", code}, {"title", title}, {"value", value}, {"area", area}, {"extension_attributes", ext}}
	}
	segs := []any{seg("subtotal", "Subtotal", amt4(t.subtotal), nil, jObj{})}
	if t.discount.IsPos() {
		segs = append(segs, seg("discount", q.discountTitle(), amt4(t.discount.Neg()), nil, jObj{}))
	}
	if !q.c.isVirtual() {
		segs = append(segs, seg("shipping", q.shippingTitle(), q.shippingAmount4(), nil, jObj{}))
	}
	segs = append(segs,
		seg("tax", "Tax", amt4(t.tax), nil, jObj{{"tax_grandtotal_details", q.taxDetails()}}),
		seg("grand_total", "Grand Total", amt4(t.grandTotal), "footer", jObj{}),
	)
	return segs
}

// moneyString formats an amount the way Luma prints a price: "$1,234.50".
func moneyString(d decimal.Decimal) string {
	s := round2(d).String()
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	intPart, frac := s, "00"
	for i := range s {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i+1:]
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var grouped []byte
	for i := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			grouped = append(grouped, ',')
		}
		grouped = append(grouped, intPart[i])
	}
	out := "$" + string(grouped) + "." + frac
	if neg {
		out = "-" + out
	}
	return out
}
