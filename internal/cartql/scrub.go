// Scrub removes gate codes from any GraphQL answer without a schema; with its scanner, its
// writer and the folding rules Magento's collation needs it is one piece, over 500 lines.

package cartql

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Scrub removes secret coupon codes (the coupon gate's) from any GraphQL response body:
// cart, order or error, without a schema. Codes match case-insensitively (Unicode simple
// folding, as strings.EqualFold); empty codes are ignored.
//
//   - An object whose member "code" is a code (AppliedCoupon, the deprecated applied_coupon,
//     Discount.coupon) is removed from the list holding it (Cart.applied_coupons,
//     CustomerOrder.applied_coupons) or, outside a list, replaced with null.
//   - Any other string equal to a code (a discount label: Magento shows the code when the
//     rule has no store label) becomes labels[strings.ToUpper(code)], or "Discount".
//   - Any other string containing a code (an error message) loses it, with a pair of quotes
//     around it and the space it leaves; a message that started with it is capitalized.
//
// Keys are never changed, and everything else is left byte for byte. When no code can be in
// the body, Scrub returns body itself with changed false and allocates nothing, without
// reading the body as JSON. It fails only when a code may be in the body and the body is not
// JSON: then out is nil, and the body must not be sent as it is. The result may share memory
// with body.
func Scrub(body []byte, codes []string, labels map[string]string) (out []byte, changed bool, err error) {
	mode := scanCodes(body, codes)
	if mode == codesAbsent {
		return body, false, nil
	}
	sc := scrubbers.Get().(*scrubber)
	defer sc.release()
	return sc.scrub(body, codes, labels, mode)
}

// How the codes may occur in a body.
const (
	codesAbsent  = iota // nowhere, not even in keys or numbers
	codesRaw            // only as they are: every occurrence in a string shows in the raw bytes
	codesGeneral        // possibly hidden by \u escapes or non-ASCII case variants
)

// Byte sequences that may hide an ASCII code character.
var (
	escapeU = []byte(`\u`)
	kelvin  = []byte("\u212a") // folds to k
	longS   = []byte("\u017f") // folds to s
)

// scanCodes decides, in a few passes over the body and without allocating, whether the
// codes may occur in it and how.
func scanCodes(body []byte, codes []string) int {
	var set asciiSet // upper-cased characters of the codes
	found := false
	for _, c := range codes {
		if c == "" {
			continue
		}
		if !plainCode(c) {
			return codesGeneral
		}
		for i := 0; i < len(c); i++ {
			set.add(upperASCII(c[i]))
		}
		if !found && indexFoldASCII(body, c) >= 0 {
			found = true
		}
	}
	if set.empty() {
		return codesAbsent
	}
	if hidingEscape(body, &set) || (set.has('K') && bytes.Contains(body, kelvin)) || (set.has('S') && bytes.Contains(body, longS)) {
		return codesGeneral
	}
	if found {
		return codesRaw
	}
	return codesAbsent
}

// plainCode reports whether a code is printable ASCII that JSON encoders write as it is.
func plainCode(c string) bool {
	for i := 0; i < len(c); i++ {
		if b := c[i]; b < 0x20 || b > 0x7e || b == '"' || b == '\\' || b == '/' {
			return false
		}
	}
	return true
}

// hidingEscape reports whether the body has a \u escape of a character in set (or of a
// non-ASCII character folding to one).
func hidingEscape(body []byte, set *asciiSet) bool {
	for i := 0; ; i += 2 {
		j := bytes.Index(body[i:], escapeU)
		if j < 0 {
			return false
		}
		i += j
		if i+6 > len(body) {
			return false
		}
		r := rune(0)
		for _, h := range body[i+2 : i+6] {
			r = r<<4 | rune(hexValue(h))
		}
		switch {
		case r < utf8.RuneSelf && set.has(upperASCII(byte(r))):
			return true
		case r == 0x212a && set.has('K'), r == 0x17f && set.has('S'):
			return true
		}
	}
}

func hexValue(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff // never matches: r becomes large
}

// asciiSet is a set of ASCII bytes.
type asciiSet [2]uint64

func (s *asciiSet) add(c byte)      { s[c>>6&1] |= 1 << (c & 63) }
func (s *asciiSet) has(c byte) bool { return c < utf8.RuneSelf && s[c>>6]&(1<<(c&63)) != 0 }
func (s *asciiSet) empty() bool     { return s[0]|s[1] == 0 }

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// indexFoldASCII returns the first offset where b holds the ASCII code c, ignoring ASCII
// case, or -1.
func indexFoldASCII(b []byte, c string) int {
	f := newFoldFinder(b, c)
	return f.next()
}

// foldFinder finds the occurrences of an ASCII code in b, ignoring ASCII case, from left to
// right in one pass: it jumps between occurrences of the code's rarest byte, in both cases.
type foldFinder struct {
	b      []byte
	c      string
	a      int  // offset of the anchor byte in c
	lo, up byte // the anchor in both cases
	nl, nu int  // next offsets of lo and up in b, -1 when there are none
	from   int  // where the next occurrence may start
}

func newFoldFinder(b []byte, c string) foldFinder {
	f := foldFinder{b: b, c: c}
	for i := 1; i < len(c); i++ {
		if byteRank[upperASCII(c[i])] < byteRank[upperASCII(c[f.a])] {
			f.a = i
		}
	}
	f.lo, f.up = c[f.a], c[f.a]
	switch x := c[f.a]; {
	case x >= 'a' && x <= 'z':
		f.up = x - 'a' + 'A'
	case x >= 'A' && x <= 'Z':
		f.lo = x - 'A' + 'a'
	}
	f.nl, f.nu = f.index(f.lo, f.a), -1
	if f.up != f.lo {
		f.nu = f.index(f.up, f.a)
	}
	return f
}

func (f *foldFinder) index(x byte, at int) int {
	if at >= len(f.b) {
		return -1
	}
	if i := bytes.IndexByte(f.b[at:], x); i >= 0 {
		return at + i
	}
	return -1
}

// next returns the start of the next occurrence (overlapping ones included), or -1.
func (f *foldFinder) next() int {
	n := len(f.c)
	for f.nl >= 0 || f.nu >= 0 {
		var p int
		if f.nu < 0 || (f.nl >= 0 && f.nl < f.nu) {
			p, f.nl = f.nl, f.index(f.lo, f.nl+1)
		} else {
			p, f.nu = f.nu, f.index(f.up, f.nu+1)
		}
		if s := p - f.a; s >= f.from && s+n <= len(f.b) && equalFoldASCII(f.b[s:s+n], f.c) {
			f.from = s + 1
			return s
		}
	}
	return -1
}

func equalFoldASCII(b []byte, c string) bool {
	for i := 0; i < len(c); i++ {
		if upperASCII(b[i]) != upperASCII(c[i]) {
			return false
		}
	}
	return true
}

// byteRank orders bytes by how often they occur in GraphQL JSON (higher is more often), so
// that the search jumps between rare ones.
var byteRank = func() (r [256]byte) {
	for i, c := range []byte("ZQJXKVBPYGFWMUCLDRHSNIOATE") { // letters, rarest first
		r[c] = byte(10 + i)
	}
	for c := '0'; c <= '9'; c++ {
		r[c] = 30
	}
	for _, c := range []byte(` "_:,.{}`) {
		r[c] = 50
	}
	return r
}()

// scrubber is the reusable state of one slow-path scrub.
type scrubber struct {
	t       tape
	ed      editor
	codes   []foldedCode
	cands   []int32 // string nodes that may hold a code
	gates   []int32 // objects whose "code" is a code
	lists   []int32 // lists holding some of them
	parents []int32
	open    []int32 // containers open while computing parents
	edits   []stringEdit
}

// stringEdit is a string to rewrite: a label (code >= 0) or a text to cut codes out of.
type stringEdit struct {
	node int32
	code int
}

// foldedCode is a code as the runes of its case folding.
type foldedCode struct {
	code  string
	runes []rune
}

var scrubbers = sync.Pool{New: func() any { return new(scrubber) }}

func (sc *scrubber) release() {
	if cap(sc.t.nodes) > 1<<16 || cap(sc.ed.scratch) > 1<<20 {
		return
	}
	sc.t.src = nil
	sc.codes = sc.codes[:0]
	scrubbers.Put(sc)
}

func (sc *scrubber) scrub(body []byte, codes []string, labels map[string]string, mode int) ([]byte, bool, error) {
	t := &sc.t
	if err := t.parse(body); err != nil {
		return nil, false, fmt.Errorf("scrub: %w", err)
	}
	sc.ed.reset()
	sc.cands, sc.gates, sc.edits, sc.codes = sc.cands[:0], sc.gates[:0], sc.edits[:0], sc.codes[:0]
	for _, c := range codes {
		if c != "" {
			sc.codes = append(sc.codes, foldedCode{code: c, runes: foldRunes(c)})
		}
	}
	sc.candidates(body, mode)
	for _, n := range sc.cands {
		s := sc.content(n)
		k := sc.equalCode(s)
		switch {
		case k >= 0 && t.keyIs(n, "code"):
			sc.gates = append(sc.gates, n) // the string for now; its object below
		case k >= 0:
			sc.edits = append(sc.edits, stringEdit{node: n, code: k})
		case sc.index(s, 0) >= 0:
			sc.edits = append(sc.edits, stringEdit{node: n, code: -1})
		}
	}
	sc.removeGates()
	for _, e := range sc.edits {
		if sc.inGate(e.node) {
			continue
		}
		var s []byte
		if e.code >= 0 {
			label, ok := labels[strings.ToUpper(sc.codes[e.code].code)]
			if !ok {
				label = "Discount"
			}
			s = sc.cut([]byte(label))
		} else {
			s = sc.cut(sc.content(e.node))
		}
		nd := &t.nodes[e.node]
		mark := sc.ed.mark()
		sc.ed.scratch = appendJSONString(sc.ed.scratch, string(s))
		sc.ed.add(nd.start, nd.end, mark)
	}
	if len(sc.ed.edits) == 0 {
		return body, false, nil
	}
	out, err := sc.ed.apply(body, nil)
	if err != nil {
		return nil, false, fmt.Errorf("scrub: %w", err)
	}
	return out, true, nil
}

// candidates lists the string nodes that may hold a code, in document order.
func (sc *scrubber) candidates(body []byte, mode int) {
	t := &sc.t
	if mode == codesGeneral {
		for i := range t.nodes {
			if t.nodes[i].kind == kindString {
				sc.cands = append(sc.cands, int32(i))
			}
		}
		return
	}
	for _, c := range sc.codes {
		f := newFoldFinder(body, c.code)
		for h := f.next(); h >= 0; h = f.next() {
			// The last node starting at or before the hit.
			i := sort.Search(len(t.nodes), func(i int) bool { return int(t.nodes[i].start) > h }) - 1
			if i >= 0 && t.nodes[i].kind == kindString && h+len(c.code) <= int(t.nodes[i].end) {
				sc.cands = append(sc.cands, int32(i))
			}
		}
	}
	slices.Sort(sc.cands)
	sc.cands = slices.Compact(sc.cands)
}

// content returns the text of string node n.
func (sc *scrubber) content(n int32) []byte {
	nd := &sc.t.nodes[n]
	if !nd.esc {
		return sc.t.src[nd.start+1 : nd.end-1]
	}
	s, _ := unquote(sc.t.raw(n))
	return []byte(s)
}

// removeGates turns the "code" strings collected in sc.gates into their objects and edits
// them away: removed from a list, else replaced with null.
func (sc *scrubber) removeGates() {
	if len(sc.gates) == 0 {
		return
	}
	t := &sc.t
	sc.computeParents()
	for i, n := range sc.gates {
		sc.gates[i] = sc.parents[n]
	}
	// Document order, without objects inside other ones.
	slices.Sort(sc.gates)
	sc.gates = slices.Compact(sc.gates)
	kept := sc.gates[:0]
	for _, g := range sc.gates {
		if len(kept) > 0 && t.nodes[g].start < t.nodes[kept[len(kept)-1]].end {
			continue
		}
		kept = append(kept, g)
	}
	sc.gates = kept
	isGate := func(c int32) bool {
		_, ok := slices.BinarySearch(sc.gates, c)
		return ok
	}
	lists := sc.lists[:0]
	for _, g := range sc.gates {
		nd := &t.nodes[g]
		if g != 0 && nd.key < 0 { // a list element
			lists = append(lists, sc.parents[g])
			continue
		}
		mark := sc.ed.mark()
		sc.ed.scratch = append(sc.ed.scratch, "null"...)
		sc.ed.add(nd.start, nd.end, mark)
	}
	slices.Sort(lists)
	for _, l := range slices.Compact(lists) {
		sc.ed.removeKids(t, l, isGate)
	}
	sc.lists = lists[:0]
}

// computeParents records the container of every node.
func (sc *scrubber) computeParents() {
	t := &sc.t
	sc.parents = slices.Grow(sc.parents[:0], len(t.nodes))[:len(t.nodes)]
	stack := sc.open[:0]
	for i := range t.nodes {
		nd := &t.nodes[i]
		for len(stack) > 0 && t.nodes[stack[len(stack)-1]].end <= nd.start {
			stack = stack[:len(stack)-1]
		}
		sc.parents[i] = -1
		if len(stack) > 0 {
			sc.parents[i] = stack[len(stack)-1]
		}
		if (nd.kind == kindObject || nd.kind == kindArray) && nd.kids > 0 {
			stack = append(stack, int32(i))
		}
	}
	sc.open = stack[:0]
}

// inGate reports whether node n lies in a removed object.
func (sc *scrubber) inGate(n int32) bool {
	t := &sc.t
	i := sort.Search(len(sc.gates), func(i int) bool { return sc.gates[i] > n }) - 1
	return i >= 0 && t.nodes[n].end <= t.nodes[sc.gates[i]].end
}

// foldRune maps r to the smallest rune of its simple case folding orbit, so that two runes
// are equal under strings.EqualFold exactly when their folds are.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

func foldRunes(s string) []rune {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, foldRune(r))
	}
	return out
}

