// Package sanitize makes a response safe to leave the sidecar when it cannot be rewritten as
// a whole: as the bytes stream through, it removes the members of JSON objects whose names
// carry the sidecar's hidden prefix and cuts secret coupon codes out of every string and out
// of any text around the JSON (SSE framing, multipart headers, a PHP notice). It holds back
// at most one JSON string at a time, never the whole body.
package sanitize

import "strings"

// Secrets are the strings that must never leave: exact codes, compared case-insensitively
// as Magento compares coupon codes, and code prefixes, which cut the prefix and the code
// characters (letters, digits, "-", "_") that follow it.
type Secrets struct {
	codes    []string // upper case
	prefixes []string // upper case
	longest  int
}

// NewSecrets compiles the codes and prefixes to cut; empty entries are ignored.
func NewSecrets(codes, prefixes []string) *Secrets {
	s := &Secrets{}
	for _, c := range codes {
		if c != "" {
			s.codes = append(s.codes, upperASCII(c))
			s.longest = max(s.longest, len(c))
		}
	}
	for _, p := range prefixes {
		if p != "" {
			s.prefixes = append(s.prefixes, upperASCII(p))
			s.longest = max(s.longest, len(p)+maxCodeTail)
		}
	}
	return s
}

// maxCodeTail bounds the code characters after a prefix that a stream keeps in view.
const maxCodeTail = 128

// Empty reports whether there is nothing to cut.
func (s *Secrets) Empty() bool { return s == nil || len(s.codes)+len(s.prefixes) == 0 }

// Cut returns text without any secret, and whether it removed one. Cutting can join the
// ends of two pieces into a new secret, so it repeats until nothing is found.
func (s *Secrets) Cut(text string) (string, bool) {
	changed := false
	for {
		out, cut := s.cutOnce(text)
		if !cut {
			return text, changed
		}
		text, changed = out, true
	}
}

func (s *Secrets) cutOnce(text string) (string, bool) {
	if s.Empty() {
		return text, false
	}
	upper := upperASCII(text)
	var b strings.Builder
	changed := false
	for i := 0; i < len(text); {
		if n := s.matchAt(upper, i); n > 0 {
			i += n
			changed = true
			continue
		}
		b.WriteByte(text[i])
		i++
	}
	if !changed {
		return text, false
	}
	return b.String(), true
}

// Contains reports whether text holds a secret.
func (s *Secrets) Contains(text string) bool {
	_, found := s.Cut(text)
	return found
}

// matchAt returns the length of the secret starting at upper[i], or 0.
func (s *Secrets) matchAt(upper string, i int) int {
	for _, c := range s.codes {
		if strings.HasPrefix(upper[i:], c) {
			return len(c)
		}
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(upper[i:], p) {
			n := len(p)
			for i+n < len(upper) && IsCodeChar(upper[i+n]) {
				n++
			}
			return n
		}
	}
	return 0
}

// safePrefix returns how much of text can be cut and written now, when more text may
// follow: everything before the first place where a secret may have begun but not ended,
// and never the middle of a secret.
func (s *Secrets) safePrefix(text string) int {
	if s.Empty() {
		return len(text)
	}
	upper := upperASCII(text)
	p := s.pendingStart(upper)
	for i := 0; i < p; {
		n := s.matchAt(upper, i)
		if n == 0 {
			i++
			continue
		}
		if i+n > p {
			return i
		}
		i += n
	}
	return p
}

// pendingStart returns where the longest suffix of upper that could still grow into a
// secret begins, or len(upper) when none could.
func (s *Secrets) pendingStart(upper string) int {
	for i := max(0, len(upper)-s.longest); i < len(upper); i++ {
		tail := upper[i:]
		for _, c := range s.codes {
			if len(tail) < len(c) && strings.HasPrefix(c, tail) {
				return i
			}
		}
		for _, p := range s.prefixes {
			if len(tail) < len(p) && strings.HasPrefix(p, tail) {
				return i
			}
			if strings.HasPrefix(tail, p) && AllCodeChars(tail[len(p):]) {
				return i
			}
		}
	}
	return len(upper)
}

// with returns the secrets plus code.
func (s *Secrets) with(code string) *Secrets {
	out := &Secrets{}
	if s != nil {
		*out = *s
		out.codes = append([]string(nil), s.codes...)
	}
	out.codes = append(out.codes, upperASCII(code))
	out.longest = max(out.longest, len(code))
	return out
}

// AllCodeChars reports whether s has only code characters (see IsCodeChar).
func AllCodeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !IsCodeChar(s[i]) {
			return false
		}
	}
	return true
}

// IsCodeChar reports whether c may be part of a coupon code: a letter, a digit, "-" or "_"
// (what Magento generates). A prefix of Secrets cuts these after it.
func IsCodeChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// upperASCII upper-cases ASCII letters only, so byte offsets stay the same.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
