// Package edge asks Adobe's Edge Network which audiences a visitor belongs to: it reads the
// visitor's ECID from the Web SDK's identity cookie, calls the Server API's interact endpoint
// (optionally authenticated with an IMS token), and caches and coalesces the answers.
//
// It depends on net/http only; the Caddy glue lives in caddymodule.
package edge

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Limits of the identity cookie decoder.
const (
	// MaxCookieLen bounds the identity cookie value accepted, before any decoding.
	MaxCookieLen = 4 << 10
	// maxFieldLen bounds one length-delimited protobuf field.
	maxFieldLen = 1 << 10
	// maxVarintLen is the longest valid varint encoding of a uint64.
	maxVarintLen = 10
	// ecidLen is the length of an ECID: 38 decimal digits.
	ecidLen = 38
)

// ErrNoIdentity reports that a request carries no identity cookie.
var ErrNoIdentity = errors.New("edge: no identity cookie")

// ErrInvalidIdentity wraps every reason an identity cookie or ECID is rejected.
var ErrInvalidIdentity = errors.New("edge: invalid identity")

// DefaultClusters are the Edge Network region hints accepted in the cluster cookie when
// Options.Clusters is empty.
var DefaultClusters = []string{"or0", "or2", "va6", "va7", "irl1", "ind1", "jpn3", "sgp3", "aus3", "can2"}

// orgCookiePrefix returns "kndctr_<ORG>_AdobeOrg_" for an org ID given with or without its
// "@AdobeOrg" suffix; the Web SDK writes "@" as "_" in cookie names.
func orgCookiePrefix(orgID string) string {
	org := strings.TrimSuffix(orgID, "@AdobeOrg")
	return "kndctr_" + strings.ReplaceAll(org, "@", "_") + "_AdobeOrg_"
}

// IdentityCookieName returns the Web SDK's identity cookie name for orgID, such as
// kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity for "53A16ACB5CC1D3760A495C99@AdobeOrg".
func IdentityCookieName(orgID string) string { return orgCookiePrefix(orgID) + "identity" }

// ClusterCookieName returns the Web SDK's cluster (region hint) cookie name for orgID.
func ClusterCookieName(orgID string) string { return orgCookiePrefix(orgID) + "cluster" }

// ValidCluster reports whether s is one of DefaultClusters.
func ValidCluster(s string) bool { return slices.Contains(DefaultClusters, s) }

// validClusterName reports whether s has the shape of a region hint (two to four lower-case
// letters, then one or two digits), so it is safe in a URL path.
func validClusterName(s string) bool {
	letters := 0
	for letters < len(s) && s[letters] >= 'a' && s[letters] <= 'z' {
		letters++
	}
	digits := len(s) - letters
	if letters < 2 || letters > 4 || digits < 1 || digits > 2 {
		return false
	}
	for i := letters; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidECID reports whether s is an ECID: exactly 38 ASCII digits.
func ValidECID(s string) bool {
	if len(s) != ecidLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// DecodeECID returns the ECID held in an identity cookie value: the value is optionally
// percent-encoded base64 (URL or standard alphabet, padded or not) of a protobuf message whose
// field 1 is the ECID. The cookie carries no signature: a decoded ECID is a claim, not proof.
func DecodeECID(cookieValue string) (string, error) {
	if len(cookieValue) > MaxCookieLen {
		return "", fmt.Errorf("%w: cookie of %d bytes exceeds %d", ErrInvalidIdentity, len(cookieValue), MaxCookieLen)
	}
	raw, err := decodeBase64(cookieValue)
	if err != nil {
		return "", err
	}
	ecid, err := protoField1(raw)
	if err != nil {
		return "", err
	}
	if !ValidECID(ecid) {
		return "", fmt.Errorf("%w: field 1 is not 38 digits", ErrInvalidIdentity)
	}
	return ecid, nil
}

// decodeBase64 percent-decodes s when needed and decodes it as base64 in whichever alphabet
// it uses. It does not turn "+" into a space: "+" is a standard base64 digit.
func decodeBase64(s string) ([]byte, error) {
	if strings.Contains(s, "%") {
		unescaped, err := url.PathUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("%w: percent-encoding: %v", ErrInvalidIdentity, err)
		}
		s = unescaped
	}
	if s == "" {
		return nil, fmt.Errorf("%w: empty cookie", ErrInvalidIdentity)
	}
	urlSafe := strings.ContainsAny(s, "-_")
	if urlSafe && strings.ContainsAny(s, "+/") {
		return nil, fmt.Errorf("%w: base64 mixes alphabets", ErrInvalidIdentity)
	}
	enc := base64.StdEncoding
	if urlSafe {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	raw, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrInvalidIdentity, err)
	}
	return raw, nil
}

