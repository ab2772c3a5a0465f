package cartql

import (
	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// rescaleTaxes recomputes every applied tax of the cart's prices on the discounted item
// amounts (tax after discount, rows in cart order, rounded with the store's tax calculation
// method) and returns the change of the tax total. A tax whose rate is neither configured nor
// derivable stays as it is.
func (rw *rewriter) rescaleTaxes(prices int32, snap *rules.Cart, res *rules.Result, opt *RewriteOptions, c *calc) (decimal.Decimal, error) {
	t := &rw.t
	rw.taxes = rw.taxes[:0]
	rd := rw.rd
	list := t.member(prices, rd.taxes)
	if t.kind(list) == kindNull {
		return zero, nil
	}
	if err := expect(t, list, kindArray); err != nil {
		return zero, err
	}
	delta := zero
	for e := t.first(list); e >= 0; e = t.nodes[e].next {
		if err := expect(t, e, kindObject); err != nil {
			return zero, err
		}
		old, err := rw.money(e, rd.taxAmount, rd.taxValue)
		if err != nil {
			return zero, err
		}
		tl := taxLine{old: old, new: old}
		if pct, ok := rw.taxRate(t.member(e, rd.taxLabel), old, snap, opt, c); ok {
			rows := rw.taxRows(snap, res, c)
			if rw.taxBuf, tl.new, err = rules.RowTaxes(rw.taxBuf[:0], opt.TaxCalculation, pct, rows); err != nil {
				return zero, err
			}
		}
		rw.taxes = append(rw.taxes, tl)
		delta = c.add(delta, c.sub(tl.new, tl.old))
	}
	return delta, c.err
}

// taxRows returns the cart's rows as tax sees them: with the backend's discount and, when res
// is not nil, the audience discount.
func (rw *rewriter) taxRows(snap *rules.Cart, res *rules.Result, c *calc) []rules.TaxRow {
	rw.rows = rw.rows[:0]
	for i, it := range snap.Items {
		disc := it.Discount
		if res != nil {
			disc = c.add(disc, res.Items[i].Discount)
		}
		rw.rows = append(rw.rows, rules.TaxRow{Qty: it.Qty, Price: it.Price, RowTotal: it.RowTotal, Discount: disc})
	}
	return rw.rows
}

// itemTaxable is what the backend taxed on an item: its row after the backend's discount.
func itemTaxable(it rules.Item, c *calc) decimal.Decimal {
	d := c.sub(it.RowTotal, it.Discount)
	if d.IsNeg() {
		return zero
	}
	return d
}

// taxRate returns the rate in percent (8.25) of a tax: configured by label, else derived from
// the backend's amount.
func (rw *rewriter) taxRate(label int32, amount decimal.Decimal, snap *rules.Cart, opt *RewriteOptions, c *calc) (decimal.Decimal, bool) {
	t := &rw.t
	if len(opt.TaxRates) > 0 && t.kind(label) == kindString {
		var pct decimal.Decimal
		var ok bool
		if t.nodes[label].esc {
			s, _ := unquote(t.raw(label))
			pct, ok = opt.TaxRates[s]
		} else {
			pct, ok = opt.TaxRates[string(t.src[t.nodes[label].start+1:t.nodes[label].end-1])]
		}
		if ok {
			return pct, true
		}
	}
	return rw.deriveRate(amount, snap, opt.TaxCalculation, c)
}

// maxRateCandidates bounds the search of deriveRate per number of decimals.
const maxRateCandidates = 200

// deriveRate finds the tax rate (in percent) behind amount, the backend's tax of its
// discounted rows rounded with method. Magento stores rates as percentages with up to 4
// decimals, so it returns the percentage with the fewest decimals that reproduces amount
// exactly (see better for ties); failing that, the quotient itself. Small carts may admit
// several rates: configure RewriteOptions.TaxRates for exact results.
func (rw *rewriter) deriveRate(amount decimal.Decimal, snap *rules.Cart, method rules.TaxCalculation, c *calc) (decimal.Decimal, bool) {
	items := snap.Items
	taxable := zero
	for _, it := range items {
		taxable = c.add(taxable, itemTaxable(it, c))
	}
	if !taxable.IsPos() || !amount.IsPos() {
		return zero, false
	}
	exact := c.quo(amount, taxable)
	// Each rounding moves the sum by at most half a cent: one per row, or per unit with unit
	// base.
	roundings := decimal.MustNew(int64(len(items)), 0)
	if method == rules.TaxUnitBase {
		roundings = zero
		for _, it := range items {
			roundings = c.add(roundings, it.Qty.Ceil(0))
		}
	}
	slack := c.mul(halfCent, roundings)
	lo := c.mul(c.quo(c.sub(amount, slack), taxable), hundred)
	hi := c.mul(c.quo(c.add(amount, slack), taxable), hundred)
	pct := c.mul(exact, hundred)
	if c.err != nil {
		return zero, false
	}
	rows := rw.taxRows(snap, nil, c)
	for scale := 0; scale <= maxInputScale; scale++ {
		step := decimal.MustNew(1, scale)
		best, found := zero, false
		cand := lo.Ceil(scale)
		for n := 0; n < maxRateCandidates && cand.Cmp(hi) <= 0; n++ {
			var sum decimal.Decimal
			var err error
			if rw.taxBuf, sum, err = rules.RowTaxes(rw.taxBuf[:0], method, cand, rows); err != nil {
				return zero, false
			}
			if sum.Cmp(amount) == 0 && (!found || better(cand, best, pct, scale, c)) {
				best, found = cand, true
			}
			cand = c.add(cand, step)
		}
		if found && c.err == nil {
			return best, true
		}
	}
	return pct, c.err == nil
}

// better reports whether rate a (in percent, with scale decimals) is a likelier tax rate than
// b: one ending in 5 (8.25, 6.875) beats one that does not (8.26), as tax rates are usually
// set in quarter or half steps; then the one closer to the quotient x wins.
func better(a, b, x decimal.Decimal, scale int, c *calc) bool {
	if fa, fb := endsInFive(a, scale), endsInFive(b, scale); fa != fb {
		return fa
	}
	return c.sub(a, x).Abs().Cmp(c.sub(b, x).Abs()) < 0
}

func endsInFive(d decimal.Decimal, scale int) bool {
	return scale > 0 && d.Pad(scale).Coef()%10 == 5
}
