package demostore

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/govalues/decimal"
)

// The Luma surface writes JSON the way PHP's json_encode does (Magento's REST renderer, its
// serializer and the checkoutConfig of the cart and checkout pages): keys in the order the
// PHP array was built, "/" escaped as "\/", non-ASCII as \u escapes, HTML characters left
// alone, an empty PHP array as [] whether it stands for a list or a map. Go's encoding/json
// does none of these, so the values below spell the shapes out.

// jObj is a PHP associative array: an ordered JSON object. Empty, it encodes as [], as PHP
// encodes an empty array.
type jObj []jField

// jField is one key of a jObj.
type jField struct {
	k string
	v any
}

// set appends a key.
func (o *jObj) set(k string, v any) { *o = append(*o, jField{k, v}) }

// get returns the value of a key, nil when absent.
func (o jObj) get(k string) any {
	for _, f := range o {
		if f.k == k {
			return f.v
		}
	}
	return nil
}

// jEmptyObject is a PHP object without properties (or an empty data object): {}.
type jEmptyObject struct{}

// jNum is a number written as given.
type jNum string

// jRaw is JSON text inserted as is.
type jRaw string

// num is a decimal as PHP prints a float: shortest form, no trailing zeros (160, 10.2).
func num(d decimal.Decimal) jNum {
	d = d.Trim(0)
	if d.IsZero() {
		return "0"
	}
	return jNum(d.String())
}

// amt4 is a decimal as Magento reads it back from a decimal(20,4) column: "160.0000".
func amt4(d decimal.Decimal) string {
	return round4(d).String()
}

// round4 rounds to four places and pads, as a decimal(20,4) column stores an amount.
func round4(d decimal.Decimal) decimal.Decimal {
	return d.Round(4).Pad(4)
}

// phpJSON encodes v like PHP's json_encode with default flags.
func phpJSON(v any) []byte {
	var b bytes.Buffer
	writeJSONValue(&b, v)
	return b.Bytes()
}

func writeJSONValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case jNum:
		b.WriteString(string(x))
	case jRaw:
		b.WriteString(string(x))
	case string:
		writeJSONString(b, x)
	case jEmptyObject:
		b.WriteString("{}")
	case jObj:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, f.k)
			b.WriteByte(':')
			writeJSONValue(b, f.v)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONValue(b, e)
		}
		b.WriteByte(']')
	default:
		// A programming error: every value of the Luma surface is one of the above.
		writeJSONString(b, fmt.Sprintf("unsupported JSON value %T", v))
	}
}

// writeJSONString escapes like json_encode: \" \\ \/ \b \f \n \r \t, other control characters
// and everything beyond ASCII as \u00XX / \uXXXX (lower-case hex, surrogate pairs).
func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '/':
			b.WriteString(`\/`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r > 0x7f:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			if r > 0xffff {
				r -= 0x10000
				writeU4(b, 0xd800+r>>10)
				r = 0xdc00 + r&0x3ff
			}
			writeU4(b, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// writeU4 writes a UTF-16 unit as \uXXXX in lower-case hex.
func writeU4(b *bytes.Buffer, u rune) {
	const hex = "0123456789abcdef"
	b.WriteString(`\u`)
	b.WriteByte(hex[u>>12&0xf])
	b.WriteByte(hex[u>>8&0xf])
	b.WriteByte(hex[u>>4&0xf])
	b.WriteByte(hex[u&0xf])
}
