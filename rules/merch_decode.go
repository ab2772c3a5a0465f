// Decoding of merchandising rules: the same strict reading and field-path errors as cart
// rules ("merchandising[2] \"vip-hero\": blocks.replace: …"), sharing their identity, schedule
// and scope fields.

package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/govalues/decimal"
)

var (
	merchFields = []string{
		"id", "name", "label", "active", "from", "to", "priority", "stop_further_rules",
		"audiences", "stores", "websites",
		"products", "lists", "add", "limit", "remove", "first",
		"blocks",
	}
	productListFields = []string{"products", "lists", "add", "limit", "remove", "first"}
	blockFields       = []string{"show", "hide", "replace"}
)

// listMask is a set of product lists.
type listMask uint8

func listBit(list string) listMask {
	switch list {
	case ListRelated:
		return 1
	case ListUpsell:
		return 2
	case ListCrosssell:
		return 4
	}
	return 0
}

const allLists = listMask(7)

// merchRule is a validated merchandising rule with what evaluation needs precomputed.
type merchRule struct {
	MerchRule
	pos       int       // index in the file's merchandising array
	from, to  time.Time // zero when open; to is exclusive
	products  *node     // product filter; nil matches every product
	lists     listMask
	remove    []skuPattern
	stoppedBy string // trace reason for the rules this rule stopped
}

// skuPattern is a SKU to remove, or a glob when it has * or ?.
type skuPattern struct {
	text string
	glob bool
}

func (p skuPattern) match(sku string) bool {
	if p.glob {
		return globFold(p.text, sku)
	}
	return strings.EqualFold(p.text, sku)
}

// parseMerchRule validates one merchandising rule, reporting every problem. It returns nil
// only when the rule is not an object.
func parseMerchRule(raw json.RawMessage, i int, tz *time.Location, probs *[]string) *merchRule {
	obj, id, ck, ok := ruleObject(raw, "merchandising", i, probs)
	if !ok {
		return nil
	}
	m := &merchRule{pos: i, MerchRule: MerchRule{ID: id}}
	for _, key := range sortedKeys(obj) {
		if !slices.Contains(merchFields, key) {
			ck.errf(key, "unknown field")
			delete(obj, key) // so the shared parsers below do not read cart-only fields
		}
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) == nil {
		m.Raw = compact.Bytes()
	}
	m.parseCommon(obj, tz, ck)

	var listKeys []string
	for _, key := range productListFields {
		if hasKey(obj, key) {
			listKeys = append(listKeys, key)
		}
	}
	switch blocks, hasBlocks := obj["blocks"]; {
	case hasBlocks && len(listKeys) > 0:
		ck.errf("", "has both blocks and product-list fields (%s); a rule changes one or the other", strings.Join(listKeys, ", "))
	case hasBlocks:
		m.parseBlocks(blocks, ck)
	case len(listKeys) > 0:
		m.parseProductLists(obj, ck)
	default:
		ck.errf("", "needs blocks, or add, remove or first for product lists")
	}
	return m
}

// parseCommon reads the identity, schedule and scope fields with the cart rules' parsers.
func (m *merchRule) parseCommon(obj map[string]any, tz *time.Location, ck checker) {
	r := &rule{}
	r.ID = m.ID
	r.parseIdentity(obj, ck)
	r.parseSchedule(obj, tz, ck)
	r.parseScope(obj, ck)
	m.Name, m.Label, m.Active = r.Name, r.Label, r.Active
	m.From, m.To, m.from, m.to = r.From, r.To, r.from, r.to
	m.Priority, m.StopFurtherRules = r.Priority, r.StopFurtherRules
	m.Audiences, m.Stores, m.Websites = r.Audiences, r.Stores, r.Websites
}

func (m *merchRule) parseProductLists(obj map[string]any, ck checker) {
	if v, ok := obj["products"]; ok {
		if n, ok := parseCond(v, "products", scopeProduct, ck); ok {
			m.products = &n
		}
	}
	m.lists = allLists
	if v, ok := obj["lists"]; ok {
		m.lists = parseLists(v, ck)
	}
	for _, l := range productLists {
		if m.lists&listBit(l) != 0 {
			m.Lists = append(m.Lists, l)
		}
	}
	if v, ok := obj["add"]; ok {
		m.Add = skuList(v, "add", ck)
	}
	if v, ok := obj["remove"]; ok {
		m.Remove = skuList(v, "remove", ck)
		for _, s := range m.Remove {
			m.remove = append(m.remove, skuPattern{text: s, glob: strings.ContainsAny(s, "*?")})
		}
	}
	if v, ok := obj["first"]; ok {
		m.First = skuList(v, "first", ck)
	}
	if v, ok := obj["limit"]; ok {
		m.Limit = parseLimit(v, ck)
		if !hasKey(obj, "add") {
			ck.errf("limit", "needs add (limit is the most SKUs the rule adds)")
		}
	}
	if !hasKey(obj, "add") && !hasKey(obj, "remove") && !hasKey(obj, "first") {
		ck.errf("", "needs add, remove or first")
	}
}

