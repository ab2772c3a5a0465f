// The signed cookie's tests, table after table of tampering, expiry and rotation cases over
// one encoder: kept together so each case sits beside the others it guards against.

package signed

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	ecid      = "47147901523633284012774707065712279255"
	otherECID = "47147901523633284012774707065712279256"
	vip       = "a1b2c3d4-0000-4000-8000-00000000vip1"
	bags      = "bags-lovers"
	other     = "ups:other.segment_1"
)

var now = time.Unix(1_800_000_000, 0).UTC()

// secret returns a deterministic 32-byte test secret named label.
func secret(label string) []byte {
	s := sha256.Sum256([]byte(label))
	return s[:]
}

func mustKeys(t testing.TB, labels ...string) *Keys {
	t.Helper()
	secrets := make([][]byte, 0, len(labels))
	for _, l := range labels {
		secrets = append(secrets, secret(l))
	}
	k, err := NewKeys(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustEncode(t testing.TB, k *Keys, m Membership) string {
	t.Helper()
	v, err := k.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func member(segments ...string) Membership {
	return Membership{Segments: segments, ECID: ecid, Expires: now.Add(time.Hour)}
}

func equal(a, b Membership) bool {
	return slices.Equal(a.Segments, b.Segments) && a.ECID == b.ECID && a.Expires.Equal(b.Expires)
}

func isZero(m Membership) bool {
	return m.Segments == nil && m.ECID == "" && m.Expires.IsZero()
}

// signPayload returns a value whose signature, made with the key named by the payload's key
// ID (or the signing key if none matches), holds for payload.
func signPayload(k *Keys, payload []byte) string {
	signer := k.signer()
	if len(payload) >= 1+keyIDLen {
		if c := k.byID([keyIDLen]byte(payload[1 : 1+keyIDLen])); c != nil {
			signer = c
		}
	}
	st := signer.get()
	defer signer.put(st)
	signer.sign(st, payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(st.sum[:])
}

// payloadOf returns the decoded payload of a value.
func payloadOf(t testing.TB, value string) []byte {
	t.Helper()
	enc, _, _ := strings.Cut(value, ".")
	p, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	k := mustKeys(t, "one")
	many := make([]string, 0, MaxSegments)
	for i := range MaxSegments {
		many = append(many, fmt.Sprintf("s%03d", i))
	}
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, nil},
		{"empty slice", []string{}, nil},
		{"one", []string{vip}, []string{vip}},
		{"sorted", []string{bags, other, vip}, []string{vip, bags, other}},
		{"unsorted with duplicates", []string{other, vip, bags, vip, other, bags}, []string{vip, bags, other}},
		{"longest id", []string{strings.Repeat("x", 128)}, []string{strings.Repeat("x", 128)}},
		{"max segments", many, many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			value := mustEncode(t, k, member(in...))
			if !slices.Equal(in, tc.in) {
				t.Errorf("Encode changed its input: %q", in)
			}
			if len(value) > MaxValueLen {
				t.Errorf("value of %d bytes", len(value))
			}
			for i := 0; i < len(value); i++ {
				if b64Values[value[i]] == 0xff && value[i] != '.' {
					t.Fatalf("character %q at %d is not cookie-safe", value[i], i)
				}
			}
			got, err := k.Decode(value, now, ecid)
			if err != nil {
				t.Fatal(err)
			}
			want := member(tc.want...)
			slices.Sort(want.Segments)
			if !equal(got, want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			if again := mustEncode(t, k, got); again != value {
				t.Errorf("re-encoding gives another value:\n%s\n%s", again, value)
			}
		})
	}
}

func TestEncodeSortsAndDedupes(t *testing.T) {
	k := mustKeys(t, "one")
	a := mustEncode(t, k, member("c", "a", "b", "a", "c", "B"))
	b := mustEncode(t, k, member("B", "a", "b", "c"))
	if a != b {
		t.Fatalf("same set, different values:\n%s\n%s", a, b)
	}
	m, err := k.Decode(a, now, ecid)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"B", "a", "b", "c"}; !slices.Equal(m.Segments, want) {
		t.Fatalf("segments %q, want %q", m.Segments, want)
	}
}

func TestEncodeTruncatesExpiryToSeconds(t *testing.T) {
	k := mustKeys(t, "one")
	m := member(vip)
	m.Expires = now.Add(time.Hour + 999*time.Millisecond)
	got, err := k.Decode(mustEncode(t, k, m), now, ecid)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(time.Hour); !got.Expires.Equal(want) || got.Expires.Location() != time.UTC {
		t.Fatalf("expires %v, want %v in UTC", got.Expires, want)
	}
}

func TestEncodeErrors(t *testing.T) {
	k := mustKeys(t, "one")
	tooMany := make([]string, MaxSegments+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("s%03d", i)
	}
	long := make([]string, 40)
	for i := range long {
		long[i] = fmt.Sprintf("%03d", i) + strings.Repeat("x", 125)
	}
	for _, tc := range []struct {
		name     string
		m        Membership
		tooLarge bool
	}{
		{"invalid id", member(vip, "bad id"), false},
		{"empty id", member(""), false},
		{"id starting with a dash", member("-x"), false},
		{"id of 129 bytes", member(strings.Repeat("x", 129)), false},
		{"no ECID", Membership{Expires: now}, false},
		{"ECID with a space", Membership{ECID: "1 2", Expires: now}, false},
		{"ECID with a byte over 0x7e", Membership{ECID: "1\x80", Expires: now}, false},
		{"ECID of 129 bytes", Membership{ECID: strings.Repeat("1", 129), Expires: now}, false},
		{"no expiry", Membership{ECID: ecid}, false},
		{"expiry before 1970", Membership{ECID: ecid, Expires: time.Unix(-1, 0)}, false},
		{"expiry after 9999", Membership{ECID: ecid, Expires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, false},
		{"too many segments", member(tooMany...), true},
		{"too many bytes", member(long...), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := k.Encode(tc.m)
			if err == nil {
				t.Fatalf("no error, value %q", v)
			}
			if v != "" {
				t.Errorf("value %q with error", v)
			}
			if errors.Is(err, ErrTooLarge) != tc.tooLarge {
				t.Errorf("error %v, want ErrTooLarge: %v", err, tc.tooLarge)
			}
		})
	}
}

// TestLargestValue fills a cookie with 128-byte IDs up to the size cap.
func TestLargestValue(t *testing.T) {
	k := mustKeys(t, "one")
	var ids []string
	var value string
	for i := 0; ; i++ {
		next := append(slices.Clone(ids), fmt.Sprintf("%03d", i)+strings.Repeat("x", 125))
		v, err := k.Encode(member(next...))
		if errors.Is(err, ErrTooLarge) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids, value = next, v
	}
	if len(value) > MaxValueLen || len(value) < MaxValueLen-4*129/3-1 {
		t.Fatalf("largest value has %d bytes, cap %d", len(value), MaxValueLen)
	}
	m, err := k.Decode(value, now, ecid)
	if err != nil || len(m.Segments) != len(ids) {
		t.Fatalf("%d segments, error %v; want %d", len(m.Segments), err, len(ids))
	}
	t.Logf("%d IDs of 128 bytes make a %d-byte value", len(ids), len(value))
}

// TestTamperedCharacters replaces every character of a value with every other byte a cookie
// can carry, and a few it cannot.
func TestTamperedCharacters(t *testing.T) {
	k := mustKeys(t, "one")
	value := mustEncode(t, k, member(vip, bags, other))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \r\n\t%\"\x00\xff"
	for i := 0; i < len(value); i++ {
		for j := 0; j < len(alphabet); j++ {
			if alphabet[j] == value[i] {
				continue
			}
			tampered := value[:i] + string(alphabet[j]) + value[i+1:]
			checkRejected(t, k, tampered, fmt.Sprintf("%q at %d", alphabet[j], i))
		}
	}
}

// TestTamperedBits flips every bit of the payload and of the signature.
func TestTamperedBits(t *testing.T) {
	k := mustKeys(t, "one")
	value := mustEncode(t, k, member(vip, bags, other))
	encPayload, encMAC, _ := strings.Cut(value, ".")
	payload := payloadOf(t, value)
	mac, err := base64.RawURLEncoding.DecodeString(encMAC)
	if err != nil {
		t.Fatal(err)
	}
	for i := range payload {
		for bit := range 8 {
			p := slices.Clone(payload)
			p[i] ^= 1 << bit
			tampered := base64.RawURLEncoding.EncodeToString(p) + "." + encMAC
			checkRejected(t, k, tampered, fmt.Sprintf("payload byte %d bit %d", i, bit))
		}
	}
	for i := range mac {
		for bit := range 8 {
			m := slices.Clone(mac)
			m[i] ^= 1 << bit
			tampered := encPayload + "." + base64.RawURLEncoding.EncodeToString(m)
			if _, err := k.Decode(tampered, now, ecid); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("signature byte %d bit %d: error %v, want ErrBadSignature", i, bit, err)
			}
		}
	}
}

