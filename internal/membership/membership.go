// Package membership turns the raw Adobe Experience Platform audience membership a shopper's
// browser sends (the aep-segments-membership cookie or header) into one normalized segment set.
package membership

import (
	"net/http"
	"slices"
	"strings"
)

// Names of the inputs Adobe's storefront integrations use.
const (
	// HeaderName is the request header headless storefronts send (URL-encoded list).
	HeaderName = "aep-segments-membership"
	// CookieName is the cookie the Luma storefront collector writes.
	CookieName = "aep-segments-membership"
	// DNTCookieName is Magento's cookie-restriction cookie; its presence means "do not track".
	DNTCookieName = "mg_dnt"
)

// Defaults for the caps of Config.
const (
	DefaultMaxSegments = 256
	DefaultMaxBytes    = 8192
	maxIDLength        = 128

	canonicalHeaderName = "Aep-Segments-Membership"
)

// Source says where membership is read from.
type Source string

// The sources a handler can be configured with.
const (
	SourceHeaderThenCookie Source = "header_then_cookie"
	SourceHeader           Source = "header"
	SourceCookie           Source = "cookie"
	SourceUnion            Source = "union"
)

// Valid reports whether s is one of the known sources.
func (s Source) Valid() bool {
	switch s {
	case SourceHeaderThenCookie, SourceHeader, SourceCookie, SourceUnion:
		return true
	}
	return false
}

// Origin says where the segments of a Membership came from; it is a low-cardinality label.
type Origin string

// The possible origins of a membership.
const (
	OriginNone   Origin = "none"
	OriginHeader Origin = "header"
	OriginCookie Origin = "cookie"
	OriginDNT    Origin = "dnt"
)

// Config controls how membership is read. The zero value reads header, then cookie, with the
// default caps and without honoring mg_dnt.
type Config struct {
	Source      Source
	HonorDNT    bool
	MaxSegments int
	MaxBytes    int
	// Allow, when set, keeps only the IDs it returns true for (the audience catalog).
	Allow func(id string) bool
	// Memo, when set, remembers the results of recent inputs (see Memo).
	Memo *Memo
}

// Membership is the normalized audience membership of one request.
type Membership struct {
	// Segments are the valid IDs, de-duplicated and sorted.
	Segments []string
	// Origin is where Segments came from.
	Origin Origin
	// Invalid counts IDs dropped because they did not match the ID pattern.
	Invalid int
	// Unknown counts valid IDs dropped by Config.Allow.
	Unknown int
	// Truncated is set when the raw input was over MaxBytes or held more than MaxSegments IDs.
	Truncated bool

	header string // Header's value, kept by a Memo
}

// Header returns the value of the normalized upstream header: the segments joined with ",".
func (m Membership) Header() string {
	if m.header != "" {
		return m.header
	}
	return strings.Join(m.Segments, ",")
}

// DoNotTrack reports whether r carries Magento's cookie-restriction cookie mg_dnt.
func DoNotTrack(r *http.Request) bool { return hasCookie(r, DNTCookieName) }

// Read extracts the membership of r according to cfg. It never fails: bad input is dropped
// and counted in the result.
func Read(r *http.Request, cfg Config) Membership {
	if cfg.HonorDNT && hasCookie(r, DNTCookieName) {
		return Membership{Origin: OriginDNT}
	}
	header, hasHeader := headerValue(r.Header)
	cookie, hasCookie := cookieValue(r)

	var raws []string
	origin := OriginNone
	switch cfg.source() {
	case SourceHeader:
		if hasHeader {
			raws, origin = []string{header}, OriginHeader
		}
	case SourceCookie:
		if hasCookie {
			raws, origin = []string{cookie}, OriginCookie
		}
	case SourceUnion:
		if hasCookie {
			raws, origin = append(raws, cookie), OriginCookie
		}
		if hasHeader {
			raws, origin = append(raws, header), OriginHeader
		}
	default:
		if hasHeader {
			raws, origin = []string{header}, OriginHeader
		} else if hasCookie {
			raws, origin = []string{cookie}, OriginCookie
		}
	}
	if origin == OriginNone {
		return Membership{Origin: OriginNone}
	}
	if cfg.Memo != nil && len(raws) == 1 {
		return cfg.Memo.normalize(cfg, origin, raws[0])
	}
	return normalizeFrom(cfg, origin, raws...)
}

