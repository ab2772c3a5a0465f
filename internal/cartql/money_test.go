package cartql

import (
	"strconv"
	"testing"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/internal/fastdec"
)

// FuzzParseNumber: the fast path of parseNumber reads every JSON number it accepts exactly as
// decimal.Parse and the rounding to maxInputScale do.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "83.18", "1", "-5.5", "0.0001", "0.00005", "12345678901234567", "123456789012345678",
		"1234567890123456789", "99999999999999999.9", "2.1E+1", "1e2", "-0.00", "10.10", "5.", ".5", "", "-", "1.2.3", "0x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := parsePlain([]byte(s))
		slow, err := decimal.Parse(s)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("parsePlain(%q) = %s, decimal.Parse fails: %v", s, fast, err)
		}
		if want := fastdec.RoundAway(slow, maxInputScale); fast != want {
			t.Fatalf("parsePlain(%q) = %s (%d, %d), want %s (%d, %d)", s, fast, fast.Coef(), fast.Scale(), want, want.Coef(), want.Scale())
		}
	})
}

// TestParseNumberPaths compares both paths of parseNumber on a grid of cents and the numbers
// a PHP backend prints for them.
func TestParseNumberPaths(t *testing.T) {
	for cents := int64(-100_000); cents <= 100_000; cents += 7 {
		d := decimal.MustNew(cents, 2)
		for _, s := range []string{d.String(), d.Trim(0).String(), strconv.FormatFloat(float64(cents)/100, 'f', -1, 64)} {
			fast, ok := parsePlain([]byte(s))
			if !ok {
				t.Fatalf("parsePlain(%q) refused", s)
			}
			if fast.Cmp(d) != 0 || fast != fastdec.RoundAway(decimal.MustParse(s), maxInputScale) {
				t.Fatalf("parsePlain(%q) = %s, want %s", s, fast, d)
			}
		}
	}
}

// TestAppendMoneyPaths: the cents fast path of appendMoney prints what the decimal path
// (round2, trailing zeros trimmed) prints.
func TestAppendMoneyPaths(t *testing.T) {
	slow := func(d decimal.Decimal) string {
		d = round2(d).Trim(0)
		if d.IsZero() {
			return "0"
		}
		return d.String()
	}
	for v := int64(-20_000); v <= 20_000; v += 3 {
		for scale := 0; scale <= 4; scale++ {
			d := decimal.MustNew(v, scale)
			if got, want := string(appendMoney(nil, d)), slow(d); got != want {
				t.Fatalf("appendMoney(%s) = %s, want %s", d, got, want)
			}
		}
	}
	for _, s := range []string{"123456789012.34", "-0.004", "-0.005", "0.995", "99999999999999.99"} {
		d := decimal.MustParse(s)
		if got, want := string(appendMoney(nil, d)), slow(d); got != want {
			t.Errorf("appendMoney(%s) = %s, want %s", s, got, want)
		}
	}
}