// TestTruncatedAndExtended cuts a value at every length and appends to it.
func TestTruncatedAndExtended(t *testing.T) {
	k := mustKeys(t, "one")
	value := mustEncode(t, k, member(vip, bags))
	for i := range len(value) {
		checkRejected(t, k, value[:i], fmt.Sprintf("first %d bytes", i))
		checkRejected(t, k, value[i+1:], fmt.Sprintf("without the first %d bytes", i+1))
	}
	for _, suffix := range []string{"A", "AA", "AAAA", ".", "=", "==", " ", "\n", ";"} {
		checkRejected(t, k, value+suffix, "suffix "+suffix)
		enc, mac, _ := strings.Cut(value, ".")
		checkRejected(t, k, enc+suffix+"."+mac, "payload suffix "+suffix)
	}
}

func checkRejected(t *testing.T, k *Keys, value, what string) {
	t.Helper()
	m, err := k.Decode(value, now, ecid)
	if err == nil {
		t.Fatalf("%s: accepted, got %+v", what, m)
	}
	if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) {
		t.Fatalf("%s: error %v, want ErrMalformed or ErrBadSignature", what, err)
	}
	if !isZero(m) {
		t.Fatalf("%s: membership %+v with error", what, m)
	}
}

func TestExpiry(t *testing.T) {
	k := mustKeys(t, "one")
	expires := now.Add(time.Minute)
	value := mustEncode(t, k, Membership{Segments: []string{vip}, ECID: ecid, Expires: expires})
	for _, tc := range []struct {
		at   time.Time
		want error
	}{
		{now, nil},
		{expires.Add(-time.Second), nil},
		{expires.Add(-time.Nanosecond), nil},
		{expires, ErrExpired},
		{expires.Add(time.Nanosecond), ErrExpired},
		{expires.Add(time.Hour), ErrExpired},
		{time.Time{}, nil},
	} {
		m, err := k.Decode(value, tc.at, ecid)
		if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("at %v: error %v, want %v", tc.at, err, tc.want)
		}
		if err != nil && !isZero(m) {
			t.Errorf("at %v: membership %+v with error", tc.at, m)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	old := mustKeys(t, "old")
	rotated := mustKeys(t, "new", "old")
	retired := mustKeys(t, "new")
	unrelated := mustKeys(t, "other")
	byOld := mustEncode(t, old, member(vip))
	byNew := mustEncode(t, rotated, member(vip))
	if byOld == byNew {
		t.Fatal("the rotated keys still sign with the old key")
	}
	if v := mustEncode(t, retired, member(vip)); v != byNew {
		t.Fatalf("the first key does not sign: %s vs %s", v, byNew)
	}
	for _, tc := range []struct {
		name  string
		keys  *Keys
		value string
		want  error
	}{
		{"old value, old key", old, byOld, nil},
		{"old value after rotation", rotated, byOld, nil},
		{"old value after the old key is removed", retired, byOld, ErrBadSignature},
		{"new value, rotated keys", rotated, byNew, nil},
		{"new value, new key only", retired, byNew, nil},
		{"new value, old key only", old, byNew, ErrBadSignature},
		{"old value, unrelated key", unrelated, byOld, ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.keys.Decode(tc.value, now, ecid)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err == nil && !equal(m, member(vip)) {
				t.Fatalf("got %+v", m)
			}
		})
	}
}

