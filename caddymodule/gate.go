package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// Magento's words, which the gate repeats so a storefront shows what it always shows.
const (
	msgCouponInvalid = "The coupon code isn't valid. Verify the code and try again."
	msgOrderRefused  = "The discounted price of this cart could not be confirmed, so the order was not placed. Please review your cart and try again."
)

// gateReadQuery reads a cart for the gate; the planner adds what the gate needs.
const gateReadQuery = `query AudiencesGateRead($cart_id: String!) { cart(cart_id: $cart_id) { id } }`

// gateRules is the gate's view of one rule set: the secret codes, single or pooled, and the
// labels that stand in for them.
type gateRules struct {
	rs         *rules.RuleSet
	log        *zap.Logger
	codes      gate.Codes             // every gate code, pool codes included
	list       []string               // the codes every body is scrubbed of
	labels     map[string]string      // upper-case code of list → shopper-facing label
	byRule     map[string]string      // rule id → single code
	pools      map[string]*couponPool // rule id → pool
	fast       []*couponPool          // pools found in bodies by their prefix
	poolLabels map[*couponPool]string // pool → shopper-facing label
	secrets    *sanitize.Secrets      // what answers that cannot be scrubbed are cut of
}

// newGateRules collects the enforced rules of rs, loading the coupon pools through pools;
// nil when there are none. A pool that cannot be loaded leaves its rule out of the gate.
func newGateRules(rs *rules.RuleSet, pools *poolCache, log *zap.Logger) *gateRules {
	enforced := rs.Enforced()
	if len(enforced) == 0 {
		return nil
	}
	labels := map[string]string{}
	for _, r := range rs.Rules() {
		if r.Enforce != nil {
			label := r.Label
			if label == "" {
				label = "Discount"
			}
			labels[r.ID] = label
		}
	}
	g := &gateRules{rs: rs, log: log, labels: map[string]string{}, byRule: map[string]string{}, pools: map[string]*couponPool{}, poolLabels: map[*couponPool]string{}}
	var codes []string
	for _, e := range enforced {
		if e.Coupon != "" {
			codes = append(codes, e.Coupon)
			g.byRule[e.RuleID] = e.Coupon
			g.labels[strings.ToUpper(e.Coupon)] = labels[e.RuleID]
			continue
		}
		p, err := pools.load(e.RuleID, e.CouponsFile)
		if err != nil {
			log.Warn("coupon pool not loaded; its rule is left out of the gate", zap.String("rule", e.RuleID), zap.Error(err))
			continue
		}
		g.pools[e.RuleID] = p
		g.poolLabels[p] = labels[e.RuleID]
		if p.fastScrub() {
			g.fast = append(g.fast, p)
			continue
		}
		log.Warn("coupon pool codes share no prefix of 3 characters; scrubbing responses of them is slow: generate them with a common prefix",
			zap.String("rule", e.RuleID), zap.Int("codes", len(p.codes)))
		for _, code := range p.codes {
			codes = append(codes, code)
			g.labels[strings.ToUpper(code)] = labels[e.RuleID]
		}
	}
	if len(codes) == 0 && len(g.pools) == 0 {
		return nil
	}
	g.codes, g.list = gate.NewCodes(codes...), codes
	var prefixes []string
	for _, p := range g.pools {
		p.addCodes(g.codes)
	}
	for _, p := range g.fast {
		prefixes = append(prefixes, p.prefix)
	}
	g.secrets = sanitize.NewSecrets(codes, prefixes)
	return g
}

// wanted returns the gate codes a cart qualifies for, in rule priority order. A pool rule
// wants the cart's own code of the pool (see couponPool.assign).
func (g *gateRules) wanted(cartID string, cart *rules.Cart, segments []string, at time.Time) []string {
	var want []string
	for _, e := range g.rs.Qualifying(cart, segments, at) {
		if code := g.byRule[e.RuleID]; code != "" {
			want = append(want, code)
			continue
		}
		p := g.pools[e.RuleID]
		if p == nil {
			continue
		}
		if code := p.assign(cartID, cart.Coupons); code != "" {
			want = append(want, code)
		} else if cartID != "" && p.exhausted.CompareAndSwap(false, true) {
			g.log.Warn("coupon pool used up: qualifying carts get no gate coupon", zap.String("rule", e.RuleID))
		}
	}
	return want
}

