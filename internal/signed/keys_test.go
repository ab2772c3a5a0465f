package signed

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func TestNewKeysErrors(t *testing.T) {
	short := secret("short")[:MinKeyLen-1]
	for _, tc := range []struct {
		name    string
		secrets [][]byte
		want    string
	}{
		{"none", nil, "no key"},
		{"short", [][]byte{short}, "key 1: 31 bytes, want at least 32"},
		{"second short", [][]byte{secret("a"), short}, "key 2: 31 bytes"},
		{"repeated", [][]byte{secret("a"), secret("b"), secret("a")}, "key 3: same as key 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := NewKeys(tc.secrets...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("keys %v, error %v; want an error with %q", k, err, tc.want)
			}
			checkNoSecret(t, err.Error(), tc.secrets...)
		})
	}
}

func TestNewKeysCopiesSecrets(t *testing.T) {
	s := secret("one")
	k, err := NewKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	value := mustEncode(t, k, member(vip))
	s[0] ^= 0xff
	if _, err := k.Decode(value, now, ecid); err != nil {
		t.Fatalf("changing the caller's slice changed the key: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	s := secret("one")
	want := mustEncode(t, mustKeys(t, "one"), member(vip))
	for _, text := range []string{
		hex.EncodeToString(s),
		strings.ToUpper(hex.EncodeToString(s)),
		"hex:" + hex.EncodeToString(s),
		base64.StdEncoding.EncodeToString(s),
		base64.RawStdEncoding.EncodeToString(s),
		base64.URLEncoding.EncodeToString(s),
		base64.RawURLEncoding.EncodeToString(s),
		"base64:" + base64.StdEncoding.EncodeToString(s),
		"  " + base64.StdEncoding.EncodeToString(s) + "\n",
	} {
		k, err := ParseKeys(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if got := mustEncode(t, k, member(vip)); got != want {
			t.Errorf("%s: another key", text)
		}
	}
	// 64 hex digits are also valid base64 (of 48 bytes): "base64:" forces that reading.
	h := hex.EncodeToString(s)
	k, err := ParseKeys("base64:" + h)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustEncode(t, k, member(vip)); got == want {
		t.Error("base64: prefix ignored")
	}
}

func TestParseKeysRotation(t *testing.T) {
	k, err := ParseKeys(hex.EncodeToString(secret("new")), base64.StdEncoding.EncodeToString(secret("old")))
	if err != nil {
		t.Fatal(err)
	}
	old := mustEncode(t, mustKeys(t, "old"), member(vip))
	if _, err := k.Decode(old, now, ecid); err != nil {
		t.Fatalf("old key not listed: %v", err)
	}
	if got, want := mustEncode(t, k, member(vip)), mustEncode(t, mustKeys(t, "new"), member(vip)); got != want {
		t.Fatal("the first key does not sign")
	}
}

func TestParseKeysErrors(t *testing.T) {
	s := secret("one")
	b64 := base64.StdEncoding.EncodeToString(s)
	for _, tc := range []struct {
		name  string
		texts []string
		want  string
	}{
		{"none", nil, "no key"},
		{"empty", []string{""}, "key 1: empty"},
		{"blank", []string{b64, "  \t"}, "key 2: empty"},
		{"too short", []string{hex.EncodeToString(s[:16])}, "key 1: 16 bytes, want at least 32"},
		{"bad hex", []string{"hex:" + hex.EncodeToString(s)[:63] + "g"}, "key 1: not valid hex"},
		{"bad base64", []string{b64[:20] + "!*" + b64[22:]}, "key 1: not valid hex or base64"},
		{"base64 with inner padding", []string{b64[:20] + "=" + b64[21:]}, "key 1: not valid hex or base64"},
		{"mixed alphabets", []string{"+" + base64.RawURLEncoding.EncodeToString(s)[1:] + "-_"}, "mixes the standard and URL alphabets"},
		{"bad prefix value", []string{"base64:%%%"}, "key 1: not valid"},
		{"repeated in two spellings", []string{b64, hex.EncodeToString(s)}, "key 2: same as key 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKeys(tc.texts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("keys %v, error %v; want an error with %q", k, err, tc.want)
			}
			secrets := [][]byte{s}
			for _, text := range tc.texts {
				if len(text) >= 8 {
					secrets = append(secrets, []byte(strings.TrimSpace(text)))
				}
			}
			checkNoSecret(t, err.Error(), secrets...)
		})
	}
}

// TestKeysDoNotPrint formats Keys every way a log line might.
func TestKeysDoNotPrint(t *testing.T) {
	s := secret("one")
	k, err := NewKeys(s, secret("two"))
	if err != nil {
		t.Fatal(err)
	}
	var printed []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		printed = append(printed, fmt.Sprintf(verb, k), fmt.Sprintf(verb, *k), fmt.Sprintf(verb, []*Keys{k}))
	}
	printed = append(printed, k.String(), fmt.Sprint(struct{ K *Keys }{k}))
	for _, out := range printed {
		checkNoSecret(t, out, s, secret("two"))
	}
	if got := k.String(); !strings.HasPrefix(got, "signed.Keys(2, signing key id ") {
		t.Errorf("String() = %q", got)
	}
	if got := (*Keys)(nil).String(); got != "signed.Keys(none)" {
		t.Errorf("nil String() = %q", got)
	}
}

// checkNoSecret fails if out holds any secret raw, in hex or in base64, or an 8-byte piece of one.
func checkNoSecret(t *testing.T, out string, secrets ...[]byte) {
	t.Helper()
	lower := strings.ToLower(out)
	for _, s := range secrets {
		for _, form := range []string{
			string(s), hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s), base64.RawURLEncoding.EncodeToString(s),
		} {
			for i := 0; i+8 <= len(form); i += 4 {
				if piece := form[i : i+8]; strings.Contains(lower, strings.ToLower(piece)) {
					t.Fatalf("output %q holds part of a secret (%q)", out, piece)
				}
			}
		}
	}
}

func TestKeyIDsDiffer(t *testing.T) {
	k := mustKeys(t, "a", "b", "c")
	seen := map[[keyIDLen]byte]bool{}
	for _, c := range k.keys {
		if seen[c.id] {
			t.Fatal("two keys share an ID")
		}
		seen[c.id] = true
	}
}
