package demostore

import (
	"fmt"

	"github.com/govalues/decimal"
)

// currencyUSD is the base and display currency of the demo store.
const currencyUSD = "USD"

var (
	zero     = decimal.Zero
	cent     = decimal.MustNew(1, 2)
	halfCent = decimal.MustNew(5, 3) // half a cent: the rounding threshold
	hundred  = decimal.Hundred
)

// round2 rounds to cents, half away from zero, like PHP's round($x, 2) that Magento's
// PriceCurrency::round uses.
func round2(d decimal.Decimal) decimal.Decimal {
	t := d.Trunc(2)
	rem, err := d.Sub(t)
	if err != nil {
		return t
	}
	if rem.CmpAbs(halfCent) < 0 {
		return t.Pad(2)
	}
	var r decimal.Decimal
	if d.IsNeg() {
		r, err = t.Sub(cent)
	} else {
		r, err = t.Add(cent)
	}
	if err != nil {
		return t
	}
	return r.Pad(2)
}

// arith performs decimal arithmetic with a sticky error, so that a long computation can be
// written straight and checked once at the end. Amounts in the demo store are far below the
// 19-digit limit of decimal.Decimal; the error exists so that an overflow is reported, not hidden.
type arith struct {
	err error
}

func (a *arith) fail(err error) decimal.Decimal {
	if a.err == nil {
		a.err = err
	}
	return zero
}

func (a *arith) add(x, y decimal.Decimal) decimal.Decimal {
	r, err := x.Add(y)
	if err != nil {
		return a.fail(fmt.Errorf("add %s + %s: %w", x, y, err))
	}
	return r
}

func (a *arith) sub(x, y decimal.Decimal) decimal.Decimal {
	r, err := x.Sub(y)
	if err != nil {
		return a.fail(fmt.Errorf("sub %s - %s: %w", x, y, err))
	}
	return r
}

func (a *arith) mul(x, y decimal.Decimal) decimal.Decimal {
	r, err := x.Mul(y)
	if err != nil {
		return a.fail(fmt.Errorf("mul %s * %s: %w", x, y, err))
	}
	return r
}

func (a *arith) quo(x, y decimal.Decimal) decimal.Decimal {
	r, err := x.Quo(y)
	if err != nil {
		return a.fail(fmt.Errorf("quo %s / %s: %w", x, y, err))
	}
	return r
}

// money is a GraphQL Money value.
type money struct {
	amount   decimal.Decimal
	currency string
}

func usd(d decimal.Decimal) *money { return &money{amount: d, currency: currencyUSD} }

// Value resolves Money.value.
func (m *money) Value() *float64 {
	f, _ := m.amount.Float64()
	return &f
}

// Currency resolves Money.currency.
func (m *money) Currency() *string {
	c := m.currency
	return &c
}

// decFromFloat converts a GraphQL Float argument (a quantity) into a decimal.
func decFromFloat(f float64) (decimal.Decimal, error) {
	return decimal.NewFromFloat64(f)
}
