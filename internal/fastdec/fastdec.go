// Package fastdec adds, subtracts, multiplies, compares and rounds the decimals of money
// arithmetic (cents, unit prices, quantities, percentages: small coefficients, few decimals)
// with plain int64 arithmetic. Each function reports false when its operands are outside that
// range; the caller then uses the general github.com/govalues/decimal method. Where it reports
// true, the result is exactly what that method returns, representation included, so the two
// paths can be mixed freely. RoundAway, which decimal lacks, falls back by itself.
package fastdec

import "github.com/govalues/decimal"

// limit bounds the aligned coefficients of the fast paths: sums and differences of two of them,
// and products of two under limit32, stay far from the 19 digits a decimal holds.
const (
	limit   = 1 << 60
	limit32 = 1 << 30
)

// pow10 are the powers of ten that fit in an int64. Scales are aligned across at most 6
// decimals; maxAligned is the largest coefficient each factor may multiply.
var (
	pow10 = [19]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
		1e14, 1e15, 1e16, 1e17, 1e18}
	maxAligned = [7]int64{limit, limit / 10, limit / 100, limit / 1_000, limit / 10_000, limit / 100_000, limit / 1_000_000}
)

// aligned returns the signed coefficients of a and b at their common (larger) scale.
func aligned(a, b decimal.Decimal) (x, y int64, scale int, ok bool) {
	ca, cb := a.Coef(), b.Coef()
	if ca >= limit || cb >= limit {
		return 0, 0, 0, false
	}
	x, y = int64(ca), int64(cb)
	sa, sb := a.Scale(), b.Scale()
	scale = sa
	if sa != sb {
		d := sa - sb
		if d > 0 {
			if d >= len(maxAligned) || y >= maxAligned[d] {
				return 0, 0, 0, false
			}
			y *= pow10[d]
		} else {
			if -d >= len(maxAligned) || x >= maxAligned[-d] {
				return 0, 0, 0, false
			}
			x *= pow10[-d]
			scale = sb
		}
	}
	if a.IsNeg() {
		x = -x
	}
	if b.IsNeg() {
		y = -y
	}
	return x, y, scale, true
}

// Add returns a + b as a.Add(b) does.
func Add(a, b decimal.Decimal) (decimal.Decimal, bool) {
	x, y, scale, ok := aligned(a, b)
	if !ok {
		return decimal.Decimal{}, false
	}
	r, err := decimal.New(x+y, scale)
	return r, err == nil
}

// Sub returns a − b as a.Sub(b) does.
func Sub(a, b decimal.Decimal) (decimal.Decimal, bool) {
	x, y, scale, ok := aligned(a, b)
	if !ok {
		return decimal.Decimal{}, false
	}
	r, err := decimal.New(x-y, scale)
	return r, err == nil
}

// Mul returns a × b as a.Mul(b) does.
func Mul(a, b decimal.Decimal) (decimal.Decimal, bool) {
	ca, cb := a.Coef(), b.Coef()
	scale := a.Scale() + b.Scale()
	if ca >= limit32 || cb >= limit32 || scale > decimal.MaxScale {
		return decimal.Decimal{}, false
	}
	p := int64(ca * cb)
	if a.IsNeg() != b.IsNeg() {
		p = -p
	}
	r, err := decimal.New(p, scale)
	return r, err == nil
}

// AddRound returns a + b rounded to scale decimals as RoundAway rounds, and the rest,
// (a + b) − rounded: one step of a running rounding delta. As with x := a.Add(b), rounded is
// x itself when x has at most scale decimals and otherwise has exactly scale; rest is
// x.Sub(rounded), with x's decimals.
func AddRound(a, b decimal.Decimal, scale int) (rounded, rest decimal.Decimal, ok bool) {
	x, y, s, ok := aligned(a, b)
	if !ok || scale < 0 || s-scale >= len(pow10) {
		return decimal.Decimal{}, decimal.Decimal{}, false
	}
	q, rem, rs := x+y, int64(0), s // both below 2^60: no overflow
	if s > scale {
		q, rem = roundInt(q, pow10[s-scale])
		rs = scale
	}
	rounded, err := decimal.New(q, rs)
	if err != nil {
		return decimal.Decimal{}, decimal.Decimal{}, false
	}
	if rest, err = decimal.New(rem, s); err != nil {
		return decimal.Decimal{}, decimal.Decimal{}, false
	}
	return rounded, rest, true
}

// RoundAway returns d rounded to scale decimals, half away from zero as PHP's round() and
// Magento do (decimal.Decimal.Round rounds half to even): d itself when it has at most scale
// decimals, otherwise a decimal with exactly scale. It has no general method to fall back on,
// so it takes decimal methods itself where d is not money-sized.
func RoundAway(d decimal.Decimal, scale int) decimal.Decimal {
	if d.Scale() <= scale {
		return d
	}
	if c := d.Coef(); c < limit && d.Scale()-scale < len(pow10) {
		v := int64(c)
		if d.IsNeg() {
			v = -v
		}
		q, _ := roundInt(v, pow10[d.Scale()-scale])
		if r, err := decimal.New(q, scale); err == nil {
			return r
		}
	}
	t := d.Trunc(scale)
	rem, err := d.Sub(t)
	if err != nil {
		return d.Round(scale)
	}
	if rem.Abs().Cmp(decimal.MustNew(5, scale+1)) < 0 {
		return t
	}
	ulp := decimal.MustNew(1, scale)
	if d.IsNeg() {
		t, err = t.Sub(ulp)
	} else {
		t, err = t.Add(ulp)
	}
	if err != nil {
		return d.Round(scale)
	}
	return t
}

// roundInt divides v by p, a power of ten, rounding half away from zero, and returns the
// quotient and the remainder v − q·p.
func roundInt(v, p int64) (q, rem int64) {
	q, rem = v/p, v%p
	switch {
	case rem > 0 && rem >= p-rem:
		q, rem = q+1, rem-p
	case rem < 0 && -rem >= p+rem:
		q, rem = q-1, rem+p
	}
	return q, rem
}

// Cmp compares a and b as a.Cmp(b) does.
func Cmp(a, b decimal.Decimal) (int, bool) {
	x, y, _, ok := aligned(a, b)
	switch {
	case !ok:
		return 0, false
	case x < y:
		return -1, true
	case x > y:
		return 1, true
	}
	return 0, true
}

// Min returns the smaller of a and b as a.Min(b) does: of two equal values, the one with more
// decimals.
func Min(a, b decimal.Decimal) decimal.Decimal {
	r, ok := Cmp(a, b)
	if !ok {
		return a.Min(b)
	}
	if r == 0 {
		if a.Scale() >= b.Scale() {
			return a
		}
		return b
	}
	if r < 0 {
		return a
	}
	return b
}