// TestForgedKeyID signs with an unlisted key but claims the ID of a listed one.
func TestForgedKeyID(t *testing.T) {
	k := mustKeys(t, "one")
	forger := mustKeys(t, "forger")
	p := payloadOf(t, mustEncode(t, forger, member(vip)))
	copy(p[1:], k.keys[0].id[:])
	if _, err := k.Decode(signPayload(forger, p), now, ecid); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("error %v, want ErrBadSignature", err)
	}
}

func TestOtherECID(t *testing.T) {
	k := mustKeys(t, "one")
	value := mustEncode(t, k, member(vip))
	for _, want := range []string{otherECID, "", ecid[:37], ecid + "0", " " + ecid, strings.ToUpper(ecid) + "x"} {
		m, err := k.Decode(value, now, want)
		if !errors.Is(err, ErrOtherECID) {
			t.Errorf("ECID %q: error %v, want ErrOtherECID", want, err)
		}
		if !isZero(m) {
			t.Errorf("ECID %q: membership %+v with error", want, m)
		}
	}
	// Expiry is checked first: an expired cookie of another shopper is just expired.
	if _, err := k.Decode(value, now.Add(2*time.Hour), otherECID); !errors.Is(err, ErrExpired) {
		t.Errorf("expired and foreign: error %v, want ErrExpired", err)
	}
}