// poolOf returns the pool a code belongs to, or nil.
func (g *gateRules) poolOf(code string) *couponPool {
	for _, p := range g.pools {
		if p.has(code) {
			return p
		}
	}
	return nil
}

// scrubCodes returns the codes to scrub body of and their labels: the single codes and the
// pool codes the body holds.
func (g *gateRules) scrubCodes(body []byte) ([]string, map[string]string) {
	var found []string
	labels := g.labels
	for _, p := range g.fast {
		n := len(found)
		if found = p.found(body, found); len(found) == n {
			continue
		}
		if len(labels) == len(g.labels) {
			labels = maps.Clone(g.labels)
		}
		for _, code := range found[n:] {
			labels[strings.ToUpper(code)] = g.poolLabels[p]
		}
	}
	if len(found) == 0 {
		return g.list, g.labels
	}
	return append(slices.Clip(g.list), found...), labels
}

// warnWeakCodes logs the enforced rules whose codes are weak.
func (s *handlerState) warnWeakCodes(rs *rules.RuleSet) {
	for _, w := range gateWarnings(rs) {
		s.log().Warn("weak gate coupon code", zap.String("handler", s.name), zap.String("problem", w))
	}
}

// gateCache keeps the gateRules of the rule set in force, rebuilt when the set changes.
type gateCache struct {
	current atomic.Pointer[gateRules]
	none    atomic.Pointer[rules.RuleSet] // a rule set known to have no gate
	build   sync.Mutex                    // one build at a time: pools are read from files
	pools   poolCache
}

func (c *gateCache) get(rs *rules.RuleSet, log *zap.Logger) *gateRules {
	if rs == nil || c.none.Load() == rs {
		return nil
	}
	if g := c.current.Load(); g != nil && g.rs == rs {
		return g
	}
	c.build.Lock()
	defer c.build.Unlock()
	if c.none.Load() == rs {
		return nil
	}
	if g := c.current.Load(); g != nil && g.rs == rs {
		return g
	}
	g := newGateRules(rs, &c.pools, log)
	if g == nil {
		c.none.Store(rs)
		return nil
	}
	c.current.Store(g)
	return g
}

// gateJob is the gate's part of one request.
type gateJob struct {
	rules    *gateRules
	segments []string
	at       time.Time
	up       upstream
}

// refuseTypedCode answers an attempt to apply a gate code the way Magento answers an
// invalid code, without the code reaching Magento. It reports whether it answered.
func (h *Handler) refuseTypedCode(w http.ResponseWriter, job *rewriteJob) bool {
	for _, code := range job.plan.AppliedCouponInputs(job.variables) {
		if job.gate.rules.codes.Typed(code) {
			metrics.gate.WithLabelValues("refused_code").Inc()
			writeGraphQLError(w, msgCouponInvalid, "graphql-input", rootFieldOf(job.plan))
			return true
		}
	}
	return false
}

// makeRoomForShopperCoupon lets a shopper's own coupon win the single slot (policy
// shopper_wins): the gate coupon is removed before the shopper's code reaches Magento, which
// would otherwise refuse it because a coupon is already applied.
func (h *Handler) makeRoomForShopperCoupon(job *rewriteJob) {
	if h.MultiCoupon || gate.Policy(h.GatePolicy) != gate.ShopperWins || len(job.plan.AppliedCouponInputs(job.variables)) == 0 {
		return
	}
	for _, cartID := range job.plan.CouponCartIDs(job.variables) {
		if err := h.removeGateCoupons(job.gate, cartID); err != nil {
			h.logger.Warn("gate coupon not removed for the shopper's own coupon", zap.Error(err))
		}
	}
}

