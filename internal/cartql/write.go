package cartql

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/internal/fastdec"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// apply writes the cart's audience discount into every field the client selected.
func (rw *rewriter) apply(cart int32, prog *cartProg, d *totals) error {
	t := &rw.t
	for i := range prog.prices {
		pp := &prog.prices[i]
		n, err := rw.client(cart, pp.key, kindObject)
		if err != nil {
			return err
		}
		if n < 0 {
			continue
		}
		if err := rw.prices(n, pp, d); err != nil {
			return err
		}
	}
	for i := range prog.items {
		ip := &prog.items[i]
		list, err := rw.client(cart, ip.key, kindArray)
		if err != nil {
			return err
		}
		if list < 0 {
			continue
		}
		if t.nodes[list].kids != int32(len(rw.items)) {
			return fmt.Errorf("%q has %d items, the hidden list %d", ip.key, t.nodes[list].kids, len(rw.items))
		}
		k := 0
		for c := t.first(list); c >= 0; c, k = t.nodes[c].next, k+1 {
			if err := rw.clientItem(c, ip, k, d); err != nil {
				return err
			}
		}
	}
	for i := range prog.itemsV2 {
		if err := rw.itemsV2(cart, &prog.itemsV2[i], d); err != nil {
			return err
		}
	}
	return nil
}

// client returns the client's value obj.key: -1 when it is null, an error when it is missing
// or of another kind.
func (rw *rewriter) client(obj int32, key string, kind byte) (int32, error) {
	t := &rw.t
	n := t.member(obj, key)
	switch t.kind(n) {
	case kind:
		return n, nil
	case kindNull:
		return -1, nil
	case 0:
		return -1, fmt.Errorf("missing %q", key)
	default:
		return -1, fmt.Errorf("unexpected value of %q at offset %d", key, t.offset(n))
	}
}

func (rw *rewriter) prices(n int32, pp *pricesProg, d *totals) error {
	neg := d.all.Neg()
	var c calc
	taxed := c.add(neg, d.tax)
	if c.err != nil {
		return c.err
	}
	if err := rw.shiftMoney(n, pp.grandTotal, taxed); err != nil {
		return err
	}
	if err := rw.shiftMoney(n, pp.grandTotalExcludingTax, neg); err != nil {
		return err
	}
	if err := rw.shiftMoney(n, pp.subtotalWithDiscountExc, neg); err != nil {
		return err
	}
	for i := range pp.discounts {
		if err := rw.cartDiscounts(n, &pp.discounts[i], d); err != nil {
			return err
		}
	}
	for i := range pp.discount {
		if err := rw.deprecatedDiscount(n, &pp.discount[i], d); err != nil {
			return err
		}
	}
	for i := range pp.taxes {
		if err := rw.appliedTaxes(n, &pp.taxes[i]); err != nil {
			return err
		}
	}
	return nil
}

// shiftMoney adds delta to every selected Money.value under obj.
func (rw *rewriter) shiftMoney(obj int32, progs []moneyProg, delta decimal.Decimal) error {
	return rw.eachMoneyValue(obj, progs, func(v int32) error { return rw.shiftNumber(v, delta) })
}

// shiftNumber adds delta to the number v.
func (rw *rewriter) shiftNumber(v int32, delta decimal.Decimal) error {
	old, err := parseNumber(&rw.t, v)
	if err != nil {
		return err
	}
	nv, ok := fastdec.Add(old, delta)
	if !ok {
		if nv, err = old.Add(delta); err != nil {
			return fmt.Errorf("decimal arithmetic: %w", err)
		}
	}
	rw.replaceNumber(v, nv)
	return nil
}

// readDiscount reports whether a prices program writes exactly the item discount value the
// snapshot read, the client's total_item_discount { value } under the read prices key.
func (rd *reads) readDiscount(pp *itemPricesProg) bool {
	return pp.key == rd.itemPrices && len(pp.total) == 1 && pp.total[0].key == rd.itemDiscount &&
		len(pp.total[0].values) == 1 && pp.total[0].values[0] == rd.itemDiscountValue
}