func TestMalformed(t *testing.T) {
	k := mustKeys(t, "one")
	value := mustEncode(t, k, member(vip, bags))
	enc, mac, _ := strings.Cut(value, ".")
	payload := payloadOf(t, value)
	for _, tc := range []struct {
		name  string
		value string
		want  error
	}{
		{"empty", "", errEmpty},
		{"dot only", ".", errMAC},
		{"no dot", enc + mac, errNoDot},
		{"no signature", enc + ".", errMAC},
		{"no payload", "." + mac, errShort},
		{"two dots", enc + "." + mac + "." + mac, errMAC},
		{"signature with padding", enc + "." + mac + "=", errMAC},
		{"signature in the standard alphabet", enc + "." + strings.NewReplacer("-", "+", "_", "/").Replace(mac) + "+", errMAC},
		{"short signature", enc + "." + mac[:42], errMAC},
		{"long signature", enc + "." + mac + "AA", errMAC},
		{"payload with padding", enc + "=." + mac, errBase64},
		{"payload with a bad character", "!" + enc[1:] + "." + mac, errBase64},
		{"payload with a line break", enc[:20] + "\n" + enc[20:] + "." + mac, errBase64},
		{"payload of impossible length", enc[:len(enc)-len(enc)%4+1] + "." + mac, errBase64},
		{"truncated payload", base64.RawURLEncoding.EncodeToString(payload[:headerLen]) + "." + mac, errShort},
		{"unknown version", base64.RawURLEncoding.EncodeToString(append([]byte{2}, payload[1:]...)) + "." + mac, errVersion},
		{"huge", strings.Repeat("A", MaxValueLen-len(mac)) + "." + mac, errTooLong},
		{"a megabyte", strings.Repeat(value, 1<<20/len(value)), errTooLong},
		{"not base64 at all", "hello world.how are you", errMAC},
		{"cookie syntax", "aud_m=" + value, errBase64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := k.Decode(tc.value, now, ecid)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !isZero(m) {
				t.Fatalf("membership %+v with error", m)
			}
		})
	}
}

