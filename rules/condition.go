// Conditions: the cart and item condition trees, their decoding, validation and evaluation,
// Magento's subselections and value comparisons; one file (over 500 lines) because the
// operators and field kinds are checked and evaluated in the same tables.

package rules

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/govalues/decimal"
)

// Conditions are compiled once when a rule file is decoded into a tree of nodes with
// enumerated fields and operators, so evaluation does no reflection and no string lookups.

type condKind uint8

const (
	condAll condKind = iota + 1
	condAny
	condNot
	condLeaf
	condFound     // cart level: some item matches kids[0]
	condNotFound  // cart level: no item matches kids[0]
	condSubselect // cart level: sum of field over items matching kids (if any) compared
)

type field uint8

const (
	fieldSubtotal field = iota + 1
	fieldTotalQty
	fieldItemsCount
	fieldCurrency
	fieldStore
	fieldCoupon
	fieldSKU
	fieldQty
	fieldPrice
	fieldRowTotal
	fieldProductType
)

var fieldNames = map[string]field{
	"subtotal":     fieldSubtotal,
	"total_qty":    fieldTotalQty,
	"items_count":  fieldItemsCount,
	"currency":     fieldCurrency,
	"store":        fieldStore,
	"coupon":       fieldCoupon,
	"sku":          fieldSKU,
	"qty":          fieldQty,
	"price":        fieldPrice,
	"row_total":    fieldRowTotal,
	"product_type": fieldProductType,
}

func (f field) isItem() bool { return f >= fieldSKU }

func (f field) numeric() bool {
	switch f {
	case fieldSubtotal, fieldTotalQty, fieldItemsCount, fieldQty, fieldPrice, fieldRowTotal:
		return true
	}
	return false
}

type op uint8

const (
	opEq op = iota + 1
	opNe
	opGt
	opGe
	opLt
	opLe
	opIn
	opNotIn
	opContains
	opMatches
)

var opNames = map[string]op{
	"==": opEq, "!=": opNe, ">": opGt, ">=": opGe, "<": opLt, "<=": opLe,
	"in": opIn, "not_in": opNotIn, "contains": opContains, "matches": opMatches,
}

func (o op) list() bool { return o == opIn || o == opNotIn }

func (o op) numericOnly() bool { return o >= opGt && o <= opLe }

func (o op) textOnly() bool { return o == opContains || o == opMatches }

// node is one compiled condition.
type node struct {
	kind  condKind
	field field
	op    op
	kids  []node
	num   decimal.Decimal
	nums  []decimal.Decimal
	str   string
	strs  []string
}

// cartView is what cart-level conditions see.
type cartView struct {
	subtotal   decimal.Decimal
	totalQty   decimal.Decimal
	itemsCount decimal.Decimal
	currency   string
	store      string
	coupons    []string
	items      []itemView
}

// itemView is what item-level conditions see.
type itemView struct {
	sku   string
	ptype string
	qty   decimal.Decimal
	price decimal.Decimal
	row   decimal.Decimal
}

// evalCart reports whether a cart-level condition holds. A nil node is true.
func (n *node) evalCart(c *cartView) bool {
	if n == nil {
		return true
	}
	switch n.kind {
	case condAll:
		for i := range n.kids {
			if !n.kids[i].evalCart(c) {
				return false
			}
		}
		return true
	case condAny:
		// Magento: a combination without children is true.
		for i := range n.kids {
			if n.kids[i].evalCart(c) {
				return true
			}
		}
		return len(n.kids) == 0
	case condNot:
		return !n.kids[0].evalCart(c)
	case condFound, condNotFound:
		found := false
		for i := range c.items {
			if n.kids[0].evalItem(&c.items[i]) {
				found = true
				break
			}
		}
		return found == (n.kind == condFound)
	case condSubselect:
		var calc calc
		sum := zero
		for i := range c.items {
			it := &c.items[i]
			if len(n.kids) > 0 && !n.kids[0].evalItem(it) {
				continue
			}
			if n.field == fieldQty {
				sum = calc.add(sum, it.qty)
			} else {
				sum = calc.add(sum, it.row)
			}
		}
		return calc.err == nil && n.cmpNum(sum)
	case condLeaf:
		switch n.field {
		case fieldSubtotal:
			return n.cmpNum(c.subtotal)
		case fieldTotalQty:
			return n.cmpNum(c.totalQty)
		case fieldItemsCount:
			return n.cmpNum(c.itemsCount)
		case fieldCurrency:
			return n.cmpStr(c.currency)
		case fieldStore:
			return n.cmpStr(c.store)
		case fieldCoupon:
			return n.cmpList(c.coupons)
		}
	}
	return false
}