// eachMoneyValue calls fn with every non-null Money.value number the programs select.
func (rw *rewriter) eachMoneyValue(obj int32, progs []moneyProg, fn func(v int32) error) error {
	for i := range progs {
		m, err := rw.client(obj, progs[i].key, kindObject)
		if err != nil {
			return err
		}
		if m < 0 {
			continue
		}
		for _, key := range progs[i].values {
			v := rw.t.member(m, key)
			switch rw.t.kind(v) {
			case kindNull:
				continue
			case 0:
				return fmt.Errorf("missing %q", key)
			}
			if err := fn(v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (rw *rewriter) replaceNumber(v int32, d decimal.Decimal) {
	mark := rw.ed.mark()
	rw.ed.scratch = appendMoney(rw.ed.scratch, d)
	nd := &rw.t.nodes[v]
	if bytes.Equal(rw.ed.scratch[mark:], rw.t.src[nd.start:nd.end]) {
		rw.ed.scratch = rw.ed.scratch[:mark]
		return
	}
	rw.ed.add(nd.start, nd.end, mark)
}

// list returns the client's Discount list obj.key (an array or null).
func (rw *rewriter) list(obj int32, key string) (int32, error) {
	t := &rw.t
	n := t.member(obj, key)
	switch t.kind(n) {
	case kindArray, kindNull:
		return n, nil
	case 0:
		return -1, fmt.Errorf("missing %q", key)
	default:
		return -1, fmt.Errorf("unexpected value of %q at offset %d", key, t.offset(n))
	}
}

// cartDiscounts appends one entry per audience rule to CartPrices.discounts.
func (rw *rewriter) cartDiscounts(obj int32, lp *listProg, d *totals) error {
	n, err := rw.list(obj, lp.key)
	if err != nil {
		return err
	}
	mark := rw.ed.openList(&rw.t, n)
	count := 0
	for _, cd := range d.res.Discounts {
		if !cd.Amount.IsPos() {
			continue
		}
		if count > 0 {
			rw.ed.scratch = append(rw.ed.scratch, ',')
		}
		v := entryValues{label: labelOf(cd.Label), appliedTo: cd.AppliedTo, amount: cd.Amount, currency: d.currency}
		if v.appliedTo == "" {
			v.appliedTo = rules.AppliedToItem
		}
		rw.ed.scratch = lp.entry.render(rw.ed.scratch, &v)
		count++
	}
	rw.closeList(n, mark, count)
	return nil
}

func (rw *rewriter) closeList(n, mark int32, count int) {
	if count == 0 {
		rw.ed.scratch = rw.ed.scratch[:mark]
		return
	}
	rw.ed.closeList(&rw.t, n, mark)
}

// labelOf is Magento's fallback for a rule without a label.
func labelOf(label string) string {
	if label == "" {
		return "Discount"
	}
	return label
}

// deprecatedDiscount updates CartPrices.discount: a negative amount and the label list.
func (rw *rewriter) deprecatedDiscount(obj int32, dp *discountProg, d *totals) error {
	t := &rw.t
	n := t.member(obj, dp.key)
	switch t.kind(n) {
	case 0:
		return fmt.Errorf("missing %q", dp.key)
	case kindNull:
		v := entryValues{amount: d.all.Neg(), currency: d.currency, labels: rw.newLabels(d.res, -1)}
		mark := rw.ed.mark()
		rw.ed.scratch = dp.object.render(rw.ed.scratch, &v)
		rw.ed.add(t.nodes[n].start, t.nodes[n].end, mark)
		return nil
	case kindObject:
	default:
		return fmt.Errorf("unexpected value of %q at offset %d", dp.key, t.offset(n))
	}
	if err := rw.shiftMoney(n, dp.amount, d.all.Neg()); err != nil {
		return err
	}
	for _, key := range dp.labels {
		l, err := rw.list(n, key)
		if err != nil {
			return err
		}
		mark := rw.ed.openList(t, l)
		labels := rw.newLabels(d.res, l)
		for i, s := range labels {
			if i > 0 {
				rw.ed.scratch = append(rw.ed.scratch, ',')
			}
			rw.ed.scratch = appendJSONString(rw.ed.scratch, s)
		}
		rw.closeList(l, mark, len(labels))
	}
	return nil
}

// newLabels lists what the audience rules add to the backend's label list (the node shown, or
// -1): Magento's discount description names each rule that took something off once, even one
// whose shipping part is not listed, leaves out a label it already shows (array_unique) and
// is split on ", " (explode).
func (rw *rewriter) newLabels(res *rules.Result, shown int32) []string {
	rw.labels = rw.labels[:0]
	added := 0 // whole labels added so far
	for _, a := range res.Applied {
		if !a.Amount.IsPos() {
			continue
		}
		label := labelOf(a.Label)
		if rw.shows(shown, label) || slices.Contains(rw.labels[:added], label) {
			continue
		}
		// Whole labels first, for the checks above; their pieces follow them.
		rw.labels = append(rw.labels, label)
		added++
	}
	for _, label := range rw.labels[:added] {
		for piece := range strings.SplitSeq(label, ", ") {
			rw.labels = append(rw.labels, piece)
		}
	}
	return rw.labels[added:]
}

// shows reports whether the backend's label list l (or -1) holds label.
func (rw *rewriter) shows(l int32, label string) bool {
	if l < 0 || rw.t.kind(l) != kindArray {
		return false
	}
	for c := rw.t.first(l); c >= 0; c = rw.t.nodes[c].next {
		if rw.t.str(c) == label {
			return true
		}
	}
	return false
}

// appliedTaxes writes the rescaled tax amounts; a tax that drops to zero leaves the list, as
// the backend lists only taxes it charges.
func (rw *rewriter) appliedTaxes(obj int32, tp *taxProg) error {
	t := &rw.t
	n, err := rw.client(obj, tp.key, kindArray)
	if err != nil || n < 0 || len(rw.taxes) == 0 {
		return err // null, or no rescaled taxes: the taxes stay
	}
	if t.nodes[n].kids != int32(len(rw.taxes)) {
		return fmt.Errorf("%q has %d entries, the hidden list %d", tp.key, t.nodes[n].kids, len(rw.taxes))
	}
	j := 0
	for c := t.first(n); c >= 0; c, j = t.nodes[c].next, j+1 {
		tl := rw.taxes[j]
		if tl.new.Cmp(tl.old) == 0 || rw.dropTax(tl) || t.kind(c) != kindObject {
			continue
		}
		err := rw.eachMoneyValue(c, tp.amount, func(v int32) error {
			rw.replaceNumber(v, tl.new)
			return nil
		})
		if err != nil {
			return err
		}
	}
	j = 0
	rw.ed.removeKids(t, n, func(int32) bool {
		drop := rw.dropTax(rw.taxes[j])
		j++
		return drop
	})
	return nil
}

func (rw *rewriter) dropTax(tl taxLine) bool { return tl.new.IsZero() && !tl.old.IsZero() }

// clientItem writes the audience discount of hidden item k into the client's item c.
func (rw *rewriter) clientItem(c int32, ip *itemsProg, k int, d *totals) error {
	t := &rw.t
	if t.kind(c) != kindObject {
		return nil
	}
	prog := ip.forType(rw.items[k].typename)
	r := &d.res.Items[k]
	if prog == nil || !r.Discount.IsPos() {
		return nil
	}
	h := &rw.items[k]
	for i := range prog.prices {
		pp := &prog.prices[i]
		var pn int32
		if c == h.node && rw.rd.readDiscount(pp) {
			// The item's prices and discount value, where the snapshot read them.
			pn = h.prices
			if err := rw.shiftNumber(h.discountValue, r.Discount); err != nil {
				return err
			}
		} else {
			var err error
			if pn, err = rw.client(c, pp.key, kindObject); err != nil {
				return err
			}
			if pn < 0 {
				continue
			}
			if err := rw.shiftMoney(pn, pp.total, r.Discount); err != nil {
				return err
			}
		}
		for j := range pp.discounts {
			if err := rw.itemDiscounts(pn, &pp.discounts[j], r, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// itemDiscounts appends one entry per audience rule to CartItemPrices.discounts.
func (rw *rewriter) itemDiscounts(obj int32, lp *listProg, r *rules.ItemResult, d *totals) error {
	n, err := rw.list(obj, lp.key)
	if err != nil {
		return err
	}
	mark := rw.ed.openList(&rw.t, n)
	count := 0
	for _, rd := range r.Discounts {
		if !rd.Amount.IsPos() {
			continue
		}
		if count > 0 {
			rw.ed.scratch = append(rw.ed.scratch, ',')
		}
		v := entryValues{label: labelOf(rd.Label), appliedTo: rules.AppliedToItem, amount: rd.Amount, currency: d.currency}
		rw.ed.scratch = lp.entry.render(rw.ed.scratch, &v)
		count++
	}
	rw.closeList(n, mark, count)
	return nil
}

// itemsV2 matches the items of the client's pages to the complete list by their uids.
func (rw *rewriter) itemsV2(cart int32, vp *itemsV2Prog, d *totals) error {
	t := &rw.t
	client, err := rw.client(cart, vp.key, kindObject)
	if err != nil || client < 0 {
		return err
	}
	for i := range vp.items {
		ip := &vp.items[i]
		list, err := rw.client(client, ip.key, kindArray)
		if err != nil {
			return err
		}
		if list < 0 {
			continue
		}
		hint := 0
		for c := t.first(list); c >= 0; c = t.nodes[c].next {
			if t.kind(c) != kindObject {
				continue
			}
			uid := t.member(c, vp.uids[i])
			if uid < 0 {
				return errMissing
			}
			k := rw.findItem(uid, hint)
			if k < 0 {
				continue
			}
			hint = k + 1
			if err := rw.clientItem(c, ip, k, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// findItem returns the index of the hidden item with this uid, searching from hint first.
func (rw *rewriter) findItem(uid int32, hint int) int {
	t := &rw.t
	if t.kind(uid) != kindString {
		return -1
	}
	want := t.raw(uid)
	n := len(rw.items)
	for i := 0; i < n; i++ {
		k := (hint + i) % n
		if bytes.Equal(t.raw(rw.items[k].uid), want) {
			return k
		}
	}
	return -1
}

// remapLocations maps the error's locations back to the client's query.
func (rw *rewriter) remapLocations(e int32, ins []insertion) {
	t := &rw.t
	locs := t.member(e, "locations")
	if len(ins) == 0 || t.kind(locs) != kindArray {
		return
	}
	for l := t.first(locs); l >= 0; l = t.nodes[l].next {
		line, col := t.member(l, "line"), t.member(l, "column")
		if t.kind(line) != kindNumber || t.kind(col) != kindNumber {
			continue
		}
		ln, err1 := strconv.Atoi(string(t.raw(line)))
		cn, err2 := strconv.Atoi(string(t.raw(col)))
		if err1 != nil || err2 != nil {
			continue
		}
		if m := remapColumn(ins, ln, cn); m != cn {
			mark := rw.ed.mark()
			rw.ed.scratch = strconv.AppendInt(rw.ed.scratch, int64(m), 10)
			rw.ed.add(t.nodes[col].start, t.nodes[col].end, mark)
		}
	}
}
