// Package signed encodes and verifies the sidecar's own membership cookie: the segment IDs
// resolved for one ECID and an expiry, signed with HMAC-SHA256, so that membership kept by the
// browser can be trusted until it expires without asking the Edge Network again.
//
// A cookie value is base64url(payload) "." base64url(HMAC-SHA256(key, "aud_m\x00" payload)),
// both without padding, where the payload is, in this order:
//
//	version   1 byte, 1
//	key ID    4 bytes, the first bytes of HMAC-SHA256(key, "aud_m key id")
//	expires   8 bytes, big-endian Unix seconds, 1 to 253402300799 (year 9999)
//	ECID      1 byte length n (1 to 128), n bytes of printable ASCII
//	segments  to the end: per ID 1 byte length n (1 to 128), n bytes matching
//	          [A-Za-z0-9][A-Za-z0-9._:-]{0,127}; strictly ascending, at most MaxSegments
//
// The encoding is canonical: one Membership has exactly one value per key, and Decode rejects
// every other spelling, so a value cannot be altered without breaking its signature.
package signed

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	// MaxSegments is the most segment IDs one cookie holds.
	MaxSegments = 256
	// MaxValueLen is the longest cookie value, in bytes. Browsers keep name and value of a
	// cookie up to 4096 bytes together; this leaves room for the name.
	MaxValueLen = 4000

	version       = 1
	maxIDLen      = 128
	maxECIDLen    = 128
	maxExpires    = 253402300799 // 9999-12-31T23:59:59Z
	macB64Len     = 43           // base64url of 32 bytes, unpadded
	headerLen     = 1 + keyIDLen + 8
	minPayloadLen = headerLen + 1 + 1
	maxPayloadLen = (MaxValueLen - 1 - macB64Len) * 6 / 8
)

// domain separates these signatures from any other use of the same secret.
var domain = []byte("aud_m\x00")

// Errors returned by Decode. Only ErrExpired and ErrOtherECID are to be expected from honest
// browsers; the other two mean a value the sidecar did not write, or wrote with a removed key.
var (
	ErrMalformed    = errors.New("membership cookie: malformed")
	ErrBadSignature = errors.New("membership cookie: bad signature or unknown key")
	ErrExpired      = errors.New("membership cookie: expired")
	ErrOtherECID    = errors.New("membership cookie: issued for another ECID")
)

// ErrTooLarge is returned by Encode for a membership that does not fit in a cookie.
var ErrTooLarge = errors.New("membership cookie: too large")

// Reasons for ErrMalformed, for tests and debug logs; errors.Is(err, ErrMalformed) holds.
var (
	errEmpty    = fmt.Errorf("%w: empty", ErrMalformed)
	errTooLong  = fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxValueLen)
	errNoDot    = fmt.Errorf("%w: no signature", ErrMalformed)
	errMAC      = fmt.Errorf("%w: signature is not 32 bytes of base64url", ErrMalformed)
	errBase64   = fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	errShort    = fmt.Errorf("%w: payload too short", ErrMalformed)
	errVersion  = fmt.Errorf("%w: unknown version", ErrMalformed)
	errExpires  = fmt.Errorf("%w: expiry out of range", ErrMalformed)
	errECID     = fmt.Errorf("%w: bad ECID", ErrMalformed)
	errSegment  = fmt.Errorf("%w: bad segment id", ErrMalformed)
	errOrder    = fmt.Errorf("%w: segment ids not sorted and unique", ErrMalformed)
	errSegments = fmt.Errorf("%w: more than %d segments", ErrMalformed, MaxSegments)
)

// Membership is what a cookie vouches for: the shopper identified by ECID was in Segments when
// the cookie was written, and the answer may be used until Expires.
type Membership struct {
	Segments []string
	ECID     string
	Expires  time.Time
}