// protoField1 walks a protobuf message and returns its field 1, which must be length-delimited
// and appear once. It skips fields of wire types 0, 1, 2 and 5 and rejects groups (3, 4),
// unknown wire types, field number 0, truncation, over-long varints and fields over 1 KiB.
func protoField1(b []byte) (string, error) {
	var ecid string
	found := false
	for len(b) > 0 {
		tag, n, err := readVarint(b)
		if err != nil {
			return "", err
		}
		b = b[n:]
		field, wire := tag>>3, tag&7
		if field == 0 {
			return "", fmt.Errorf("%w: protobuf field number 0", ErrInvalidIdentity)
		}
		var value []byte
		switch wire {
		case 0:
			_, n, err = readVarint(b)
			if err != nil {
				return "", err
			}
			b = b[n:]
		case 1, 5:
			size := 8
			if wire == 5 {
				size = 4
			}
			if len(b) < size {
				return "", fmt.Errorf("%w: protobuf truncated", ErrInvalidIdentity)
			}
			b = b[size:]
		case 2:
			length, n, err := readVarint(b)
			if err != nil {
				return "", err
			}
			b = b[n:]
			if length > maxFieldLen {
				return "", fmt.Errorf("%w: protobuf field of %d bytes exceeds %d", ErrInvalidIdentity, length, maxFieldLen)
			}
			if length > uint64(len(b)) {
				return "", fmt.Errorf("%w: protobuf truncated", ErrInvalidIdentity)
			}
			value, b = b[:length], b[length:]
		default:
			return "", fmt.Errorf("%w: protobuf wire type %d not supported", ErrInvalidIdentity, wire)
		}
		if field != 1 {
			continue
		}
		if wire != 2 {
			return "", fmt.Errorf("%w: protobuf field 1 has wire type %d, want 2", ErrInvalidIdentity, wire)
		}
		if found {
			return "", fmt.Errorf("%w: protobuf field 1 repeated", ErrInvalidIdentity)
		}
		ecid, found = string(value), true
	}
	if !found {
		return "", fmt.Errorf("%w: no ECID in cookie", ErrInvalidIdentity)
	}
	return ecid, nil
}

// readVarint decodes a protobuf varint at the start of b and returns it with its length.
func readVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < maxVarintLen; i++ {
		if i == len(b) {
			return 0, 0, fmt.Errorf("%w: protobuf truncated", ErrInvalidIdentity)
		}
		c := b[i]
		if i == maxVarintLen-1 && c > 1 {
			return 0, 0, fmt.Errorf("%w: protobuf varint overflows 64 bits", ErrInvalidIdentity)
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: protobuf varint over %d bytes", ErrInvalidIdentity, maxVarintLen)
}

// IdentityFromRequest reads the Web SDK's cookies for orgID from r: the ECID from the identity
// cookie, the raw cluster cookie (Client.Lookup drops a hint outside its allow-list), and every
// kndctr_<ORG>_AdobeOrg_ cookie as a state entry to forward. Domain is left for the caller.
// It returns ErrNoIdentity without an identity cookie and ErrInvalidIdentity for a bad one.
func IdentityFromRequest(r *http.Request, orgID string) (Identity, error) {
	prefix := orgCookiePrefix(orgID)
	identityName, clusterName := prefix+"identity", prefix+"cluster"
	var id Identity
	var identity string
	seen := false
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, prefix) || hasEntry(id.StateEntries, c.Name) {
			continue // the first of several same-named cookies wins, as in the browser's order
		}
		switch c.Name {
		case identityName:
			identity, seen = c.Value, true
		case clusterName:
			id.Cluster = c.Value
		}
		id.StateEntries = append(id.StateEntries, StateEntry{Key: c.Name, Value: c.Value})
	}
	if !seen {
		return Identity{}, ErrNoIdentity
	}
	ecid, err := DecodeECID(identity)
	if err != nil {
		return Identity{}, err
	}
	id.ECID = ecid
	return id, nil
}

// hasEntry reports whether entries holds key.
func hasEntry(entries []StateEntry, key string) bool {
	return slices.ContainsFunc(entries, func(e StateEntry) bool { return e.Key == key })
}
