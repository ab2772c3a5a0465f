package signed

import (
	"encoding/base64"
	"testing"
)

// FuzzDecode feeds arbitrary values to Decode, and arbitrary payloads signed with the key, so
// that the parser behind the signature check is reached too. Decode must not panic, must return
// nothing with an error, and a value it accepts must be the one Encode writes for the result:
// the encoding is canonical.
func FuzzDecode(f *testing.F) {
	k := mustKeys(f, "one")
	for _, m := range []Membership{member(), member(vip), member(vip, bags, other), member("a", "b", "c", "d")} {
		v := mustEncode(f, k, m)
		f.Add(v, payloadOf(f, v))
	}
	v := mustEncode(f, k, member(vip, bags))
	p := payloadOf(f, v)
	f.Add(v[:len(v)-1], p[:len(p)-3])
	f.Add("", []byte{})
	f.Add(".", []byte{version})
	f.Add("AAAA.AAAA", append([]byte{version}, k.keys[0].id[:]...))
	f.Add(v+"\n", append(p, 1, 'z'))
	f.Add("!!!!!!!!."+v, append(p, 0))
	f.Fuzz(func(t *testing.T, value string, payload []byte) {
		check(t, k, value)
		if len(payload) > 0 {
			check(t, k, signPayload(k, payload))
		}
		// The decoder of this package agrees with encoding/base64 on what it accepts.
		got, ok := appendDecode(nil, value)
		want, err := base64.RawURLEncoding.Strict().DecodeString(value)
		if ok && (err != nil || string(got) != string(want)) {
			t.Fatalf("%q: decoded to %x, encoding/base64 says %x, %v", value, got, want, err)
		}
	})
}

func check(t *testing.T, k *Keys, value string) {
	m, err := k.Decode(value, now, ecid)
	if err != nil {
		if !isZero(m) {
			t.Fatalf("%q: membership %+v with error %v", value, m, err)
		}
		return
	}
	again, err := k.Encode(m)
	if err != nil {
		t.Fatalf("%q decodes to %+v, which does not encode: %v", value, m, err)
	}
	if again != value {
		t.Fatalf("not canonical:\n%q\n%q", value, again)
	}
	m2, err := k.Decode(again, now, ecid)
	if err != nil || !equal(m, m2) {
		t.Fatalf("round trip: %+v, %v; want %+v", m2, err, m)
	}
}
