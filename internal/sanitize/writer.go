package sanitize

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// MaxString is the longest JSON string held back whole; a longer one streams with its
// secrets cut from the raw bytes.
const MaxString = 1 << 20

// Writer sanitizes a response as it streams to w. JSON objects and arrays, wherever they
// start in the text, lose the members whose names begin with Hidden and have secrets cut
// from their strings (kept formatting is compact: whitespace inside JSON is dropped); the
// text around them has secrets cut. JSON it cannot follow switches the rest of the stream
// to raw cutting, where Hidden itself is cut too. Call Close at the end of the stream.
type Writer struct {
	w       io.Writer
	hidden  string
	secrets *Secrets
	out     bytes.Buffer

	raw   bool   // lost track of the JSON: cut bytes, nothing else
	carry []byte // text or raw bytes not yet cut, that a secret may continue into

	stack  []frame
	state  state
	skip   int    // stack depth of the member being skipped; 0 when not skipping
	str    []byte // the string being read, quotes excluded
	escape bool
	long   bool // the string outgrew MaxString: it streams
	role   role // what the string is
	scalar bool // inside a number or literal
	// Changed reports whether anything was removed.
	Changed bool
	// Replace, when set, may replace a string value: it gets the name of the member holding
	// it ("" in arrays and at the top) and the decoded string, and returns the JSON to write
	// instead. Replaced values are not cut further.
	Replace func(key, value string) (json []byte, ok bool)
	key     string // the name of the member being read
}

type frame struct {
	object  bool
	seen    int // elements read
	emitted int // elements or members written
}

type state uint8

const (
	stText  state = iota // outside JSON
	stKey                // in an object, before a key or "}"
	stColon              // after a key
	stValue              // before a value (or "]" right after "[")
	stAfter              // after a value
	stString
)

type role uint8

const (
	roleValue role = iota
	roleKey
)

// NewWriter returns a Writer to w that removes members named hidden+… (none when hidden is
// empty) and cuts secrets (none when nil).
func NewWriter(w io.Writer, hidden string, secrets *Secrets) *Writer {
	return &Writer{w: w, hidden: hidden, secrets: secrets}
}

// Write sanitizes p and writes what is safe to write so far.
func (s *Writer) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i++ {
		if !s.raw {
			s.step(p[i])
		}
		if s.raw {
			s.carry = append(s.carry, p[i:]...)
			break
		}
	}
	s.cutCarry(false)
	return len(p), s.drain()
}

// Flush writes out everything that cannot be part of a secret or a hidden member.
func (s *Writer) Flush() error { return s.drain() }

// Close writes out the rest at the end of the stream.
func (s *Writer) Close() error {
	if s.state == stString && !s.raw && s.skip == 0 {
		// The stream ended inside a string: what there is goes out with secrets cut.
		if !s.long {
			s.carry = append(s.carry, '"')
		}
		s.carry = append(s.carry, s.str...)
		s.str = nil
	}
	if len(s.stack) > 0 && !s.raw {
		s.lost() // unfinished JSON: the hidden prefix is cut from what is left
	}
	s.cutCarry(true)
	return s.drain()
}

func (s *Writer) drain() error {
	if s.out.Len() == 0 {
		return nil
	}
	_, err := s.w.Write(s.out.Bytes())
	s.out.Reset()
	return err
}

// emit writes b unless a hidden member is being skipped.
func (s *Writer) emit(b ...byte) {
	if s.skip == 0 {
		s.out.Write(b)
	}
}

// emitText passes text outside JSON through the secret cutter.
func (s *Writer) emitText(c byte) { s.carry = append(s.carry, c) }

// cutCarry cuts the secrets out of the held text and writes all of it that no secret can
// continue into (all of it at the end).
func (s *Writer) cutCarry(final bool) {
	if len(s.carry) == 0 {
		return
	}
	text := string(s.carry)
	keep := len(text)
	if !final {
		keep = s.secrets.safePrefix(text)
	}
	cut, changed := s.secrets.Cut(text[:keep])
	s.Changed = s.Changed || changed
	s.out.WriteString(cut)
	s.carry = append(s.carry[:0], text[keep:]...)
}

// flushText writes the held text before JSON output continues.
func (s *Writer) flushText() {
	s.cutCarry(true)
}

