package cartql

import (
	"errors"
	"fmt"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// productTypes maps Magento's cart item types to product type codes.
func productType(typename []byte) string {
	switch string(typename) {
	case "SimpleCartItem":
		return "simple"
	case "VirtualCartItem":
		return "virtual"
	case "ConfigurableCartItem":
		return "configurable"
	case "BundleCartItem":
		return "bundle"
	case "DownloadableCartItem":
		return "downloadable"
	case "GiftCardCartItem":
		return "giftcard"
	}
	return ""
}

// snapshot builds the engine's view of a cart from the facts at the keys rd names (the
// client's fields or hidden ones). It returns the cart's prices object too. With reuse, the
// cart and its items live in the rewriter and are valid until its next snapshot.
func (rw *rewriter) snapshot(cart int32, rd *reads, opt *RewriteOptions, reuse bool) (*rules.Cart, int32, error) {
	t := &rw.t
	rw.rd = rd
	items, prices := t.member(cart, rd.items), t.member(cart, rd.prices)
	coupons, ship := t.member(cart, rd.coupons), t.member(cart, rd.ship)
	if items < 0 || prices < 0 || coupons < 0 || ship < 0 {
		return nil, -1, errMissing
	}
	if err := expect(t, items, kindArray); err != nil {
		return nil, -1, err
	}
	if err := expect(t, prices, kindObject); err != nil {
		return nil, -1, err
	}
	rw.arena = rw.arena[:0]
	rw.items = rw.items[:0]
	rw.coupons = rw.coupons[:0]
	var snap *rules.Cart
	if reuse {
		rw.snap = rules.Cart{Store: opt.Store, Website: opt.Website, Items: rw.snap.Items[:0]}
		snap = &rw.snap
	} else {
		snap = &rules.Cart{Store: opt.Store, Website: opt.Website, Items: make([]rules.Item, 0, t.nodes[items].kids)}
	}
	for e := t.first(items); e >= 0; e = t.nodes[e].next {
		it, err := rw.item(e)
		if err != nil {
			return nil, -1, err
		}
		snap.Items = append(snap.Items, it)
	}
	currency := rw.arenaString(t.member(t.member(prices, rd.subtotal), rd.currency))
	if err := rw.appliedCoupons(coupons); err != nil {
		return nil, -1, err
	}
	var err error
	if snap.ShippingAmount, err = rw.shipping(ship); err != nil {
		return nil, -1, err
	}
	// One string for every text of the snapshot.
	all := string(rw.arena)
	sub := func(r ref) string { return all[r.off : r.off+r.n] }
	snap.Currency = sub(currency)
	for i := range snap.Items {
		snap.Items[i].SKU = sub(rw.items[i].sku)
	}
	if len(rw.coupons) > 0 {
		snap.Coupons = make([]string, len(rw.coupons))
		for i, r := range rw.coupons {
			snap.Coupons[i] = sub(r)
		}
	}
	return snap, prices, nil
}

// expect checks the kind of a value the rewrite reads: null means the cart is incomplete.
func expect(t *tape, n int32, kind byte) error {
	switch k := t.kind(n); k {
	case kind:
		return nil
	case kindNull:
		return errIncomplete
	case 0:
		return errMissing
	default:
		return fmt.Errorf("expected %s at offset %d", kindName(kind), t.offset(n))
	}
}

func kindName(kind byte) string {
	switch kind {
	case kindObject:
		return "an object"
	case kindArray:
		return "a list"
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindSkipped:
		return "a value the plan does not read"
	}
	return "another value"
}

// item reads one cart item.
func (rw *rewriter) item(e int32) (rules.Item, error) {
	t := &rw.t
	rd := rw.rd
	var it rules.Item
	if err := expect(t, e, kindObject); err != nil {
		return it, err
	}
	h := hiddenItem{uid: t.member(e, rd.uid)}
	if tn := t.member(e, rd.typename); t.kind(tn) == kindString {
		h.typename = t.src[t.nodes[tn].start+1 : t.nodes[tn].end-1]
	}
	if err := expect(t, h.uid, kindString); err != nil {
		return it, err
	}
	it.ProductType = productType(h.typename)
	product := t.member(e, rd.product)
	if err := expect(t, product, kindObject); err != nil {
		return it, err
	}
	// The item's product: a configurable item's parent, as clients and the demo store's
	// reference see it.
	sku := t.member(product, rd.sku)
	if err := expect(t, sku, kindString); err != nil {
		return it, err
	}
	h.sku = rw.arenaString(sku)
	var err error
	if it.Qty, err = rw.number(e, rd.quantity); err != nil {
		return it, err
	}
	prices := t.member(e, rd.itemPrices)
	if err := expect(t, prices, kindObject); err != nil {
		return it, err
	}
	if it.Price, err = rw.money(prices, rd.price, rd.priceValue); err != nil {
		return it, err
	}
	if it.RowTotal, err = rw.money(prices, rd.rowTotal, rd.rowTotalValue); err != nil {
		return it, err
	}
	discount := t.member(prices, rd.itemDiscount)
	if err := expect(t, discount, kindObject); err != nil {
		return it, err
	}
	h.node, h.prices, h.discountValue = e, prices, t.member(discount, rd.itemDiscountValue)
	if it.Discount, err = rw.numberAt(h.discountValue); err != nil {
		return it, err
	}
	rw.items = append(rw.items, h)
	return it, nil
}

// number reads the number obj.key.
func (rw *rewriter) number(obj int32, key string) (decimal.Decimal, error) {
	return rw.numberAt(rw.t.member(obj, key))
}

// numberAt reads the number at member n (-1 when missing).
func (rw *rewriter) numberAt(n int32) (decimal.Decimal, error) {
	if err := expect(&rw.t, n, kindNumber); err != nil {
		return zero, err
	}
	return parseNumber(&rw.t, n)
}

// money reads the Money obj.key.value (value under the key valueKey).
func (rw *rewriter) money(obj int32, key, valueKey string) (decimal.Decimal, error) {
	m := rw.t.member(obj, key)
	if err := expect(&rw.t, m, kindObject); err != nil {
		return zero, err
	}
	return rw.number(m, valueKey)
}

// appliedCoupons reads the applied_coupons; Magento answers null when there are none.
func (rw *rewriter) appliedCoupons(n int32) error {
	t := &rw.t
	if t.kind(n) == kindNull {
		return nil
	}
	if err := expect(t, n, kindArray); err != nil {
		return err
	}
	for c := t.first(n); c >= 0; c = t.nodes[c].next {
		if t.kind(c) == kindNull {
			continue
		}
		code := t.member(c, rw.rd.code)
		if err := expect(t, code, kindString); err != nil {
			return err
		}
		rw.coupons = append(rw.coupons, rw.arenaString(code))
	}
	return nil
}

// shipping sums the selected shipping methods of the shipping addresses. Magento
// answers a list; null comes from an error (then the cart is incomplete) or from a backend
// that has no addresses.
func (rw *rewriter) shipping(n int32) (decimal.Decimal, error) {
	t := &rw.t
	total := zero
	if t.kind(n) == kindNull {
		if rw.partial {
			return total, errIncomplete
		}
		return total, nil
	}
	if err := expect(t, n, kindArray); err != nil {
		return total, err
	}
	for a := t.first(n); a >= 0; a = t.nodes[a].next {
		m := t.member(a, rw.rd.method)
		if t.kind(m) != kindObject {
			continue
		}
		amount := t.member(m, rw.rd.shipAmount)
		if t.kind(amount) != kindObject {
			continue
		}
		v, err := rw.number(amount, rw.rd.shipValue)
		if err != nil {
			return total, err
		}
		if total, err = total.Add(v); err != nil {
			return total, fmt.Errorf("shipping amount: %w", err)
		}
	}
	return total, nil
}

// arenaString copies the content of string node n into the arena; anything else is "".
func (rw *rewriter) arenaString(n int32) ref {
	t := &rw.t
	r := ref{off: int32(len(rw.arena))}
	if t.kind(n) != kindString {
		return r
	}
	nd := &t.nodes[n]
	if nd.esc {
		s, _ := unquote(t.raw(n))
		rw.arena = append(rw.arena, s...)
	} else {
		rw.arena = append(rw.arena, t.src[nd.start+1:nd.end-1]...)
	}
	r.n = int32(len(rw.arena)) - r.off
	return r
}

// CartSnapshot is a cart of a response as the rule engine sees it.
type CartSnapshot struct {
	// Site is the index of the cart's site in Plan.Sites.
	Site int
	// Cart is the snapshot built from the cart's facts.
	Cart rules.Cart
	// CartID is the masked cart id (Cart.id), "" when the response does not carry it.
	CartID string
}

// Snapshots returns the complete carts of a response (to the augmented query) without
// rewriting anything, for callers that decide from the cart (its coupons, its items) rather
// than rewrite it. Carts made incomplete by GraphQL errors are left out.
func (p *Plan) Snapshots(body []byte, opt RewriteOptions) ([]CartSnapshot, error) {
	if !p.HasCart() {
		return nil, nil
	}
	ix := p.Index(body)
	defer ix.Release()
	return ix.Snapshots(opt)
}

// Indexed is an answer to a plan with carts, indexed once: Snapshots and Rewrite read it
// without parsing it again (the cart pins and the gate read the carts before the rewrite
// prices them). Release it once done; what its methods returned stays valid.
type Indexed struct {
	p    *Plan
	rw   *rewriter
	data int32 // the data object
	err  error // the answer could not be read: Snapshots and Rewrite return it
	used bool  // Rewrite ran: its edits are in rw
}

// Index indexes an answer to the plan, which must have carts. An answer that cannot be read
// gives an index whose Snapshots and Rewrite fail as Plan.Snapshots and Plan.Rewrite would.
func (p *Plan) Index(body []byte) *Indexed {
	if !p.HasCart() {
		return &Indexed{err: errors.New("the operation has no cart")}
	}
	rw := getRewriter()
	data, err := rw.begin(body, p.shape)
	if err != nil {
		putRewriter(rw)
		return &Indexed{err: err}
	}
	rw.ix = Indexed{p: p, rw: rw, data: data} // pooled with rw: no allocation per answer
	return &rw.ix
}

// Release hands the index back for reuse; ix must not be used afterwards. A nil ix is fine.
func (ix *Indexed) Release() {
	if ix != nil && ix.rw != nil {
		rw := ix.rw
		ix.rw = nil
		putRewriter(rw)
	}
}

// Rewrite is Plan.Rewrite of the indexed body. It runs once per index.
func (ix *Indexed) Rewrite(variables map[string]any, eval Evaluator, opt RewriteOptions) ([]byte, Outcome, error) {
	switch {
	case ix.err != nil:
		return nil, Outcome{}, ix.err
	case ix.used:
		return nil, Outcome{}, errors.New("cartql: Indexed.Rewrite ran twice")
	}
	ix.used = true
	return ix.p.rewriteIndexed(ix.rw, ix.data, variables, eval, opt)
}

// Snapshots is Plan.Snapshots of the indexed body.
func (ix *Indexed) Snapshots(opt RewriteOptions) ([]CartSnapshot, error) {
	if ix.err != nil {
		return nil, ix.err
	}
	p, rw, data := ix.p, ix.rw, ix.data
	var out []CartSnapshot
	for i, s := range p.sites {
		err := rw.visit(data, s.Path, s.optional, func(cart int32) error {
			snap, _, err := rw.snapshot(cart, &s.reads, &opt, false)
			switch {
			case errors.Is(err, errIncomplete) && rw.partial:
				return nil
			case err != nil:
				return err
			}
			out = append(out, CartSnapshot{Site: i, Cart: *snap, CartID: rw.t.str(rw.t.member(cart, s.reads.id))})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cart at %v: %w", s.Path, err)
		}
	}
	return out, nil
}
