package rules

import (
	"cmp"
	"strings"
	"time"
)

// Reasons a rule did not apply, as they appear in TraceEntry.Reason.
const (
	ReasonInactive         = "inactive"
	ReasonNotStarted       = "not_started"
	ReasonExpired          = "expired"
	ReasonAudienceMismatch = "audience_mismatch"
	ReasonStoreMismatch    = "store_mismatch" // stores or websites scope
	ReasonCurrencyMismatch = "currency_mismatch"
	ReasonCouponMismatch   = "coupon_mismatch" // the cart does not carry the rule's coupon
	ReasonConditionsFalse  = "conditions_false"
	ReasonNoEligibleItems  = "no_eligible_items"
	ReasonStoppedBy        = "stopped_by:" // followed by the id of the rule that stopped the items
	ReasonBudgetExhausted  = "budget_exhausted"
	ReasonZeroDiscount     = "zero_discount"

	// Merchandising rules.
	ReasonListMismatch    = "list_mismatch"    // the rule changes other product lists
	ReasonProductMismatch = "product_mismatch" // the product does not match the rule's products
	ReasonBlockMismatch   = "block_mismatch"   // the rule names none of the requested blocks
	ReasonNoChange        = "no_change"        // the rule matched but left everything as it was
)

// TraceMode says which rules an evaluation's trace lists.
type TraceMode uint8

const (
	// TraceAll lists every rule of the set, in evaluation order (the default).
	TraceAll TraceMode = iota
	// TraceCandidates lists only the rules whose audience matches the segments (for Blocks,
	// also the rules with show blocks, which act on everyone).
	TraceCandidates
	// TraceOff leaves the trace empty; the fastest choice for serving traffic.
	TraceOff
)

// EvalOptions tunes an evaluation.
type EvalOptions struct {
	Trace TraceMode
	// Into, when set, receives the result, reusing its memory: a result the caller is done
	// with (from a pool, say). Nothing returned by an earlier evaluation into it stays valid.
	Into *Result
}

// couponReason checks a coupon rule's code against the cart's coupons, case-insensitively
// as Magento matches coupon codes.
func (r *rule) couponReason(c *Cart) string {
	if r.Coupon == "" {
		return ""
	}
	for _, code := range c.Coupons {
		if strings.EqualFold(code, r.Coupon) {
			return ""
		}
	}
	return ReasonCouponMismatch
}

// timeReason checks a rule's switch and dates.
func (r *rule) timeReason(e *evaluator) string {
	return scheduleReason(r.Active, r.from, r.to, e.at)
}

// scheduleReason checks a switch and dates (to exclusive, zero when open) at an instant.
func scheduleReason(active bool, from, to, at time.Time) string {
	switch {
	case !active:
		return ReasonInactive
	case !from.IsZero() && at.Before(from):
		return ReasonNotStarted
	case !to.IsZero() && !at.Before(to):
		return ReasonExpired
	}
	return ""
}

// storeReason checks store and website scopes.
func storeReason(stores, websites []string, store, website string) string {
	if len(stores) > 0 && !containsString(stores, store) {
		return ReasonStoreMismatch
	}
	if len(websites) > 0 && !containsString(websites, website) {
		return ReasonStoreMismatch
	}
	return ""
}

// scopeReason checks a rule's store, website and currency scopes.
func (r *rule) scopeReason(c *Cart) string {
	if reason := storeReason(r.Stores, r.Websites, c.Store, c.Website); reason != "" {
		return reason
	}
	if len(r.Currencies) > 0 && !containsFoldString(r.Currencies, c.Currency) {
		return ReasonCurrencyMismatch
	}
	return ""
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsFoldString(list []string, s string) bool {
	for _, x := range list {
		if len(x) == len(s) && equalFoldASCII(x, s) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// buildTrace lists the outcome of every rule the mode asks for.
func (e *evaluator) buildTrace(cands []int32, mode TraceMode) []TraceEntry {
	rules := e.rs.rules
	return listTrace(len(rules), cands, mode,
		func(k int) TraceEntry { return e.s.outcomes[k].entry(rules[cands[k]]) },
		func(i int) TraceEntry {
			r := rules[i]
			return TraceEntry{RuleID: r.ID, Reason: cmp.Or(r.timeReason(e), ReasonAudienceMismatch), Enforce: r.Enforce != nil}
		})
}

// listTrace lists, as the mode asks, the outcome of n rules in evaluation order of which the
// candidates (ascending) were evaluated: cand(k) for the k-th candidate, other(i) for rule i
// when it is not one.
func listTrace(n int, cands []int32, mode TraceMode, cand func(k int) TraceEntry, other func(i int) TraceEntry) []TraceEntry {
	switch mode {
	case TraceOff:
		return nil
	case TraceCandidates:
		out := make([]TraceEntry, len(cands))
		for k := range cands {
			out[k] = cand(k)
		}
		return out
	}
	out := make([]TraceEntry, n)
	k := 0
	for i := range out {
		if k < len(cands) && cands[k] == int32(i) {
			out[i] = cand(k)
			k++
			continue
		}
		out[i] = other(i)
	}
	return out
}

func (o *outcome) entry(r *rule) TraceEntry {
	return TraceEntry{RuleID: r.ID, Applied: o.applied, Reason: o.reason, Enforce: r.Enforce != nil}
}
