package cartql

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// maxJSONDepth bounds nesting: deeper bodies are refused (they fail open).
const maxJSONDepth = 512

// Word constants of the eight-bytes-at-a-time scans.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// Node kinds of a tape.
const (
	kindObject = '{'
	kindArray  = '['
	kindString = '"'
	kindNumber = '0'
	kindTrue   = 't'
	kindFalse  = 'f'
	kindNull   = 'n'
	// kindSkipped is an object or array the parse validated but did not index (see shape).
	kindSkipped = 's'
)

// jnode is one JSON value of a tape. Nodes are stored in document order, so the first child
// of a container is the node right after it.
type jnode struct {
	start, end  int32 // value bytes
	key, keyEnd int32 // member key bytes with quotes; -1 for array elements and the root
	next        int32 // index of the next sibling, or -1
	kids        int32 // number of members or elements
	kind        byte
	keyEsc      bool // the key contains escapes
	esc         bool // the string value contains escapes
}

// tape is a validated, indexed JSON document: one pass over the body, no copies.
type tape struct {
	src   []byte
	nodes []jnode
	// hidden lists the members whose key starts with HiddenPrefix, in document order.
	hidden  []member
	open    []frame // the containers open while parsing
	closers []byte  // the same inside a skipped value
}

// member is a member node and the object holding it.
type member struct{ parent, node int32 }

var errDepth = errors.New("json nested too deeply")

// frame is an open container while parsing: its node, its last
// child so far and their number, the shape of its members (an index in the shape table)
// and the byte that closes it.
type frame struct {
	node, prev, kids, shape int32
	closer                  byte
}

// parse validates src as one JSON value and indexes it, iteratively (no recursion, so depth
// costs no stack; it is still capped).
func (t *tape) parse(src []byte) error {
	return t.parseShape(src, wholeShapes)
}

// parseShape validates src as one JSON value and indexes the parts sh names; the others are
// skipped (kindSkipped nodes). When a skipped value holds a hidden member, it indexes src
// whole instead, so that every hidden member is found.
func (t *tape) parseShape(src []byte, sh shapeTable) error {
	t.src = src
	if len(src) >= math.MaxInt32 {
		return errors.New("json body too large")
	}
	err := t.scan(src, sh)
	if errors.Is(err, errHiddenSkipped) {
		err = t.scan(src, wholeShapes)
	}
	if err != nil {
		return fmt.Errorf("invalid json: %w", err)
	}
	return nil
}

func (t *tape) scan(src []byte, shapes shapeTable) error {
	nodes, err := t.scanNodes(src, shapes, t.nodes[:0])
	t.nodes = nodes
	return err
}

