package rules

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/internal/fastdec"
)

// Money and quantity limits. They keep every intermediate product of the engine far inside
// the 19 digits a decimal.Decimal holds, so arithmetic never overflows.
var (
	maxAmount = decimal.MustNew(100_000_000_000, 0) // prices, rows, discounts, shipping, rule amounts
	maxQty    = decimal.MustNew(1_000_000, 0)       // quantities, max_qty, step
)

// maxInputScale is the number of decimals accepted in inputs (Magento stores 4).
const maxInputScale = 4

var (
	zero    = decimal.Zero
	hundred = decimal.Hundred
)

// pow10 holds the powers of ten that fit in a uint64.
var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// round2 rounds to 2 decimals, half away from zero, as PHP's round() and Magento do.
func round2(d decimal.Decimal) decimal.Decimal { return fastdec.RoundAway(d, 2) }

// cents is an amount of money in hundredths. The engine books rows, discounts and shipping
// in cents, as Magento does once it has rounded them: their sums and differences need no
// rounding, so they are plain integers; the amounts rules compute (percentages, shares,
// rounding deltas) stay exact decimals until they are rounded to cents.
type cents int64

// toCents converts a rounded amount (at most two decimals; more are rounded as round2 does);
// the engine's limits keep it far inside int64.
func toCents(d decimal.Decimal) cents {
	if d.Scale() > 2 {
		d = round2(d)
	}
	v := int64(d.Coef())
	switch d.Scale() {
	case 0:
		v *= 100
	case 1:
		v *= 10
	}
	if d.IsNeg() {
		v = -v
	}
	return cents(v)
}

// dec is c as a decimal with two decimals.
func (c cents) dec() decimal.Decimal {
	d, err := decimal.New(int64(c), 2)
	if err != nil {
		return zero // beyond the engine's limits; never reached
	}
	return d
}

// calc performs decimal arithmetic and remembers the first error, so the engine can be
// written as plain expressions and checked once at the end. With the input limits above an
// error cannot happen; the check is a guard, not a code path.
type calc struct {
	err error
}

// add, sub and mul take the integer fast path of fastdec for money-sized operands (the same
// result, representation included) and the general decimal arithmetic otherwise.
func (c *calc) add(a, b decimal.Decimal) decimal.Decimal {
	if r, ok := fastdec.Add(a, b); ok {
		return r
	}
	r, err := a.Add(b)
	return c.keep(r, err)
}

func (c *calc) sub(a, b decimal.Decimal) decimal.Decimal {
	if r, ok := fastdec.Sub(a, b); ok {
		return r
	}
	r, err := a.Sub(b)
	return c.keep(r, err)
}

func (c *calc) mul(a, b decimal.Decimal) decimal.Decimal {
	if r, ok := fastdec.Mul(a, b); ok {
		return r
	}
	r, err := a.Mul(b)
	return c.keep(r, err)
}

// carryRound rounds amount plus the running remainder *delta to cents, half away from zero,
// and keeps the new remainder in *delta: one step of Magento's delta rounding. Money-sized
// operands take fastdec's integer path.
func (c *calc) carryRound(amount decimal.Decimal, delta *decimal.Decimal) decimal.Decimal {
	if r, rest, ok := fastdec.AddRound(amount, *delta, 2); ok {
		*delta = rest
		return r
	}
	x := c.add(amount, *delta)
	r := round2(x)
	*delta = c.sub(x, r)
	return r
}

// quo divides a by b; dividing by zero yields zero, as Magento's ratio helpers do.
func (c *calc) quo(a, b decimal.Decimal) decimal.Decimal {
	if b.IsZero() {
		return zero
	}
	r, err := a.Quo(b)
	return c.keep(r, err)
}

// ratioScale is the number of decimals of proportional shares (a × b / c).
const ratioScale = 12

// mulDiv returns a × b / c, truncated to ratioScale decimals, for proportional shares. It
// uses 128-bit integer arithmetic and falls back to decimal division for huge operands.
// Dividing by zero yields zero.
func (c *calc) mulDiv(a, b, d decimal.Decimal) decimal.Decimal {
	if d.IsZero() || a.IsZero() || b.IsZero() {
		return zero
	}
	if r, ok := mulDiv128(a, b, d); ok {
		return r
	}
	return c.mul(a, c.quo(b, d)).Trunc(ratioScale)
}

func mulDiv128(a, b, d decimal.Decimal) (decimal.Decimal, bool) {
	if a.IsNeg() || b.IsNeg() || d.IsNeg() {
		return zero, false
	}
	hi, lo := bits.Mul64(a.Coef(), b.Coef())
	div := d.Coef()
	// a×b/d = ca×cb / cd × 10^(sd−sa−sb); scale the result to ratioScale decimals.
	switch k := ratioScale + d.Scale() - a.Scale() - b.Scale(); {
	case k > 19 || k < -19:
		return zero, false
	case k > 0:
		h1, l1 := bits.Mul64(lo, pow10[k])
		h2, l2 := bits.Mul64(hi, pow10[k])
		var carry uint64
		hi, carry = bits.Add64(h1, l2, 0)
		if h2 != 0 || carry != 0 {
			return zero, false
		}
		lo = l1
	case k < 0:
		h, l := bits.Mul64(div, pow10[-k])
		if h != 0 {
			return zero, false
		}
		div = l
	}
	if hi >= div {
		return zero, false
	}
	q, _ := bits.Div64(hi, lo, div)
	if q > math.MaxInt64 {
		return zero, false
	}
	r, err := decimal.New(int64(q), ratioScale)
	return r, err == nil
}

// floor returns the whole number of times b fits in a (a, b ≥ 0).
func (c *calc) floorDiv(a, b decimal.Decimal) decimal.Decimal {
	if b.IsZero() {
		return zero
	}
	q, _, err := a.QuoRem(b)
	return c.keep(q, err)
}

// cmpDec compares decimals on fastdec's integer path where it can.
func cmpDec(a, b decimal.Decimal) int {
	if r, ok := fastdec.Cmp(a, b); ok {
		return r
	}
	return a.Cmp(b)
}

func (c *calc) keep(r decimal.Decimal, err error) decimal.Decimal {
	if err != nil {
		if c.err == nil {
			c.err = err
		}
		return zero
	}
	return r
}

// clampZero returns d, or zero when d is negative.
func clampZero(d decimal.Decimal) decimal.Decimal {
	if d.IsNeg() {
		return zero
	}
	return d
}

// parseAmount parses a JSON number into a decimal within [0, limit] with at most
// maxInputScale decimals.
func parseAmount(s string, limit decimal.Decimal) (decimal.Decimal, error) {
	d, err := decimal.Parse(s)
	if err != nil {
		return zero, fmt.Errorf("invalid number %s", s)
	}
	if d.IsNeg() {
		return zero, fmt.Errorf("must not be negative, got %s", s)
	}
	if d.Cmp(limit) > 0 {
		return zero, fmt.Errorf("must be at most %s, got %s", limit, s)
	}
	if d.Trim(0).Scale() > maxInputScale {
		return zero, fmt.Errorf("must have at most %d decimals, got %s", maxInputScale, s)
	}
	return d.Trim(0), nil
}

// appendMoney appends d as a JSON number with at most 2 decimals and no trailing zeros.
func appendMoney(b []byte, d decimal.Decimal) []byte {
	d = round2(d).Trim(0)
	out, err := d.AppendText(b)
	if err != nil {
		return append(b, '0')
	}
	return out
}
