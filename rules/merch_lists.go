// Product lists by audience: the related, up-sell and cross-sell SKUs a shopper sees for a
// product, changed by the product-list rules in priority order.

package rules

import (
	"cmp"
	"strings"
	"time"
)

// ProductList applies the product-list rules to one list (ListRelated, ListUpsell or
// ListCrosssell) of product p as the backend returned it (items: SKUs in order), for a
// shopper with the given segments (normalized as for Evaluate) at the given time (zero means
// now) in scope. It returns nil when the set has no product-list rules: the list stays as
// it is.
//
// Rules run in priority order (ties by id), each on the list the previous ones left. A rule
// applies when it is active and in its dates, the shopper is in its audience, scope, list
// and products match, and no earlier applied rule had stop_further_rules (a rule that
// applies stops later ones even when it changes nothing). It removes first (SKUs or globs,
// ignoring case), then adds (in its order, at most limit SKUs, skipping those listed and the
// product itself, at the end; an input SKU that was removed comes back as itself, not as an
// added SKU), then moves those of its first SKUs that are listed to the front, in its order.
// SKUs compare ignoring case, as Magento finds products by SKU. SKUs the backend listed stay
// where they are unless a rule removes or moves them; the engine never adds the product
// itself.
func (rs *RuleSet) ProductList(p Product, list string, items []string, segments []string, at time.Time, scope Scope, opts EvalOptions) *ListResult {
	ms := &rs.merch
	if len(ms.lists) == 0 {
		return nil
	}
	res := &ListResult{Product: p, List: list, Items: items}
	bit := listBit(list)
	if ms.listMask&bit == 0 && opts.Trace == TraceOff {
		return res
	}
	if at.IsZero() {
		at = time.Now()
	}
	cands := ms.listIndex.candidates(normalizeSegments(segments))
	var outs []string // per candidate: "" when applied, else why not; only when tracing
	if opts.Trace != TraceOff {
		outs = make([]string, len(cands))
	}
	w := listWork{items: items}
	view := itemView{sku: p.SKU, ptype: p.Type}
	stopped := ""
	for k, ri := range cands {
		r := ms.lists[ri]
		reason := scheduleReason(r.Active, r.from, r.to, at)
		if reason == "" {
			reason = storeReason(r.Stores, r.Websites, scope.Store, scope.Website)
		}
		if reason == "" && r.lists&bit == 0 {
			reason = ReasonListMismatch
		}
		if reason == "" && !r.products.evalItem(&view) {
			reason = ReasonProductMismatch
		}
		if reason == "" && stopped != "" {
			reason = stopped
		}
		if reason == "" {
			if !w.apply(r, p.SKU) {
				reason = ReasonNoChange
			}
			if r.StopFurtherRules {
				stopped = r.stoppedBy
			}
		}
		if outs != nil {
			outs[k] = reason
		}
	}
	w.finish(res)
	res.Trace = merchTrace(ms.lists, cands, outs, at, opts.Trace)
	return res
}

// listEntry is one SKU of the working list.
type listEntry struct {
	sku string
	in  int32 // index in the input, -1 for a SKU a rule added
}

// listWork is the list as the rules change it; it is built when the first rule applies.
type listWork struct {
	items   []string // the input
	ready   bool
	list    []listEntry
	removed []bool // per input SKU
}

func (w *listWork) init() {
	if w.ready {
		return
	}
	w.ready = true
	w.list = make([]listEntry, len(w.items), len(w.items)+4)
	for i, s := range w.items {
		w.list[i] = listEntry{sku: s, in: int32(i)}
	}
	w.removed = make([]bool, len(w.items))
}

// apply runs one rule: remove, add, first. It reports whether the list changed.
func (w *listWork) apply(r *merchRule, self string) bool {
	w.init()
	changed := false
	if len(r.remove) > 0 {
		kept := w.list[:0]
		for _, e := range w.list {
			if !r.removes(e.sku) {
				kept = append(kept, e)
				continue
			}
			if e.in >= 0 {
				w.removed[e.in] = true
			}
			changed = true
		}
		clear(w.list[len(kept):]) // drop string references
		w.list = kept
	}
	added := 0
	for _, s := range r.Add {
		if r.Limit > 0 && added == r.Limit {
			break
		}
		if strings.EqualFold(s, self) || w.listed(s) {
			continue
		}
		e := listEntry{sku: s, in: -1}
		if in := w.removedInput(s); in >= 0 {
			e = listEntry{sku: w.items[in], in: int32(in)}
			w.removed[in] = false
		}
		w.list = append(w.list, e)
		added++
		changed = true
	}
	if w.moveFirst(r.First) {
		changed = true
	}
	return changed
}

func (r *merchRule) removes(sku string) bool {
	for _, p := range r.remove {
		if p.match(sku) {
			return true
		}
	}
	return false
}

func (w *listWork) listed(sku string) bool {
	for _, e := range w.list {
		if strings.EqualFold(e.sku, sku) {
			return true
		}
	}
	return false
}

// removedInput returns the index of a removed input SKU equal to sku, or -1.
func (w *listWork) removedInput(sku string) int {
	for i, gone := range w.removed {
		if gone && strings.EqualFold(w.items[i], sku) {
			return i
		}
	}
	return -1
}

// moveFirst moves the listed SKUs of first to the front, in first's order, keeping the order
// of the rest. It reports whether anything moved.
func (w *listWork) moveFirst(first []string) bool {
	moved, n := false, 0
	for _, s := range first {
		for j := n; j < len(w.list); j++ {
			if !strings.EqualFold(w.list[j].sku, s) {
				continue
			}
			if j != n {
				e := w.list[j]
				copy(w.list[n+1:j+1], w.list[n:j])
				w.list[n] = e
				moved = true
			}
			n++
			break
		}
	}
	return moved
}

// finish writes the working list into res when it differs from the input.
func (w *listWork) finish(res *ListResult) {
	if !w.ready {
		return
	}
	same := len(w.list) == len(w.items)
	for i := 0; same && i < len(w.list); i++ {
		same = w.list[i].in == int32(i)
	}
	if same {
		return
	}
	res.Changed = true
	res.Items = make([]string, len(w.list))
	for i, e := range w.list {
		res.Items[i] = e.sku
		if e.in < 0 {
			res.Added = append(res.Added, e.sku)
		}
	}
	for i, gone := range w.removed {
		if gone {
			res.Removed = append(res.Removed, w.items[i])
		}
	}
}

// merchTrace lists the outcome of the rules the mode asks for: outs has one entry per
// candidate ("" when applied); rules that are not candidates are out of their dates or their
// audience.
func merchTrace(rules []*merchRule, cands []int32, outs []string, at time.Time, mode TraceMode) []TraceEntry {
	return listTrace(len(rules), cands, mode,
		func(k int) TraceEntry {
			return TraceEntry{RuleID: rules[cands[k]].ID, Applied: outs[k] == "", Reason: outs[k]}
		},
		func(i int) TraceEntry {
			r := rules[i]
			return TraceEntry{RuleID: r.ID, Reason: cmp.Or(scheduleReason(r.Active, r.from, r.to, at), ReasonAudienceMismatch)}
		})
}
