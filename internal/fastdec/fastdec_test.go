package fastdec

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/govalues/decimal"
)

// check compares every fast path with the decimal method on a and b: where a fast path
// answers, it answers the same, representation included.
func check(t *testing.T, a, b decimal.Decimal) {
	t.Helper()
	if r, ok := Add(a, b); ok {
		if want, err := a.Add(b); err != nil || r != want {
			t.Fatalf("Add(%s, %s) = %s (%v %d %d), want %s (%v %d %d) %v", a, b, r, r.IsNeg(), r.Coef(), r.Scale(), want, want.IsNeg(), want.Coef(), want.Scale(), err)
		}
	}
	if r, ok := Sub(a, b); ok {
		if want, err := a.Sub(b); err != nil || r != want {
			t.Fatalf("Sub(%s, %s) = %s, want %s %v", a, b, r, want, err)
		}
	}
	if r, ok := Mul(a, b); ok {
		if want, err := a.Mul(b); err != nil || r != want {
			t.Fatalf("Mul(%s, %s) = %s, want %s %v", a, b, r, want, err)
		}
	}
	if r, ok := Cmp(a, b); ok && r != a.Cmp(b) {
		t.Fatalf("Cmp(%s, %s) = %d, want %d", a, b, r, a.Cmp(b))
	}
	if r := Min(a, b); r != a.Min(b) {
		t.Fatalf("Min(%s, %s) = %s (scale %d), want %s (scale %d)", a, b, r, r.Scale(), a.Min(b), a.Min(b).Scale())
	}
	for _, scale := range []int{0, 2, 4} {
		if r, want := RoundAway(a, scale), roundAway(a, scale); r != want {
			t.Fatalf("RoundAway(%s, %d) = %s (scale %d), want %s (scale %d)", a, scale, r, r.Scale(), want, want.Scale())
		}
		if r, rest, ok := AddRound(a, b, scale); ok {
			want, wantRest, err := addRound(a, b, scale)
			if err != nil || r != want || rest != wantRest {
				t.Fatalf("AddRound(%s, %s, %d) = %s (scale %d), %s (scale %d); want %s (scale %d), %s (scale %d) %v",
					a, b, scale, r, r.Scale(), rest, rest.Scale(), want, want.Scale(), wantRest, wantRest.Scale(), err)
			}
		}
	}
}

// addRound is AddRound with decimal methods: a + b rounded half away from zero, and the rest.
func addRound(a, b decimal.Decimal, scale int) (rounded, rest decimal.Decimal, err error) {
	x, err := a.Add(b)
	if err != nil {
		return
	}
	rounded = roundAway(x, scale)
	rest, err = x.Sub(rounded)
	return
}

// roundAway is RoundAway with decimal methods only, independent of it: truncate, then step
// one unit away from zero when the truncated part is at least half a unit.
func roundAway(x decimal.Decimal, scale int) decimal.Decimal {
	if x.Scale() <= scale {
		return x
	}
	t := x.Trunc(scale)
	if must(x.Sub(t)).Abs().Cmp(decimal.MustNew(5, scale+1)) < 0 {
		return t
	}
	ulp := decimal.MustNew(1, scale)
	if x.IsNeg() {
		ulp = ulp.Neg()
	}
	return must(t.Add(ulp))
}

func must(d decimal.Decimal, err error) decimal.Decimal {
	if err != nil {
		panic(err)
	}
	return d
}

// TestAgainstDecimal checks the fast paths on money-like values: cents, prices with up to four
// decimals, quantities and percentages, signs and zeros mixed.
func TestAgainstDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2026))
	value := func() decimal.Decimal {
		var coef int64
		switch rng.IntN(4) {
		case 0:
			coef = rng.Int64N(100)
		case 1:
			coef = rng.Int64N(1_000_000)
		case 2:
			coef = rng.Int64N(1 << 40)
		default:
			coef = rng.Int64N(math.MaxInt64)
		}
		if rng.IntN(3) == 0 {
			coef = -coef
		}
		return decimal.MustNew(coef, rng.IntN(9))
	}
	for range 200_000 {
		check(t, value(), value())
	}
	for _, s := range [][2]string{{"0", "-0"}, {"1.5", "-1.5"}, {"-0.00", "0.0"}, {"34", "0.0825"}, {"99999999.9999", "0.000001"}, {"2.50", "2.5"}, {"2.5", "2.50"},
		{"0.005", "0"}, {"-0.005", "0"}, {"0.0049999", "0"}, {"-0.0150", "0.0001"}, {"16.636", "-0.004"}, {"1.0000", "-0.0050"}} {
		check(t, decimal.MustParse(s[0]), decimal.MustParse(s[1]))
	}
	// check passes for a fast path that never answers: money operands must take them.
	a, b := decimal.MustParse("83.18"), decimal.MustParse("-0.0825")
	_, add := Add(a, b)
	_, sub := Sub(a, b)
	_, mul := Mul(a, b)
	_, cmp := Cmp(a, b)
	_, _, round := AddRound(a, b, 2)
	if !add || !sub || !mul || !cmp || !round {
		t.Errorf("fast paths on %s and %s: add %v sub %v mul %v cmp %v round %v", a, b, add, sub, mul, cmp, round)
	}
}

// FuzzAgainstDecimal is TestAgainstDecimal on arbitrary operands.
func FuzzAgainstDecimal(f *testing.F) {
	f.Add(int64(8318), uint8(2), int64(-832), uint8(2))
	f.Add(int64(1), uint8(0), int64(825), uint8(4))
	f.Add(int64(math.MaxInt64), uint8(0), int64(1), uint8(6))
	f.Fuzz(func(t *testing.T, a int64, sa uint8, b int64, sb uint8) {
		da, err1 := decimal.New(a, int(sa%20))
		db, err2 := decimal.New(b, int(sb%20))
		if err1 != nil || err2 != nil {
			return
		}
		check(t, da, db)
	})
}
