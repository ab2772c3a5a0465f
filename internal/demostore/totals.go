package demostore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// Tax of the demo store: one US rate applied to every item after discounts.
const taxLabel = "US-CA-*-Rate 1"

var taxRate = decimal.MustParse("0.0825")

// appliedDiscount is one rule's share of a discount: on an item, or a cart-level total.
type appliedDiscount struct {
	label     string
	amount    decimal.Decimal
	appliedTo string // ITEM or SHIPPING
	coupon    string // the coupon code of a coupon rule, "" otherwise
}

// lineTotals are the computed prices of one cart item.
type lineTotals struct {
	price           decimal.Decimal
	priceInclTax    decimal.Decimal
	rowTotal        decimal.Decimal
	rowTotalInclTax decimal.Decimal
	discount        decimal.Decimal // total_item_discount
	discountPercent decimal.Decimal // Magento's item discount_percent
	tax             decimal.Decimal // after discount
	discounts       []appliedDiscount
}

// totals are the computed prices of a cart, Magento's quote totals.
type totals struct {
	lines            []lineTotals // parallel to cart.items
	subtotal         decimal.Decimal
	subtotalInclTax  decimal.Decimal
	discount         decimal.Decimal // items and shipping, positive
	shipping         decimal.Decimal
	shippingDiscount decimal.Decimal
	hasShipping      bool // a shipping method is selected on a non-virtual cart
	tax              decimal.Decimal
	grandTotal       decimal.Decimal
	discounts        []appliedDiscount // per rule, in application order
	descriptions     []string          // the label of every rule that applied, in order
	coupons          []couponState     // parallel to cart.coupons: which coupons applied
}

func (t *totals) subtotalWithDiscount() decimal.Decimal {
	var a arith
	return a.sub(t.subtotal, t.discount)
}

func (t *totals) grandTotalExclTax() decimal.Decimal {
	var a arith
	return a.sub(t.grandTotal, t.tax)
}

// discountDescription is Magento's discount description (SalesRule Validator::
// prepareDescription): the label of every rule that applied (also one whose shipping
// discount is not listed), repeated labels dropped as array_unique drops them — exact,
// case-sensitive matches — joined with ", "; "" when none.
func (t *totals) discountDescription() string {
	var labels []string
	for _, d := range t.descriptions {
		if !slices.Contains(labels, d) {
			labels = append(labels, d)
		}
	}
	return strings.Join(labels, ", ")
}

// discountLabels is the label list of the deprecated CartPrices.discount: the discount
// description split again on ", ".
func (t *totals) discountLabels() []string {
	if d := t.discountDescription(); d != "" {
		return strings.Split(d, ", ")
	}
	return nil
}

// shippingAmount is the flat-rate amount for the cart's non-virtual units.
func shippingAmount(c *cart) decimal.Decimal {
	var a arith
	units := zero
	for _, it := range c.items {
		if !it.isVirtual() {
			units = a.add(units, it.qty)
		}
	}
	return a.mul(units, flatRatePerUnit)
}

// collectTotals computes a cart's totals from scratch, in Magento's order: item prices,
// shipping, the store's coupon rules, the extra discount source, then tax on the discounted
// amounts. It also re-validates every coupon on the cart (totals.coupons).
func (s *Store) collectTotals(ctx context.Context, c *cart, req *requestInfo) (*totals, error) {
	var a arith
	t := &totals{lines: make([]lineTotals, len(c.items))}

	// Step 1: prices and row totals.
	for i, it := range c.items {
		price := it.priced().price
		row := round2(a.mul(price, it.qty))
		t.lines[i] = lineTotals{price: price, rowTotal: row, discount: zero, discountPercent: zero}
		t.subtotal = a.add(t.subtotal, row)
	}

	// Step 2: shipping, needed by discount rules that apply to it.
	if c.shippingMethod != nil && !c.isVirtual() && len(c.items) > 0 {
		t.hasShipping = true
		t.shipping = shippingAmount(c)
	}

	// Step 3: the store's coupon rules; coupons that do not apply give nothing.
	s.applyCoupons(&a, c, t, req)

	// Step 4: the extra discount source (audience rules), after the backend's own rules.
	if s.opts.AudienceRules != nil && len(c.items) > 0 {
		if err := s.applyExtraDiscounts(ctx, &a, c, t, req); err != nil {
			return nil, err
		}
	}

	// Step 5: tax after discount, item by item in cart order, rounded with the store's tax
	// calculation method.
	tc := newTaxCalculator(s.opts.TaxCalculation)
	for i := range t.lines {
		l := &t.lines[i]
		tc.calculate(&a, l, c.items[i].qty, c.items[i].id)
		t.subtotalInclTax = a.add(t.subtotalInclTax, l.rowTotalInclTax)
		t.tax = a.add(t.tax, l.tax)
		t.discount = a.add(t.discount, l.discount)
	}
	t.discount = a.add(t.discount, t.shippingDiscount)

	// Step 6: grand total.
	t.grandTotal = a.add(a.add(a.sub(t.subtotal, t.discount), t.tax), t.shipping)
	if a.err != nil {
		return nil, fmt.Errorf("collect totals of cart %s: %w", c.maskedID, a.err)
	}
	return t, nil
}

