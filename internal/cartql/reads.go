package cartql

import (
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// The rewrite reads the same facts from every cart: the complete item list with what the
// engine needs of each item, the currency, the applied taxes, coupons and shipping amounts,
// and the masked id. Where the client selects one of them itself, unconditionally, the plan
// reads it there, under the client's alias; only the rest is added under hidden aliases.

// need is one field the rewrite reads, in the tree the cart's facts form.
type need struct {
	name  string   // the schema field
	alias string   // its hidden alias when the plan adds it
	types []string // type conditions that always hold for this field's objects
	kids  []*need
	slot  func(*reads) *string // where the response key goes
}

// reads are the response keys of the facts, each relative to the object above it in the
// need tree: a client's alias, a hidden alias, or (inside a hidden field) the field's name.
type reads struct {
	id                                   string
	items                                string
	typename, uid, quantity              string
	product, sku                         string
	itemPrices                           string
	price, priceValue                    string
	rowTotal, rowTotalValue              string
	itemDiscount, itemDiscountValue      string
	prices                               string
	subtotal, currency                   string
	taxes, taxLabel, taxAmount, taxValue string
	coupons, code                        string
	ship, method, shipAmount, shipValue  string
}

func leaf(name, alias string, slot func(*reads) *string) *need {
	return &need{name: name, alias: HiddenPrefix + alias, slot: slot}
}

func moneyNeed(name, alias string, slot, value func(*reads) *string) *need {
	return &need{name: name, alias: HiddenPrefix + alias, types: []string{"Money"}, slot: slot,
		kids: []*need{leaf("value", alias+"_value", value)}}
}

// cartNeeds is the need tree of a cart (the cart itself is its root). The cart level keeps
// the hidden aliases of the first releases (_aud_items, _aud_prices, ...).
var cartNeeds = &need{name: "cart", types: []string{"Cart"}, kids: []*need{
	{name: "items", alias: hiddenItems, types: []string{"CartItemInterface"}, slot: func(r *reads) *string { return &r.items }, kids: []*need{
		leaf("__typename", "typename", func(r *reads) *string { return &r.typename }),
		leaf("uid", "uid", func(r *reads) *string { return &r.uid }),
		leaf("quantity", "quantity", func(r *reads) *string { return &r.quantity }),
		{name: "product", alias: HiddenPrefix + "product", types: []string{"ProductInterface"}, slot: func(r *reads) *string { return &r.product }, kids: []*need{
			leaf("sku", "sku", func(r *reads) *string { return &r.sku }),
		}},
		{name: "prices", alias: HiddenPrefix + "item_prices", types: []string{"CartItemPrices"}, slot: func(r *reads) *string { return &r.itemPrices }, kids: []*need{
			moneyNeed("price", "price", func(r *reads) *string { return &r.price }, func(r *reads) *string { return &r.priceValue }),
			moneyNeed("row_total", "row_total", func(r *reads) *string { return &r.rowTotal }, func(r *reads) *string { return &r.rowTotalValue }),
			moneyNeed("total_item_discount", "item_discount", func(r *reads) *string { return &r.itemDiscount }, func(r *reads) *string { return &r.itemDiscountValue }),
		}},
	}},
	{name: "prices", alias: hiddenPrices, types: []string{"CartPrices"}, slot: func(r *reads) *string { return &r.prices }, kids: []*need{
		{name: "subtotal_excluding_tax", alias: HiddenPrefix + "subtotal", types: []string{"Money"}, slot: func(r *reads) *string { return &r.subtotal }, kids: []*need{
			leaf("currency", "currency", func(r *reads) *string { return &r.currency }),
		}},
		{name: "applied_taxes", alias: HiddenPrefix + "taxes", types: []string{"CartTaxItem"}, slot: func(r *reads) *string { return &r.taxes }, kids: []*need{
			leaf("label", "tax_label", func(r *reads) *string { return &r.taxLabel }),
			moneyNeed("amount", "tax_amount", func(r *reads) *string { return &r.taxAmount }, func(r *reads) *string { return &r.taxValue }),
		}},
	}},
	{name: "applied_coupons", alias: hiddenCoupons, types: []string{"AppliedCoupon"}, slot: func(r *reads) *string { return &r.coupons }, kids: []*need{
		leaf("code", "code", func(r *reads) *string { return &r.code }),
	}},
	{name: "shipping_addresses", alias: hiddenShip, types: []string{"ShippingCartAddress", "CartAddressInterface"}, slot: func(r *reads) *string { return &r.ship }, kids: []*need{
		{name: "selected_shipping_method", alias: HiddenPrefix + "method", types: []string{"SelectedShippingMethod"}, slot: func(r *reads) *string { return &r.method }, kids: []*need{
			moneyNeed("amount", "ship_amount", func(r *reads) *string { return &r.shipAmount }, func(r *reads) *string { return &r.shipValue }),
		}},
	}},
	leaf("id", "id", func(r *reads) *string { return &r.id }),
}}

// hiddenText is the selection of n with everything below it: "name{...}".
func (n *need) hiddenText(b *strings.Builder) {
	b.WriteString(n.name)
	if len(n.kids) == 0 {
		return
	}
	b.WriteByte('{')
	for i, k := range n.kids {
		if i > 0 {
			b.WriteByte(' ')
		}
		k.hiddenText(b)
	}
	b.WriteByte('}')
}

// hiddenField is n added under its hidden alias: " alias:name{...}".
func (n *need) hiddenField() string {
	var b strings.Builder
	b.WriteString(" " + n.alias + ":")
	n.hiddenText(&b)
	return b.String()
}

// fillPlain sets the keys of everything below a hidden field: inside it, fields are not
// aliased.
func (n *need) fillPlain(r *reads) {
	for _, k := range n.kids {
		*k.slot(r) = k.name
		k.fillPlain(r)
	}
}

// request is hidden text to insert at the end of the selection set of a field.
type request struct {
	field *ast.Field
	text  string
}

// resolver decides, for one cart site, which facts are read from the client's own fields
// and which are added.
type resolver struct {
	col      *collector
	requests []request
}

// reliable reports whether occurrence o is in the response whenever its parent object is,
// for a parent whose objects always satisfy the type conditions types: no @skip/@include
// that depends on a variable or excludes it, no type condition that may not hold, no
// arguments and no other directive.
func reliable(o occ, types []string) bool {
	if len(o.f.Arguments) > 0 || !alwaysIncluded(o.conds) {
		return false
	}
	for _, d := range o.f.Directives {
		if d.Name != "skip" && d.Name != "include" {
			return false
		}
	}
	for _, t := range o.types {
		if !slices.Contains(types, t) {
			return false
		}
	}
	return true
}

// alwaysIncluded reports whether conditions hold whatever the variables: no @skip/@include
// that depends on a variable or excludes the field.
func alwaysIncluded(conds []cond) bool {
	for _, k := range conds {
		if k.variable != "" || k.value == k.skip {
			return false
		}
	}
	return true
}

// resolve fills the keys of n's children below parents, reliable occurrences of n's field
// (all of them present whenever n's object is). With apply false it only counts the hidden
// fields it would add.
func (rv *resolver) resolve(parents []occ, n *need, r *reads, apply bool) int {
	children := rv.col.collectAll(parents)
	added := 0
	for _, k := range n.kids {
		key, occs, cost := rv.best(children, n.types, k)
		if key == "" {
			added++
			if apply {
				*k.slot(r) = k.alias
				k.fillPlain(r)
				rv.requests = append(rv.requests, request{field: parents[0].f, text: k.hiddenField()})
			}
			continue
		}
		added += cost
		if apply {
			*k.slot(r) = key
			rv.resolve(occs, k, r, true)
		}
	}
	return added
}

// best returns the client's response key for need k among children (occurrences below an
// object of the parent's types) that costs the fewest hidden fields, with its reliable
// occurrences; "" when the client does not select k reliably.
func (rv *resolver) best(children []occ, types []string, k *need) (string, []occ, int) {
	var keys []string
	for _, c := range children {
		if c.f.Name == k.name && !slices.Contains(keys, c.key) && reliable(c, types) {
			keys = append(keys, c.key)
		}
	}
	bestKey, bestCost := "", 0
	var bestOccs []occ
	for _, key := range keys {
		var occs []occ
		for _, c := range children {
			if c.key == key && c.f.Name == k.name && reliable(c, types) {
				occs = append(occs, c)
			}
		}
		cost := 0
		if len(k.kids) > 0 {
			cost = rv.resolve(occs, k, nil, false)
		}
		if bestKey == "" || cost < bestCost {
			bestKey, bestCost, bestOccs = key, cost, occs
		}
	}
	return bestKey, bestOccs, bestCost
}