// matchAt returns the end of code c in s at offset i, or -1.
func matchAt(s []byte, i int, c []rune) int {
	for _, want := range c {
		if i >= len(s) {
			return -1
		}
		r, w := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRune(s[i:])
		}
		if foldRune(r) != want {
			return -1
		}
		i += w
	}
	return i
}

// equalCode returns the index of the code s equals, or -1.
func (sc *scrubber) equalCode(s []byte) int {
	for k, c := range sc.codes {
		if matchAt(s, 0, c.runes) == len(s) {
			return k
		}
	}
	return -1
}

// index returns the first offset from at where s holds a code, or -1.
func (sc *scrubber) index(s []byte, at int) int {
	i, _ := sc.find(s, at)
	return i
}

// find returns the first occurrence of a code in s from offset at (the longest one when
// several start there), or -1.
func (sc *scrubber) find(s []byte, at int) (int, int) {
	for i := at; i < len(s); {
		best := -1
		for _, c := range sc.codes {
			if j := matchAt(s, i, c.runes); j > best {
				best = j
			}
		}
		if best >= 0 {
			return i, best
		}
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, w := utf8.DecodeRune(s[i:])
			i += w
		}
	}
	return -1, -1
}

// cut removes every code from s, as many passes as it takes (removing one can join the
// text around it into another).
func (sc *scrubber) cut(s []byte) []byte {
	for {
		out, changed := sc.cutOnce(s)
		if !changed {
			return out
		}
		s = out
	}
}