// applyCouponRule applies the built-in WELCOME10: 10% of each item's remaining row, with Magento's
// by_percent rounding delta carried across items and keyed by the item's discount percent
// (Validator::deltaRoundingFix).
func (s *Store) applyCouponRule(a *arith, t *totals) {
	deltas := map[string]decimal.Decimal{}
	ruleTotal := zero
	for i := range t.lines {
		l := &t.lines[i]
		remaining := a.sub(l.rowTotal, l.discount)
		if !remaining.IsPos() {
			continue
		}
		raw := a.quo(a.mul(remaining, couponPercent), hundred)
		l.discountPercent = a.add(l.discountPercent, couponPercent).Min(hundred)
		key := l.discountPercent.Trim(0).String()
		raw = a.add(raw, deltas[key])
		amount := round2(raw)
		deltas[key] = a.sub(raw, amount)
		amount = amount.Min(remaining)
		if !amount.IsPos() {
			continue
		}
		l.discount = a.add(l.discount, amount)
		l.discounts = append(l.discounts, appliedDiscount{label: couponLabel, amount: amount, appliedTo: "ITEM", coupon: couponCode})
		ruleTotal = a.add(ruleTotal, amount)
	}
	if ruleTotal.IsPos() {
		t.discounts = append(t.discounts, appliedDiscount{label: couponLabel, amount: ruleTotal, appliedTo: "ITEM", coupon: couponCode})
		t.descriptions = append(t.descriptions, couponLabel)
	}
}

// applyExtraDiscounts asks the Discounter for further discounts on the cart as discounted so
// far and folds them in. Amounts are clamped so no item and no shipping goes below zero.
func (s *Store) applyExtraDiscounts(ctx context.Context, a *arith, c *cart, t *totals, req *requestInfo) error {
	in := DiscountInput{
		Segments:       req.segments,
		Store:          req.store,
		Currency:       currencyUSD,
		Coupons:        c.coupons,
		Subtotal:       t.subtotal,
		TotalQty:       c.totalQty(),
		ShippingAmount: a.sub(t.shipping, t.shippingDiscount),
		Now:            s.Now(),
	}
	byID := map[int]int{}
	for i, it := range c.items {
		l := t.lines[i]
		line := DiscountLine{
			ItemID:          it.id,
			SKU:             it.priced().sku,
			ProductType:     string(it.product.typ),
			Qty:             it.qty,
			Price:           l.price,
			RowTotal:        l.rowTotal,
			Discount:        l.discount,
			DiscountPercent: l.discountPercent,
		}
		if it.child != nil {
			line.ParentSKU = it.product.sku
		}
		in.Lines = append(in.Lines, line)
		byID[it.id] = i
	}
	out, err := s.opts.AudienceRules.Discount(ctx, in)
	if err != nil {
		return fmt.Errorf("audience rules: %w", err)
	}
	for _, ld := range out.Items {
		i, ok := byID[ld.ItemID]
		if !ok {
			return fmt.Errorf("audience rules: discount for unknown cart item %d", ld.ItemID)
		}
		l := &t.lines[i]
		for _, r := range ld.Rules {
			amount := round2(r.Amount).Min(a.sub(l.rowTotal, l.discount))
			if !amount.IsPos() {
				continue
			}
			l.discount = a.add(l.discount, amount)
			l.discounts = append(l.discounts, appliedDiscount{label: labelOrDefault(r.Label), amount: amount, appliedTo: "ITEM"})
		}
	}
	t.shippingDiscount = a.add(t.shippingDiscount, round2(out.Shipping).Max(zero)).Min(t.shipping)
	for _, r := range out.Cart {
		if !r.Amount.IsPos() {
			continue
		}
		to := r.AppliedTo
		if to == "" {
			to = "ITEM"
		}
		t.discounts = append(t.discounts, appliedDiscount{label: labelOrDefault(r.Label), amount: round2(r.Amount), appliedTo: to})
	}
	for _, r := range out.Applied {
		t.descriptions = append(t.descriptions, labelOrDefault(r.Label))
	}
	return nil
}