// evalItem reports whether an item-level condition holds. A nil node is true.
func (n *node) evalItem(it *itemView) bool {
	if n == nil {
		return true
	}
	switch n.kind {
	case condAll:
		for i := range n.kids {
			if !n.kids[i].evalItem(it) {
				return false
			}
		}
		return true
	case condAny:
		for i := range n.kids {
			if n.kids[i].evalItem(it) {
				return true
			}
		}
		return len(n.kids) == 0
	case condNot:
		return !n.kids[0].evalItem(it)
	case condLeaf:
		switch n.field {
		case fieldSKU:
			return n.cmpStr(it.sku)
		case fieldProductType:
			return n.cmpStr(it.ptype)
		case fieldQty:
			return n.cmpNum(it.qty)
		case fieldPrice:
			return n.cmpNum(it.price)
		case fieldRowTotal:
			return n.cmpNum(it.row)
		}
	}
	return false
}

func (n *node) cmpNum(v decimal.Decimal) bool {
	switch n.op {
	case opEq:
		return v.Cmp(n.num) == 0
	case opNe:
		return v.Cmp(n.num) != 0
	case opGt:
		return v.Cmp(n.num) > 0
	case opGe:
		return v.Cmp(n.num) >= 0
	case opLt:
		return v.Cmp(n.num) < 0
	case opLe:
		return v.Cmp(n.num) <= 0
	case opIn, opNotIn:
		in := false
		for _, x := range n.nums {
			if v.Cmp(x) == 0 {
				in = true
				break
			}
		}
		return in == (n.op == opIn)
	}
	return false
}

// cmpStr compares text case-insensitively, as Magento's conditions do.
func (n *node) cmpStr(v string) bool {
	switch n.op {
	case opEq:
		return strings.EqualFold(v, n.str)
	case opNe:
		return !strings.EqualFold(v, n.str)
	case opIn, opNotIn:
		in := false
		for _, x := range n.strs {
			if strings.EqualFold(v, x) {
				in = true
				break
			}
		}
		return in == (n.op == opIn)
	case opContains:
		return containsFold(v, n.str)
	case opMatches:
		return globFold(n.str, v)
	}
	return false
}

// cmpList compares a list of codes (coupons): == / in / contains / matches hold when some
// code satisfies them; != / not_in hold when no code is excluded.
func (n *node) cmpList(vs []string) bool {
	switch n.op {
	case opNe, opNotIn:
		for _, v := range vs {
			if !n.cmpStr(v) {
				return false
			}
		}
		return true
	default:
		for _, v := range vs {
			if n.cmpStr(v) {
				return true
			}
		}
		return false
	}
}

