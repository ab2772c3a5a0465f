package cartql

import (
	"fmt"
	"strconv"
	"unsafe"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/internal/fastdec"
)

var (
	zero     = decimal.Zero
	hundred  = decimal.Hundred
	cent     = decimal.MustNew(1, 2)
	halfCent = decimal.MustNew(5, 3)
)

// maxInputScale is the number of decimals kept from backend amounts (Magento stores 4); more
// digits are float noise of the backend's JSON encoder.
const maxInputScale = 4

// round2 rounds to 2 decimals, half away from zero, as Magento's PriceCurrency does.
func round2(d decimal.Decimal) decimal.Decimal { return fastdec.RoundAway(d, 2) }

// parseNumber parses the JSON number node n of t.
func parseNumber(t *tape, n int32) (decimal.Decimal, error) {
	if t.kind(n) != kindNumber {
		return zero, fmt.Errorf("expected a number at offset %d", t.offset(n))
	}
	raw := t.raw(n)
	if d, ok := parsePlain(raw); ok {
		return d, nil
	}
	d, err := decimal.Parse(unsafe.String(unsafe.SliceData(raw), len(raw)))
	if err != nil {
		return zero, fmt.Errorf("number at offset %d: %w", t.offset(n), err)
	}
	return fastdec.RoundAway(d, maxInputScale), nil
}

// parsePlain is the fast path of parseNumber for what backends print: a JSON number without
// exponent, at most 18 digits and maxInputScale decimals ("83.18", "-5", "0.5"). It reports
// false for anything else, which decimal.Parse reads.
func parsePlain(raw []byte) (decimal.Decimal, bool) {
	i, neg := 0, false
	if len(raw) > 0 && raw[0] == '-' {
		i, neg = 1, true
	}
	var coef int64
	start := i
	for ; i < len(raw) && raw[i]-'0' < 10; i++ {
		coef = coef*10 + int64(raw[i]-'0')
	}
	digits, scale := i-start, 0
	if i < len(raw) && raw[i] == '.' {
		i++
		frac := i
		for ; i < len(raw) && raw[i]-'0' < 10; i++ {
			coef = coef*10 + int64(raw[i]-'0')
		}
		scale = i - frac
		digits += scale
	}
	if i != len(raw) || digits == 0 || digits > 18 || scale > maxInputScale {
		return zero, false // an exponent, or not a plain number
	}
	if neg {
		coef = -coef
	}
	d, err := decimal.New(coef, scale)
	return d, err == nil
}

// appendMoney appends d rounded to cents in the backend's shortest form: 34, 34.5, 34.25.
func appendMoney(b []byte, d decimal.Decimal) []byte {
	d = round2(d)
	if d.Coef() < 1e15 { // cents as digits, the fraction without trailing zeros
		v, scale := int64(d.Coef()), d.Scale()
		if d.IsNeg() && v != 0 {
			b = append(b, '-')
		}
		if scale == 0 {
			return strconv.AppendInt(b, v, 10)
		}
		unit := int64(10)
		if scale == 2 {
			unit = 100
		}
		b = strconv.AppendInt(b, v/unit, 10)
		frac := v % unit
		if frac == 0 {
			return b
		}
		b = append(b, '.')
		if scale == 2 {
			b = append(b, byte('0'+frac/10))
			if frac%10 == 0 {
				return b
			}
			frac %= 10
		}
		return append(b, byte('0'+frac))
	}
	d = d.Trim(0)
	if d.IsZero() {
		return append(b, '0')
	}
	out, err := d.AppendText(b)
	if err != nil {
		return append(b, '0')
	}
	return out
}

// calc performs decimal arithmetic and keeps the first error, so a computation reads as plain
// expressions and is checked once.
type calc struct{ err error }

func (c *calc) keep(r decimal.Decimal, err error) decimal.Decimal {
	if err != nil {
		if c.err == nil {
			c.err = fmt.Errorf("decimal arithmetic: %w", err)
		}
		return zero
	}
	return r
}

// add, sub and mul take the integer fast path of fastdec for money-sized operands (the same
// result, representation included) and the general decimal arithmetic otherwise.
func (c *calc) add(a, b decimal.Decimal) decimal.Decimal {
	if r, ok := fastdec.Add(a, b); ok {
		return r
	}
	return c.keep(a.Add(b))
}

func (c *calc) sub(a, b decimal.Decimal) decimal.Decimal {
	if r, ok := fastdec.Sub(a, b); ok {
		return r
	}
	return c.keep(a.Sub(b))
}

func (c *calc) mul(a, b decimal.Decimal) decimal.Decimal {
	if r, ok := fastdec.Mul(a, b); ok {
		return r
	}
	return c.keep(a.Mul(b))
}

// quo divides a by b; b must not be zero.
func (c *calc) quo(a, b decimal.Decimal) decimal.Decimal {
	if b.IsZero() {
		return c.keep(zero, fmt.Errorf("division by zero"))
	}
	return c.keep(a.Quo(b))
}
