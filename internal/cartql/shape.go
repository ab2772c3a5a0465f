package cartql

import (
	"errors"
	"slices"
)

// A shape says which parts of a response the rewrite reads, so that only those are indexed:
// an object's listed members get nodes with their own shapes, its other members one node
// each whose value is validated and skipped (product data, media, CMS blocks...). A list's
// elements take the list's shape.
type shape struct {
	all  bool // index everything below
	keys []string
	kids []*shape
}

// fullShape indexes a whole value; it is shared and never changed.
var fullShape = &shape{all: true}

// child returns the shape of member key, adding it.
func (s *shape) child(key string) *shape {
	if s.all {
		return s
	}
	if i := slices.Index(s.keys, key); i >= 0 {
		return s.kids[i]
	}
	c := &shape{}
	s.keys, s.kids = append(s.keys, key), append(s.kids, c)
	return c
}

// full marks member key to be indexed whole.
func (s *shape) full(key string) {
	switch i := slices.Index(s.keys, key); {
	case s.all:
	case i >= 0:
		s.kids[i] = fullShape
	default:
		s.keys, s.kids = append(s.keys, key), append(s.kids, fullShape)
	}
}

// shapeTable is a shape compiled for the parser: flat, its children referred to by index
// (so parser frames hold no pointers). Entry 0 indexes a whole value, entry 1 is the root.
type shapeTable []flatShape

type flatShape struct {
	all  bool
	keys []string
	kids []int32
}

// wholeShapes indexes a whole document.
var wholeShapes = shapeTable{{all: true}, {all: true}}

// compile flattens s.
func (s *shape) compile() shapeTable {
	table := shapeTable{{all: true}, {}}
	var add func(s *shape, at int32)
	add = func(s *shape, at int32) {
		if s.all {
			table[at] = flatShape{all: true}
			return
		}
		f := flatShape{keys: s.keys, kids: make([]int32, len(s.kids))}
		for i, k := range s.kids {
			if k.all {
				f.kids[i] = 0
				continue
			}
			table = append(table, flatShape{})
			f.kids[i] = int32(len(table) - 1)
			add(k, f.kids[i])
		}
		table[at] = f
	}
	add(s, 1)
	return table
}

// lookup returns the shape of the member whose quoted key is quoted, -1 to skip it.
func (f *flatShape) lookup(quoted []byte, esc bool) int32 {
	raw := quoted[1 : len(quoted)-1]
	if esc {
		k, ok := unquote(quoted)
		if !ok {
			return -1
		}
		raw = []byte(k)
	}
	for i, k := range f.keys {
		if len(k) == len(raw) && string(raw) == k {
			return f.kids[i]
		}
	}
	return -1
}

// responseShape is what the rewrite and Snapshots read of a response to the plan: errors
// whole, and below data the carts' facts and every field the programs write (progs are
// compiled with every condition true, so they cover every request).
func responseShape(sites []*site, progs []*cartProg) shapeTable {
	root := &shape{}
	root.full("errors")
	data := root.child("data")
	for i, s := range sites {
		cart := data
		for _, key := range s.Path {
			cart = cart.child(key)
		}
		if s.hidden {
			continue // under HiddenPrefix: indexed whole below
		}
		rd := &s.reads
		cart.full(rd.id)
		cart.full(rd.coupons)
		items := cart.child(rd.items)
		for _, key := range []string{rd.typename, rd.uid, rd.quantity, rd.itemPrices} {
			items.full(key)
		}
		items.child(rd.product).full(rd.sku)
		prices := cart.child(rd.prices)
		prices.full(rd.subtotal)
		prices.full(rd.taxes)
		cart.child(rd.ship).child(rd.method).full(rd.shipAmount)
		progShape(cart, progs[i])
	}
	markHidden(root)
	return root.compile()
}

// progShape adds what a cart program writes: whole CartPrices and item prices objects, and
// the uids of itemsV2 pages.
func progShape(cart *shape, p *cartProg) {
	for _, pp := range p.prices {
		cart.full(pp.key)
	}
	itemPrices := func(el *shape, ip *itemsProg) {
		for _, prog := range ip.byType {
			if prog == nil {
				continue
			}
			for _, pp := range prog.prices {
				el.full(pp.key)
			}
		}
	}
	for i := range p.items {
		itemPrices(cart.child(p.items[i].key), &p.items[i])
	}
	for _, vp := range p.itemsV2 {
		page := cart.child(vp.key)
		for i := range vp.items {
			el := page.child(vp.items[i].key)
			el.full(vp.uids[i])
			itemPrices(el, &vp.items[i])
		}
	}
}

// markHidden indexes every hidden member whole: the rewrite reads below them, and they are
// small.
func markHidden(s *shape) {
	if s.all {
		return
	}
	for i, k := range s.keys {
		if len(k) >= len(HiddenPrefix) && k[:len(HiddenPrefix)] == HiddenPrefix {
			s.kids[i] = fullShape
			continue
		}
		markHidden(s.kids[i])
	}
}

// errHiddenSkipped says a skipped value holds a hidden member: the body must be indexed
// whole for Strip to find it.
var errHiddenSkipped = errors.New("hidden member in a skipped value")
