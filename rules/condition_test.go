package rules

import (
	"fmt"
	"testing"
)

// condCart has two items: 24-MB01 (2 × 34, simple) and 24-WG02 (1 × 12.5, configurable).
const condCart = `{"currency": "USD", "store": "default", "coupons": ["WELCOME10", "Free-Ship"],
  "items": [{"sku": "24-MB01", "qty": 2, "price": 34}, {"sku": "24-WG02", "qty": 1, "price": 12.5, "product_type": "configurable"}]}`

func TestConditions(t *testing.T) {
	tests := []struct {
		cond string
		want bool
	}{
		// cart numbers: subtotal 80.5, total_qty 3, items_count 2
		{`{"field": "subtotal", "op": "==", "value": 80.5}`, true},
		{`{"field": "subtotal", "op": "==", "value": 80.50}`, true},
		{`{"field": "subtotal", "op": "!=", "value": 80.5}`, false},
		{`{"field": "subtotal", "op": ">", "value": 80.5}`, false},
		{`{"field": "subtotal", "op": ">=", "value": 80.5}`, true},
		{`{"field": "subtotal", "op": "<", "value": 80.51}`, true},
		{`{"field": "subtotal", "op": "<=", "value": 80.49}`, false},
		{`{"field": "total_qty", "op": "in", "value": [1, 3]}`, true},
		{`{"field": "total_qty", "op": "not_in", "value": [1, 3]}`, false},
		{`{"field": "items_count", "op": "==", "value": 2}`, true},
		{`{"field": "items_count", "op": ">", "value": 2}`, false},
		// cart text
		{`{"field": "currency", "op": "==", "value": "usd"}`, true},
		{`{"field": "currency", "op": "!=", "value": "USD"}`, false},
		{`{"field": "currency", "op": "in", "value": ["EUR", "USD"]}`, true},
		{`{"field": "currency", "op": "not_in", "value": ["EUR", "GBP"]}`, true},
		{`{"field": "store", "op": "contains", "value": "FAUL"}`, true},
		{`{"field": "store", "op": "matches", "value": "d*t"}`, true},
		{`{"field": "store", "op": "matches", "value": "d?fault"}`, true},
		{`{"field": "store", "op": "matches", "value": "d?f"}`, false},
		// coupons (a list)
		{`{"field": "coupon", "op": "==", "value": "welcome10"}`, true},
		{`{"field": "coupon", "op": "!=", "value": "WELCOME10"}`, false},
		{`{"field": "coupon", "op": "!=", "value": "OTHER"}`, true},
		{`{"field": "coupon", "op": "in", "value": ["A", "FREE-SHIP"]}`, true},
		{`{"field": "coupon", "op": "not_in", "value": ["A", "B"]}`, true},
		{`{"field": "coupon", "op": "not_in", "value": ["A", "free-ship"]}`, false},
		{`{"field": "coupon", "op": "contains", "value": "ship"}`, true},
		{`{"field": "coupon", "op": "matches", "value": "WEL*"}`, true},
		{`{"field": "coupon", "op": "matches", "value": "*XYZ*"}`, false},
		// combinators
		{`{"all": []}`, true},
		{`{"any": []}`, true},
		{`{"all": [{"field": "total_qty", "op": ">", "value": 2}, {"field": "currency", "op": "==", "value": "USD"}]}`, true},
		{`{"all": [{"field": "total_qty", "op": ">", "value": 2}, {"field": "currency", "op": "==", "value": "EUR"}]}`, false},
		{`{"any": [{"field": "total_qty", "op": ">", "value": 5}, {"field": "currency", "op": "==", "value": "USD"}]}`, true},
		{`{"any": [{"field": "total_qty", "op": ">", "value": 5}, {"field": "currency", "op": "==", "value": "EUR"}]}`, false},
		{`{"not": {"field": "currency", "op": "==", "value": "EUR"}}`, true},
		// found / not_found over items
		{`{"found": {"field": "sku", "op": "==", "value": "24-mb01"}}`, true},
		{`{"found": {"field": "sku", "op": "!=", "value": "24-MB01"}}`, true},
		{`{"found": {"all": [{"field": "sku", "op": "matches", "value": "24-MB*"}, {"field": "qty", "op": ">=", "value": 3}]}}`, false},
		{`{"found": {"field": "product_type", "op": "==", "value": "configurable"}}`, true},
		{`{"found": {"field": "product_type", "op": "in", "value": ["bundle", "virtual"]}}`, false},
		{`{"found": {"field": "price", "op": "<", "value": 13}}`, true},
		{`{"found": {"field": "row_total", "op": "==", "value": 68}}`, true},
		{`{"found": {"field": "qty", "op": "not_in", "value": [1, 2]}}`, false},
		{`{"found": {"field": "sku", "op": "contains", "value": "wg"}}`, true},
		{`{"found": {"field": "sku", "op": "not_in", "value": ["24-MB01"]}}`, true},
		{`{"found": {"any": [{"field": "sku", "op": "==", "value": "x"}, {"not": {"field": "qty", "op": "==", "value": 2}}]}}`, true},
		{`{"not_found": {"field": "sku", "op": "==", "value": "24-MB01"}}`, false},
		{`{"not_found": {"field": "sku", "op": "matches", "value": "MH*"}}`, true},
		// subselect: sums over matching items
		{`{"subselect": {"field": "qty", "op": "==", "value": 3}}`, true},
		{`{"subselect": {"items": {"field": "sku", "op": "matches", "value": "24-MB*"}, "field": "qty", "op": ">=", "value": 2}}`, true},
		{`{"subselect": {"items": {"field": "sku", "op": "matches", "value": "24-MB*"}, "field": "row_total", "op": ">", "value": 68}}`, false},
		{`{"subselect": {"field": "row_total", "op": "in", "value": [80.5]}}`, true},
		{`{"subselect": {"items": {"field": "product_type", "op": "==", "value": "bundle"}, "field": "qty", "op": "==", "value": 0}}`, true},
	}
	cart := mustCart(t, condCart)
	for _, tt := range tests {
		rs := mustDecode(t, rulesFile(`{"id": "r", "conditions": `+tt.cond+`, "action": {"type": "by_percent", "amount": 10}}`))
		res := rs.Evaluate(cart, nil, noon)
		if got := res.Trace[0].Applied; got != tt.want {
			t.Errorf("%s = %v, want %v (reason %q)", tt.cond, got, tt.want, res.Trace[0].Reason)
		}
	}
}

