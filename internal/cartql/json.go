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
	hidden    []member
	stack     []frame
	skipStack []byte
}

// member is a member node and the object holding it.
type member struct{ parent, node int32 }

var errDepth = errors.New("json nested too deeply")

// frame is an open container while parsing, and the shape of its members.
type frame struct {
	node, prev, kids int32
	shape            *shape
}

// parse validates src as one JSON value and indexes it, iteratively (no recursion, so depth
// costs no stack; it is still capped).
func (t *tape) parse(src []byte) error {
	return t.parseShape(src, fullShape)
}

// parseShape validates src as one JSON value and indexes the parts sh names; the others are
// skipped (kindSkipped nodes). When a skipped value holds a hidden member, it indexes src
// whole instead, so that every hidden member is found.
func (t *tape) parseShape(src []byte, sh *shape) error {
	t.src = src
	if len(src) >= math.MaxInt32 {
		return errors.New("json body too large")
	}
	err := t.scan(src, sh)
	if errors.Is(err, errHiddenSkipped) {
		err = t.scan(src, fullShape)
	}
	if err != nil {
		return fmt.Errorf("invalid json: %w", err)
	}
	return nil
}

func (t *tape) scan(src []byte, root *shape) error {
	t.nodes = t.nodes[:0]
	t.hidden = t.hidden[:0]
	stack := t.stack[:0]
	defer func() { t.stack = stack[:0] }()
	i := skipWS(src, 0)
	key, keyEnd, keyEsc := int32(-1), int32(-1), false
	for {
		// A value starts at i.
		if i >= len(src) {
			return errors.New("unexpected end of input")
		}
		idx := len(t.nodes)
		if idx == cap(t.nodes) {
			t.nodes = append(t.nodes, jnode{})[:idx]
		}
		t.nodes = t.nodes[:idx+1]
		nd := &t.nodes[idx]
		nd.start, nd.key, nd.keyEnd, nd.keyEsc, nd.next, nd.kids, nd.esc = int32(i), key, keyEnd, keyEsc, -1, 0, false
		vs := root
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.prev >= 0 {
				t.nodes[top.prev].next = int32(idx)
			}
			top.prev = int32(idx)
			top.kids++
			if vs = top.shape; !vs.all && key >= 0 {
				vs = vs.lookup(src[key:keyEnd], keyEsc)
			}
		}
		var err error
		switch c := src[i]; c {
		case '{', '[':
			if vs == nil {
				nd.kind = kindSkipped
				i, err = t.skip(src, i, len(stack))
				nd.end = int32(i)
				break
			}
			if len(stack) >= maxJSONDepth {
				return errDepth
			}
			nd.kind = c
			stack = append(stack, frame{node: int32(idx), prev: -1, shape: vs})
			i = skipWS(src, i+1)
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			if i < len(src) && src[i] == closer {
				i++
				nd.end = int32(i)
				stack = stack[:len(stack)-1]
				break
			}
			if c == '[' {
				key, keyEnd, keyEsc = -1, -1, false
				continue
			}
			if i, key, keyEnd, keyEsc, err = t.key(src, i, int32(idx)); err != nil {
				return err
			}
			continue
		case '"':
			nd.kind = kindString
			i, nd.esc, err = scanString(src, i)
			nd.end = int32(i)
		case 't':
			nd.kind = kindTrue
			i, err = scanLiteral(src, i, "true")
			nd.end = int32(i)
		case 'f':
			nd.kind = kindFalse
			i, err = scanLiteral(src, i, "false")
			nd.end = int32(i)
		case 'n':
			nd.kind = kindNull
			i, err = scanLiteral(src, i, "null")
			nd.end = int32(i)
		default:
			if c != '-' && (c < '0' || c > '9') {
				return syntaxError(i)
			}
			nd.kind = kindNumber
			i, err = scanNumber(src, i)
			nd.end = int32(i)
		}
		if err != nil {
			return err
		}
		// After a value: close containers, or move to the next member or element.
		for {
			if len(stack) == 0 {
				if i = skipWS(src, i); i != len(src) {
					return fmt.Errorf("unexpected data at offset %d", i)
				}
				return nil
			}
			i = skipWS(src, i)
			if i >= len(src) {
				return errors.New("unexpected end of input")
			}
			top := &stack[len(stack)-1]
			open := t.nodes[top.node].kind
			c := src[i]
			if c == ',' {
				i = skipWS(src, i+1)
				if open == kindArray {
					key, keyEnd, keyEsc = -1, -1, false
				} else if i, key, keyEnd, keyEsc, err = t.key(src, i, top.node); err != nil {
					return err
				}
				break
			}
			if (open == kindObject && c == '}') || (open == kindArray && c == ']') {
				i++
				cn := &t.nodes[top.node]
				cn.end, cn.kids = int32(i), top.kids
				stack = stack[:len(stack)-1]
				continue
			}
			return syntaxError(i)
		}
	}
}

// key scans a member key and its colon at src[i] and records hidden members of object obj.
func (t *tape) key(src []byte, i int, obj int32) (int, int32, int32, bool, error) {
	if i >= len(src) || src[i] != '"' {
		return i, 0, 0, false, syntaxError(i)
	}
	ks := i
	ke, kesc, err := scanString(src, i)
	if err != nil {
		return ke, 0, 0, false, err
	}
	if (src[ks+1] == '_' || kesc) && hiddenKey(src[ks:ke], kesc) {
		t.hidden = append(t.hidden, member{parent: obj, node: int32(len(t.nodes))})
	}
	i = skipWS(src, ke)
	if i >= len(src) || src[i] != ':' {
		return i, 0, 0, false, syntaxError(i)
	}
	return skipWS(src, i+1), int32(ks), int32(ke), kesc, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
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

// skipPlain returns the offset of the first byte from j on that ends or escapes a string or
// is invalid in one, eight bytes at a time.
func skipPlain(src []byte, j int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for j+8 <= len(src) {
		w := binary.LittleEndian.Uint64(src[j:])
		q := w ^ (ones * '"')
		b := w ^ (ones * '\\')
		m := ((q - ones) &^ q) | ((b - ones) &^ b) | ((w - ones*0x20) &^ w)
		if m &= highs; m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
		j += 8
	}
	for j < len(src) && plainByte[src[j]] {
		j++
	}
	return j
}

// scanString returns the offset after the string starting at src[i] and whether it has escapes.
func scanString(src []byte, i int) (int, bool, error) {
	esc := false
	for j := i + 1; j < len(src); j++ {
		j = skipPlain(src, j)
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
	if n < 0 || t.nodes[n].kind != kindObject {
		return -1
	}
	for c := t.first(n); c >= 0; c = t.nodes[c].next {
		if t.keyIs(c, k) {
			return c
		}
	}
	return -1
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