// TestNonCanonicalPayloads signs payloads the encoder never writes: the signature holds, so
// only the parser stands between them and the caller.
func TestNonCanonicalPayloads(t *testing.T) {
	k := mustKeys(t, "one")
	head := func(expires int64) []byte {
		p := append([]byte{version}, k.keys[0].id[:]...)
		return binary.BigEndian.AppendUint64(p, uint64(expires))
	}
	withECID := func(p []byte, id string) []byte { return append(append(p, byte(len(id))), id...) }
	seg := func(ids ...string) []byte {
		var p []byte
		for _, id := range ids {
			p = append(append(p, byte(len(id))), id...)
		}
		return p
	}
	good := withECID(head(now.Add(time.Hour).Unix()), ecid)
	if _, err := k.Decode(signPayload(k, append(slices.Clone(good), seg("a", "b")...)), now, ecid); err != nil {
		t.Fatalf("hand-built payload rejected: %v", err)
	}
	many := make([]string, MaxSegments+1)
	for i := range many {
		many[i] = fmt.Sprintf("%03d", i)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		want    error
	}{
		{"unsorted", append(slices.Clone(good), seg("b", "a")...), errOrder},
		{"duplicate", append(slices.Clone(good), seg("a", "a")...), errOrder},
		{"empty id", append(slices.Clone(good), 0), errSegment},
		{"invalid id", append(slices.Clone(good), seg("a b")...), errSegment},
		{"id of 129 bytes", append(slices.Clone(good), seg(strings.Repeat("x", 129))...), errSegment},
		{"id past the end", append(slices.Clone(good), 5, 'a', 'b'), errSegment},
		{"too many ids", append(slices.Clone(good), seg(many...)...), errSegments},
		{"empty ECID", append(withECID(head(now.Unix()+60), ""), seg("a")...), errECID},
		{"ECID past the end", append(head(now.Unix()+60), 40, '1', '2'), errECID},
		{"ECID with a control byte", withECID(head(now.Unix()+60), "12\x00"), errECID},
		{"ECID of 129 bytes", withECID(head(now.Unix()+60), strings.Repeat("1", 129)), errECID},
		{"expiry zero", withECID(head(0), ecid), errExpires},
		{"expiry negative", withECID(head(-1), ecid), errExpires},
		{"expiry after 9999", withECID(head(maxExpires+1), ecid), errExpires},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := k.Decode(signPayload(k, tc.payload), now, ecid)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !isZero(m) {
				t.Fatalf("membership %+v with error", m)
			}
		})
	}
}

func TestAppendDecodeMatchesEncodingBase64(t *testing.T) {
	strict := base64.RawURLEncoding.Strict()
	for n := range 70 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		s := base64.RawURLEncoding.EncodeToString(b)
		got, ok := appendDecode(nil, s)
		if !ok || !slices.Equal(got, b) {
			t.Fatalf("%d bytes: %x, %v; want %x", n, got, ok, b)
		}
		// Every other last character either changes the bytes or is rejected.
		if n%3 != 0 {
			for c := range 256 {
				t2 := s[:len(s)-1] + string(rune(c))[:1]
				got2, ok2 := appendDecode(nil, t2)
				if c == '\r' || c == '\n' {
					// encoding/base64 skips line breaks even in strict mode; cookies must not.
					if ok2 {
						t.Fatalf("%q accepted", t2)
					}
					continue
				}
				want2, err := strict.DecodeString(t2)
				if ok2 != (err == nil) || (ok2 && !slices.Equal(got2, want2)) {
					t.Fatalf("%q: %x, %v; encoding/base64 %x, %v", t2, got2, ok2, want2, err)
				}
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	k := mustKeys(t, "new", "old")
	old := mustEncode(t, mustKeys(t, "old"), member(vip))
	done := make(chan error)
	for g := range 8 {
		go func() {
			for i := range 200 {
				v, err := k.Encode(member(fmt.Sprintf("g%d", g), fmt.Sprintf("i%d", i)))
				if err == nil {
					_, err = k.Decode(v, now, ecid)
				}
				if err == nil {
					_, err = k.Decode(old, now, ecid)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
