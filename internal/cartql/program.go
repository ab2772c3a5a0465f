package cartql

import (
	"slices"
)

// A program says, for one cart site, which of the client's response keys the rewrite touches.
// It is compiled from the client's selection once per plan, or once per request when
// @skip/@include depend on variables.

// moneyProg locates the Money.value keys under one client key.
type moneyProg struct {
	key    string
	values []string
}

// listProg is a client list of Discount entries and the template of a new entry.
type listProg struct {
	key   string
	entry template
}

// discountProg is the deprecated CartPrices.discount (a CartDiscount).
type discountProg struct {
	key    string
	amount []moneyProg
	labels []string
	object template // used when the backend answered null
}

// taxProg is CartPrices.applied_taxes.
type taxProg struct {
	key    string
	amount []moneyProg
}

// pricesProg is one client key of Cart.prices.
type pricesProg struct {
	key                     string
	grandTotal              []moneyProg
	grandTotalExcludingTax  []moneyProg
	subtotalWithDiscountExc []moneyProg
	discounts               []listProg
	discount                []discountProg
	taxes                   []taxProg
}

// itemPricesProg is one client key of CartItemInterface.prices.
type itemPricesProg struct {
	key       string
	total     []moneyProg // total_item_discount
	discounts []listProg
}

// itemProg is what the client selected on an item of one concrete type.
type itemProg struct {
	prices []itemPricesProg
}

// itemsProg is one client list of cart items, with a program per concrete item type ("" for
// types no type condition names).
type itemsProg struct {
	key    string
	byType map[string]*itemProg
}

func (p *itemsProg) forType(typename []byte) *itemProg {
	if ip, ok := p.byType[string(typename)]; ok {
		return ip
	}
	return p.byType[""]
}

// itemsV2Prog is one client key of Cart.itemsV2: its item lists, and for each the key of the
// uid that identifies an item in the complete list.
type itemsV2Prog struct {
	key   string
	items []itemsProg
	uids  []string
}

// cartProg is the program of one cart site.
type cartProg struct {
	prices  []pricesProg
	items   []itemsProg
	itemsV2 []itemsV2Prog
}

// compiler turns selections into programs.
type compiler struct {
	col     *collector
	v       *vars
	pageUID map[string]string // the site's uid keys of itemsV2 pages (site.pageUID)
}

func (c *compiler) keep(o occ) bool { return c.v.included(o.conds) }

// groups returns the included children of the occurrences, grouped by key.
func (c *compiler) groups(occs []occ) []group {
	return groupBy(c.col.collectAll(occs), c.keep)
}

func (c *compiler) cart(fields []occ) *cartProg {
	p := &cartProg{}
	for _, g := range c.groups(fields) {
		switch g.name {
		case "prices":
			if pp, ok := c.prices(g); ok {
				p.prices = append(p.prices, pp)
			}
		case "items":
			if ip, ok := c.items(g); ok {
				p.items = append(p.items, ip)
			}
		case "itemsV2":
			if vp, ok := c.itemsV2(g); ok {
				p.itemsV2 = append(p.itemsV2, vp)
			}
		}
	}
	return p
}

func (c *compiler) prices(g group) (pricesProg, bool) {
	p := pricesProg{key: g.key}
	found := false
	for _, child := range c.groups(g.occs) {
		switch child.name {
		case "grand_total":
			p.grandTotal, found = c.addMoney(p.grandTotal, child), true
		case "grand_total_excluding_tax":
			p.grandTotalExcludingTax, found = c.addMoney(p.grandTotalExcludingTax, child), true
		case "subtotal_with_discount_excluding_tax":
			p.subtotalWithDiscountExc, found = c.addMoney(p.subtotalWithDiscountExc, child), true
		case "discounts":
			p.discounts, found = append(p.discounts, listProg{key: child.key, entry: c.discountEntry(child)}), true
		case "discount":
			p.discount, found = append(p.discount, c.cartDiscount(child)), true
		case "applied_taxes":
			t := taxProg{key: child.key}
			for _, a := range c.groups(child.occs) {
				if a.name == "amount" {
					t.amount = c.addMoney(t.amount, a)
				}
			}
			p.taxes, found = append(p.taxes, t), true
		}
	}
	return p, found
}

