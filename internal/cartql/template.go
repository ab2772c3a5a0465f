package cartql

import (
	"github.com/govalues/decimal"
)

// hole is a value a template leaves open.
type hole uint8

const (
	holeNone      hole = iota
	holeLabel          // Discount.label: a JSON string
	holeAppliedTo      // Discount.applied_to: ITEM or SHIPPING
	holeAmount         // Money.value
	holeCurrency       // Money.currency: the cart's currency, raw JSON
	holeLabels         // CartDiscount.label: a list of strings
)

// tseg is literal JSON followed by an optional hole.
type tseg struct {
	lit  string
	hole hole
}

// template renders a new list entry or object with exactly the sub-fields the client selected,
// under the client's aliases.
type template []tseg

// templateBuilder accumulates literal JSON between holes.
type templateBuilder struct {
	lit []byte
	out template
}

func (b *templateBuilder) literal(s string) { b.lit = append(b.lit, s...) }

func (b *templateBuilder) hole(h hole) {
	b.out = append(b.out, tseg{lit: string(b.lit), hole: h})
	b.lit = b.lit[:0]
}

func (b *templateBuilder) done() template {
	if len(b.lit) > 0 {
		b.out = append(b.out, tseg{lit: string(b.lit)})
	}
	return b.out
}

// object writes an object with the selected members; value writes one member's value.
func (b *templateBuilder) object(groups []group, value func(g group)) {
	b.literal("{")
	for i, g := range groups {
		if i > 0 {
			b.literal(",")
		}
		b.literal(`"` + g.key + `":`)
		value(g)
	}
	b.literal("}")
}

// entryValues are the values a template's holes take.
type entryValues struct {
	label     string
	appliedTo string
	amount    decimal.Decimal
	currency  []byte // raw JSON
	labels    []string
}

// render appends the template filled with v.
func (t template) render(b []byte, v *entryValues) []byte {
	for _, s := range t {
		b = append(b, s.lit...)
		switch s.hole {
		case holeLabel:
			b = appendJSONString(b, v.label)
		case holeAppliedTo:
			b = appendJSONString(b, v.appliedTo)
		case holeAmount:
			b = appendMoney(b, v.amount)
		case holeCurrency:
			if len(v.currency) == 0 {
				b = append(b, "null"...)
			} else {
				b = append(b, v.currency...)
			}
		case holeLabels:
			b = append(b, '[')
			for i, l := range v.labels {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, l)
			}
			b = append(b, ']')
		}
	}
	return b
}

// appendJSONString appends s as a JSON string, escaping only what JSON requires.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
