// Package gate decides what the coupon gate must do to a cart: which secret Magento coupons
// to apply or remove so that the cart carries a gate coupon exactly while the shopper
// qualifies for its rule. It is pure: the caller reads carts and talks to Magento.
package gate

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/caddy-audiences/caddy-audiences/internal/phpread"
)

// Policy says who wins the single coupon slot when a shopper's own coupon and a gate coupon
// compete for it.
type Policy string

// The policies of a single-coupon store.
const (
	// ShopperWins lets a shopper's own coupon take the slot; the gate steps aside.
	ShopperWins Policy = "shopper_wins"
	// AudienceWins removes a shopper's own coupon to make room for the gate coupon.
	AudienceWins Policy = "audience_wins"
)

// Valid reports whether p is a known policy.
func (p Policy) Valid() bool { return p == ShopperWins || p == AudienceWins }

// Codes is the set of every gate coupon code, compared case-insensitively as Magento does.
type Codes map[string]struct{}

// NewCodes builds the set of gate codes.
func NewCodes(codes ...string) Codes {
	set := make(Codes, len(codes))
	for _, c := range codes {
		set[strings.ToUpper(c)] = struct{}{}
	}
	return set
}

// Has reports whether code is a gate code.
func (c Codes) Has(code string) bool {
	_, ok := c[strings.ToUpper(code)]
	return ok
}

// List returns the codes, sorted.
func (c Codes) List() []string {
	out := make([]string, 0, len(c))
	for code := range c {
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}

// MinCodeLength is the shortest gate code considered safe: gate codes are cut out of every
// response, so a short or word-like code would also cut ordinary text.
const MinCodeLength = 8

// Weak reports whether code is too short or holds characters other than letters, digits,
// "-" and "_", so that removing it from responses could damage other text.
func Weak(code string) bool {
	if len(code) < MinCodeLength {
		return true
	}
	for _, c := range code {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return true
		}
	}
	return false
}

// Plan is what to do to one cart: remove first, then apply.
type Plan struct {
	Remove []string
	Apply  []string
}

// Empty reports whether the cart is already as it should be.
func (p Plan) Empty() bool { return len(p.Remove) == 0 && len(p.Apply) == 0 }

// Decide compares a cart's applied coupons with the gate codes the shopper qualifies for
// (in rule priority order) and says what must change. In single-coupon mode only the first
// qualifying code can be held, and a shopper's own coupon is handled by policy.
func Decide(applied []string, want []string, gates Codes, multi bool, policy Policy) Plan {
	var held, own []string
	for _, code := range applied {
		if gates.Has(code) {
			held = append(held, code)
		} else {
			own = append(own, code)
		}
	}
	if !multi {
		switch {
		case len(want) > 1:
			want = want[:1]
		case len(own) > 0 && policy != AudienceWins:
			want = nil // the shopper's coupon keeps the slot
		}
	}
	var p Plan
	for _, code := range held {
		if !containsFold(want, code) {
			p.Remove = append(p.Remove, code)
		}
	}
	for _, code := range want {
		if !containsFold(held, code) {
			p.Apply = append(p.Apply, code)
		}
	}
	if !multi && len(p.Apply) > 0 {
		// One slot: whatever holds it must go first.
		p.Remove = append(p.Remove, own...)
	}
	return p
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// Typed reports whether a code a shopper typed would reach a gate code in Magento: PHP
// trims it, and MySQL's general_ci collation compares coupon codes ignoring case, trailing
// spaces and accents. A letter that still is not ASCII after accents are taken off may stand
// for any one character, so it matches conservatively.
func (c Codes) Typed(typed string) bool {
	t := strings.TrimRight(phpread.Trim(typed), " ")
	if c.Has(t) {
		return true
	}
	folded := foldAccents(t)
	if c.Has(folded) {
		return true
	}
	if isASCII(folded) {
		return false
	}
	runes := []rune(strings.ToUpper(folded))
	for code := range c {
		if wildcardEqual(runes, code) {
			return true
		}
	}
	return false
}

// foldAccents decomposes s and drops the combining marks.
func foldAccents(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wildcardEqual compares runes with an upper-case ASCII code, a non-ASCII rune matching any
// one character.
func wildcardEqual(runes []rune, code string) bool {
	if len(runes) != len(code) {
		return false
	}
	for i, r := range runes {
		if r < utf8.RuneSelf && byte(r) != code[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
