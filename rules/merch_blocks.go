// Content blocks by audience: which CMS and dynamic blocks a shopper sees, decided by the
// block rules in priority order.

package rules

import (
	"slices"
	"time"
)

// Blocks decides, for each requested block id (a CMS block identifier or a dynamic block
// uid, compared exactly) in order, whether the shopper with the given segments sees it, sees
// another block instead, or none, at the given time (zero means now) in scope. It returns
// nil when the set has no block rules: every block stays.
//
// A rule is in force when it is active, in its dates and in scope; a rule out of force does
// nothing. For its members (the shopper is in its audience) an in-force rule keeps its show
// blocks, hides its hide blocks and replaces its replace blocks; for everyone else it hides
// its show blocks (they are for the audience only) and does nothing more. For each block the
// first rule in priority order (ties by id) that does something with it decides; the
// replacement is not decided again. A rule with stop_further_rules whose audience matches
// stops the later rules for its members (a later show rule still hides its blocks from
// non-members: that is the block's own restriction, not a rule applying to the shopper).
func (rs *RuleSet) Blocks(ids []string, segments []string, at time.Time, scope Scope, opts EvalOptions) *BlocksResult {
	ms := &rs.merch
	if len(ms.blocks) == 0 {
		return nil
	}
	res := keepBlocks(ids)
	named := false
	for _, id := range ids {
		if _, named = ms.byBlock[id]; named {
			break
		}
	}
	if !named && opts.Trace == TraceOff {
		return res
	}
	if at.IsZero() {
		at = time.Now()
	}
	b := blockEval{ms: ms, at: at, scope: scope, cands: ms.blockIndex.candidates(normalizeSegments(segments))}
	b.findStop()
	for i := range res.Blocks {
		if b.decide(&res.Blocks[i]) {
			res.Changed = true
		}
	}
	res.Trace = b.trace(res, opts.Trace)
	return res
}

// keepBlocks is the result that keeps every requested block.
func keepBlocks(ids []string) *BlocksResult {
	res := &BlocksResult{Blocks: make([]BlockDecision, len(ids))}
	for i, id := range ids {
		res.Blocks[i] = BlockDecision{ID: id, Action: BlockKeep}
	}
	return res
}

// blockEval is one Blocks evaluation.
type blockEval struct {
	ms     *merchSet
	at     time.Time
	scope  Scope
	cands  []int32 // block rules whose audience matches, ascending
	stopAt int32   // index of the rule that stops later rules for members, or -1
}

func (b *blockEval) inForce(r *merchRule) bool {
	return scheduleReason(r.Active, r.from, r.to, b.at) == "" &&
		storeReason(r.Stores, r.Websites, b.scope.Store, b.scope.Website) == ""
}

func (b *blockEval) member(ri int32) bool {
	_, ok := slices.BinarySearch(b.cands, ri)
	return ok
}

// stopped reports whether rule ri is stopped for a member.
func (b *blockEval) stopped(ri int32) bool { return b.stopAt >= 0 && ri > b.stopAt }

// findStop finds the first in-force member rule with stop_further_rules.
func (b *blockEval) findStop() {
	b.stopAt = -1
	if !b.ms.blockStops {
		return
	}
	for _, ri := range b.cands {
		if r := b.ms.blocks[ri]; r.StopFurtherRules && b.inForce(r) {
			b.stopAt = ri
			return
		}
	}
}

// decide finds the first rule that does something with the block; it reports whether the
// block is hidden or replaced.
func (b *blockEval) decide(d *BlockDecision) bool {
	for _, ref := range b.ms.byBlock[d.ID] {
		member := b.member(ref.rule)
		if member && b.stopped(ref.rule) {
			continue
		}
		action, with, acts := ref.act(member)
		if !acts || !b.inForce(b.ms.blocks[ref.rule]) {
			continue
		}
		d.Action, d.With, d.RuleID = action, with, b.ms.blocks[ref.rule].ID
		return action != BlockKeep
	}
	return false
}

// act is what the rule does with the block for a member or a non-member.
func (ref *blockRef) act(member bool) (BlockAction, string, bool) {
	switch {
	case ref.role == roleShow && member:
		return BlockKeep, "", true
	case ref.role == roleShow:
		return BlockHide, "", true
	case !member:
		return "", "", false
	case ref.role == roleHide:
		return BlockHide, "", true
	}
	return BlockReplace, ref.with, true
}

// Flags of what a rule names among the requested blocks.
const (
	namesRequested  = 1 << iota // some requested block, in any role
	showsRequested              // some requested block in show
	decidedARequest             // it decided some requested block
)

// trace lists the outcome of the block rules the mode asks for: every rule (TraceAll), or
// the rules whose audience matches and the show rules, which act on everyone
// (TraceCandidates).
func (b *blockEval) trace(res *BlocksResult, mode TraceMode) []TraceEntry {
	if mode == TraceOff {
		return nil
	}
	rules := b.ms.blocks
	flags := make([]uint8, len(rules))
	for _, d := range res.Blocks {
		for _, ref := range b.ms.byBlock[d.ID] {
			flags[ref.rule] |= namesRequested
			if ref.role == roleShow {
				flags[ref.rule] |= showsRequested
			}
			if rules[ref.rule].ID == d.RuleID {
				flags[ref.rule] |= decidedARequest
			}
		}
	}
	out := make([]TraceEntry, 0, len(rules))
	for i, r := range rules {
		ri := int32(i)
		member := b.member(ri)
		if mode == TraceCandidates && !member && len(r.Blocks.Show) == 0 {
			continue
		}
		reason := b.reason(r, ri, member, flags[i])
		out = append(out, TraceEntry{RuleID: r.ID, Applied: reason == "", Reason: reason})
	}
	return out
}

// reason explains one rule's outcome; "" when it decided a requested block.
func (b *blockEval) reason(r *merchRule, ri int32, member bool, flags uint8) string {
	if reason := scheduleReason(r.Active, r.from, r.to, b.at); reason != "" {
		return reason
	}
	if !member && len(r.Blocks.Show) == 0 {
		return ReasonAudienceMismatch
	}
	if reason := storeReason(r.Stores, r.Websites, b.scope.Store, b.scope.Website); reason != "" {
		return reason
	}
	switch {
	case member && b.stopped(ri):
		return b.ms.blocks[b.stopAt].stoppedBy
	case flags&decidedARequest != 0:
		return ""
	case member && flags&namesRequested != 0, !member && flags&showsRequested != 0:
		return ReasonNoChange // earlier rules decided its blocks
	case member:
		return ReasonBlockMismatch
	}
	return ReasonAudienceMismatch
}