func (s *Writer) step(c byte) {
	switch s.state {
	case stText:
		if c == '{' || c == '[' {
			s.flushText()
			s.open(c)
			return
		}
		s.emitText(c)
	case stString:
		s.stringByte(c)
	default:
		s.structural(c)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// structural handles a byte between JSON tokens.
func (s *Writer) structural(c byte) {
	if s.scalar {
		if !(isSpace(c) || c == ',' || c == '}' || c == ']') {
			if s.str = append(s.str, c); len(s.str) > 64 {
				s.lost()
			}
			return
		}
		s.scalar = false
		if !s.endScalar() {
			return
		}
	}
	if isSpace(c) {
		return
	}
	top := &s.stack[len(s.stack)-1]
	switch s.state {
	case stKey:
		switch c {
		case '"':
			s.beginString(roleKey)
		case '}':
			s.close(c)
		default:
			s.lost()
		}
	case stColon:
		if c != ':' {
			s.lost()
			return
		}
		s.emit(c)
		s.state = stValue
	case stValue:
		if c == ']' && !top.object && top.seen == 0 {
			s.close(c)
			return
		}
		if !top.object {
			s.element()
		}
		switch {
		case c == '"':
			s.beginString(roleValue)
		case c == '{' || c == '[':
			s.open(c)
		case c == '-' || '0' <= c && c <= '9' || c == 't' || c == 'f' || c == 'n':
			s.scalar = true
			s.str = append(s.str[:0], c)
		default:
			s.lost()
		}
	case stAfter:
		switch {
		case c == ',' && top.object:
			s.state = stKey
		case c == ',':
			s.state = stValue
		case c == '}' && top.object, c == ']' && !top.object:
			s.close(c)
		default:
			s.lost()
		}
	}
}

// endScalar writes a number or literal that has just ended; a secret in it becomes null.
// It reports false when the token is not JSON and the stream was given up.
func (s *Writer) endScalar() bool {
	tok := string(s.str)
	if tok != "true" && tok != "false" && tok != "null" && !json.Valid(s.str) {
		s.lost()
		return false
	}
	if s.secrets.Contains(tok) {
		tok, s.Changed = "null", true
	}
	s.emit([]byte(tok)...)
	s.state = stAfter
	s.endValue()
	return true
}

// element counts an array element and writes the comma before it.
func (s *Writer) element() {
	top := &s.stack[len(s.stack)-1]
	top.seen++
	if s.skip != 0 {
		return
	}
	if top.emitted > 0 {
		s.emit(',')
	}
	top.emitted++
}

func (s *Writer) open(c byte) {
	s.emit(c)
	s.stack = append(s.stack, frame{object: c == '{'})
	if c == '{' {
		s.state = stKey
	} else {
		s.state = stValue
	}
}

func (s *Writer) close(c byte) {
	s.emit(c)
	s.stack = s.stack[:len(s.stack)-1]
	if len(s.stack) == 0 {
		s.state = stText
		return
	}
	s.state = stAfter
	s.endValue()
}

// endValue ends the value of a skipped member once its nesting is back to the member's.
func (s *Writer) endValue() {
	if s.skip != 0 && len(s.stack) == s.skip {
		s.skip = 0
	}
}

func (s *Writer) beginString(r role) {
	s.state, s.role, s.str, s.escape, s.long = stString, r, s.str[:0], false, false
}

func (s *Writer) stringByte(c byte) {
	if s.escape {
		s.escape = false
	} else if c == '\\' {
		s.escape = true
	} else if c == '"' {
		s.endString()
		return
	}
	if s.long {
		if s.skip == 0 {
			s.carry = append(s.carry, c)
		}
		return
	}
	s.str = append(s.str, c)
	if len(s.str) <= MaxString {
		return
	}
	if s.role == roleKey {
		s.lost() // no name is that long
		return
	}
	// Too long to hold: the rest streams through the cutter as raw bytes.
	s.long = true
	if s.skip == 0 {
		s.emit('"')
		s.carry = append(s.carry, s.str...)
	}
	s.str = s.str[:0]
}

func (s *Writer) endString() {
	raw := s.str
	s.state = stAfter
	if s.role == roleKey {
		s.state = stColon
		name := decodeString(raw)
		top := &s.stack[len(s.stack)-1]
		if s.skip == 0 && s.hidden != "" && strings.HasPrefix(name, s.hidden) {
			s.skip = len(s.stack)
			s.Changed = true
			return
		}
		if s.skip == 0 {
			if top.emitted > 0 {
				s.emit(',')
			}
			top.emitted++
		}
		s.key = name
		s.emitString(raw, name)
		return
	}
	if s.long {
		if s.skip == 0 {
			s.cutCarry(true)
			s.emit('"')
		}
		s.endValue()
		return
	}
	decoded := decodeString(raw)
	if s.Replace != nil && s.skip == 0 {
		key := s.key
		if len(s.stack) == 0 || !s.stack[len(s.stack)-1].object {
			key = ""
		}
		if rep, ok := s.Replace(key, decoded); ok {
			s.Changed = true
			s.out.Write(rep)
			s.endValue()
			return
		}
	}
	s.emitString(raw, decoded)
	s.endValue()
}

// emitString writes a string, re-encoded without its secrets when it holds any.
func (s *Writer) emitString(raw []byte, decoded string) {
	if s.skip != 0 {
		return
	}
	if cut, changed := s.secrets.Cut(decoded); changed {
		s.Changed = true
		enc, _ := marshalString(cut)
		s.out.Write(enc)
		return
	}
	s.out.WriteByte('"')
	s.out.Write(raw)
	s.out.WriteByte('"')
}

// lost gives up following the JSON: the rest of the stream is cut as raw bytes.
func (s *Writer) lost() {
	s.raw = true
	if s.hidden != "" {
		s.secrets = s.secrets.with(s.hidden)
	}
	s.Changed = true
	s.stack, s.skip, s.scalar = nil, 0, false
}

// decodeString decodes the contents of a JSON string; undecodable text is returned as it is.
func decodeString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	var out string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	if err := json.Unmarshal(quoted, &out); err != nil {
		return string(raw)
	}
	return out
}

func marshalString(v string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Bytes sanitizes b in memory.
func Bytes(b []byte, hidden string, secrets *Secrets) []byte {
	if len(b) == 0 {
		return b
	}
	var out bytes.Buffer
	s := NewWriter(&out, hidden, secrets)
	_, _ = s.Write(b)
	_ = s.Close()
	return out.Bytes()
}