// labelOrDefault is Magento's rule label fallback.
func labelOrDefault(label string) string {
	if label == "" {
		return "Discount"
	}
	return label
}

// taxCalculator is Magento's tax calculator for one collection of totals, for the store's one
// rate on prices excluding tax with tax after discount (AbstractAggregateCalculator and
// UnitBaseCalculator). It keeps deltaRound's rounding remainders: by kind for total base,
// which carries them from item to item, by kind and item for row and unit base.
type taxCalculator struct {
	method rules.TaxCalculation
	deltas map[string]decimal.Decimal
}

// Kinds of rounding remainder: the tax before discount (for the prices including tax) and
// after it (the tax charged).
const (
	deltaBeforeDiscount = "tax_before_discount"
	deltaRegular        = "regular"
)

// deltaStart is the remainder Magento's deltaRound starts with.
var deltaStart = decimal.MustNew(1, 6)

func newTaxCalculator(method rules.TaxCalculation) *taxCalculator {
	if method == "" {
		method = rules.TaxTotalBase
	}
	return &taxCalculator{method: method, deltas: map[string]decimal.Decimal{}}
}

// calculate sets a line's tax and its prices including tax (before discount).
func (tc *taxCalculator) calculate(a *arith, l *lineTotals, qty decimal.Decimal, itemID int) {
	if tc.method == rules.TaxUnitBase {
		unitTax := tc.round(a, a.mul(l.price, taxRate), deltaBeforeDiscount, itemID)
		unitTaxable := zero
		if qty.IsPos() {
			unitTaxable = a.sub(l.price, a.quo(l.discount, qty)).Max(zero)
		}
		l.tax = a.mul(tc.round(a, a.mul(unitTaxable, taxRate), deltaRegular, itemID), qty)
		l.priceInclTax = a.add(l.price, unitTax)
		l.rowTotalInclTax = a.mul(l.priceInclTax, qty)
		return
	}
	rowTax := tc.round(a, a.mul(l.rowTotal, taxRate), deltaBeforeDiscount, itemID)
	taxable := a.sub(l.rowTotal, l.discount).Max(zero)
	l.tax = tc.round(a, a.mul(taxable, taxRate), deltaRegular, itemID)
	l.rowTotalInclTax = a.add(l.rowTotal, rowTax)
	l.priceInclTax = l.price
	if qty.IsPos() {
		l.priceInclTax = round2(a.quo(l.rowTotalInclTax, qty))
	}
}

// round is Magento's roundAmount followed by deltaRound: amount plus the remainder so far,
// rounded to cents; a zero amount leaves the remainder alone.
func (tc *taxCalculator) round(a *arith, amount decimal.Decimal, kind string, itemID int) decimal.Decimal {
	if amount.IsZero() {
		return zero
	}
	key := kind
	if tc.method != rules.TaxTotalBase {
		key += strconv.Itoa(itemID)
	}
	delta, ok := tc.deltas[key]
	if !ok {
		delta = deltaStart
	}
	x := a.add(amount, delta)
	r := round2(x)
	tc.deltas[key] = a.sub(x, r)
	return r
}