// addMoney appends the program of Money field g when the client selected its value.
func (c *compiler) addMoney(ps []moneyProg, g group) []moneyProg {
	m := moneyProg{key: g.key}
	for _, v := range c.groups(g.occs) {
		if v.name == "value" {
			m.values = append(m.values, v.key)
		}
	}
	if len(m.values) == 0 {
		return ps
	}
	return append(ps, m)
}

func (c *compiler) items(g group) (itemsProg, bool) {
	children := c.col.collectAll(g.occs)
	types := []string{""}
	for _, o := range children {
		for _, t := range o.types {
			if isConcreteItemType(t) && !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	p := itemsProg{key: g.key, byType: make(map[string]*itemProg, len(types))}
	found := false
	for _, typename := range types {
		keep := func(o occ) bool { return c.keep(o) && typesApply(o.types, typename) }
		var ip *itemProg
		for _, pg := range groupBy(children, keep) {
			if pg.name != "prices" {
				continue
			}
			pp := itemPricesProg{key: pg.key}
			for _, f := range c.groups(pg.occs) {
				switch f.name {
				case "total_item_discount":
					pp.total = c.addMoney(pp.total, f)
				case "discounts":
					pp.discounts = append(pp.discounts, listProg{key: f.key, entry: c.discountEntry(f)})
				}
			}
			if len(pp.total) == 0 && len(pp.discounts) == 0 {
				continue
			}
			if ip == nil {
				ip = &itemProg{}
			}
			ip.prices = append(ip.prices, pp)
		}
		p.byType[typename] = ip
		found = found || ip != nil
	}
	return p, found
}

func (c *compiler) itemsV2(g group) (itemsV2Prog, bool) {
	p := itemsV2Prog{key: g.key}
	for _, child := range c.groups(g.occs) {
		if child.name != "items" {
			continue
		}
		uid, known := c.pageUID[g.key+"."+child.key]
		if ip, ok := c.items(child); ok && known {
			p.items = append(p.items, ip)
			p.uids = append(p.uids, uid)
		}
	}
	return p, len(p.items) > 0
}

// discountEntry builds the template of a new Discount in the list field g.
func (c *compiler) discountEntry(g group) template {
	var b templateBuilder
	b.object(c.groups(g.occs), func(f group) {
		switch f.name {
		case "label":
			b.hole(holeLabel)
		case "applied_to":
			b.hole(holeAppliedTo)
		case "amount":
			c.moneyObject(&b, f)
		case "__typename":
			b.literal(`"Discount"`)
		default:
			b.literal("null")
		}
	})
	return b.done()
}

// cartDiscount compiles the deprecated CartDiscount field g.
func (c *compiler) cartDiscount(g group) discountProg {
	p := discountProg{key: g.key}
	children := c.groups(g.occs)
	for _, f := range children {
		switch f.name {
		case "amount":
			p.amount = c.addMoney(p.amount, f)
		case "label":
			p.labels = append(p.labels, f.key)
		}
	}
	var b templateBuilder
	b.object(children, func(f group) {
		switch f.name {
		case "amount":
			c.moneyObject(&b, f)
		case "label":
			b.hole(holeLabels)
		case "__typename":
			b.literal(`"CartDiscount"`)
		default:
			b.literal("null")
		}
	})
	p.object = b.done()
	return p
}

func (c *compiler) moneyObject(b *templateBuilder, g group) {
	b.object(c.groups(g.occs), func(f group) {
		switch f.name {
		case "value":
			b.hole(holeAmount)
		case "currency":
			b.hole(holeCurrency)
		case "__typename":
			b.literal(`"Money"`)
		default:
			b.literal("null")
		}
	})
}
