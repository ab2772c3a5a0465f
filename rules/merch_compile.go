package rules

import (
	"cmp"
	"slices"
)

// merchSet is the compiled merchandising part of a RuleSet.
type merchSet struct {
	all []*merchRule // evaluation order: priority, then id

	lists     []*merchRule // product-list rules, evaluation order
	listIndex *audienceIndex
	listMask  listMask // the lists some rule changes

	blocks     []*merchRule // block rules, evaluation order
	blockIndex *audienceIndex
	byBlock    map[string][]blockRef // block id → the rules naming it, in evaluation order
	blockStops bool                  // some block rule has stop_further_rules
	shows      bool                  // some block rule shows blocks to its audience only
}

// blockRole is what a rule does with one block.
type blockRole uint8

const (
	roleShow blockRole = iota + 1
	roleHide
	roleReplace
)

// blockRef is one rule's say on one block.
type blockRef struct {
	rule int32 // index into merchSet.blocks
	role blockRole
	with string // roleReplace: the block shown instead
}

// compileMerch sorts the merchandising rules, splits them by kind and indexes each kind by
// audience and the block rules by block id.
func (rs *RuleSet) compileMerch(merch []*merchRule, cfg config) error {
	slices.SortStableFunc(merch, func(a, b *merchRule) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.ID, b.ID))
	})
	ms := &rs.merch
	ms.all = merch
	var listAuds, blockAuds []audience
	for _, m := range merch {
		m.stoppedBy = ReasonStoppedBy + m.ID
		for _, id := range m.Audiences.IDs {
			rs.named[id] = struct{}{}
		}
		if m.Blocks == nil {
			ms.lists = append(ms.lists, m)
			ms.listMask |= m.lists
			listAuds = append(listAuds, compileAudience(m.Audiences))
			continue
		}
		idx := int32(len(ms.blocks))
		ms.blocks = append(ms.blocks, m)
		ms.blockStops = ms.blockStops || m.StopFurtherRules
		blockAuds = append(blockAuds, compileAudience(m.Audiences))
		if ms.byBlock == nil {
			ms.byBlock = make(map[string][]blockRef)
		}
		ms.shows = ms.shows || len(m.Blocks.Show) > 0
		for _, id := range m.Blocks.Show {
			ms.byBlock[id] = append(ms.byBlock[id], blockRef{rule: idx, role: roleShow})
		}
		for _, id := range m.Blocks.Hide {
			ms.byBlock[id] = append(ms.byBlock[id], blockRef{rule: idx, role: roleHide})
		}
		for id, with := range m.Blocks.Replace {
			ms.byBlock[id] = append(ms.byBlock[id], blockRef{rule: idx, role: roleReplace, with: with})
		}
	}
	// A rule names a block once, so sorting by rule restores evaluation order.
	for _, refs := range ms.byBlock {
		slices.SortFunc(refs, func(a, b blockRef) int { return cmp.Compare(a.rule, b.rule) })
	}
	var err error
	if len(ms.lists) > 0 {
		if ms.listIndex, err = newAudienceIndex(listAuds, cfg.cacheSize); err != nil {
			return err
		}
	}
	if len(ms.blocks) > 0 {
		if ms.blockIndex, err = newAudienceIndex(blockAuds, cfg.cacheSize); err != nil {
			return err
		}
	}
	return nil
}

// HasMerchandising reports whether the set has merchandising rules.
func (rs *RuleSet) HasMerchandising() bool { return len(rs.merch.all) > 0 }

// Merchandising returns copies of the merchandising rules in evaluation order (priority,
// then id); each marshals to the rule as written.
func (rs *RuleSet) Merchandising() []MerchRule {
	out := make([]MerchRule, len(rs.merch.all))
	for i, m := range rs.merch.all {
		out[i] = m.MerchRule.clone()
	}
	return out
}

// HasProductLists reports whether some rule changes product lists.
func (rs *RuleSet) HasProductLists() bool { return len(rs.merch.lists) > 0 }

// TargetsList reports whether some rule changes the list (ListRelated, ListUpsell or
// ListCrosssell), so a planner can leave the others alone.
func (rs *RuleSet) TargetsList(list string) bool {
	bit := listBit(list)
	return bit != 0 && rs.merch.listMask&bit != 0
}

// ListsFor reports whether a product-list rule's audience matches a shopper with the given
// segments; when it is false, ProductList changes no list for the shopper.
func (rs *RuleSet) ListsFor(segments []string) bool {
	ix := rs.merch.listIndex
	return ix != nil && len(ix.candidates(normalizeSegments(segments))) > 0
}

// BlocksFor reports whether Blocks may change a block for a shopper with the given segments:
// a block rule's audience matches them, or a rule shows blocks to its audience only (hiding
// them from everyone else). When it is false, Blocks changes nothing for the shopper.
func (rs *RuleSet) BlocksFor(segments []string) bool {
	ix := rs.merch.blockIndex
	return ix != nil && (rs.merch.shows || len(ix.candidates(normalizeSegments(segments))) > 0)
}

// HasBlocks reports whether some rule shows, hides or replaces blocks.
func (rs *RuleSet) HasBlocks() bool { return len(rs.merch.blocks) > 0 }

// NamesBlock reports whether some rule shows, hides or replaces the block id; Blocks keeps
// every other block as it is.
func (rs *RuleSet) NamesBlock(id string) bool {
	_, ok := rs.merch.byBlock[id]
	return ok
}
