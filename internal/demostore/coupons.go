package demostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// LoadCouponRules reads the store's coupon rule file (flag -coupon-rules): the audience rule
// format, where every rule names the coupon that switches it on.
func LoadCouponRules(path string) (*rules.RuleSet, error) {
	rs, err := rules.LoadFile(path)
	if err != nil {
		return nil, err
	}
	if err := checkCouponRules(rs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

// checkCouponRules refuses rules a Magento coupon rule cannot be: without a coupon, or
// enforced (those belong to the sidecar).
func checkCouponRules(rs *rules.RuleSet) error {
	var probs []string
	for _, r := range rs.Rules() {
		switch {
		case r.Enforce != nil:
			probs = append(probs, fmt.Sprintf("rule %q: a store coupon rule has an action, not enforce", r.ID))
		case r.Coupon == "":
			probs = append(probs, fmt.Sprintf("rule %q: a store coupon rule needs a coupon", r.ID))
		}
	}
	if len(probs) > 0 {
		return errors.New("coupon rules: " + strings.Join(probs, "; "))
	}
	return nil
}

// couponStatus is what became of a coupon when totals were collected.
type couponStatus uint8

const (
	// couponApplied: the coupon's rule applied to the cart.
	couponApplied couponStatus = iota
	// couponRejected: unknown code, rule inactive, out of its dates or scope, or usage limit
	// reached; Magento's ValidateCouponCode refuses these before collecting totals.
	couponRejected
	// couponNotApplied: the rule is valid but did not apply (conditions false, no eligible
	// item, items taken by an earlier rule).
	couponNotApplied
)

// couponState is the status of one applied coupon code after collecting totals.
type couponState struct {
	code   string
	status couponStatus
}

// couponUsage counts the placed orders that used a limited coupon code.
type couponUsage struct {
	limit int64
	used  atomic.Int64
}

func (u *couponUsage) exhausted() bool { return u != nil && u.used.Load() >= u.limit }

// couponBook is the store's coupon rules: the built-in WELCOME10 and Options.CouponRules, with
// the usage limits of Options.CouponUses and the single-use codes of Options.CouponPools. It
// is immutable apart from the usage counters.
type couponBook struct {
	rules   *rules.RuleSet        // nil when none
	byRule  map[string]rules.Rule // rule id → rule
	builtin bool                  // WELCOME10 is the built-in rule (no rule of the file has it)
	usage   map[string]*couponUsage
	pool    map[string]poolCode // upper-case pool code → its code and rule

	appliedMu sync.Mutex
	applied   map[string][]string // code as the rules define it → carts it was applied to, for GET /demo/coupons
}

// poolCode is one auto-generated code of a coupon rule.
type poolCode struct {
	code, rule string
}

func newCouponBook(rs *rules.RuleSet, uses map[string]int, pools map[string][]string) *couponBook {
	b := &couponBook{rules: rs, byRule: map[string]rules.Rule{}, builtin: true, usage: map[string]*couponUsage{}, pool: map[string]poolCode{}, applied: map[string][]string{}}
	if rs != nil {
		for _, r := range rs.Rules() {
			b.byRule[r.ID] = r
		}
		_, overridden := rs.CouponRule(couponCode)
		b.builtin = !overridden
	}
	for id, codes := range pools {
		if _, ok := b.byRule[id]; !ok {
			continue
		}
		for _, code := range codes {
			if _, taken := b.lookup(code); !taken && strings.TrimSpace(code) != "" {
				b.pool[strings.ToUpper(code)] = poolCode{code: code, rule: id}
				b.usage[strings.ToLower(code)] = &couponUsage{limit: 1}
			}
		}
	}
	for code, n := range uses {
		if canonical, ok := b.lookup(code); ok {
			b.usage[strings.ToLower(canonical)] = &couponUsage{limit: int64(n)}
		}
	}
	return b
}

// lookup finds a coupon code case-insensitively and returns it as its rule defines it.
func (b *couponBook) lookup(code string) (string, bool) {
	code = strings.TrimSpace(code)
	if code == "" {
		return "", false
	}
	if b.rules != nil {
		if id, ok := b.rules.CouponRule(code); ok {
			return b.byRule[id].Coupon, true
		}
	}
	if b.builtin && strings.EqualFold(code, couponCode) {
		return couponCode, true
	}
	if p, ok := b.pool[strings.ToUpper(code)]; ok {
		return p.code, true
	}
	return "", false
}

// ruleOf returns the id of the coupon rule a code (as its rule defines it) switches on.
func (b *couponBook) ruleOf(code string) (string, bool) {
	if p, ok := b.pool[strings.ToUpper(code)]; ok {
		return p.rule, true
	}
	if b.rules == nil {
		return "", false
	}
	return b.rules.CouponRule(code)
}

// ruleCoupon returns the code the coupon rules see for a code on the cart: a pool code
// stands for its rule's coupon.
func (b *couponBook) ruleCoupon(code string) string {
	if p, ok := b.pool[strings.ToUpper(code)]; ok {
		return b.byRule[p.rule].Coupon
	}
	return code
}

func (b *couponBook) usageOf(code string) *couponUsage { return b.usage[strings.ToLower(code)] }

// noteApplied records that codes are on a cart, for GET /demo/coupons.
func (b *couponBook) noteApplied(maskedID string, codes []string) {
	b.appliedMu.Lock()
	defer b.appliedMu.Unlock()
	for _, code := range codes {
		if !slices.Contains(b.applied[code], maskedID) {
			b.applied[code] = append(b.applied[code], maskedID)
		}
	}
}

// reserve counts one use of every limited code, all or nothing. It returns the first code
// whose limit is already reached, or "" on success. Counters are atomic because totals read
// them without the store lock.
func (b *couponBook) reserve(codes []string) string {
	var taken []*couponUsage
	for _, code := range codes {
		u := b.usageOf(code)
		if u == nil {
			continue
		}
		for {
			n := u.used.Load()
			if n >= u.limit {
				for _, t := range taken {
					t.used.Add(-1)
				}
				return code
			}
			if u.used.CompareAndSwap(n, n+1) {
				break
			}
		}
		taken = append(taken, u)
	}
	return ""
}

// statusOf returns a code's status in t; an unknown code is rejected.
func (t *totals) statusOf(code string) couponStatus {
	for _, st := range t.coupons {
		if strings.EqualFold(st.code, code) {
			return st.status
		}
	}
	return couponRejected
}

// applyCoupons is the coupon step of collectTotals: it validates every coupon on the cart,
// applies WELCOME10 and evaluates the coupon rule file, recording which coupons applied. A
// coupon that does not apply stays on the cart and gives no discount.
func (s *Store) applyCoupons(a *arith, c *cart, t *totals, req *requestInfo) {
	b := s.coupons
	t.coupons = make([]couponState, len(c.coupons))
	var usable []string // codes the rules may see
	for i, code := range c.coupons {
		t.coupons[i] = couponState{code: code, status: couponRejected}
		if canonical, ok := b.lookup(code); ok && canonical == code && !b.usageOf(code).exhausted() {
			usable = append(usable, b.ruleCoupon(code))
			t.coupons[i].status = couponNotApplied
		}
	}
	if len(c.items) == 0 {
		return
	}
	for i := range t.coupons {
		if st := &t.coupons[i]; st.status == couponNotApplied && b.builtin && st.code == couponCode {
			s.applyCouponRule(a, t)
			st.status = couponApplied
		}
	}
	if b.rules != nil {
		s.applyCouponRuleSet(a, c, t, req, usable)
	}
}

// applyCouponRuleSet evaluates the coupon rule file on the cart as discounted so far and
// folds its discounts in, each labelled and tagged with its coupon.
func (s *Store) applyCouponRuleSet(a *arith, c *cart, t *totals, req *requestInfo, usable []string) {
	b := s.coupons
	rc := &rules.Cart{
		Currency:       currencyUSD,
		Store:          req.store,
		Coupons:        usable,
		ShippingAmount: a.sub(t.shipping, t.shippingDiscount),
		Items:          make([]rules.Item, len(c.items)),
	}
	for i, it := range c.items {
		sku := it.priced().sku
		if it.child != nil {
			sku = it.product.sku
		}
		l := t.lines[i]
		rc.Items[i] = rules.Item{SKU: sku, Qty: it.qty, Price: l.price, RowTotal: l.rowTotal, Discount: l.discount, ProductType: string(it.product.typ)}
	}
	res := b.rules.EvaluateWith(rc, req.segments, s.Now(), rules.EvalOptions{})
	if res.Error != "" {
		// Amounts out of the engine's range: no coupon rule applies, as a rule that fails
		// validation in Magento.
		return
	}
	onCart := map[string]string{} // rule id → the code on the cart that switched it on
	for i := range t.coupons {
		st := &t.coupons[i]
		id, ok := b.ruleOf(st.code)
		if st.status == couponRejected || !ok {
			continue
		}
		st.status = ruleCouponStatus(res.Trace, id)
		onCart[id] = st.code
	}
	couponOf := func(id string) string {
		if code, ok := onCart[id]; ok {
			return code
		}
		return b.byRule[id].Coupon
	}
	// Magento labels a discount with the code applied when its rule has no store label.
	labelOf := func(id, label string) string {
		if r := b.byRule[id]; r.Label == "" {
			return couponOf(id)
		}
		return label
	}
	for i, item := range res.Items {
		l := &t.lines[i]
		for _, rd := range item.Discounts {
			amount := round2(rd.Amount).Min(a.sub(l.rowTotal, l.discount))
			if !amount.IsPos() {
				continue
			}
			r := b.byRule[rd.RuleID]
			l.discount = a.add(l.discount, amount)
			l.discounts = append(l.discounts, appliedDiscount{label: labelOf(rd.RuleID, rd.Label), amount: amount, appliedTo: rules.AppliedToItem, coupon: couponOf(rd.RuleID)})
			if r.Action != nil && r.Action.Type == rules.ByPercent {
				l.discountPercent = a.add(l.discountPercent, r.Action.Amount).Min(hundred)
			}
		}
	}
	t.shippingDiscount = a.add(t.shippingDiscount, round2(res.ShippingDiscount)).Min(t.shipping)
	for _, cd := range res.Discounts {
		if cd.Amount.IsPos() {
			t.discounts = append(t.discounts, appliedDiscount{label: labelOf(cd.RuleID, cd.Label), amount: round2(cd.Amount), appliedTo: cd.AppliedTo, coupon: couponOf(cd.RuleID)})
		}
	}
	for _, ad := range res.Applied {
		t.descriptions = append(t.descriptions, labelOf(ad.RuleID, ad.Label))
	}
}

// ruleCouponStatus reads a coupon rule's outcome from the engine's trace. Like Magento, a
// rule that matched items keeps its coupon even when it took nothing off.
func ruleCouponStatus(trace []rules.TraceEntry, ruleID string) couponStatus {
	for _, e := range trace {
		if e.RuleID != ruleID {
			continue
		}
		switch {
		case e.Applied, e.Reason == rules.ReasonZeroDiscount, e.Reason == rules.ReasonBudgetExhausted:
			return couponApplied
		case e.Reason == rules.ReasonConditionsFalse, e.Reason == rules.ReasonNoEligibleItems,
			strings.HasPrefix(e.Reason, rules.ReasonStoppedBy):
			return couponNotApplied
		}
		return couponRejected
	}
	return couponRejected
}

// Coupon messages of Magento 2.4.7 and Adobe Commerce's multi-coupon module.
const (
	msgCouponsTooMany    = "Maximum allowed number of applied coupons was exceeded."
	msgCartIDMissingStop = `Required parameter "cart_id" is missing.`
)

func couponsNotApplied(codes []string) error {
	return inputError("The following coupon codes could not be applied: \"%s\".", strings.Join(codes, `","`))
}

func couponUsageExceeded(code string) error {
	return placeOrderError("UNDEFINED", code+" coupon exceeds usage limit.")
}

// tryCoupons collects the totals of the cart with the given coupons (as the rules define
// them) without changing it.
func (s *Store) tryCoupons(ctx context.Context, c *cart, req *requestInfo, codes []string) (*totals, error) {
	trial := c.clone()
	trial.coupons = codes
	return s.collectTotals(ctx, trial, req)
}

// applyCouponLocked is Magento's applyCouponToCart: one coupon, refused when any coupon is
// already on the cart; every reason the code does not apply gives the same message.
// s.mu must be held.
func (s *Store) applyCouponLocked(ctx context.Context, c *cart, req *requestInfo, code string) error {
	if len(c.coupons) > 0 {
		return inputError(msgCouponAlreadyThere)
	}
	if len(c.items) == 0 {
		return noSuchEntity(msgCouponEmptyCart)
	}
	canonical, ok := s.coupons.lookup(code)
	if !ok {
		return noSuchEntity(msgCouponInvalid)
	}
	applied, err := s.setCouponIfAppliesLocked(ctx, c, req, canonical)
	if err != nil {
		return err
	}
	if !applied {
		return noSuchEntity(msgCouponInvalid)
	}
	return nil
}

// setCouponIfAppliesLocked makes a coupon (as its rule spells it) the cart's only coupon
// when it applies to the cart, and reports whether it did. s.mu must be held.
func (s *Store) setCouponIfAppliesLocked(ctx context.Context, c *cart, req *requestInfo, canonical string) (bool, error) {
	t, err := s.tryCoupons(ctx, c, req, []string{canonical})
	if err != nil || t.statusOf(canonical) != couponApplied {
		return false, err
	}
	c.coupons = []string{canonical}
	s.coupons.noteApplied(c.maskedID, c.coupons)
	return true, nil
}

// applyCouponsLocked is Adobe Commerce's applyCouponsToCart (Multicoupon CouponManagement):
// REPLACE sets the list, APPEND adds to it, up to Options.MaxCoupons. Codes that fail
// validation leave the cart unchanged; codes that are valid but do not apply are dropped
// after the others are applied, and both are reported by name. s.mu must be held.
func (s *Store) applyCouponsLocked(ctx context.Context, c *cart, req *requestInfo, codes []string, replace bool) error {
	var typed []string
	for _, code := range codes {
		if code = strings.TrimSpace(code); code != "" && !containsFold(typed, code) {
			typed = append(typed, code)
		}
	}
	all := typed
	if !replace {
		fresh := false
		for _, code := range typed {
			if canonical, _ := s.coupons.lookup(code); canonical == "" || !containsFold(c.coupons, canonical) {
				fresh = true
			}
		}
		if !fresh {
			return nil
		}
		all = append(append([]string(nil), c.coupons...), typed...)
		all = dedupeFold(all)
	}
	if len(all) > s.opts.MaxCoupons {
		return inputError(msgCouponsTooMany)
	}
	if len(c.items) == 0 {
		return inputError(msgCouponEmptyCart)
	}
	canonical := make([]string, 0, len(all))
	var invalid []string
	for _, code := range all {
		if cc, ok := s.coupons.lookup(code); ok {
			canonical = append(canonical, cc)
		} else {
			invalid = append(invalid, code)
		}
	}
	t, err := s.tryCoupons(ctx, c, req, canonical)
	if err != nil {
		return err
	}
	var applied, notApplied []string
	for _, code := range canonical {
		switch t.statusOf(code) {
		case couponApplied:
			applied = append(applied, code)
		case couponRejected:
			invalid = append(invalid, typedFor(all, code))
		default:
			notApplied = append(notApplied, typedFor(all, code))
		}
	}
	if len(invalid) > 0 {
		return couponsNotApplied(invalid)
	}
	c.coupons = applied
	s.coupons.noteApplied(c.maskedID, c.coupons)
	if len(notApplied) > 0 {
		return couponsNotApplied(notApplied)
	}
	return nil
}

// typedFor returns how the shopper wrote a code: the entry of all matching canonical.
func typedFor(all []string, canonical string) string {
	for _, code := range all {
		if strings.EqualFold(code, canonical) {
			return code
		}
	}
	return canonical
}

// removeCouponsLocked is removeCouponFromCart (codes nil) and removeCouponsFromCart: with a
// single coupon slot, or no codes given, every coupon goes; otherwise the listed ones
// (case-insensitive). s.mu must be held.
func (s *Store) removeCouponsLocked(c *cart, codes []string, single bool) error {
	if single {
		if len(c.items) == 0 {
			return noSuchEntity(msgCouponRemoveEmpty)
		}
		c.coupons = nil
		return nil
	}
	var drop []string
	for _, code := range codes {
		if code = strings.TrimSpace(code); code != "" {
			drop = append(drop, code)
		}
	}
	if len(drop) == 0 {
		c.coupons = nil
		return nil
	}
	var keep []string
	for _, code := range c.coupons {
		if !containsFold(drop, code) {
			keep = append(keep, code)
		}
	}
	c.coupons = keep
	return nil
}

func dedupeFold(list []string) []string {
	var out []string
	for _, x := range list {
		if !containsFold(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// storeLabel is the store label of the rule a coupon code (as its rule defines it) switches
// on, "" when the rule has none: Magento's coupon_label of REST totals.
func (b *couponBook) storeLabel(code, store string) string {
	if b.builtin && code == couponCode {
		return couponLabel
	}
	id, ok := b.ruleOf(code)
	if !ok {
		return ""
	}
	r := b.byRule[id]
	if l := r.Labels[store]; l != "" {
		return l
	}
	return r.Label
}

// ruleNumber is a numeric rule id for a coupon code, as Magento's applied_rule_ids lists
// rules: WELCOME10 is 1, the coupon rule file's rules follow in file order; 0 for none.
func (b *couponBook) ruleNumber(code string) int {
	if b.builtin && code == couponCode {
		return 1
	}
	id, ok := b.ruleOf(code)
	if !ok || b.rules == nil {
		return 0
	}
	for i, r := range b.rules.Rules() {
		if r.ID == id {
			return i + 2
		}
	}
	return 0
}
