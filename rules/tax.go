package rules

import (
	"fmt"

	"github.com/govalues/decimal"
)

// TaxCalculation is Magento's tax calculation method (tax/calculation/algorithm, "Tax
// Calculation Method Based On"): where the tax of a cart row is rounded to cents.
type TaxCalculation string

// The tax calculation methods of Magento's Tax module.
const (
	// TaxTotalBase is TOTAL_BASE_CALCULATION, Magento's default: each row's tax is rounded and
	// the rounding remainder is carried to the next row of the same rate, in cart order, so
	// the rate's total is the total rounded once.
	TaxTotalBase TaxCalculation = "total"
	// TaxRowBase is ROW_BASE_CALCULATION: each row's tax is rounded on its own.
	TaxRowBase TaxCalculation = "row"
	// TaxUnitBase is UNIT_BASE_CALCULATION: the tax of one unit is rounded, then multiplied by
	// the quantity.
	TaxUnitBase TaxCalculation = "unit"
)

// ParseTaxCalculation reads a tax calculation method: total, row or unit; empty means
// TaxTotalBase, Magento's default.
func ParseTaxCalculation(s string) (TaxCalculation, error) {
	switch m := TaxCalculation(s); m {
	case "":
		return TaxTotalBase, nil
	case TaxTotalBase, TaxRowBase, TaxUnitBase:
		return m, nil
	}
	return "", fmt.Errorf("unknown tax calculation %q (want total, row or unit)", s)
}

// TaxRow is one cart row as tax calculation sees it.
type TaxRow struct {
	Qty      decimal.Decimal
	Price    decimal.Decimal // unit price excluding tax
	RowTotal decimal.Decimal // zero means Qty × Price
	Discount decimal.Decimal // every discount on the row; tax is charged on what is left
}

// taxDeltaStart is the rounding remainder Magento's Calculation::deltaRound starts each
// chain with, "to avoid non-deterministic behavior with rounding of 0.5".
var taxDeltaStart = decimal.MustNew(1, 6)

// RowTaxes appends to dst the tax of one rate (percent: 8.25 for 8.25 %) on each row after its
// discount, rows in cart order, rounded as method rounds them (tax after discount, prices
// excluding tax), and returns the extended slice and the rate's total: what Magento shows for
// that rate in applied_taxes. An empty method is TaxTotalBase. It mirrors Magento's
// AbstractAggregateCalculator (total and row) and UnitBaseCalculator with
// AbstractCalculator::deltaRound.
func RowTaxes(dst []decimal.Decimal, method TaxCalculation, percent decimal.Decimal, rows []TaxRow) ([]decimal.Decimal, decimal.Decimal, error) {
	if method == "" {
		method = TaxTotalBase
	}
	var c calc
	rate := c.quo(percent, hundred)
	// Total base carries one remainder through the rows; row and unit base start afresh on
	// every row, as Magento keys their remainders by item.
	delta := taxDeltaStart
	total := zero
	for i := range rows {
		r := &rows[i]
		if method != TaxTotalBase {
			delta = taxDeltaStart
		}
		var tax decimal.Decimal
		if method == TaxUnitBase {
			tax = unitTax(&c, rate, r, &delta)
		} else {
			row := r.RowTotal
			if row.IsZero() {
				row = c.mul(r.Qty, r.Price)
			}
			tax = deltaRoundTax(&c, c.mul(clampZero(c.sub(row, r.Discount)), rate), &delta)
		}
		dst = append(dst, tax)
		total = c.add(total, tax)
	}
	if c.err != nil {
		return dst, zero, fmt.Errorf("tax: %w", c.err)
	}
	return dst, total, nil
}

// unitTax is UnitBaseCalculator's row tax: the rounded tax of a unit priced at what is left
// of it after its share of the discount, times the quantity.
func unitTax(c *calc, rate decimal.Decimal, r *TaxRow, delta *decimal.Decimal) decimal.Decimal {
	if !r.Qty.IsPos() {
		return zero
	}
	unit := clampZero(c.sub(r.Price, c.quo(r.Discount, r.Qty)))
	return c.mul(deltaRoundTax(c, c.mul(unit, rate), delta), r.Qty)
}

// deltaRoundTax is Magento's Calculation::deltaRound: it rounds amount plus the remainder so
// far to cents and keeps the new remainder. A zero amount leaves the remainder alone.
func deltaRoundTax(c *calc, amount decimal.Decimal, delta *decimal.Decimal) decimal.Decimal {
	if amount.IsZero() {
		return zero
	}
	return c.carryRound(amount, delta)
}