// scanNodes is scan appending to nodes. A node is appended when its value begins: at a
// member's key (which it records) or at an array element, and filled in when the value is
// read, so the key needs no locals. The container being filled is kept in cur; open holds
// the ones around it. The loop runs from label to label: value (a value starts at i, its
// node is the last one), key (a member key starts at i) and after (a value ended at i).
func (t *tape) scanNodes(src []byte, shapes shapeTable, nodes []jnode) ([]jnode, error) {
	t.hidden = t.hidden[:0]
	if cap(t.open) < maxJSONDepth {
		t.open = make([]frame, maxJSONDepth)
	}
	open := t.open[:maxJSONDepth]
	sp := 0 // open containers
	var cur frame
	var (
		c   byte
		j   int
		esc bool
		err error
	)
	i := skipWS(src, 0)
	nodes = pushNode(nodes, -1, -1, false) // the root

value:
	if i >= len(src) {
		return nodes, errors.New("unexpected end of input")
	}
	switch c = src[i]; {
	case c == '"':
		if j = stopAt(src, i+1); j < len(src) && src[j] == '"' {
			j, esc = j+1, false
		} else if j, esc, err = scanStringFrom(src, j, false); err != nil {
			return nodes, err
		}
		nd := &nodes[len(nodes)-1]
		nd.start, nd.end, nd.kind, nd.esc = int32(i), int32(j), kindString, esc
		i = j
	case c == '{' || c == '[':
		if sp >= maxJSONDepth {
			return nodes, errDepth
		}
		idx := int32(len(nodes) - 1)
		nd := &nodes[idx]
		nd.start = int32(i)
		vs := int32(1) // the root's shape
		if sp > 0 {
			vs = cur.shape
			if s := &shapes[vs]; !s.all && nd.key >= 0 {
				vs = s.lookup(src[nd.key:nd.keyEnd], nd.keyEsc)
			}
		}
		if vs < 0 {
			nd.kind = kindSkipped
			if j, err = t.skipValue(src, i, sp); err != nil {
				return nodes, err
			}
			nd.end = int32(j)
			i = j
			break
		}
		nd.kind = c
		if i++; i < len(src) && src[i] <= ' ' {
			i = skipWS(src, i)
		}
		if i < len(src) && src[i] == c+2 { // '{'+2 == '}', '['+2 == ']': empty
			i++
			nd.end = int32(i)
			break
		}
		open[sp] = cur
		sp++
		cur = frame{node: idx, prev: -1, shape: vs, closer: c + 2}
		if c == '{' {
			goto key
		}
		goto element
	default:
		var kind byte
		if kind, j, err = scanScalar(src, i, c); err != nil {
			return nodes, err
		}
		nd := &nodes[len(nodes)-1]
		nd.start, nd.end, nd.kind = int32(i), int32(j), kind
		i = j
	}

after:
	// A value ended at i: close containers, or move to the next member or element.
	if sp == 0 {
		if i = skipWS(src, i); i != len(src) {
			return nodes, fmt.Errorf("unexpected data at offset %d", i)
		}
		return nodes, nil
	}
	if i < len(src) && src[i] <= ' ' {
		i = skipWS(src, i)
	}
	if i >= len(src) {
		return nodes, errors.New("unexpected end of input")
	}
	if c = src[i]; c == ',' {
		if i++; i < len(src) && src[i] <= ' ' {
			i = skipWS(src, i)
		}
		if cur.closer == '}' {
			goto key
		}
		goto element
	}
	if c != cur.closer {
		return nodes, syntaxError(i)
	}
	i++
	nodes[cur.node].end, nodes[cur.node].kids = int32(i), cur.kids
	sp--
	cur = open[sp]
	goto after

element:
	// An array element starts at i: its node, linked to the one before.
	nodes = pushNode(nodes, -1, -1, false)
	if cur.prev >= 0 {
		nodes[cur.prev].next = int32(len(nodes) - 1)
	}
	cur.prev = int32(len(nodes) - 1)
	cur.kids++
	goto value

key:
	// A member key, then its colon: the member's node, linked to the one before.
	if i >= len(src) || src[i] != '"' {
		return nodes, syntaxError(i)
	}
	if j = stopAt(src, i+1); j < len(src) && src[j] == '"' {
		j, esc = j+1, false
	} else if j, esc, err = scanStringFrom(src, j, false); err != nil {
		return nodes, err
	}
	if (esc || (src[i+1] == '_' && src[i+2] == 'a')) && hiddenKey(src[i:j], esc) {
		t.hidden = append(t.hidden, member{parent: cur.node, node: int32(len(nodes))})
	}
	nodes = pushNode(nodes, int32(i), int32(j), esc)
	if cur.prev >= 0 {
		nodes[cur.prev].next = int32(len(nodes) - 1)
	}
	cur.prev = int32(len(nodes) - 1)
	cur.kids++
	if j < len(src) && src[j] <= ' ' {
		j = skipWS(src, j)
	}
	if j >= len(src) || src[j] != ':' {
		return nodes, syntaxError(j)
	}
	if i = j + 1; i < len(src) && src[i] <= ' ' {
		i = skipWS(src, i)
	}
	goto value
}

// pushNode appends a node whose value is not read yet: its key (-1, -1 for none), no
// sibling. The fields are stored one by one into the slice: appending a composite literal
// builds it on the stack with narrow stores and copies it with wide loads, which the CPU
// cannot forward from them (a stall of a dozen cycles on every node).
func pushNode(nodes []jnode, key, keyEnd int32, keyEsc bool) []jnode {
	nodes = append(nodes, jnode{})
	nd := &nodes[len(nodes)-1]
	nd.key, nd.keyEnd, nd.next, nd.keyEsc = key, keyEnd, -1, keyEsc
	return nodes
}

// stopAt returns the offset of the first byte from j on that ends or escapes a string or is
// a control character (or len(src)), eight bytes at a time: bytes below 0x21 after flipping
// bit 1 are the control characters and the quote. It is small enough to be inlined.
func stopAt(src []byte, j int) int {
	for j < len(src)-7 { // one bounds check a word, where j+8 <= len(src) needed two
		w := binary.LittleEndian.Uint64(src[j:])
		x, b := w^(ones*0x02), w^(ones*'\\')
		if m := ((x-ones*0x21)&^x | (b-ones)&^b) & highs; m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
		j += 8
	}
	for j < len(src) && plainByte[src[j]] {
		j++
	}
	return j
}