// removeGateCoupons takes every gate coupon off a cart.
func (h *Handler) removeGateCoupons(g *gateJob, cartID string) error {
	unlock := h.state.locks.Lock(cartID)
	defer unlock()
	cart, err := h.readCart(g, cartID)
	if err != nil {
		return err
	}
	var held []string
	for _, code := range cart.Coupons {
		if g.rules.codes.Has(code) {
			held = append(held, code)
		}
	}
	if len(held) == 0 {
		return nil
	}
	return h.applyPlan(g, cartID, gate.Plan{Remove: held})
}

// checkOrder brings the gate in line on every cart an order is placed for. It reports
// false, after answering the client, when it could not.
func (h *Handler) checkOrder(w http.ResponseWriter, job *rewriteJob) bool {
	for _, cartID := range job.plan.OrderCartIDs(job.variables) {
		if _, err := h.syncCart(job.gate, cartID); err != nil {
			metrics.gate.WithLabelValues("refused_order").Inc()
			h.logger.Warn("order refused: the gate coupon could not be brought in line", zap.Error(err))
			writeGraphQLError(w, msgOrderRefused, "graphql-input", rootFieldOf(job.plan))
			return false
		}
	}
	return true
}

// syncResponse makes sure every cart in a response carries exactly the gate coupons its
// shopper qualifies for. When it had to change a cart, the returned body shows the cart as
// it is now: a query is run again; a mutation's carts are read again with the mutation's own
// selection — the mutation itself is never replayed.
func (h *Handler) syncResponse(job *rewriteJob, body []byte) (out []byte, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			out, err = body, fmt.Errorf("gate panicked: %v", rec)
		}
	}()
	opt := cartql.RewriteOptions{Store: job.store}
	snaps, err := job.plan.Snapshots(body, opt)
	if err != nil {
		return body, err
	}
	var changedSites []int
	for _, snap := range snaps {
		want := job.gate.rules.wanted(snap.CartID, &snap.Cart, job.segments, job.at)
		if gate.Decide(snap.Cart.Coupons, want, job.gate.rules.codes, h.MultiCoupon, gate.Policy(h.GatePolicy)).Empty() {
			continue
		}
		changed, err := h.syncCart(job.gate, snap.CartID)
		if err != nil {
			h.logger.Warn("gate coupon not brought in line; the cart shows Magento's own price", zap.Error(err))
			continue
		}
		if changed {
			changedSites = append(changedSites, snap.Site)
		}
	}
	if len(changedSites) == 0 {
		return body, nil
	}
	if !job.plan.IsMutation() {
		return job.gate.up.callNamed(job.plan.Query(), job.plan.OperationName(), job.variables)
	}
	for _, site := range changedSites {
		if body, err = h.refetchCart(job, body, site, snapsFor(snaps, site)); err != nil {
			return body, err
		}
	}
	return body, nil
}

// snapsFor returns the cart id of site's snapshot.
func snapsFor(snaps []cartql.CartSnapshot, site int) string {
	for _, s := range snaps {
		if s.Site == site {
			return s.CartID
		}
	}
	return ""
}

// refetchCart reads a mutation's cart again with the mutation's own selection and puts it
// in the mutation's answer.
func (h *Handler) refetchCart(job *rewriteJob, body []byte, site int, cartID string) ([]byte, error) {
	query, err := job.plan.CartQuery(site)
	if err != nil {
		return body, err
	}
	data, err := job.gate.up.callData(query, job.plan.CartQueryVariables(site, job.variables, cartID))
	if err != nil {
		return body, err
	}
	key := job.plan.Sites()[site].Path
	cart, ok := data[key[len(key)-1]]
	if !ok {
		return body, errors.New("refetched cart missing")
	}
	return job.plan.SpliceCart(body, site, cart)
}

