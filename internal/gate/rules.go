package gate

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// Rules is the gate's view of one rule set: the secret codes of its enforced rules, single or
// pooled, and the labels that stand in for them. A Rules is immutable but for its pools'
// assignments, and safe for concurrent use.
type Rules struct {
	rs         *rules.RuleSet
	log        *zap.Logger
	codes      Codes             // every gate code, pool codes included
	list       []string          // the codes every body is scrubbed of
	labels     map[string]string // upper-case code of list → shopper-facing label
	byRule     map[string]string // rule id → single code
	pools      map[string]*Pool  // rule id → pool
	fast       []*Pool           // pools found in bodies by their prefix
	poolLabels map[*Pool]string  // pool → shopper-facing label
	secrets    *sanitize.Secrets // what answers that cannot be scrubbed are cut of
}

// NewRules collects the enforced rules of rs, loading their coupon pools through pools; nil
// when there are none. A pool that cannot be loaded leaves its rule out of the gate.
func NewRules(rs *rules.RuleSet, pools *PoolCache, log *zap.Logger) *Rules {
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
	g := &Rules{rs: rs, log: log, labels: map[string]string{}, byRule: map[string]string{}, pools: map[string]*Pool{}, poolLabels: map[*Pool]string{}}
	var codes []string
	for _, e := range enforced {
		if e.Coupon != "" {
			codes = append(codes, e.Coupon)
			g.byRule[e.RuleID] = e.Coupon
			g.labels[strings.ToUpper(e.Coupon)] = labels[e.RuleID]
			continue
		}
		p, err := pools.Load(e.RuleID, e.CouponsFile)
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
	g.codes, g.list = NewCodes(codes...), codes
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

// Codes returns every gate code, pool codes included.
func (g *Rules) Codes() Codes { return g.codes }

// Label returns the shopper-facing label that stands in for a gate code: its rule's label.
func (g *Rules) Label(code string) string {
	if l, ok := g.labels[strings.ToUpper(code)]; ok {
		return l
	}
	if p := g.poolOf(code); p != nil {
		return g.poolLabels[p]
	}
	return "Discount"
}

// Secrets returns what an answer that cannot be scrubbed as GraphQL must be cut of.
func (g *Rules) Secrets() *sanitize.Secrets { return g.secrets }

// wanted returns the gate codes a cart qualifies for, in rule priority order. A pool rule
// wants the cart's own code of the pool (see Pool.assign). With a ledger (ledgerOf set: the
// pools are shared) no code is claimed here: a pool rule whose cart needs a new code wants
// a placeholder (see pendingCode), and the caller claims only for the placeholders Decide
// would apply, under the cart's lock (see Session.decide).
func (g *Rules) wanted(cartID string, cart *rules.Cart, segments []string, at time.Time, ledgerOf func(ruleID string) Ledger) ([]string, error) {
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
		var l Ledger
		if ledgerOf != nil {
			l = ledgerOf(e.RuleID)
		}
		code, err := p.assign(cartID, cart.Coupons, l, false)
		switch {
		case errors.Is(err, errClaimNeeded):
			want = append(want, pendingCode(e.RuleID))
		case err != nil:
			return nil, err
		case code != "":
			want = append(want, code)
		default:
			g.noteUsedUp(cartID, p)
		}
	}
	return want, nil
}

// noteUsedUp warns, once per pool, that a qualifying cart found the pool used up.
func (g *Rules) noteUsedUp(cartID string, p *Pool) {
	if cartID != "" && p.exhausted.CompareAndSwap(false, true) {
		g.log.Warn("coupon pool used up: qualifying carts get no gate coupon", zap.String("rule", p.ruleID))
	}
}

// pendingPrefix starts a placeholder for a pool code still to be claimed; no code has it.
const pendingPrefix = "\x00claim\x00"

// pendingCode is the placeholder wanted by a pool rule whose cart needs a new code.
func pendingCode(ruleID string) string { return pendingPrefix + ruleID }

// pendingRule returns the rule of a placeholder, or "".
func pendingRule(code string) string {
	rule, _ := strings.CutPrefix(code, pendingPrefix)
	if len(rule) == len(code) {
		return ""
	}
	return rule
}

// claim replaces the placeholder of want[i] by a code claimed for the cart through the
// ledger, or removes it when the pool is used up.
func (g *Rules) claim(want []string, i int, cartID string, held []string, ledgerOf func(ruleID string) Ledger) ([]string, error) {
	rule := pendingRule(want[i])
	p := g.pools[rule]
	code, err := p.assign(cartID, held, ledgerOf(rule), true)
	switch {
	case err != nil:
		return want, err
	case code == "":
		g.noteUsedUp(cartID, p)
		return slices.Delete(want, i, i+1), nil
	}
	want[i] = code
	return want, nil
}

// poolOf returns the pool a code belongs to, or nil.
func (g *Rules) poolOf(code string) *Pool {
	for _, p := range g.pools {
		if p.has(code) {
			return p
		}
	}
	return nil
}

// ruleOf names the rule of a gate code, for logs that must not show the code.
func (g *Rules) ruleOf(code string) string {
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

// scrubCodes returns the codes to scrub body of and their labels: the single codes and the
// pool codes the body holds.
func (g *Rules) scrubCodes(body []byte) ([]string, map[string]string) {
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

// Scrub removes every gate code from a GraphQL answer the client is about to see (see
// cartql.Scrub). When the body is not JSON the codes and hidden fields are cut out of the
// bytes: a code must never leak.
func (g *Rules) Scrub(body []byte) []byte {
	codes, labels := g.scrubCodes(body)
	out, _, err := cartql.Scrub(body, codes, labels)
	if err == nil {
		return out
	}
	return sanitize.Bytes(body, cartql.HiddenPrefix, g.secrets)
}

// Cache keeps the Rules of the rule set in force, rebuilt when the set changes; its pools
// keep their state across rebuilds while their files are unchanged. The zero value is ready.
type Cache struct {
	current atomic.Pointer[Rules]
	none    atomic.Pointer[rules.RuleSet] // a rule set known to have no gate
	build   sync.Mutex                    // one build at a time: pools are read from files
	pools   PoolCache
}

// Get returns the gate of rs, or nil when no rule of it is enforced.
func (c *Cache) Get(rs *rules.RuleSet, log *zap.Logger) *Rules {
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
	g := NewRules(rs, &c.pools, log)
	if g == nil {
		c.none.Store(rs)
		return nil
	}
	c.current.Store(g)
	return g
}