// skipValue validates the object or array at src[i], which is not indexed, and returns the
// offset after it; depth is the nesting around it. It fails with errHiddenSkipped when a
// member key inside starts with HiddenPrefix.
func (t *tape) skipValue(src []byte, i, depth int) (int, error) {
	if cap(t.closers) < maxJSONDepth {
		t.closers = make([]byte, maxJSONDepth)
	}
	closers := t.closers[:maxJSONDepth-depth]
	sp := 0
	n := len(src)
	inKey := false
	for {
		if i >= n {
			return i, errors.New("unexpected end of input")
		}
		c := src[i]
		if c == '"' {
			j := stopAt(src, i+1)
			esc := false
			if j < n && src[j] == '"' {
				j++
			} else {
				var err error
				if j, esc, err = scanStringFrom(src, j, false); err != nil {
					return j, err
				}
			}
			if inKey {
				if (esc || (src[i+1] == '_' && src[i+2] == 'a')) && hiddenKey(src[i:j], esc) {
					return j, errHiddenSkipped
				}
				if j < n && src[j] <= ' ' {
					j = skipWS(src, j)
				}
				if j >= n || src[j] != ':' {
					return j, syntaxError(j)
				}
				if i = j + 1; i < n && src[i] <= ' ' {
					i = skipWS(src, i)
				}
				inKey = false
				continue
			}
			i = j
		} else if inKey {
			return i, syntaxError(i)
		} else if c == '{' || c == '[' {
			if sp >= len(closers) {
				return i, errDepth
			}
			closers[sp] = c + 2
			sp++
			if i++; i < n && src[i] <= ' ' {
				i = skipWS(src, i)
			}
			if i < n && src[i] == c+2 {
				i++
				sp--
			} else {
				inKey = c == '{'
				continue
			}
		} else {
			_, j, err := scanScalar(src, i, c)
			if err != nil {
				return j, err
			}
			i = j
		}
		// After a value.
		for {
			if sp == 0 {
				return i, nil
			}
			if i < n && src[i] <= ' ' {
				i = skipWS(src, i)
			}
			if i >= n {
				return i, errors.New("unexpected end of input")
			}
			c := src[i]
			if c == ',' {
				if i++; i < n && src[i] <= ' ' {
					i = skipWS(src, i)
				}
				inKey = closers[sp-1] == '}'
				break
			}
			if c != closers[sp-1] {
				return i, syntaxError(i)
			}
			i++
			sp--
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func syntaxError(i int) error { return fmt.Errorf("syntax error at offset %d", i) }

// plainByte marks the bytes a string may contain without a closer look.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanStringFrom finishes a string from src[j], inside it (where stopAt stopped): it returns
// the offset after the string and whether it has escapes.
func scanStringFrom(src []byte, j int, esc bool) (int, bool, error) {
	for ; j < len(src); j++ {
		j = stopAt(src, j)
		if j >= len(src) {
			break
		}
		switch c := src[j]; {
		case c == '"':
			return j + 1, esc, nil
		case c == '\\':
			esc = true
			j++
			if j >= len(src) {
				return j, esc, syntaxError(j)
			}
			switch src[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(src) || !isHex(src[j+1]) || !isHex(src[j+2]) || !isHex(src[j+3]) || !isHex(src[j+4]) {
					return j, esc, syntaxError(j)
				}
				j += 4
			default:
				return j, esc, syntaxError(j)
			}
		case c < 0x20:
			return j, esc, syntaxError(j)
		}
	}
	return len(src), esc, errors.New("unterminated string")
}

// numberEnd returns the offset after the number at src[i] when it is plain digits with an
// optional fraction (what backends print for money), else -1 for scanNumber to decide.
func numberEnd(src []byte, i int) int {
	j := i
	if src[j] == '0' {
		j++
	} else {
		for j < len(src) && src[j]-'0' < 10 {
			j++
		}
	}
	if j < len(src) && src[j] == '.' {
		k := j + 1
		for k < len(src) && src[k]-'0' < 10 {
			k++
		}
		if k == j+1 {
			return -1
		}
		j = k
	}
	if j < len(src) && (src[j]-'0' < 10 || src[j] == 'e' || src[j] == 'E') {
		return -1
	}
	return j
}

// scanScalar scans the literal or number starting with c at src[i].
func scanScalar(src []byte, i int, c byte) (byte, int, error) {
	var err error
	switch c {
	case 't':
		i, err = scanLiteral(src, i, "true")
		return kindTrue, i, err
	case 'f':
		i, err = scanLiteral(src, i, "false")
		return kindFalse, i, err
	case 'n':
		i, err = scanLiteral(src, i, "null")
		return kindNull, i, err
	}
	if c != '-' && (c < '0' || c > '9') {
		return 0, i, syntaxError(i)
	}
	if c != '-' {
		if j := numberEnd(src, i); j > 0 {
			return kindNumber, j, nil
		}
	}
	i, err = scanNumber(src, i)
	return kindNumber, i, err
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber returns the offset after the JSON number starting at src[i].
func scanNumber(src []byte, i int) (int, error) {
	j := i
	if src[j] == '-' {
		j++
	}
	switch {
	case j < len(src) && src[j] == '0':
		j++
	case j < len(src) && src[j] >= '1' && src[j] <= '9':
		for j < len(src) && isDigit(src[j]) {
			j++
		}
	default:
		return j, syntaxError(j)
	}
	if j < len(src) && src[j] == '.' {
		j++
		if j >= len(src) || !isDigit(src[j]) {
			return j, syntaxError(j)
		}
		for j < len(src) && isDigit(src[j]) {
			j++
		}
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j >= len(src) || !isDigit(src[j]) {
			return j, syntaxError(j)
		}
		for j < len(src) && isDigit(src[j]) {
			j++
		}
	}
	return j, nil
}

func scanLiteral(src []byte, i int, lit string) (int, error) {
	if len(src)-i < len(lit) || string(src[i:i+len(lit)]) != lit {
		return i, syntaxError(i)
	}
	return i + len(lit), nil
}

// first returns the first child of container n, or -1.
func (t *tape) first(n int32) int32 {
	if t.nodes[n].kids == 0 {
		return -1
	}
	return n + 1
}

// raw returns the bytes of value n.
func (t *tape) raw(n int32) []byte { return t.src[t.nodes[n].start:t.nodes[n].end] }

// keyIs reports whether member n has key k.
func (t *tape) keyIs(n int32, k string) bool {
	nd := &t.nodes[n]
	if nd.key < 0 {
		return false
	}
	raw := t.src[nd.key+1 : nd.keyEnd-1]
	if !nd.keyEsc {
		return string(raw) == k
	}
	s, ok := unquote(t.src[nd.key:nd.keyEnd])
	return ok && s == k
}

// hiddenKey reports whether a quoted key starts with HiddenPrefix.
func hiddenKey(quoted []byte, esc bool) bool {
	if !esc {
		raw := quoted[1 : len(quoted)-1]
		return len(raw) >= len(HiddenPrefix) && string(raw[:len(HiddenPrefix)]) == HiddenPrefix
	}
	s, ok := unquote(quoted)
	return ok && len(s) >= len(HiddenPrefix) && s[:len(HiddenPrefix)] == HiddenPrefix
}

// member returns the member of object n with key k, or -1.
func (t *tape) member(n int32, k string) int32 {
	nodes, src := t.nodes, t.src
	if n < 0 || int(n) >= len(nodes) || nodes[n].kind != kindObject || nodes[n].kids == 0 {
		return -1
	}
	quoted := int32(len(k) + 2)
	for c := n + 1; c >= 0 && int(c) < len(nodes); {
		nd := &nodes[c]
		if nd.keyEnd-nd.key == quoted && !nd.keyEsc {
			if string(src[nd.key+1:nd.keyEnd-1]) == k {
				return c
			}
		} else if nd.keyEsc && t.keyIs(c, k) {
			return c
		}
		c = nd.next
	}
	return -1
}

// str returns the value of string node n, or "" for any other node.
func (t *tape) str(n int32) string {
	if t.kind(n) != kindString {
		return ""
	}
	raw := t.raw(n)
	if !t.nodes[n].esc {
		return string(raw[1 : len(raw)-1])
	}
	s, _ := unquote(raw)
	return s
}

// kind returns the kind of node n, or 0 for -1.
func (t *tape) kind(n int32) byte {
	if n < 0 {
		return 0
	}
	return t.nodes[n].kind
}

// unquote decodes a JSON string literal (the slow path for escaped strings).
func unquote(b []byte) (string, bool) {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false
	}
	return s, true
}

// offset returns the byte offset of node n, for error messages.
func (t *tape) offset(n int32) int32 {
	if n < 0 {
		return -1
	}
	return t.nodes[n].start
}
