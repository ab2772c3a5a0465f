package membership

import (
	"net/http"
	"strings"
)

// cookieValue returns the first aep-segments-membership cookie of r. Cookies are scanned by
// hand rather than with r.Cookie, because Go's parser drops values holding characters that
// browsers send unencoded (such as spaces after commas), and such input must be normalized,
// not lost.
func cookieValue(r *http.Request) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			name, value, ok := strings.Cut(part, "=")
			if ok && strings.TrimSpace(name) == CookieName {
				return strings.Trim(strings.TrimSpace(value), `"`), true
			}
		}
	}
	return "", false
}

// hasCookie reports whether r carries a cookie called name, with any value.
func hasCookie(r *http.Request, name string) bool {
	for _, line := range r.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			n, _, _ := strings.Cut(part, "=")
			if strings.TrimSpace(n) == name {
				return true
			}
		}
	}
	return false
}

// StripInbound removes the raw membership header and cookie from h, so the backend sees only
// the normalized header. A Cookie line left empty is deleted.
func StripInbound(h http.Header) {
	h.Del(HeaderName)
	lines := h["Cookie"]
	if len(lines) == 0 {
		return
	}
	kept := make([]string, 0, len(lines))
	for _, line := range lines {
		if line = withoutCookie(line, CookieName); line != "" {
			kept = append(kept, line)
		}
	}
	if len(kept) == 0 {
		h.Del("Cookie")
		return
	}
	h["Cookie"] = kept
}

// withoutCookie returns a Cookie header line without the cookies called name.
func withoutCookie(line, name string) string {
	if !strings.Contains(line, name) {
		return line
	}
	var b strings.Builder
	for part := range strings.SplitSeq(line, ";") {
		n, _, _ := strings.Cut(part, "=")
		if strings.TrimSpace(n) == name || strings.TrimSpace(part) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimSpace(part))
	}
	return b.String()
}

// DeleteHeader removes every header of h whose name equals name ignoring case and treating
// "_" as "-", since PHP backends such as Magento read X_Foo and X-Foo as the same header.
func DeleteHeader(h http.Header, name string) {
	for key := range h {
		if sameHeaderName(key, name) {
			delete(h, key)
		}
	}
}

func sameHeaderName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := lowerDash(a[i]), lowerDash(b[i])
		if ca != cb {
			return false
		}
	}
	return true
}

func lowerDash(c byte) byte {
	switch {
	case c == '_':
		return '-'
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	return c
}