func TestItemFilter(t *testing.T) {
	cart := mustCart(t, condCart)
	tests := []struct {
		items string
		want  []string
	}{
		{`{"field": "sku", "op": "==", "value": "24-MB01"}`, []string{"6.8", "0"}},
		{`{"field": "sku", "op": "!=", "value": "24-MB01"}`, []string{"0", "1.25"}},
		{`{"field": "qty", "op": ">", "value": 1}`, []string{"6.8", "0"}},
		{`{"field": "product_type", "op": "==", "value": "simple"}`, []string{"6.8", "0"}},
		{`{"any": [{"field": "price", "op": "<=", "value": 12.5}, {"field": "sku", "op": "contains", "value": "mb"}]}`, []string{"6.8", "1.25"}},
		{`{"not": {"field": "row_total", "op": ">=", "value": 12.5}}`, []string{"0", "0"}},
	}
	for _, tt := range tests {
		rs := mustDecode(t, rulesFile(`{"id": "r", "items": `+tt.items+`, "action": {"type": "by_percent", "amount": 10}}`))
		if got := itemDiscounts(rs.Evaluate(cart, nil, noon)); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: %q, want %q", tt.items, got, tt.want)
		}
	}
}

func TestGlobFold(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"a*", "ABC", true},
		{"*c", "abC", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"?", "é", true},
		{"É*", "école", true},
		{"24-MB??", "24-mb01", true},
		{"24-MB??", "24-mb1", false},
		{"**x", "abx", true},
		{"a", "", false},
	}
	for _, tt := range tests {
		if got := globFold(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globFold(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
