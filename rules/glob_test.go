package rules

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// globFoldRunes is globFold as it was before its ASCII fast path: rune by rune.
func globFoldRunes(pattern, s string) bool {
	var starP, starS = -1, 0
	p, i := 0, 0
	for i < len(s) {
		if p < len(pattern) {
			pc, pw := utf8.DecodeRuneInString(pattern[p:])
			sc, sw := utf8.DecodeRuneInString(s[i:])
			switch {
			case pc == '*':
				starP, starS = p, i
				p += pw
				continue
			case pc == '?' || equalFoldRune(pc, sc):
				p += pw
				i += sw
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, sw := utf8.DecodeRuneInString(s[starS:])
		starS += sw
		i = starS
		p = starP + 1
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// TestGlobFoldFastPath checks the ASCII fast path against the rune-by-rune matcher, with
// ASCII, letters whose case folding crosses into multi-byte runes (K, k and the Kelvin sign,
// s and the long s) and invalid UTF-8.
func TestGlobFoldFastPath(t *testing.T) {
	alphabet := []string{"a", "A", "b", "k", "K", "\u212a", "s", "S", "\u017f", "é", "É", "-", "*", "?", "\xff", "1"}
	r := rand.New(rand.NewPCG(1, 2))
	word := func(max int) string {
		var b strings.Builder
		for range r.IntN(max + 1) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 200000 {
		pattern, s := word(5), word(7)
		if got, want := globFold(pattern, s), globFoldRunes(pattern, s); got != want {
			t.Fatalf("globFold(%q, %q) = %v, rune by rune %v", pattern, s, got, want)
		}
	}
}

func FuzzGlobFold(f *testing.F) {
	f.Add("24-MB*", "24-mb01")
	f.Add("*k?", "\u212aK\u017f")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 64 {
			return
		}
		if got, want := globFold(pattern, s), globFoldRunes(pattern, s); got != want {
			t.Fatalf("globFold(%q, %q) = %v, rune by rune %v", pattern, s, got, want)
		}
	})
}
