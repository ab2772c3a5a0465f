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

// lookup returns the shape of the member whose quoted key is quoted, nil to skip it.
func (s *shape) lookup(quoted []byte, esc bool) *shape {
	if s.all {
		return s
	}
	raw := quoted[1 : len(quoted)-1]
	if esc {
		k, ok := unquote(quoted)
		if !ok {
			return nil
		}
		raw = []byte(k)
	}
	for i, k := range s.keys {
		if string(raw) == k {
			return s.kids[i]
		}
	}
	return nil
}

// responseShape is what the rewrite and Snapshots read of a response to the plan: errors
// whole, and below data the carts' facts and every field the programs write (progs are
// compiled with every condition true, so they cover every request).
func responseShape(sites []*site, progs []*cartProg) *shape {
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
	return root
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

// skip validates the object or array at src[i] without indexing it and returns the offset
// after it; depth is the nesting around it. It fails with errHiddenSkipped when a member key
// inside starts with HiddenPrefix.
func (t *tape) skip(src []byte, i, depth int) (int, error) {
	stack := t.skipStack[:0]
	defer func() { t.skipStack = stack[:0] }()
	for {
		// A value starts at i.
		var err error
		switch c := src[i]; c {
		case '{', '[':
			if depth+len(stack) >= maxJSONDepth {
				return i, errDepth
			}
			stack = append(stack, c)
			if i = skipWS(src, i+1); i >= len(src) {
				return i, errors.New("unexpected end of input")
			}
			if (c == '{' && src[i] == '}') || (c == '[' && src[i] == ']') {
				i++
				stack = stack[:len(stack)-1]
				break
			}
			if c == '{' {
				if i, err = skipKey(src, i); err != nil {
					return i, err
				}
			}
			continue
		case '"':
			i, _, err = scanString(src, i)
		case 't':
			i, err = scanLiteral(src, i, "true")
		case 'f':
			i, err = scanLiteral(src, i, "false")
		case 'n':
			i, err = scanLiteral(src, i, "null")
		default:
			if c != '-' && (c < '0' || c > '9') {
				return i, syntaxError(i)
			}
			i, err = scanNumber(src, i)
		}
		if err != nil {
			return i, err
		}
		// After a value: close containers, or move to the next member or element.
		for {
			if len(stack) == 0 {
				return i, nil
			}
			if i = skipWS(src, i); i >= len(src) {
				return i, errors.New("unexpected end of input")
			}
			open := stack[len(stack)-1]
			c := src[i]
			if c == ',' {
				if i = skipWS(src, i+1); i >= len(src) {
					return i, errors.New("unexpected end of input")
				}
				if open == '{' {
					if i, err = skipKey(src, i); err != nil {
						return i, err
					}
				}
				break
			}
			if (open == '{' && c == '}') || (open == '[' && c == ']') {
				i++
				stack = stack[:len(stack)-1]
				continue
			}
			return i, syntaxError(i)
		}
	}
}

// skipKey scans a member key and its colon at src[i] and returns the offset of the value.
func skipKey(src []byte, i int) (int, error) {
	if src[i] != '"' {
		return i, syntaxError(i)
	}
	ke, esc, err := scanString(src, i)
	if err != nil {
		return ke, err
	}
	if (src[i+1] == '_' || esc) && hiddenKey(src[i:ke], esc) {
		return ke, errHiddenSkipped
	}
	if i = skipWS(src, ke); i >= len(src) || src[i] != ':' {
		return i, syntaxError(i)
	}
	if i = skipWS(src, i+1); i >= len(src) {
		return i, errors.New("unexpected end of input")
	}
	return i, nil
}