// syncCart reads one cart under its lock and applies or removes gate coupons until it
// carries exactly what its shopper qualifies for. It reports whether it changed the cart.
func (h *Handler) syncCart(g *gateJob, cartID string) (bool, error) {
	if cartID == "" {
		return false, errors.New("cart without id")
	}
	unlock := h.state.locks.Lock(cartID)
	defer unlock()
	cart, err := h.readCart(g, cartID)
	if err != nil {
		return false, err
	}
	changed := false
	for tries := 1; ; tries++ {
		plan := gate.Decide(cart.Coupons, g.rules.wanted(cartID, cart, g.segments, g.at), g.rules.codes, h.MultiCoupon, gate.Policy(h.GatePolicy))
		if plan.Empty() {
			return changed, nil
		}
		changed = true
		err := h.applyPlan(g, cartID, plan)
		if err == nil {
			break
		}
		code := g.rules.refusedPoolCode(err)
		if code != "" {
			// Magento refused the cart's pool code (used up elsewhere): never again.
			g.rules.poolOf(code).spend(code)
		}
		if code == "" || tries == maxPoolCodesPerRun {
			metrics.gate.WithLabelValues("failed").Inc()
			return true, err
		}
		if cart, err = h.readCart(g, cartID); err != nil {
			return true, err
		}
	}
	after, err := h.readCart(g, cartID)
	if err != nil {
		return true, err
	}
	if rest := gate.Decide(after.Coupons, g.rules.wanted(cartID, after, g.segments, g.at), g.rules.codes, h.MultiCoupon, gate.Policy(h.GatePolicy)); !rest.Empty() {
		metrics.gate.WithLabelValues("failed").Inc()
		return true, fmt.Errorf("cart still needs remove %q apply %q", rest.Remove, rest.Apply)
	}
	return true, nil
}

// applyPlan sends the removals, then the applications.
func (h *Handler) applyPlan(g *gateJob, cartID string, plan gate.Plan) error {
	if len(plan.Remove) > 0 {
		var err error
		if h.MultiCoupon {
			_, err = g.up.callData(`mutation _aud_gate_remove($cart_id: String!, $codes: [String!]!) { removeCouponsFromCart(input: {cart_id: $cart_id, coupon_codes: $codes}) { cart { id } } }`,
				map[string]any{"cart_id": cartID, "codes": plan.Remove})
		} else {
			_, err = g.up.callData(`mutation _aud_gate_remove($cart_id: String!) { removeCouponFromCart(input: {cart_id: $cart_id}) { cart { id } } }`,
				map[string]any{"cart_id": cartID})
		}
		if err != nil {
			return fmt.Errorf("remove coupon: %w", err)
		}
		metrics.gate.WithLabelValues("removed").Inc()
		for _, code := range plan.Remove {
			if id := g.rules.ruleOf(code); id != "" {
				h.state.gateStats.of(id).Removed.Add(1)
			}
		}
	}
	for _, code := range plan.Apply {
		var err error
		if h.MultiCoupon {
			_, err = g.up.callData(`mutation _aud_gate_apply($cart_id: String!, $codes: [String!]!) { applyCouponsToCart(input: {cart_id: $cart_id, coupon_codes: $codes, type: APPEND}) { cart { id } } }`,
				map[string]any{"cart_id": cartID, "codes": []string{code}})
		} else {
			_, err = g.up.callData(`mutation _aud_gate_apply($cart_id: String!, $code: String!) { applyCouponToCart(input: {cart_id: $cart_id, coupon_code: $code}) { cart { id } } }`,
				map[string]any{"cart_id": cartID, "code": code})
		}
		if err != nil {
			h.state.gateStats.of(g.rules.ruleOf(code)).Failed.Add(1)
			return &applyError{code: code, rule: g.rules.ruleOf(code), err: err}
		}
		metrics.gate.WithLabelValues("applied").Inc()
		h.state.gateStats.of(g.rules.ruleOf(code)).Applied.Add(1)
	}
	return nil
}