// normalizeFrom is Normalize with the origin of raws set.
func normalizeFrom(cfg Config, origin Origin, raws ...string) Membership {
	m := Normalize(cfg, raws...)
	m.Origin = origin
	return m
}

// Normalize parses raw membership lists (each URL-encoded or plain, IDs separated by ",")
// into one sorted, de-duplicated set of valid IDs, applying the caps and allow-list of cfg.
func Normalize(cfg Config, raws ...string) Membership {
	maxBytes, maxSegments := cfg.caps()
	var m Membership
	var ids []string
	for _, raw := range raws {
		if len(raw) > maxBytes {
			raw = cutAtSeparator(raw, maxBytes)
			m.Truncated = true
		}
		raw = percentDecode(raw)
		for raw != "" {
			var id string
			id, raw, _ = strings.Cut(raw, ",")
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			if !ValidID(id) {
				m.Invalid++
				continue
			}
			if cfg.Allow != nil && !cfg.Allow(id) {
				m.Unknown++
				continue
			}
			if len(ids) == maxSegments {
				ids = compact(ids)
				if _, dup := slices.BinarySearch(ids, id); dup {
					continue
				}
				if len(ids) == maxSegments {
					m.Truncated = true
					break
				}
			}
			if ids == nil { // sized once, at the first ID kept: this one and the rest of raw
				ids = make([]string, 0, min(strings.Count(raw, ",")+2, maxSegments))
			}
			ids = append(ids, id)
		}
	}
	m.Segments = compact(ids)
	return m
}

// ValidID reports whether id matches [A-Za-z0-9][A-Za-z0-9._:-]{0,127}.
func ValidID(id string) bool {
	if id == "" || len(id) > maxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return true
}

func (cfg Config) source() Source {
	if cfg.Source == "" {
		return SourceHeaderThenCookie
	}
	return cfg.Source
}

func (cfg Config) caps() (maxBytes, maxSegments int) {
	maxBytes, maxSegments = cfg.MaxBytes, cfg.MaxSegments
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxSegments <= 0 {
		maxSegments = DefaultMaxSegments
	}
	return maxBytes, maxSegments
}

// compact sorts ids and removes duplicates in place.
func compact(ids []string) []string {
	if len(ids) < 2 {
		return ids
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// cutAtSeparator shortens raw to at most n bytes, dropping a trailing partial ID.
func cutAtSeparator(raw string, n int) string {
	raw = raw[:n]
	if i := strings.LastIndexByte(raw, ','); i >= 0 {
		return raw[:i]
	}
	// A single over-long entry, possibly encoded: keep nothing rather than half an ID.
	if i := strings.LastIndex(strings.ToUpper(raw), "%2C"); i >= 0 {
		return raw[:i]
	}
	return ""
}

// percentDecode decodes %XX escapes as url.PathUnescape does ('+' stays), in one pass; a
// malformed escape leaves the value as it is, so the IDs holding it fail validation and are
// counted as invalid.
func percentDecode(raw string) string {
	i := strings.IndexByte(raw, '%')
	if i < 0 {
		return raw
	}
	var b strings.Builder // one allocation: String does not copy
	b.Grow(len(raw))
	rest := raw
	for i >= 0 {
		if i+2 >= len(rest) {
			return raw
		}
		hi, okHi := unhex(rest[i+1])
		lo, okLo := unhex(rest[i+2])
		if !okHi || !okLo {
			return raw
		}
		b.WriteString(rest[:i])
		b.WriteByte(hi<<4 | lo)
		rest = rest[i+3:]
		i = strings.IndexByte(rest, '%')
	}
	b.WriteString(rest)
	return b.String()
}

// unhex is the value of hexadecimal digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// headerValue joins every aep-segments-membership header line of h.
func headerValue(h http.Header) (string, bool) {
	values := h[canonicalHeaderName]
	switch len(values) {
	case 0:
		return "", false
	case 1:
		return values[0], true
	}
	return strings.Join(values, ","), true
}