// containsFold reports whether sub is within s, ignoring case.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// globFold matches s against pattern, where * matches any run of characters and ? exactly
// one, ignoring case.
func globFold(pattern, s string) bool {
	var starP, starS = -1, 0
	p, i := 0, 0
	for i < len(s) {
		if p < len(pattern) && pattern[p] < utf8.RuneSelf && s[i] < utf8.RuneSelf {
			// Both ASCII (the usual SKU): the rune path below, without decoding.
			switch pc, sc := pattern[p], s[i]; {
			case pc == '*' && p == len(pattern)-1:
				return true // a trailing star takes the rest ("SKU-0*")
			case pc == '*':
				starP, starS = p, i
				p++
				continue
			case pc == '?' || lowerASCII(pc) == lowerASCII(sc):
				p++
				i++
				continue
			}
		} else if p < len(pattern) {
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
		// Let the last star swallow one more character and retry.
		if s[starS] < utf8.RuneSelf {
			starS++
		} else {
			_, sw := utf8.DecodeRuneInString(s[starS:])
			starS += sw
		}
		i = starS
		p = starP + 1
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	return strings.EqualFold(string(a), string(b))
}

// scope says which fields a condition tree may use.
type scope uint8

const (
	scopeCart    scope = iota
	scopeItem          // a cart item: sku, qty, price, row_total, product_type
	scopeProduct       // a catalog product (merchandising): sku, type
)

// productFieldNames are the fields of a product condition; type is Magento's type_id,
// compared as product_type is for cart items.
var productFieldNames = map[string]field{
	"sku":  fieldSKU,
	"type": fieldProductType,
}

// scopeName names a condition scope in errors.
func (sc scope) name() string {
	switch sc {
	case scopeItem:
		return "an item condition"
	case scopeProduct:
		return "a product condition"
	}
	return "a cart condition"
}

var cartKinds = map[string]condKind{
	"all": condAll, "any": condAny, "not": condNot,
	"found": condFound, "not_found": condNotFound, "subselect": condSubselect,
}

// parseCond compiles a condition tree, reporting every problem to ck.
func parseCond(v any, path string, sc scope, ck checker) (node, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		ck.errf(path, "must be an object, got %s", jsonType(v))
		return node{}, false
	}
	_, hasField := obj["field"]
	_, hasOp := obj["op"]
	_, hasValue := obj["value"]
	if hasField || hasOp || hasValue {
		return parseLeaf(obj, path, sc, ck)
	}
	if len(obj) != 1 {
		ck.errf(path, "must have exactly one of %s, or field, op and value", combinators(sc))
		return node{}, false
	}
	for key, val := range obj {
		kind, known := cartKinds[key]
		if !known || (sc != scopeCart && kind > condNot) {
			if known {
				ck.errf(joinPath(path, key), "not allowed in %s", sc.name())
			} else {
				ck.errf(joinPath(path, key), "unknown field")
			}
			return node{}, false
		}
		p := joinPath(path, key)
		switch kind {
		case condAll, condAny:
			arr, ok := val.([]any)
			if !ok {
				ck.errf(p, "must be an array, got %s", jsonType(val))
				return node{}, false
			}
			n := node{kind: kind, kids: make([]node, 0, len(arr))}
			good := true
			for i, child := range arr {
				k, ok := parseCond(child, indexPath(p, i), sc, ck)
				good = good && ok
				n.kids = append(n.kids, k)
			}
			return n, good
		case condNot:
			k, ok := parseCond(val, p, sc, ck)
			return node{kind: condNot, kids: []node{k}}, ok
		case condFound, condNotFound:
			k, ok := parseCond(val, p, scopeItem, ck)
			return node{kind: kind, kids: []node{k}}, ok
		case condSubselect:
			return parseSubselect(val, p, ck)
		}
	}
	return node{}, false
}

func combinators(sc scope) string {
	if sc != scopeCart {
		return "all, any, not"
	}
	return "all, any, not, found, not_found, subselect"
}

func parseLeaf(obj map[string]any, path string, sc scope, ck checker) (node, bool) {
	good := true
	for _, key := range sortedKeys(obj) {
		if key != "field" && key != "op" && key != "value" {
			ck.errf(joinPath(path, key), "unknown field")
			good = false
		}
	}
	fname, ok := requireString(obj, "field", path, ck)
	if !ok {
		good = false
	}
	f, known := fieldNames[fname]
	if sc == scopeProduct {
		f, known = productFieldNames[fname]
	}
	switch {
	case !ok:
	case !known && sc == scopeProduct:
		ck.errf(joinPath(path, "field"), "unknown value %q (want sku or type)", fname)
		good = false
	case !known:
		ck.errf(joinPath(path, "field"), "unknown value %q", fname)
		good = false
	case sc == scopeCart && f.isItem():
		ck.errf(joinPath(path, "field"), "%q is an item field; use found, not_found or subselect", fname)
		good = false
	case sc == scopeItem && !f.isItem():
		ck.errf(joinPath(path, "field"), "%q is a cart field, not an item field", fname)
		good = false
	}
	n := node{kind: condLeaf, field: f}
	o, ok := parseOp(obj, path, ck)
	if !ok {
		return n, false
	}
	n.op = o
	if !good || !known {
		return n, false
	}
	if f.numeric() && o.textOnly() {
		ck.errf(joinPath(path, "op"), "operator %q does not apply to number field %q", opName(o), fname)
		return n, false
	}
	if !f.numeric() && o.numericOnly() {
		ck.errf(joinPath(path, "op"), "operator %q does not apply to text field %q", opName(o), fname)
		return n, false
	}
	return n, parseValue(&n, obj, path, f.numeric(), ck)
}

func parseOp(obj map[string]any, path string, ck checker) (op, bool) {
	name, ok := requireString(obj, "op", path, ck)
	if !ok {
		return 0, false
	}
	o, known := opNames[name]
	if !known {
		ck.errf(joinPath(path, "op"), "unknown operator %q", name)
		return 0, false
	}
	return o, true
}

func opName(o op) string {
	for k, v := range opNames {
		if v == o {
			return k
		}
	}
	return "?"
}

// parseValue reads the value of a leaf or subselect into n.
func parseValue(n *node, obj map[string]any, path string, numeric bool, ck checker) bool {
	p := joinPath(path, "value")
	v, present := obj["value"]
	if !present {
		ck.errf(p, "required")
		return false
	}
	if n.op.list() {
		arr, ok := v.([]any)
		if !ok || len(arr) == 0 {
			ck.errf(p, "operator %q needs a non-empty array", opName(n.op))
			return false
		}
		good := true
		for i, x := range arr {
			if numeric {
				d, ok := condNumber(x, indexPath(p, i), ck)
				good = good && ok
				n.nums = append(n.nums, d)
			} else {
				s, ok := x.(string)
				if !ok {
					ck.errf(indexPath(p, i), "must be a string, got %s", jsonType(x))
					good = false
				}
				n.strs = append(n.strs, s)
			}
		}
		return good
	}
	if numeric {
		d, ok := condNumber(v, p, ck)
		n.num = d
		return ok
	}
	s, ok := v.(string)
	if !ok {
		ck.errf(p, "must be a string, got %s", jsonType(v))
		return false
	}
	if n.op == opMatches && s == "" {
		ck.errf(p, "pattern must not be empty")
		return false
	}
	n.str = s
	return true
}

func condNumber(v any, path string, ck checker) (decimal.Decimal, bool) {
	num, ok := v.(json.Number)
	if !ok {
		ck.errf(path, "must be a number, got %s", jsonType(v))
		return zero, false
	}
	d, err := decimal.Parse(num.String())
	if err != nil {
		ck.errf(path, "invalid number %s", num)
		return zero, false
	}
	return d, true
}

func parseSubselect(v any, path string, ck checker) (node, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		ck.errf(path, "must be an object, got %s", jsonType(v))
		return node{}, false
	}
	good := true
	for _, key := range sortedKeys(obj) {
		switch key {
		case "items", "field", "op", "value":
		default:
			ck.errf(joinPath(path, key), "unknown field")
			good = false
		}
	}
	n := node{kind: condSubselect}
	if items, ok := obj["items"]; ok {
		k, ok := parseCond(items, joinPath(path, "items"), scopeItem, ck)
		good = good && ok
		n.kids = []node{k}
	}
	fname, ok := requireString(obj, "field", path, ck)
	switch {
	case !ok:
		good = false
	case fname == "qty":
		n.field = fieldQty
	case fname == "row_total":
		n.field = fieldRowTotal
	default:
		ck.errf(joinPath(path, "field"), "unknown value %q (want qty or row_total)", fname)
		good = false
	}
	o, ok := parseOp(obj, path, ck)
	if !ok {
		return n, false
	}
	if o.textOnly() {
		ck.errf(joinPath(path, "op"), "operator %q does not apply to number field %q", opName(o), fname)
		return n, false
	}
	n.op = o
	return n, parseValue(&n, obj, path, true, ck) && good
}

func requireString(obj map[string]any, key, path string, ck checker) (string, bool) {
	v, ok := obj[key]
	if !ok {
		ck.errf(joinPath(path, key), "required")
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		ck.errf(joinPath(path, key), "must be a string, got %s", jsonType(v))
		return "", false
	}
	return s, true
}