// quotePairs are the quotes removed with a code they surround.
var quotePairs = [][2]string{{`"`, `"`}, {`'`, `'`}, {"“", "”"}, {"‘", "’"}, {"«", "»"}}

// cutOnce removes the codes of s from left to right, with a pair of quotes around each, and
// the space each leaves behind.
func (sc *scrubber) cutOnce(s []byte) ([]byte, bool) {
	i, j := sc.find(s, 0)
	if i < 0 {
		return s, false
	}
	out := make([]byte, 0, len(s))
	capital := false
	for i >= 0 {
		left, right := s[:i], s[j:]
		for _, q := range quotePairs {
			if bytes.HasSuffix(left, []byte(q[0])) && bytes.HasPrefix(right, []byte(q[1])) {
				left, right = left[:len(left)-len(q[0])], right[len(q[1]):]
				break
			}
		}
		out = append(out, left...)
		switch {
		case len(out) == 0:
			right = bytes.TrimLeft(right, " ")
			capital = true
		case out[len(out)-1] == ' ' && (len(right) == 0 || strings.IndexByte(" .,;:!?", right[0]) >= 0):
			out = out[:len(out)-1]
		}
		s = right
		i, j = sc.find(s, 0)
	}
	out = append(out, s...)
	if capital && len(out) > 0 && out[0] >= 'a' && out[0] <= 'z' {
		out[0] -= 'a' - 'A'
	}
	return out, true
}
