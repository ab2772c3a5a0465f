// Evaluation: Magento's SalesRule loop over rules and items with its rounding deltas, budgets
// and stop-further-rules, in one file (over 500 lines) because the steps share one state.

package rules

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/internal/fastdec"
)

// Evaluate applies the rules to a cart for a shopper with the given segments at the given
// time (zero means now), with a trace of every rule. Segments should be sorted and
// de-duplicated (as membership normalization produces them); other input is normalized
// at a small cost.
func (rs *RuleSet) Evaluate(cart *Cart, segments []string, at time.Time) *Result {
	return rs.EvaluateWith(cart, segments, at, EvalOptions{})
}

// EvaluateWith is Evaluate with options; serving traffic usually wants TraceOff.
func (rs *RuleSet) EvaluateWith(cart *Cart, segments []string, at time.Time, opts EvalOptions) *Result {
	e, cands, err := rs.start(cart, segments, at)
	defer e.release()
	if err == nil {
		e.run(cands)
		err = e.calc.err
	}
	if err != nil {
		return invalidResult(e.cart, err)
	}
	return e.result(cands, opts)
}

// Qualifying returns the enforced rules the shopper qualifies for: the rule is active and
// in its dates, its audience, scopes and conditions match, and some item matches its item
// filter (when it has one).
func (rs *RuleSet) Qualifying(cart *Cart, segments []string, at time.Time) []EnforcedRule {
	e, cands, err := rs.start(cart, segments, at)
	defer e.release()
	if err != nil {
		return nil
	}
	var out []EnforcedRule
	for _, ri := range cands {
		r := rs.rules[ri]
		if r.Enforce == nil {
			continue
		}
		var o outcome
		if o.reason = r.timeReason(e); o.reason == "" {
			o.reason = r.scopeReason(e.cart)
		}
		if o.reason == "" {
			e.qualify(r, &o)
		}
		if o.applied {
			out = append(out, r.enforced())
		}
	}
	return out
}

// outcome is what happened to one candidate rule.
type outcome struct {
	applied    bool
	reason     string
	label      string // set once the rule discounts something
	itemsTotal cents
	ship       cents
	// shipUnlisted: the shipping part did not fit in the shipping amount uncapped, so
	// Magento takes it off without listing it (Validator::processShippingAmount).
	shipUnlisted bool
}

type itemState struct {
	disc      cents           // every discount on the row so far: backend's and rules'
	left      cents           // what is left of the row: max(0, row − disc)
	ours      cents           // the audience rules' part of disc
	pct       decimal.Decimal // Magento's discount_percent: accumulated by_percent rates
	stoppedBy int32           // rule that stopped further rules on the item, or -1
	nEntries  int32
	delta     int32 // 1 + the index in scratch.deltas of pct's delta; 0: not looked up since pct changed
}

type entry struct {
	item   int32
	cand   int32 // index into the candidate list
	amount cents
}

// pctDelta is a running rounding delta keyed by an item's discount percent (Magento's
// Validator\Utility::deltaRoundingFix).
type pctDelta struct {
	key   decimal.Decimal
	delta decimal.Decimal
}

