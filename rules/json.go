package rules

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/govalues/decimal"
)

var (
	cartFields = []string{"currency", "store", "website", "coupons", "shipping_amount", "items"}
	itemFields = []string{"sku", "qty", "price", "row_total", "discount", "product_type"}
)

// DecodeCart reads a cart snapshot as the simulator and the admin API take it:
//
//	{"currency": "USD", "store": "default", "website": "base", "coupons": ["WELCOME10"],
//	 "shipping_amount": 10, "items": [{"sku": "24-MB01", "qty": 2, "price": 34,
//	 "row_total": 68, "discount": 6.8, "product_type": "simple"}]}
//
// Amounts are JSON numbers. row_total defaults to qty × price, product_type to "simple".
// Unknown fields are errors; every problem is reported in a *DecodeError.
func DecodeCart(data []byte) (*Cart, error) {
	obj, err := decodeCartObject(data)
	if err != nil {
		return nil, err
	}
	var probs []string
	ck := checker{probs: &probs}
	unknownFields(obj, "", cartFields, ck)
	c := decodeCart(obj, ck)
	if len(probs) > 0 {
		return nil, newDecodeError(probs)
	}
	return c, nil
}

// decodeCartObject checks size, depth and syntax of a cart snapshot and reads it as an object.
func decodeCartObject(data []byte) (map[string]any, error) {
	if len(data) > MaxFileSize {
		return nil, &DecodeError{Problems: []string{"cart is larger than 16 MiB"}}
	}
	if err := checkDepth(data, MaxDepth); err != nil {
		return nil, &DecodeError{Problems: []string{err.Error()}}
	}
	if err := checkSyntax(data); err != nil {
		return nil, &DecodeError{Problems: []string{err.Error()}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, &DecodeError{Problems: []string{"cart must be a JSON object"}}
	}
	return obj, nil
}

// decodeCart reads the cart fields of a snapshot object, reporting problems to ck.
func decodeCart(obj map[string]any, ck checker) *Cart {
	c := &Cart{
		Currency: optString(obj, "currency", ck),
		Store:    optString(obj, "store", ck),
		Website:  optString(obj, "website", ck),
	}
	if v, ok := obj["coupons"]; ok {
		arr, ok := v.([]any)
		if !ok {
			ck.errf("coupons", "must be an array of strings, got %s", jsonType(v))
		}
		for i, x := range arr {
			s, ok := x.(string)
			if !ok {
				ck.errf(indexPath("coupons", i), "must be a string, got %s", jsonType(x))
			}
			c.Coupons = append(c.Coupons, s)
		}
	}
	c.ShippingAmount = cartAmount(obj, "shipping_amount", "", maxAmount, false, ck)
	if v, ok := obj["items"]; ok {
		arr, ok := v.([]any)
		if !ok {
			ck.errf("items", "must be an array, got %s", jsonType(v))
		}
		c.Items = make([]Item, 0, len(arr))
		for i, x := range arr {
			c.Items = append(c.Items, decodeItem(x, indexPath("items", i), ck))
		}
	}
	return c
}

func decodeItem(v any, path string, ck checker) Item {
	obj, ok := v.(map[string]any)
	if !ok {
		ck.errf(path, "must be an object, got %s", jsonType(v))
		return Item{}
	}
	unknownFields(obj, path, itemFields, ck)
	it := Item{
		Qty:         cartAmount(obj, "qty", path, maxQty, true, ck),
		Price:       cartAmount(obj, "price", path, maxAmount, true, ck),
		RowTotal:    cartAmount(obj, "row_total", path, maxAmount, false, ck),
		Discount:    cartAmount(obj, "discount", path, maxAmount, false, ck),
		ProductType: "simple",
	}
	if s, ok := obj["sku"]; ok {
		it.SKU, ok = s.(string)
		if !ok {
			ck.errf(joinPath(path, "sku"), "must be a string, got %s", jsonType(s))
		}
	}
	if s, ok := obj["product_type"]; ok {
		it.ProductType, ok = s.(string)
		if !ok || it.ProductType == "" {
			ck.errf(joinPath(path, "product_type"), "must be a non-empty string")
		}
	}
	if _, ok := obj["row_total"]; !ok {
		var c calc
		it.RowTotal = c.mul(it.Qty, it.Price)
		if c.err != nil || it.RowTotal.Cmp(maxAmount) > 0 {
			ck.errf(joinPath(path, "row_total"), "qty × price is out of range")
		}
	}
	return it
}

func unknownFields(obj map[string]any, path string, known []string, ck checker) {
	for _, key := range sortedKeys(obj) {
		found := false
		for _, k := range known {
			if k == key {
				found = true
				break
			}
		}
		if !found {
			ck.errf(joinPath(path, key), "unknown field")
		}
	}
}

func cartAmount(obj map[string]any, key, path string, limit decimal.Decimal, required bool, ck checker) decimal.Decimal {
	p := joinPath(path, key)
	v, ok := obj[key]
	if !ok {
		if required {
			ck.errf(p, "required")
		}
		return zero
	}
	n, ok := v.(json.Number)
	if !ok {
		ck.errf(p, "must be a number, got %s", jsonType(v))
		return zero
	}
	d, err := decimal.Parse(n.String())
	switch {
	case err != nil:
		ck.errf(p, "invalid number %s", n)
	case d.IsNeg():
		ck.errf(p, "must not be negative, got %s", n)
	case d.Cmp(limit) > 0:
		ck.errf(p, "must be at most %s, got %s", limit, n)
	default:
		return d
	}
	return zero
}

// MarshalJSON writes the result in the documented shape: amounts are JSON numbers with at
// most 2 decimals, items keep the cart's order.
func (r *Result) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 256+128*(len(r.Items)+len(r.Discounts)+len(r.Trace)))
	b = append(b, `{"total_discount":`...)
	b = appendMoney(b, r.TotalDiscount)
	b = append(b, `,"items":[`...)
	for i, it := range r.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sku":`...)
		b = appendString(b, it.SKU)
		b = append(b, `,"discount":`...)
		b = appendMoney(b, it.Discount)
		b = append(b, `,"discounts":[`...)
		for j, d := range it.Discounts {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendDiscount(b, d.RuleID, d.Label, d.Amount)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	b = append(b, `],"discounts":[`...)
	for i, d := range r.Discounts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendDiscount(b, d.RuleID, d.Label, d.Amount)
		b = append(b, `,"applied_to":`...)
		b = appendString(b, d.AppliedTo)
		b = append(b, '}')
	}
	b = append(b, `],"shipping_discount":`...)
	b = appendMoney(b, r.ShippingDiscount)
	b = append(b, `,"trace":`...)
	b = appendTrace(b, r.Trace)
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	return append(b, '}'), nil
}

// appendTrace appends a trace as a JSON array.
func appendTrace(b []byte, trace []TraceEntry) []byte {
	b = append(b, '[')
	for i, t := range trace {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rule_id":`...)
		b = appendString(b, t.RuleID)
		b = strconv.AppendBool(append(b, `,"applied":`...), t.Applied)
		if t.Reason != "" {
			b = append(b, `,"reason":`...)
			b = appendString(b, t.Reason)
		}
		if t.Enforce {
			b = append(b, `,"enforce":true`...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendDiscount(b []byte, id, label string, amount decimal.Decimal) []byte {
	b = append(b, `{"rule_id":`...)
	b = appendString(b, id)
	b = append(b, `,"label":`...)
	b = appendString(b, label)
	b = append(b, `,"amount":`...)
	return appendMoney(b, amount)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping what JSON requires and replacing
// invalid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