// ruleOf names the rule of a gate code, for logs that must not show the code.
func (g *gateRules) ruleOf(code string) string {
	for id, c := range g.byRule {
		if strings.EqualFold(c, code) {
			return id
		}
	}
	if p := g.poolOf(code); p != nil {
		return p.ruleID
	}
	return ""
}

// applyError is a gate coupon Magento did not apply.
type applyError struct {
	code, rule string
	err        error
}

func (e *applyError) Error() string {
	return "apply gate coupon of rule " + e.rule + ": " + e.err.Error()
}
func (e *applyError) Unwrap() error { return e.err }

// refusedPoolCode returns the pool code whose application err reports Magento refused as
// invalid or used up, or "".
func (g *gateRules) refusedPoolCode(err error) string {
	var ae *applyError
	var ue upstreamError
	if !errors.As(err, &ae) || !errors.As(err, &ue) || g.poolOf(ae.code) == nil {
		return ""
	}
	for _, msg := range refusedCodeMessages {
		if strings.Contains(ue.message, msg) {
			return ae.code
		}
	}
	return ""
}

// refusedCodeMessages are Magento's words for a code it will not apply: invalid or used up
// (applyCouponToCart, placeOrder), not applicable (applyCouponsToCart).
var refusedCodeMessages = []string{"isn't valid", "exceeds usage limit", "could not be applied"}

// notePoolRefusal marks spent the pool codes of the carts of an order Magento refused for a
// coupon, so that their next read gets a fresh code instead of one used up elsewhere.
func (h *Handler) notePoolRefusal(job *rewriteJob, body []byte) {
	g := job.gate.rules
	if len(g.pools) == 0 {
		return
	}
	refused := false
	for _, msg := range refusedCodeMessages[:2] {
		refused = refused || bytes.Contains(body, []byte(msg))
	}
	if !refused {
		return
	}
	for _, cartID := range job.plan.OrderCartIDs(job.variables) {
		for _, p := range g.pools {
			p.spendAssigned(cartID)
		}
	}
}

// readCart reads a cart's current state as the rule engine sees it.
func (h *Handler) readCart(g *gateJob, cartID string) (*rules.Cart, error) {
	plan, err := h.plans.planner.Plan(gateReadQuery, "")
	if err != nil {
		return nil, err
	}
	body, err := g.up.call(plan.Query(), map[string]any{"cart_id": cartID})
	if err != nil {
		return nil, err
	}
	snaps, err := plan.Snapshots(body, cartql.RewriteOptions{})
	if err != nil {
		return nil, fmt.Errorf("read cart: %w", err)
	}
	if len(snaps) != 1 {
		return nil, errors.New("read cart: cart not found")
	}
	return &snaps[0].Cart, nil
}

// scrub removes every gate code from a body the client is about to see. When the body is
// not JSON the sanitizer cuts the codes out of the bytes: the code must never leak.
func (h *Handler) scrub(g *gateRules, body []byte) []byte { return g.scrubBody(body) }

// scrubBody is scrub: single codes always, pool codes when the body holds them.
func (g *gateRules) scrubBody(body []byte) []byte {
	codes, labels := g.scrubCodes(body)
	out, _, err := cartql.Scrub(body, codes, labels)
	if err == nil {
		return out
	}
	return sanitizeBytes(body, &responseGuard{hidden: cartql.HiddenPrefix, secrets: g.secrets})
}

// writeGraphQLError answers with one GraphQL error, as Magento would.
func writeGraphQLError(w http.ResponseWriter, message, category string, field string) {
	body, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{
			"message":    message,
			"path":       []string{field},
			"extensions": map[string]string{"category": category},
		}},
		"data": map[string]any{field: nil},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// rootFieldOf names the first root field of an operation, for error paths.
func rootFieldOf(p *cartql.Plan) string {
	if f := p.RootFields(); len(f) > 0 {
		return f[0]
	}
	return "cart"
}
