package signed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// MinKeyLen is the shortest secret accepted, in bytes: HMAC-SHA256 wants at least its output size.
const MinKeyLen = 32

// keyIDLen is the length of the key ID carried in every cookie.
const keyIDLen = 4

// Keys holds the secrets that sign and verify membership cookies. The first key signs; every
// key verifies, so a new key can be put first while cookies signed with the old one stay valid
// until the old key is removed. A Keys is safe for concurrent use and never prints its secrets.
type Keys struct {
	keys []*key
}

// key is one secret, known by its ID, with a pool of HMAC states keyed with it.
type key struct {
	id   [keyIDLen]byte
	pool sync.Pool // of *macState
}

// macState is the scratch space of one signature: the keyed HMAC and buffers that would
// otherwise escape to the heap through the hash.Hash interface on every call.
type macState struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// NewKeys returns the keys made of secrets, the first of which signs. Each secret must be at
// least MinKeyLen bytes and appear once. The secrets are copied.
func NewKeys(secrets ...[]byte) (*Keys, error) {
	if len(secrets) == 0 {
		return nil, errors.New("membership cookie keys: no key")
	}
	k := &Keys{keys: make([]*key, 0, len(secrets))}
	for i, secret := range secrets {
		if len(secret) < MinKeyLen {
			return nil, fmt.Errorf("membership cookie key %d: %d bytes, want at least %d", i+1, len(secret), MinKeyLen)
		}
		for j := range i {
			if hmac.Equal(secret, secrets[j]) {
				return nil, fmt.Errorf("membership cookie key %d: same as key %d", i+1, j+1)
			}
		}
		nk := newKey(secret)
		for j, other := range k.keys {
			if other.id == nk.id {
				// One chance in 2^32: the ID picks the key, so two keys cannot share it.
				return nil, fmt.Errorf("membership cookie key %d: its key id collides with key %d; generate another secret", i+1, j+1)
			}
		}
		k.keys = append(k.keys, nk)
	}
	return k, nil
}

// ParseKeys returns the keys written as text, the way they come from configuration and
// environment variables: hex, or base64 in the standard or URL alphabet with or without
// padding. A string of hex digits only is read as hex; the prefixes "hex:" and "base64:" force
// one reading. Surrounding white space is ignored. Errors name the key by its position only.
func ParseKeys(texts ...string) (*Keys, error) {
	secrets := make([][]byte, 0, len(texts))
	for i, text := range texts {
		secret, err := parseSecret(text)
		if err != nil {
			return nil, fmt.Errorf("membership cookie key %d: %w", i+1, err)
		}
		secrets = append(secrets, secret)
	}
	return NewKeys(secrets...)
}

// String describes k without its secrets: the number of keys and the ID of the signing key.
func (k *Keys) String() string {
	if k == nil || len(k.keys) == 0 {
		return "signed.Keys(none)"
	}
	return fmt.Sprintf("signed.Keys(%d, signing key id %x)", len(k.keys), k.keys[0].id)
}

// GoString is String, so that %#v does not print the secrets either.
func (k *Keys) GoString() string { return k.String() }

// parseSecret decodes one secret written as hex or base64.
func parseSecret(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("empty")
	}
	if rest, ok := strings.CutPrefix(text, "hex:"); ok {
		return decodeHex(strings.TrimSpace(rest))
	}
	if rest, ok := strings.CutPrefix(text, "base64:"); ok {
		return decodeBase64(strings.TrimSpace(rest))
	}
	if isHex(text) {
		return decodeHex(text)
	}
	return decodeBase64(text)
}

func decodeHex(text string) ([]byte, error) {
	b, err := hex.DecodeString(text)
	if err != nil {
		// The error of package hex quotes the offending byte, a piece of the secret.
		return nil, errors.New("not valid hex")
	}
	return b, nil
}

// decodeBase64 accepts the standard and the URL alphabet, padded or not, but not a mix of both.
func decodeBase64(text string) ([]byte, error) {
	text = strings.TrimRight(text, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(text, "-_") {
		if strings.ContainsAny(text, "+/") {
			return nil, errors.New("not valid base64: mixes the standard and URL alphabets")
		}
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(text)
	if err != nil {
		// Like hex, the error of package base64 would locate the bad byte; keep it out of logs.
		return nil, errors.New("not valid hex or base64")
	}
	return b, nil
}

func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// newKey derives the key's ID from the secret with a one-way function, so the ID in a cookie
// says which key signed it without saying anything about the key.
func newKey(secret []byte) *key {
	secret = append([]byte(nil), secret...)
	idMAC := hmac.New(sha256.New, secret)
	idMAC.Write([]byte("aud_m key id"))
	k := &key{}
	copy(k.id[:], idMAC.Sum(nil))
	k.pool.New = func() any {
		return &macState{mac: hmac.New(sha256.New, secret)}
	}
	return k
}

// sign returns the HMAC-SHA256 of the domain separator and payload in st.sum.
func (k *key) sign(st *macState, payload []byte) {
	st.mac.Reset()
	st.mac.Write(domain)
	st.mac.Write(payload)
	st.mac.Sum(st.sum[:0])
}

func (k *key) get() *macState { return k.pool.Get().(*macState) }

func (k *key) put(st *macState) {
	if cap(st.buf) > maxPayloadLen {
		st.buf = nil
	}
	k.pool.Put(st)
}

// signer returns the key that signs.
func (k *Keys) signer() *key { return k.keys[0] }

// byID returns the key whose ID is id, or nil.
func (k *Keys) byID(id [keyIDLen]byte) *key {
	for _, c := range k.keys {
		if c.id == id {
			return c
		}
	}
	return nil
}