// scratch holds one evaluation's working memory; it is pooled.
type scratch struct {
	views    []itemView
	items    []itemState
	order    []int32
	sorted   []bool
	elig     []int32
	basis    []decimal.Decimal
	entries  []entry
	outcomes []outcome
	deltas   []pctDelta
	ev       evaluator
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

type evaluator struct {
	rs          *RuleSet
	cands       []int32
	cart        *Cart
	at          time.Time
	s           *scratch
	cv          cartView
	calc        calc
	shipping    cents
	shipDisc    cents
	shipStopped bool
}

func (rs *RuleSet) start(cart *Cart, segments []string, at time.Time) (*evaluator, []int32, error) {
	if cart == nil {
		cart = &Cart{}
	}
	if at.IsZero() {
		at = time.Now()
	}
	s := scratchPool.Get().(*scratch)
	e := &s.ev
	*e = evaluator{rs: rs, cart: cart, at: at, s: s}
	cands := rs.index.candidates(normalizeSegments(segments))
	return e, cands, e.prepare()
}

func (e *evaluator) release() {
	s := e.s
	clear(s.views) // drop string references
	s.views, s.items, s.order, s.sorted = s.views[:0], s.items[:0], s.order[:0], s.sorted[:0]
	s.elig, s.basis, s.entries, s.outcomes, s.deltas = s.elig[:0], s.basis[:0], s.entries[:0], s.outcomes[:0], s.deltas[:0]
	s.ev = evaluator{}
	scratchPool.Put(s)
}

// prepare validates the cart and computes what conditions see.
func (e *evaluator) prepare() error {
	c, s := e.cart, e.s
	n := len(c.Items)
	if err := checkAmount("shipping_amount", c.ShippingAmount, maxAmount); err != nil {
		return err
	}
	// Magento keeps rows, discounts and shipping in cents; so does the engine.
	e.shipping = toCents(round2(c.ShippingAmount))
	s.views = grow(s.views, n)
	s.items = grow(s.items, n)
	s.sorted = grow(s.sorted, n)
	e.cv = cartView{currency: c.Currency, store: c.Store, coupons: c.Coupons, items: s.views}
	for i := range c.Items {
		it := &c.Items[i]
		row := it.RowTotal
		if row.IsZero() {
			row = e.calc.mul(it.Qty, it.Price)
		}
		if err := checkItem(i, it, row); err != nil {
			return err
		}
		ptype := it.ProductType
		if ptype == "" {
			ptype = "simple"
		}
		row = round2(row)
		s.views[i] = itemView{sku: it.SKU, ptype: ptype, qty: it.Qty, price: it.Price, row: row}
		rowC, disc := toCents(row), toCents(round2(it.Discount))
		s.items[i] = itemState{disc: disc, left: max(0, rowC-disc), stoppedBy: -1}
		s.sorted[i] = false
		e.cv.subtotal = e.calc.add(e.cv.subtotal, row)
		e.cv.totalQty = e.calc.add(e.cv.totalQty, it.Qty)
	}
	e.cv.itemsCount = decimal.MustNew(int64(n), 0)
	return e.calc.err
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func checkItem(i int, it *Item, row decimal.Decimal) error {
	err := checkAmount("qty", it.Qty, maxQty)
	if err == nil {
		err = checkAmount("price", it.Price, maxAmount)
	}
	if err == nil {
		err = checkAmount("row_total", row, maxAmount)
	}
	if err == nil {
		err = checkAmount("discount", it.Discount, maxAmount)
	}
	if err != nil {
		return fmt.Errorf("items[%d].%w", i, err)
	}
	return nil
}

func checkAmount(name string, v, limit decimal.Decimal) error {
	if !v.IsNeg() && limit.Scale() == 0 && v.Coef() <= limit.Coef() {
		return nil // no larger than the (integer) limit at any scale: no alignment needed
	}
	if v.IsNeg() || cmpDec(v, limit) > 0 {
		return fmt.Errorf("%s: %s is out of range [0, %s]", name, v, limit)
	}
	return nil
}

// run evaluates the candidate rules in order, as Magento's Discount collector does: the
// outer loop over rules, the inner loop over items.
func (e *evaluator) run(cands []int32) {
	s := e.s
	e.cands = cands
	s.outcomes = grow(s.outcomes, len(cands))
	for k, ri := range cands {
		r := e.rs.rules[ri]
		o := outcome{}
		if o.reason = r.timeReason(e); o.reason == "" {
			o.reason = r.scopeReason(e.cart)
		}
		if o.reason == "" {
			o.reason = r.couponReason(e.cart)
		}
		s.outcomes[k] = o
	}
	e.sortItems(cands)
	for k, ri := range cands {
		o := &s.outcomes[k]
		if o.reason != "" {
			continue
		}
		r := e.rs.rules[ri]
		if r.Enforce != nil {
			e.qualify(r, o)
			continue
		}
		if !r.cond.evalCart(&e.cv) {
			o.reason = ReasonConditionsFalse
			continue
		}
		e.apply(int32(k), r, o)
		if o.applied {
			o.label = r.label(e.cart.Store)
		}
	}
}

// sortItems orders items as Magento's Validator::sortItemsByPriority: items matching the
// first applicable rule's item filter first, then those of the next rule, and so on. The
// order decides how rounding deltas travel and which item is last for cart_fixed.
func (e *evaluator) sortItems(cands []int32) {
	s := e.s
	n := len(s.views)
	s.order = s.order[:0]
	for k, ri := range cands {
		if len(s.order) == n {
			break
		}
		r := e.rs.rules[ri]
		if s.outcomes[k].reason != "" || r.Enforce != nil {
			continue
		}
		for i := range n {
			if !s.sorted[i] && r.items.evalItem(&s.views[i]) {
				s.sorted[i] = true
				s.order = append(s.order, int32(i))
			}
		}
	}
	for i := range n {
		if !s.sorted[i] {
			s.order = append(s.order, int32(i))
		}
	}
}

// qualify decides an enforced rule: it never discounts, it only qualifies or not.
func (e *evaluator) qualify(r *rule, o *outcome) {
	if !r.cond.evalCart(&e.cv) {
		o.reason = ReasonConditionsFalse
		return
	}
	if r.items != nil {
		found := false
		for i := range e.s.views {
			if r.items.evalItem(&e.s.views[i]) {
				found = true
				break
			}
		}
		if !found {
			o.reason = ReasonNoEligibleItems
			return
		}
	}
	o.applied = true
}

// apply runs one rule (candidate k) whose conditions hold.
func (e *evaluator) apply(k int32, r *rule, o *outcome) {
	s := e.s
	a := r.Action
	s.elig = s.elig[:0]
	stoppedBy := int32(-1)
	for _, i := range s.order {
		v := &s.views[i]
		if !r.items.evalItem(v) {
			continue
		}
		if st := s.items[i].stoppedBy; st >= 0 {
			if stoppedBy < 0 {
				stoppedBy = st
			}
			continue
		}
		if skipForStep(a, v.qty) {
			continue
		}
		s.elig = append(s.elig, i)
	}

	if a.Type == CartFixed {
		e.cartFixed(k, r, o)
	} else {
		for _, i := range s.elig {
			e.record(i, k, o, toCents(e.itemAmount(r, i)))
		}
		if a.ApplyToShipping && !e.shipStopped {
			e.shippingDiscount(r, o)
		}
	}
	if r.StopFurtherRules {
		ri := e.cands[k]
		for _, i := range s.elig {
			s.items[i].stoppedBy = ri
		}
		if a.ApplyToShipping {
			// Magento's processShippingAmount stops at such a rule.
			e.shipStopped = true
		}
	}

	switch {
	case o.itemsTotal > 0 || o.ship > 0:
		o.applied = true
	case len(s.elig) == 0 && stoppedBy >= 0:
		o.reason = e.rs.rules[stoppedBy].stoppedBy
	case len(s.elig) == 0:
		o.reason = ReasonNoEligibleItems
	case a.Type == CartFixed && !a.Amount.Trunc(2).IsPos():
		o.reason = ReasonBudgetExhausted
	default:
		o.reason = ReasonZeroDiscount
	}
}

// skipForStep mirrors the Discount collector: by_percent and by_fixed skip items with fewer
// units than the step, buy_x_get_y skips items with at most X units.
func skipForStep(a *Action, qty decimal.Decimal) bool {
	switch a.Type {
	case ByPercent, ByFixed:
		return cmpDec(a.Step, qty) > 0
	case BuyXGetY:
		return cmpDec(a.Step, qty) >= 0
	}
	return false
}

// discountQty is the quantity a rule discounts on an item: limited by max_qty (Magento's
// discount_qty).
func discountQty(a *Action, qty decimal.Decimal) decimal.Decimal {
	if a.MaxQty.IsPos() && cmpDec(a.MaxQty, qty) < 0 {
		return a.MaxQty
	}
	return qty
}

// itemAmount computes a by_percent, by_fixed or buy_x_get_y discount for one item, rounded
// with Magento's per-percent delta.
func (e *evaluator) itemAmount(r *rule, i int32) decimal.Decimal {
	c := &e.calc
	v, st, a := &e.s.views[i], &e.s.items[i], r.Action
	q := discountQty(a, v.qty)
	var raw decimal.Decimal
	switch a.Type {
	case ByPercent:
		if a.Step.IsPos() {
			q = c.mul(c.floorDiv(q, a.Step), a.Step)
		}
		prev := st.disc.dec()
		if cmpDec(q, v.qty) < 0 && v.qty.IsPos() {
			prev = c.mulDiv(prev, q, v.qty) // the discounted units' share
		}
		raw = clampZero(c.mul(c.sub(c.mul(q, v.price), prev), r.pctRatio))
		if a.MaxQty.IsZero() || cmpDec(a.MaxQty, q) > 0 {
			st.pct, st.delta = fastdec.Min(c.add(st.pct, a.Amount), hundred), 0
		}
	case ByFixed:
		if a.Step.IsPos() {
			q = c.mul(c.floorDiv(q, a.Step), a.Step)
		}
		raw = c.mul(q, a.Amount)
	case BuyXGetY:
		raw = c.mul(e.freeUnits(a, q), v.price)
	}
	return e.deltaRound(raw, i)
}

// deltaRound rounds an item amount, carrying the rounding remainder to the next item with the
// same accumulated discount percent, as Magento's deltaRoundingFix.
func (e *evaluator) deltaRound(raw decimal.Decimal, i int32) decimal.Decimal {
	st := &e.s.items[i]
	if st.pct.IsZero() || !e.s.views[i].row.IsPos() {
		return round2(raw)
	}
	if st.delta == 0 {
		st.delta = e.delta(st.pct) + 1
	}
	return e.calc.carryRound(raw, &e.s.deltas[st.delta-1].delta)
}

// delta returns the index of the running delta for the discount percent key.
func (e *evaluator) delta(key decimal.Decimal) int32 {
	// Trimmed decimals have one representation per value, so == compares values cheaply.
	key = key.Trim(0)
	for k := range e.s.deltas {
		if e.s.deltas[k].key == key {
			return int32(k)
		}
	}
	e.s.deltas = append(e.s.deltas, pctDelta{key: key})
	return int32(len(e.s.deltas) - 1)
}

// remaining is what is left of an item's row after every discount so far.
func (e *evaluator) remaining(i int32) cents {
	return e.s.items[i].left
}

// record caps an amount at the item's remaining row and books it.
func (e *evaluator) record(i, k int32, o *outcome, amount cents) {
	st := &e.s.items[i]
	amount = min(max(amount, 0), st.left)
	if amount <= 0 {
		return
	}
	st.left -= amount
	st.disc += amount
	st.ours += amount
	st.nEntries++
	o.itemsTotal += amount
	e.s.entries = append(e.s.entries, entry{item: i, cand: k, amount: amount})
}

// cartFixed shares the rule's amount over the eligible items in proportion to what is left
// of them, with a running rounding delta; the last item takes what is left of the budget. With
// apply_to_shipping, shipping takes its proportional share first.
func (e *evaluator) cartFixed(k int32, r *rule, o *outcome) {
	c, s, a := &e.calc, e.s, r.Action
	// The budget is given in cents; a sub-cent remainder of the amount is never handed out.
	budget := toCents(a.Amount.Trunc(2))
	if budget <= 0 {
		return
	}
	s.basis = grow(s.basis, len(s.elig))
	total := zero
	for n, i := range s.elig {
		b := e.remaining(i).dec()
		v := &s.views[i]
		if q := discountQty(a, v.qty); cmpDec(q, v.qty) < 0 {
			b = c.mulDiv(b, q, v.qty)
		}
		s.basis[n] = b
		total = c.add(total, b)
	}
	if a.ApplyToShipping && !e.shipStopped {
		if left := max(0, e.shipping-e.shipDisc); left > 0 {
			// The share uncapped: budget × shipping / (items + shipping), rounded.
			share := toCents(round2(c.mulDiv(budget.dec(), left.dec(), c.add(total, left.dec()))))
			o.shipUnlisted = !e.fits(share.dec())
			share = min(share, left, budget)
			e.addShipping(o, share)
			budget -= share
		}
	}
	left, delta := budget, zero
	last := len(s.elig) - 1
	for n, i := range s.elig {
		if left <= 0 {
			break
		}
		amount := left
		if n < last {
			amount = toCents(c.carryRound(c.mulDiv(budget.dec(), s.basis[n], total), &delta))
		}
		before := o.itemsTotal
		e.record(i, k, o, min(amount, left))
		left -= o.itemsTotal - before
	}
}

// shippingDiscount is Magento's Validator::processShippingAmount for one rule that is not
// cart_fixed.
func (e *evaluator) shippingDiscount(r *rule, o *outcome) {
	c, a := &e.calc, r.Action
	if e.shipping <= 0 {
		return
	}
	var amount decimal.Decimal
	switch a.Type {
	case ByPercent:
		amount = c.mul((e.shipping - e.shipDisc).dec(), r.pctRatio)
	case ByFixed:
		amount = a.Amount
	case BuyXGetY:
		// Shipping per unit times the free units of the whole cart.
		free := zero
		for i := range e.s.views {
			free = c.add(free, e.freeUnits(a, e.s.views[i].qty))
		}
		amount = c.mulDiv(e.shipping.dec(), free, e.cv.totalQty)
	}
	o.shipUnlisted = !e.fits(amount)
	total := toCents(round2(fastdec.Min(c.add(e.shipDisc.dec(), amount), e.shipping.dec())))
	e.addShipping(o, total-e.shipDisc)
}

// fits reports whether a rule's shipping amount, uncapped, fits in the shipping amount on top
// of the shipping discount so far: Magento lists the rule's SHIPPING discount only then.
func (e *evaluator) fits(amount decimal.Decimal) bool {
	return cmpDec(e.calc.add(e.shipDisc.dec(), amount), e.shipping.dec()) <= 0
}

// freeUnits is buy_x_get_y's free quantity (X = step, Y = amount): Y per full X+Y, plus
// the part of a remainder beyond X; nothing when Y > X.
func (e *evaluator) freeUnits(a *Action, qty decimal.Decimal) decimal.Decimal {
	c := &e.calc
	x, y := a.Step, a.Amount
	if x.IsZero() || y.Cmp(x) > 0 {
		return zero
	}
	period := c.add(x, y)
	periods := c.floorDiv(qty, period)
	free := c.mul(periods, y)
	if rest := c.sub(qty, c.mul(periods, period)); rest.Cmp(x) > 0 {
		free = c.add(free, c.sub(rest, x))
	}
	return free
}

func (e *evaluator) addShipping(o *outcome, amount cents) {
	if amount <= 0 {
		return
	}
	e.shipDisc += amount
	o.ship += amount
}

// result assembles the Result; each slice is allocated once at its final size.
func (e *evaluator) result(cands []int32, opts EvalOptions) *Result {
	s, rs := e.s, e.rs
	res := opts.Into
	if res == nil {
		res = &Result{}
	}
	// Into's memory is reused: every field is set again.
	*res = Result{
		ShippingDiscount: e.shipDisc.dec(),
		Items:            slices.Grow(res.Items[:0], len(s.items))[:len(s.items)],
		Discounts:        res.Discounts[:0],
		Applied:          res.Applied[:0],
		backing:          slices.Grow(res.backing[:0], len(s.entries))[:len(s.entries)],
	}
	backing := res.backing
	off := int32(0)
	total := e.shipDisc
	for i := range s.items {
		st := &s.items[i]
		res.Items[i] = ItemResult{SKU: s.views[i].sku, Discount: st.ours.dec(), Discounts: backing[off : off : off+st.nEntries]}
		off += st.nEntries
		total += st.ours
	}
	res.TotalDiscount = total.dec()
	for _, en := range s.entries {
		ir := &res.Items[en.item]
		ir.Discounts = append(ir.Discounts, RuleDiscount{RuleID: rs.rules[cands[en.cand]].ID, Label: s.outcomes[en.cand].label, Amount: en.amount.dec()})
	}
	n, applied := 0, 0
	for k := range cands {
		o := &s.outcomes[k]
		if o.itemsTotal > 0 {
			n++
		}
		if o.listsShipping() {
			n++
		}
		if o.itemsTotal > 0 || o.ship > 0 {
			applied++
		}
	}
	res.Discounts = slices.Grow(res.Discounts, n)
	res.Applied = slices.Grow(res.Applied, applied)
	for k, ri := range cands {
		o := &s.outcomes[k]
		if o.itemsTotal > 0 {
			res.Discounts = append(res.Discounts, CartDiscount{RuleID: rs.rules[ri].ID, Label: o.label, Amount: o.itemsTotal.dec(), AppliedTo: AppliedToItem})
		}
		if o.itemsTotal > 0 || o.ship > 0 {
			res.Applied = append(res.Applied, RuleDiscount{RuleID: rs.rules[ri].ID, Label: o.label, Amount: (o.itemsTotal + o.ship).dec()})
		}
	}
	for k, ri := range cands {
		if o := &s.outcomes[k]; o.listsShipping() {
			res.Discounts = append(res.Discounts, CartDiscount{RuleID: rs.rules[ri].ID, Label: o.label, Amount: o.ship.dec(), AppliedTo: AppliedToShipping})
		}
	}
	res.Trace = e.buildTrace(cands, opts.Trace)
	return res
}

// listsShipping reports whether the rule's shipping discount has its own SHIPPING entry.
func (o *outcome) listsShipping() bool { return o.ship > 0 && !o.shipUnlisted }

// invalidResult is the answer for a cart that cannot be evaluated: no discount, and why.
func invalidResult(cart *Cart, err error) *Result {
	res := &Result{Error: "invalid cart: " + err.Error(), Items: make([]ItemResult, len(cart.Items))}
	for i := range cart.Items {
		res.Items[i].SKU = cart.Items[i].SKU
	}
	return res
}
