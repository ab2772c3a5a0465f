package cartql

// Strip removes every hidden field from a response body, drops GraphQL errors that concern
// only hidden fields and maps error locations back to the client's query. It is the fail-open
// path after a failed Rewrite; if Strip fails too, the caller sends the body as it is. The
// result may share memory with body.
func (p *Plan) Strip(body []byte) ([]byte, error) {
	if !p.HasCart() && !p.HasMerch() {
		return body, nil
	}
	rw := getRewriter()
	defer putRewriter(rw)
	if err := rw.t.parse(body); err != nil {
		return nil, err
	}
	return rw.finish(p, nil)
}

// finish cleans the errors, strips the hidden fields and applies every edit.
func (rw *rewriter) finish(p *Plan, dst []byte) ([]byte, error) {
	rw.cleanErrors(p.ins)
	rw.strip()
	return rw.ed.apply(rw.t.src, dst)
}

// cleanErrors drops errors whose path runs through a hidden field and remaps the locations
// of the others.
func (rw *rewriter) cleanErrors(ins []insertion) {
	t := &rw.t
	if t.kind(0) != kindObject {
		return
	}
	errs := t.member(0, "errors")
	if t.kind(errs) != kindArray {
		return
	}
	kept := 0
	for e := t.first(errs); e >= 0; e = t.nodes[e].next {
		if rw.hiddenPath(e) {
			rw.drop = append(rw.drop, e)
			continue
		}
		kept++
		rw.remapLocations(e, ins)
	}
	rw.dropParent = errs
	if kept == 0 && len(rw.drop) > 0 {
		rw.drop = append(rw.drop[:0], errs) // an empty errors list is not allowed: drop the member
		rw.dropParent = 0
	}
}

// hiddenPath reports whether error e has a path through a hidden field.
func (rw *rewriter) hiddenPath(e int32) bool {
	t := &rw.t
	path := t.member(e, "path")
	if t.kind(path) != kindArray {
		return false
	}
	for c := t.first(path); c >= 0; c = t.nodes[c].next {
		if t.kind(c) != kindString {
			continue
		}
		nd := &t.nodes[c]
		if nd.esc {
			s, _ := unquote(t.raw(c))
			if len(s) >= len(HiddenPrefix) && s[:len(HiddenPrefix)] == HiddenPrefix {
				return true
			}
			continue
		}
		s := t.src[nd.start+1 : nd.end-1]
		if len(s) >= len(HiddenPrefix) && string(s[:len(HiddenPrefix)]) == HiddenPrefix {
			return true
		}
	}
	return false
}

func (rw *rewriter) dropped(n int32) bool {
	for _, d := range rw.drop {
		if d == n {
			return true
		}
	}
	return false
}

// strip deletes every hidden member and every dropped node. The parser listed the hidden
// members in document order, so only their objects are visited, outer ones first.
func (rw *rewriter) strip() {
	t := &rw.t
	rw.cleaned = rw.cleaned[:0]
	rw.removed = rw.removed[:0]
	if len(rw.drop) > 0 {
		rw.clean(rw.dropParent)
	}
	for _, m := range t.hidden {
		rw.clean(m.parent)
	}
}

// gone reports whether child c is deleted.
func (rw *rewriter) gone(c int32) bool {
	t := &rw.t
	nd := &t.nodes[c]
	return (nd.key >= 0 && hiddenKey(t.src[nd.key:nd.keyEnd], nd.keyEsc)) || (len(rw.drop) > 0 && rw.dropped(c))
}

// clean removes the gone children of container p, unless p was cleaned already or lies in
// something removed.
func (rw *rewriter) clean(p int32) {
	t := &rw.t
	for _, c := range rw.cleaned {
		if c == p {
			return
		}
	}
	at := t.nodes[p].start
	for _, r := range rw.removed {
		if at >= r[0] && at < r[1] {
			return
		}
	}
	rw.cleaned = append(rw.cleaned, p)
	rw.ed.removeKids(t, p, func(c int32) bool {
		if !rw.gone(c) {
			return false
		}
		nd := &t.nodes[c]
		rw.removed = append(rw.removed, [2]int32{nd.start, nd.end})
		return true
	})
}
