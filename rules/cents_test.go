package rules

import (
	"math/rand/v2"
	"testing"

	"github.com/govalues/decimal"
)

// TestCentsAgreeWithDecimals: booking in integer cents gives what decimal arithmetic gives
// for rounded amounts (two decimals or fewer, any representation): conversion both ways,
// sums, differences, comparisons and minimums.
func TestCentsAgreeWithDecimals(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 7))
	amount := func() decimal.Decimal {
		v := rng.Int64N(2 * 100_000_000_000_00) // up to twice maxAmount, in cents
		if rng.IntN(8) == 0 {
			v = -v
		}
		d := decimal.MustNew(v, 2)
		switch rng.IntN(3) { // the same value with fewer decimals when it has them
		case 0:
			d = d.Trim(0)
		case 1:
			d = d.Trim(1)
		}
		return d
	}
	var c calc
	for range 200_000 {
		a, b := amount(), amount()
		ca, cb := toCents(a), toCents(b)
		if ca.dec().Cmp(a) != 0 || toCents(ca.dec()) != ca {
			t.Fatalf("%s: cents %d, back %s", a, ca, ca.dec())
		}
		if got, want := (ca + cb).dec(), c.add(a, b); got.Cmp(want) != 0 {
			t.Fatalf("%s + %s = %s in cents, %s in decimals", a, b, got, want)
		}
		if got, want := (ca - cb).dec(), c.sub(a, b); got.Cmp(want) != 0 {
			t.Fatalf("%s - %s = %s in cents, %s in decimals", a, b, got, want)
		}
		if got, want := min(ca, cb).dec(), a.Min(b); got.Cmp(want) != 0 {
			t.Fatalf("min(%s, %s) = %s in cents, %s in decimals", a, b, got, want)
		}
		if (ca < cb) != (a.Cmp(b) < 0) {
			t.Fatalf("%s < %s disagrees", a, b)
		}
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	// More decimals are rounded half away from zero, as round2 rounds them.
	for _, s := range []string{"1.005", "-1.005", "2.675", "0.0049", "12.3456"} {
		d := decimal.MustParse(s)
		if got, want := toCents(d).dec(), round2(d); got.Cmp(want) != 0 {
			t.Errorf("toCents(%s) = %s, want %s", s, got, want)
		}
	}
}
