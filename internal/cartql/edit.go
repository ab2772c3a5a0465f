package cartql

import (
	"bytes"
	"errors"
	"slices"
)

// edit replaces src[start:end] with scratch[off:off+n]; start == end inserts.
type edit struct {
	start, end int32
	off, n     int32
}

// editor collects byte-range edits of a body and applies them in one pass.
type editor struct {
	edits   []edit
	scratch []byte
}

func (e *editor) reset() {
	e.edits = e.edits[:0]
	e.scratch = e.scratch[:0]
}

// mark starts a replacement text; the text is what is appended to e.scratch until add.
func (e *editor) mark() int32 { return int32(len(e.scratch)) }

// add records that src[start:end] becomes the text appended since mark.
func (e *editor) add(start, end, mark int32) {
	e.edits = append(e.edits, edit{start: start, end: end, off: mark, n: int32(len(e.scratch)) - mark})
}

// remove deletes src[start:end].
func (e *editor) remove(start, end int32) {
	if start < end {
		e.add(start, end, e.mark())
	}
}

var errOverlap = errors.New("overlapping edits")

// apply returns src with every edit applied, in dst when it has room. Identical duplicate
// edits are applied once. Without edits it returns src itself.
func (e *editor) apply(src, dst []byte) ([]byte, error) {
	if len(e.edits) == 0 {
		return src, nil
	}
	sortEdits(e.edits)
	size := len(src)
	last := int32(0)
	var prev *edit
	for i := range e.edits {
		d := &e.edits[i]
		if prev != nil && d.start == prev.start && d.end == prev.end &&
			bytes.Equal(e.text(d), e.text(prev)) {
			d.n = -1 // duplicate
			continue
		}
		if d.start < last || d.end > int32(len(src)) {
			return nil, errOverlap
		}
		size += int(d.n) - int(d.end-d.start)
		last = d.end
		prev = d
	}
	out := dst[:0]
	if cap(out) < size {
		out = make([]byte, 0, size)
	}
	last = 0
	for i := range e.edits {
		d := &e.edits[i]
		if d.n < 0 {
			continue
		}
		out = append(out, src[last:d.start]...)
		out = append(out, e.text(d)...)
		last = d.end
	}
	return append(out, src[last:]...), nil
}

// sortEdits orders edits by start, then end, keeping the order of equal ones. Edits arrive
// nearly in order (each pass over the answer adds them in document order), so for the
// usual few dozen an insertion sort moves few of them; longer lists are merge-sorted.
func sortEdits(edits []edit) {
	if len(edits) > 64 {
		slices.SortStableFunc(edits, func(a, b edit) int {
			if a.start != b.start {
				return int(a.start - b.start)
			}
			return int(a.end - b.end)
		})
		return
	}
	for i := 1; i < len(edits); i++ {
		d := edits[i]
		j := i
		for ; j > 0 && (edits[j-1].start > d.start || edits[j-1].start == d.start && edits[j-1].end > d.end); j-- {
			edits[j] = edits[j-1]
		}
		edits[j] = d
	}
}

func (e *editor) text(d *edit) []byte { return e.scratch[d.off : d.off+d.n] }

// removeKids deletes the children of container p for which del is true, together with the
// separators around them, so that the container stays valid JSON.
func (e *editor) removeKids(t *tape, p int32, del func(c int32) bool) {
	kept := false
	lead := int32(-1) // start of a run of deleted children before the first kept one
	prevEnd := int32(-1)
	for c := t.first(p); c >= 0; c = t.nodes[c].next {
		start := t.nodes[c].start
		if t.nodes[c].key >= 0 {
			start = t.nodes[c].key
		}
		end := t.nodes[c].end
		switch {
		case !del(c):
			if !kept && lead >= 0 {
				e.remove(lead, start)
			}
			kept = true
		case kept:
			e.remove(prevEnd, end)
		case lead < 0:
			lead = start
		}
		prevEnd = end
	}
	if !kept && lead >= 0 {
		e.remove(lead, prevEnd)
	}
}

// openList starts appending elements to array (or null) n and returns the mark to pass to
// closeList; elements appended in between must be separated by commas.
func (e *editor) openList(t *tape, n int32) int32 {
	m := e.mark()
	switch nd := &t.nodes[n]; {
	case nd.kind == kindNull:
		e.scratch = append(e.scratch, '[')
	case nd.kids > 0:
		e.scratch = append(e.scratch, ',')
	}
	return m
}

// closeList records the edit that appends the elements written since openList to n; a null
// becomes a list.
func (e *editor) closeList(t *tape, n, mark int32) {
	nd := &t.nodes[n]
	if nd.kind == kindNull {
		e.scratch = append(e.scratch, ']')
		e.add(nd.start, nd.end, mark)
		return
	}
	e.add(nd.end-1, nd.end-1, mark)
}