// Encode returns the cookie value for m, signed with the first key. Segments are sorted and
// de-duplicated; Expires is truncated to the second. Invalid segment IDs, an empty or
// non-printable ECID, an expiry outside 1970 to 9999 and memberships too large for a cookie
// (ErrTooLarge) are errors.
func (k *Keys) Encode(m Membership) (string, error) {
	if !validECID(m.ECID) {
		return "", errors.New("membership cookie: ECID must be 1 to 128 printable ASCII characters")
	}
	expires := m.Expires.Unix()
	if expires < 1 || expires > maxExpires {
		return "", fmt.Errorf("membership cookie: expiry %s out of range", m.Expires.UTC().Format(time.RFC3339))
	}
	ids := slices.Clone(m.Segments)
	for _, id := range ids {
		if !ValidID(id) {
			return "", fmt.Errorf("membership cookie: invalid segment id %.64q", id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > MaxSegments {
		return "", fmt.Errorf("%w: %d segments, at most %d", ErrTooLarge, len(ids), MaxSegments)
	}
	size := headerLen + 1 + len(m.ECID)
	for _, id := range ids {
		size += 1 + len(id)
	}
	if size > maxPayloadLen {
		return "", fmt.Errorf("%w: %d segments make a %d-byte value, at most %d", ErrTooLarge,
			len(ids), base64.RawURLEncoding.EncodedLen(size)+1+macB64Len, MaxValueLen)
	}

	signer := k.signer()
	st := signer.get()
	defer signer.put(st)
	p := append(st.buf[:0], version)
	p = append(p, signer.id[:]...)
	p = binary.BigEndian.AppendUint64(p, uint64(expires))
	p = append(p, byte(len(m.ECID)))
	p = append(p, m.ECID...)
	for _, id := range ids {
		p = append(p, byte(len(id)))
		p = append(p, id...)
	}
	st.buf = p
	signer.sign(st, p)

	out := make([]byte, 0, base64.RawURLEncoding.EncodedLen(len(p))+1+macB64Len)
	out = base64.RawURLEncoding.AppendEncode(out, p)
	out = append(out, '.')
	out = base64.RawURLEncoding.AppendEncode(out, st.sum[:])
	return string(out), nil
}

// Decode verifies value and returns the membership it vouches for, if it is still valid at
// now and was issued for wantECID, the ECID of the request's identity cookie. An empty
// wantECID (no identity cookie) matches no cookie. Errors are ErrMalformed, ErrBadSignature
// (altered, or signed with a key no longer listed), ErrExpired and ErrOtherECID, checked in
// that order; Decode returns a zero Membership with them.
func (k *Keys) Decode(value string, now time.Time, wantECID string) (Membership, error) {
	switch {
	case value == "":
		return Membership{}, errEmpty
	case len(value) > MaxValueLen:
		return Membership{}, errTooLong
	}
	encPayload, encMAC, ok := strings.Cut(value, ".")
	if !ok {
		return Membership{}, errNoDot
	}
	var macBuf [32]byte
	mac, ok := appendDecode(macBuf[:0], encMAC)
	if !ok || len(mac) != len(macBuf) {
		return Membership{}, errMAC
	}
	// The version and key ID come first, so 8 characters give them without decoding it all.
	if len(encPayload) < 8 {
		return Membership{}, errShort
	}
	var headBuf [6]byte
	head, ok := appendDecode(headBuf[:0], encPayload[:8])
	if !ok {
		return Membership{}, errBase64
	}
	if head[0] != version {
		return Membership{}, errVersion
	}
	signer := k.byID([keyIDLen]byte(head[1 : 1+keyIDLen]))
	if signer == nil {
		return Membership{}, ErrBadSignature
	}

	st := signer.get()
	defer signer.put(st)
	payload, ok := appendDecode(st.buf[:0], encPayload)
	st.buf = payload
	if !ok {
		return Membership{}, errBase64
	}
	if len(payload) < minPayloadLen {
		return Membership{}, errShort
	}
	signer.sign(st, payload)
	if !hmac.Equal(st.sum[:], mac) {
		return Membership{}, ErrBadSignature
	}
	return parse(payload, now, wantECID)
}

// parse reads a payload whose signature holds. The ECID and segment IDs are substrings of one
// copy of the payload, so a decode allocates that copy and the slice of IDs.
func parse(payload []byte, now time.Time, wantECID string) (Membership, error) {
	expires := int64(binary.BigEndian.Uint64(payload[1+keyIDLen:]))
	if expires < 1 || expires > maxExpires {
		return Membership{}, errExpires
	}
	rest := payload[headerLen:]
	n := int(rest[0])
	if n == 0 || n > maxECIDLen || len(rest) < 1+n {
		return Membership{}, errECID
	}
	ecid := rest[1 : 1+n]
	if !validECID(ecid) {
		return Membership{}, errECID
	}
	ecidEnd := headerLen + 1 + n
	count, err := checkSegments(payload[ecidEnd:])
	if err != nil {
		return Membership{}, err
	}
	if now.Unix() >= expires {
		return Membership{}, ErrExpired
	}
	if wantECID == "" || string(ecid) != wantECID {
		return Membership{}, ErrOtherECID
	}

	s := string(payload)
	m := Membership{ECID: s[headerLen+1 : ecidEnd], Expires: time.Unix(expires, 0).UTC()}
	if count > 0 {
		m.Segments = make([]string, 0, count)
		for i := ecidEnd; i < len(s); {
			n := int(s[i])
			m.Segments = append(m.Segments, s[i+1:i+1+n])
			i += 1 + n
		}
	}
	return m, nil
}

// checkSegments validates the length-prefixed segment IDs of b and returns how many there are.
func checkSegments(b []byte) (int, error) {
	var prev []byte
	count := 0
	for len(b) > 0 {
		n := int(b[0])
		if n == 0 || len(b) < 1+n {
			return 0, errSegment
		}
		id := b[1 : 1+n]
		if !validID(id) {
			return 0, errSegment
		}
		if count > 0 && bytes.Compare(prev, id) >= 0 {
			return 0, errOrder
		}
		if count++; count > MaxSegments {
			return 0, errSegments
		}
		prev, b = id, b[1+n:]
	}
	return count, nil
}

// ValidID reports whether id is a segment ID a cookie may carry:
// [A-Za-z0-9][A-Za-z0-9._:-]{0,127}, the same rule as for client-sent membership.
func ValidID(id string) bool { return validID(id) }

// validID is ValidID for IDs still in the payload, which it does not copy.
func validID[T string | []byte](id T) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	if idChars[id[0]] != idFirst {
		return false
	}
	for i := 1; i < len(id); i++ {
		if idChars[id[i]] == 0 {
			return false
		}
	}
	return true
}

// idChars classifies the bytes of segment IDs: idFirst may begin one, idLater only follow.
var idChars = func() (t [256]byte) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			t[c] = idFirst
		case c == '.' || c == '_' || c == ':' || c == '-':
			t[c] = idLater
		}
	}
	return t
}()