// parseLists reads a non-empty set of list names.
func parseLists(v any, ck checker) listMask {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		ck.errf("lists", "must be a non-empty array of related, upsell, crosssell")
		return 0
	}
	var mask listMask
	for i, x := range arr {
		p := indexPath("lists", i)
		s, ok := x.(string)
		bit := listBit(s)
		switch {
		case !ok:
			ck.errf(p, "must be a string, got %s", jsonType(x))
		case bit == 0:
			ck.errf(p, "unknown value %q (want related, upsell or crosssell)", s)
		case mask&bit != 0:
			ck.errf(p, "%q is listed twice", s)
		default:
			mask |= bit
		}
	}
	return mask
}

// skuList reads a non-empty array of SKUs (or globs, for remove) without duplicates. SKUs
// compare ignoring case, as Magento finds products by SKU; Magento trims SKUs, so one with
// leading or trailing spaces cannot exist.
func skuList(v any, path string, ck checker) []string {
	stringList(v, path, nil, ck) // reports the shape; the loop below keeps the good ones
	arr, _ := v.([]any)
	seen := make(map[string]int, len(arr))
	out := make([]string, 0, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok || s == "" {
			continue
		}
		p := indexPath(path, i)
		key := strings.ToLower(s)
		if first, dup := seen[key]; dup {
			ck.errf(p, "%q is a duplicate of %s (SKUs ignore case)", s, indexPath(path, first))
			continue
		}
		seen[key] = i
		if strings.TrimSpace(s) != s {
			ck.errf(p, "%q has leading or trailing spaces", s)
			continue
		}
		out = append(out, s)
	}
	return out
}

func parseLimit(v any, ck checker) int {
	n, ok := v.(json.Number)
	if !ok {
		ck.errf("limit", "must be an integer, got %s", jsonType(v))
		return 0
	}
	d, err := decimal.Parse(n.String())
	i, _, inRange := d.Int64(0)
	if err != nil || !d.IsInt() || !inRange || i < 1 || i > math.MaxInt32 {
		ck.errf("limit", "must be an integer from 1 to %d, got %s", math.MaxInt32, n)
		return 0
	}
	return int(i)
}

func (m *merchRule) parseBlocks(v any, ck checker) {
	obj, ok := v.(map[string]any)
	if !ok {
		ck.errf("blocks", "must be an object, got %s", jsonType(v))
		return
	}
	b := &BlockChanges{}
	m.Blocks = b
	named := make(map[string]string) // block id → the field that names it
	claim := func(id, path, field string) bool {
		if other, dup := named[id]; dup {
			if other == field {
				ck.errf(path, "%q is listed twice", id)
			} else {
				ck.errf(path, "%q is also in %s; a rule does one thing with a block", id, other)
			}
			return false
		}
		named[id] = field
		return true
	}
	for _, key := range sortedKeys(obj) {
		if !slices.Contains(blockFields, key) {
			ck.errf(joinPath("blocks", key), "unknown field")
		}
	}
	if !hasKey(obj, "show") && !hasKey(obj, "hide") && !hasKey(obj, "replace") {
		ck.errf("blocks", "needs show, hide or replace")
	}
	for _, field := range blockFields {
		val, ok := obj[field]
		if !ok {
			continue
		}
		path := joinPath("blocks", field)
		if field == "replace" {
			b.Replace = parseReplace(val, path, claim, ck)
			continue
		}
		stringList(val, path, nil, ck) // reports the shape; the loop below keeps the good ones
		arr, _ := val.([]any)
		ids := make([]string, 0, len(arr))
		for i, x := range arr {
			if s, ok := x.(string); ok && s != "" && claim(s, indexPath(path, i), path) {
				ids = append(ids, s)
			}
		}
		if field == "show" {
			b.Show = ids
		} else {
			b.Hide = ids
		}
	}
}

// parseReplace reads blocks.replace: a non-empty object of block id → the block shown instead.
func parseReplace(v any, path string, claim func(id, path, field string) bool, ck checker) map[string]string {
	obj, ok := v.(map[string]any)
	if !ok || len(obj) == 0 {
		ck.errf(path, "must be a non-empty object of block id → block id")
		return nil
	}
	out := make(map[string]string, len(obj))
	for _, id := range sortedKeys(obj) {
		p := joinPath(path, id)
		with, ok := obj[id].(string)
		switch {
		case id == "":
			ck.errf(path, "block id must not be empty")
		case !ok:
			ck.errf(p, "must be a string, got %s", jsonType(obj[id]))
		case with == "":
			ck.errf(p, "must not be empty")
		case with == id:
			ck.errf(p, "replaces the block by itself")
		case claim(id, p, path):
			out[id] = with
		}
	}
	return out
}

// checkUniqueMerch reports merchandising rule ids already used by a cart rule or an earlier
// merchandising rule: ids are unique across the file.
func checkUniqueMerch(rules []*rule, merch []*merchRule, probs *[]string) {
	if len(merch) == 0 {
		return
	}
	owners := make(map[string]string, len(rules)+len(merch))
	for _, r := range rules {
		if _, dup := owners[r.ID]; !dup {
			owners[r.ID] = fmt.Sprintf("rules[%d]", r.pos)
		}
	}
	for _, m := range merch {
		if m.ID == "" {
			continue // reported as missing
		}
		if first, dup := owners[m.ID]; dup {
			ck := checker{prefix: fmt.Sprintf("merchandising[%d] %q", m.pos, m.ID), probs: probs}
			ck.errf("id", "duplicate of %s", first)
			continue
		}
		owners[m.ID] = fmt.Sprintf("merchandising[%d]", m.pos)
	}
}
