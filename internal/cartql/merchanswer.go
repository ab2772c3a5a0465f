package cartql

import (
	"errors"
	"strconv"
	"sync"
)

// MerchAnswer is an answer to an operation with merchandising sites, indexed once: the
// product lists and blocks it holds, to be read and replaced. The rest of the answer is
// kept byte for byte.
type MerchAnswer struct {
	t      tape
	ed     editor
	Lists  []ListAt
	Blocks []BlocksAt
}

// ListAt is one product's list in an answer.
type ListAt struct {
	Site      *ListSite
	SKU, Type string   // the product's SKU and __typename
	Items     [][]byte // the listed products, raw
	ItemSKUs  []string // their SKUs ("" when missing)
	node      int32    // the list's array
}

// BlocksAt is one blocks field in an answer.
type BlocksAt struct {
	Site  *BlockSite
	Items [][]byte // the blocks, raw
	IDs   []string // their identifiers or uids ("" when missing)
	items int32    // the items array
	total int32    // total_count, or -1 when the client did not select it
}

// ReadMerch indexes an answer of the plan and finds its product lists and blocks: every
// product on a list site's path with a SKU and its list as an array, every blocks field with
// its items as an array. Nulls and missing parts are skipped. Release the answer once done.
func (p *Plan) ReadMerch(body []byte) (*MerchAnswer, error) {
	a := merchAnswers.Get().(*MerchAnswer)
	a.ed.reset()
	a.Lists, a.Blocks = a.Lists[:0], a.Blocks[:0]
	if err := a.t.parse(body); err != nil {
		a.Release()
		return nil, err
	}
	if a.t.kind(0) != kindObject {
		a.Release()
		return nil, errors.New("merchandising: the answer is not a JSON object")
	}
	data := a.t.member(0, "data")
	for i := range p.lists {
		site := &p.lists[i]
		a.t.along(data, site.Path, func(product int32) {
			list := a.t.member(product, site.Key)
			sku := a.t.str(a.t.member(product, hiddenMerchSKU))
			if a.t.kind(list) != kindArray || sku == "" {
				return
			}
			l := ListAt{Site: site, SKU: sku, Type: a.t.str(a.t.member(product, hiddenMerchType)), node: list}
			l.Items, l.ItemSKUs = a.t.elements(list, site.ItemSKU)
			a.Lists = append(a.Lists, l)
		})
	}
	for i := range p.blocks {
		site := &p.blocks[i]
		field := a.t.member(data, site.Key)
		items := a.t.member(field, "items")
		if a.t.kind(items) != kindArray {
			continue
		}
		b := BlocksAt{Site: site, items: items, total: a.t.member(field, "total_count")}
		b.Items, b.IDs = a.t.elements(items, site.ID)
		a.Blocks = append(a.Blocks, b)
	}
	return a, nil
}

var merchAnswers = sync.Pool{New: func() any { return new(MerchAnswer) }}

// Release hands the answer's index back for reuse: neither a nor what was read from it (its
// Lists and Blocks) may be used afterwards. Bytes' result stays valid.
func (a *MerchAnswer) Release() {
	if cap(a.t.nodes) > 1<<16 || cap(a.ed.scratch) > 1<<20 {
		return
	}
	a.t.src = nil
	clear(a.Lists[:cap(a.Lists)]) // drop references into the body
	clear(a.Blocks[:cap(a.Blocks)])
	merchAnswers.Put(a)
}

// SetList replaces a list's products.
func (a *MerchAnswer) SetList(l *ListAt, items [][]byte) { a.replace(l.node, items) }

// SetBlocks replaces a blocks field's items and lowers its total_count, when selected, by
// the number of blocks that went.
func (a *MerchAnswer) SetBlocks(b *BlocksAt, items [][]byte) {
	a.replace(b.items, items)
	gone := len(b.Items) - len(items)
	if b.total < 0 || a.t.kind(b.total) != kindNumber || gone <= 0 {
		return
	}
	if n, err := strconv.Atoi(string(a.t.raw(b.total))); err == nil {
		m := a.ed.mark()
		a.ed.scratch = strconv.AppendInt(a.ed.scratch, int64(max(0, n-gone)), 10)
		a.ed.add(a.t.nodes[b.total].start, a.t.nodes[b.total].end, m)
	}
}

// Bytes returns the answer with the replacements made; without any, the body itself.
func (a *MerchAnswer) Bytes() ([]byte, error) { return a.ed.apply(a.t.src, nil) }

// replace makes array n hold items.
func (a *MerchAnswer) replace(n int32, items [][]byte) {
	m := a.ed.mark()
	a.ed.scratch = append(a.ed.scratch, '[')
	for i, it := range items {
		if i > 0 {
			a.ed.scratch = append(a.ed.scratch, ',')
		}
		a.ed.scratch = append(a.ed.scratch, it...)
	}
	a.ed.scratch = append(a.ed.scratch, ']')
	a.ed.add(a.t.nodes[n].start, a.t.nodes[n].end, m)
}

// along calls visit for every object reached from node n along path (member keys; arrays
// are walked element by element).
func (t *tape) along(n int32, path []string, visit func(int32)) {
	switch t.kind(n) {
	case kindArray:
		for c := t.first(n); c >= 0; c = t.nodes[c].next {
			t.along(c, path, visit)
		}
	case kindObject:
		if len(path) == 0 {
			visit(n)
			return
		}
		t.along(t.member(n, path[0]), path[1:], visit)
	}
}

// elements returns the elements of array n, raw, and the string member key of each.
func (t *tape) elements(n int32, key string) (raw [][]byte, keys []string) {
	for c := t.first(n); c >= 0; c = t.nodes[c].next {
		raw = append(raw, t.raw(c))
		keys = append(keys, t.str(t.member(c, key)))
	}
	return raw, keys
}
