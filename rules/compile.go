package rules

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/govalues/decimal"
)

// audience modes, compiled
type audMode uint8

const (
	audEveryone audMode = iota
	audAny
	audAll
	audNone
)

// rule is a validated rule with everything evaluation needs precomputed.
type rule struct {
	Rule
	pos       int             // index in the file
	from, to  time.Time       // zero when open; to is exclusive
	cond      *node           // cart conditions; nil is true
	items     *node           // item filter; nil matches every item
	pctRatio  decimal.Decimal // by_percent: amount / 100
	stoppedBy string          // trace reason for items this rule stopped
}

// RuleSet is a compiled, immutable rule file. It is safe for concurrent use.
type RuleSet struct {
	rules   []*rule // evaluation order: priority, then id
	version string
	tz      *time.Location
	index   *audienceIndex      // over rules
	named   map[string]struct{} // every audience some rule names
	coupons map[string]string   // lower-case coupon code → id of the rule with that coupon
	merch   merchSet            // merchandising rules
}

func compile(data []byte, tz *time.Location, rules []*rule, cfg config) (*RuleSet, error) {
	slices.SortStableFunc(rules, func(a, b *rule) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.ID, b.ID))
	})
	sum := sha256.Sum256(data)
	rs := &RuleSet{
		rules:   rules,
		version: hex.EncodeToString(sum[:8]),
		tz:      tz,
		named:   make(map[string]struct{}),
		coupons: make(map[string]string),
	}
	auds := make([]audience, len(rules))
	for i, r := range rules {
		r.stoppedBy = ReasonStoppedBy + r.ID
		auds[i] = compileAudience(r.Audiences)
		for _, id := range r.Audiences.IDs {
			rs.named[id] = struct{}{}
		}
		if r.Coupon != "" {
			rs.coupons[strings.ToLower(r.Coupon)] = r.ID
		}
		if r.Action != nil && r.Action.Type == ByPercent {
			var c calc
			r.pctRatio = c.quo(r.Action.Amount, hundred)
		}
	}
	index, err := newAudienceIndex(auds, cfg.cacheSize)
	if err != nil {
		return nil, err
	}
	rs.index = index
	return rs, nil
}

// Len returns the number of cart rules (merchandising rules are not counted; see
// HasMerchandising).
func (rs *RuleSet) Len() int { return len(rs.rules) }

// Version returns a short content hash of the rule file the set was decoded from.
func (rs *RuleSet) Version() string { return rs.version }

// Timezone returns the zone the rule dates are read in.
func (rs *RuleSet) Timezone() *time.Location { return rs.tz }

// Rules returns copies of the rules in evaluation order (priority, then id).
func (rs *RuleSet) Rules() []Rule {
	out := make([]Rule, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r.Rule.clone()
	}
	return out
}

// Audiences maps every segment id named by a rule to the ids of those rules: cart rules in
// evaluation order, then merchandising rules in evaluation order.
func (rs *RuleSet) Audiences() map[string][]string {
	out := make(map[string][]string)
	for _, r := range rs.rules {
		for _, id := range r.Audiences.IDs {
			out[id] = append(out[id], r.ID)
		}
	}
	for _, m := range rs.merch.all {
		for _, id := range m.Audiences.IDs {
			out[id] = append(out[id], m.ID)
		}
	}
	return out
}

// UsesAudience reports whether any rule, cart or merchandising, names the audience id.
func (rs *RuleSet) UsesAudience(id string) bool {
	_, ok := rs.named[id]
	return ok
}

// CouponRule returns the id of the rule whose coupon is code (case-insensitive, as Magento
// matches codes). Enforced rules' secret coupons are not listed here.
func (rs *RuleSet) CouponRule(code string) (ruleID string, ok bool) {
	ruleID, ok = rs.coupons[strings.ToLower(code)]
	return ruleID, ok
}

// Enforced returns every enforced rule, in evaluation order.
func (rs *RuleSet) Enforced() []EnforcedRule {
	var out []EnforcedRule
	for _, r := range rs.rules {
		if r.Enforce != nil {
			out = append(out, r.enforced())
		}
	}
	return out
}

func (r *rule) enforced() EnforcedRule {
	return EnforcedRule{RuleID: r.ID, Coupon: r.Enforce.Coupon, CouponsFile: r.Enforce.CouponsFile}
}

// label returns what shoppers of the store see for this rule: the store label, the default
// label, then, as Magento does for a coupon rule without labels, the coupon code.
func (r *rule) label(store string) string {
	if l := r.Labels[store]; l != "" {
		return l
	}
	if r.Label != "" {
		return r.Label
	}
	if r.Coupon != "" {
		return r.Coupon
	}
	return "Discount"
}