const (
	idLater = 1 + iota
	idFirst
)

// validECID reports whether ecid is 1 to 128 printable ASCII characters. ECIDs are 38 digits;
// the rule is wider so that other identity namespaces fit, and narrow enough for any log.
func validECID[T string | []byte](ecid T) bool {
	if len(ecid) == 0 || len(ecid) > maxECIDLen {
		return false
	}
	for i := 0; i < len(ecid); i++ {
		if ecid[i] < 0x21 || ecid[i] > 0x7e {
			return false
		}
	}
	return true
}

// b64Values maps each base64url character to its value and every other byte to 0xff.
var b64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// appendDecode appends the bytes that s, unpadded base64url, encodes to dst. Only the canonical
// encoding is accepted: no padding, no white space (which encoding/base64 skips), unused
// trailing bits zero. It works on the string so that decoding a cookie copies nothing.
func appendDecode(dst []byte, s string) ([]byte, bool) {
	if len(s)%4 == 1 {
		return dst, false
	}
	n := len(dst)
	size := len(s) * 6 / 8
	dst = slices.Grow(dst, size)[:n+size]
	out := dst[n:]
	i, o := 0, 0
	for ; i+4 <= len(s) && o+3 <= len(out); i, o = i+4, o+3 {
		a, b, c, d := b64Values[s[i]], b64Values[s[i+1]], b64Values[s[i+2]], b64Values[s[i+3]]
		if (a|b|c|d)&0xc0 != 0 {
			return dst[:n], false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		out[o], out[o+1], out[o+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	switch rest := s[i:]; len(rest) {
	case 2:
		a, b := b64Values[rest[0]], b64Values[rest[1]]
		if (a|b)&0xc0 != 0 || b&0x0f != 0 {
			return dst[:n], false
		}
		out[o] = a<<2 | b>>4
	case 3:
		a, b, c := b64Values[rest[0]], b64Values[rest[1]], b64Values[rest[2]]
		if (a|b|c)&0xc0 != 0 || c&0x03 != 0 {
			return dst[:n], false
		}
		v := uint32(a)<<12 | uint32(b)<<6 | uint32(c)
		out[o], out[o+1] = byte(v>>10), byte(v>>2)
	}
	return dst, true
}
