package cartql

import (
	"errors"
	"fmt"
	"sync"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// Evaluator computes the audience discounts of a cart snapshot; typically a closure over
// (*rules.RuleSet).Evaluate with the shopper's segments and the request time. A nil result
// means no discount. The cart is valid during the call only (Rewrite reuses its memory); its
// strings may be kept.
type Evaluator func(*rules.Cart) *rules.Result

// RewriteOptions are the per-request facts the response does not carry.
type RewriteOptions struct {
	// Store is the store view code (the request's Store header).
	Store string
	// Website is the website code, when the caller knows it.
	Website string
	// TaxAfterDiscount rescales applied taxes to the discounted amounts.
	TaxAfterDiscount bool
	// TaxRates maps tax labels to percentages (8.25 for 8.25 %). Taxes without a rate here are
	// rescaled with the rate derived from the backend's own amounts.
	TaxRates map[string]decimal.Decimal
	// TaxCalculation is the store's tax calculation method (Magento's
	// tax/calculation/algorithm); empty means rules.TaxTotalBase, Magento's default.
	TaxCalculation rules.TaxCalculation
	// Buffer, when it has room, receives the rewritten body (the result then shares its
	// memory), so that a caller can reuse one buffer per response instead of allocating
	// one. It must not overlap the body.
	Buffer []byte
}

// Outcome reports what a rewrite did.
type Outcome struct {
	// Carts is the number of cart objects found in the response.
	Carts int
	// Rewritten is the number of carts that received an audience discount.
	Rewritten int
	// Incomplete is the number of carts left as they were because partial data (GraphQL
	// errors) made them incomplete.
	Incomplete int
	// Discount is the audience discount written, summed over carts.
	Discount decimal.Decimal
}

// Errors that make a rewrite fail open.
var (
	ErrNullData   = errors.New("graphql errors with null data")
	ErrNoData     = errors.New("response without data")
	errIncomplete = errors.New("incomplete cart")
	errMissing    = errors.New("missing field the rewrite reads")
)

// rewriter is the reusable state of one rewrite.
type rewriter struct {
	t       tape
	ed      editor
	rd      *reads // the keys of the cart being read
	partial bool   // the response carries GraphQL errors
	arena   []byte
	items   []hiddenItem
	coupons []ref
	taxes   []taxLine
	rows    []rules.TaxRow
	taxBuf  []decimal.Decimal
	labels  []string
	snap    rules.Cart // the cart Rewrite evaluates, reused
	ix      Indexed    // Plan.Index's answer, pooled with the rewriter

	// Deletion bookkeeping of strip.
	drop       []int32 // nodes to delete besides hidden members
	dropParent int32   // the container of the dropped nodes
	cleaned    []int32
	removed    [][2]int32
}

// hiddenItem is one entry of the hidden complete item list.
type hiddenItem struct {
	uid      int32
	typename []byte
	sku      ref
	// Where the snapshot read the item: its object, its prices object and the value of its
	// total_item_discount, so the writer need not look them up again.
	node, prices, discountValue int32
}

// ref is a string in the rewriter's arena.
type ref struct{ off, n int32 }

// taxLine is one applied tax of a cart.
type taxLine struct {
	old, new decimal.Decimal
}

var rewriters = sync.Pool{New: func() any { return new(rewriter) }}

func getRewriter() *rewriter {
	rw := rewriters.Get().(*rewriter)
	rw.ed.reset()
	rw.partial = false
	rw.drop = rw.drop[:0]
	return rw
}

func putRewriter(rw *rewriter) {
	if cap(rw.t.nodes) > 1<<16 || cap(rw.ed.scratch) > 1<<20 {
		return
	}
	rw.t.src = nil
	rw.ix = Indexed{}
	clear(rw.snap.Items[:cap(rw.snap.Items)]) // drop string references
	rw.snap = rules.Cart{Items: rw.snap.Items[:0]}
	rewriters.Put(rw)
}

// Rewrite applies the audience discounts computed by eval to every cart of the response body
// and removes the hidden fields. It changes only what the client selected, under the
// client's aliases. An error means the caller should fail open with Strip. The result may
// share memory with body.
func (p *Plan) Rewrite(body []byte, variables map[string]any, eval Evaluator, opt RewriteOptions) ([]byte, Outcome, error) {
	return p.rewrite(body, variables, eval, opt, p.shape)
}

// rewrite is Rewrite indexing the parts of the body sh names (tests compare shapes).
func (p *Plan) rewrite(body []byte, variables map[string]any, eval Evaluator, opt RewriteOptions, sh shapeTable) ([]byte, Outcome, error) {
	var out Outcome
	if !p.HasCart() {
		return body, out, nil
	}
	rw := getRewriter()
	defer putRewriter(rw)
	data, err := rw.begin(body, sh)
	if err != nil {
		return nil, out, err
	}
	return p.rewriteIndexed(rw, data, variables, eval, opt)
}

// rewriteIndexed is Rewrite on a body rw has indexed; data is its data object.
func (p *Plan) rewriteIndexed(rw *rewriter, data int32, variables map[string]any, eval Evaluator, opt RewriteOptions) ([]byte, Outcome, error) {
	var out Outcome
	progs, err := p.programs(variables)
	if err != nil {
		return nil, out, err
	}
	for i, s := range p.sites {
		if s.hidden {
			continue // the client sees nothing of it: Strip removes it
		}
		err := rw.visit(data, s.Path, s.optional, func(cart int32) error {
			out.Carts++
			edits, scratch := len(rw.ed.edits), len(rw.ed.scratch)
			changed, d, err := rw.cart(cart, &s.reads, progs[i], eval, &opt)
			switch {
			case errors.Is(err, errIncomplete) && rw.partial:
				rw.ed.edits, rw.ed.scratch = rw.ed.edits[:edits], rw.ed.scratch[:scratch]
				out.Incomplete++
				return nil
			case err != nil:
				return err
			case changed:
				out.Rewritten++
				out.Discount, err = out.Discount.Add(d)
			}
			return err
		})
		if err != nil {
			return nil, out, fmt.Errorf("cart at %v: %w", s.Path, err)
		}
	}
	res, err := rw.finish(p, opt.Buffer)
	if err != nil {
		return nil, out, err
	}
	return res, out, nil
}

// begin indexes the parts of the body sh names and returns its data object.
func (rw *rewriter) begin(body []byte, sh shapeTable) (int32, error) {
	t := &rw.t
	if err := t.parseShape(body, sh); err != nil {
		return -1, err
	}
	if t.kind(0) != kindObject {
		return -1, errors.New("response is not an object")
	}
	if e := t.member(0, "errors"); t.kind(e) == kindArray && t.nodes[e].kids > 0 {
		rw.partial = true
	}
	data := t.member(0, "data")
	switch t.kind(data) {
	case kindObject:
		return data, nil
	case kindNull, 0:
		if rw.partial {
			return -1, ErrNullData
		}
		return -1, ErrNoData
	default:
		return -1, errors.New("data is not an object")
	}
}

// visit calls fn for every cart object at path below n, walking lists element by element.
func (rw *rewriter) visit(n int32, path []string, optional bool, fn func(int32) error) error {
	t := &rw.t
	switch t.kind(n) {
	case kindNull:
		return nil
	case kindArray:
		for c := t.first(n); c >= 0; c = t.nodes[c].next {
			if err := rw.visit(c, path, optional, fn); err != nil {
				return err
			}
		}
		return nil
	case kindObject:
		if len(path) == 0 {
			return fn(n)
		}
		m := t.member(n, path[0])
		if m < 0 {
			if optional {
				return nil
			}
			return fmt.Errorf("missing %q", path[0])
		}
		return rw.visit(m, path[1:], optional, fn)
	default:
		return fmt.Errorf("unexpected value at offset %d", t.offset(n))
	}
}

// cart rewrites one cart object and reports whether it changed and by how much.
func (rw *rewriter) cart(cart int32, rd *reads, prog *cartProg, eval Evaluator, opt *RewriteOptions) (bool, decimal.Decimal, error) {
	snap, prices, err := rw.snapshot(cart, rd, opt, true)
	if err != nil {
		return false, zero, err
	}
	var res *rules.Result
	if eval != nil {
		res = eval(snap)
	}
	if res == nil || res.Error != "" {
		return false, zero, nil
	}
	if len(res.Items) != len(snap.Items) {
		return false, zero, fmt.Errorf("evaluator returned %d items for %d", len(res.Items), len(snap.Items))
	}
	if !hasDiscount(res) {
		return false, zero, nil
	}
	var c calc
	rw.taxes = rw.taxes[:0]
	d := totals{res: res, currency: rw.currency(prices)}
	for _, it := range res.Items {
		d.items = c.add(d.items, it.Discount)
	}
	d.all = c.add(d.items, res.ShippingDiscount)
	if opt.TaxAfterDiscount {
		if d.tax, err = rw.rescaleTaxes(prices, snap, res, opt, &c); err != nil {
			return false, zero, err
		}
	}
	if c.err != nil {
		return false, zero, c.err
	}
	if err := rw.apply(cart, prog, &d); err != nil {
		return false, zero, err
	}
	return true, d.all, nil
}

func hasDiscount(res *rules.Result) bool {
	if !res.TotalDiscount.IsZero() || !res.ShippingDiscount.IsZero() {
		return true
	}
	for _, it := range res.Items {
		if !it.Discount.IsZero() {
			return true
		}
	}
	return false
}

// totals is the audience discount of one cart, ready to be written.
type totals struct {
	res      *rules.Result
	items    decimal.Decimal // Σ item discounts
	all      decimal.Decimal // items + shipping
	tax      decimal.Decimal // change of the tax total
	currency []byte          // raw JSON of the cart currency
}

// currency returns the raw JSON currency of the cart's prices, or nil.
func (rw *rewriter) currency(prices int32) []byte {
	t := &rw.t
	cur := t.member(t.member(prices, rw.rd.subtotal), rw.rd.currency)
	if t.kind(cur) != kindString {
		return nil
	}
	return t.raw(cur)
}
