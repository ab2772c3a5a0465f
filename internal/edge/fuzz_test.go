package edge

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzDecodeECID feeds arbitrary cookie values to DecodeECID: it must never panic, and whatever
// it accepts is a 38-digit ECID.
func FuzzDecodeECID(f *testing.F) {
	ecid := sampleECID
	for _, seed := range []string{
		sampleCookie,
		sampleCookie2,
		strings.TrimRight(sampleCookie, "="),
		url.QueryEscape(sampleCookie),
		strings.NewReplacer("-", "+", "_", "/").Replace(sampleCookie),
		b64(str(1, ecid)),
		b64(pb([]byte{0x10, 0x96, 0x01}, []byte{0x19, 1, 2, 3, 4, 5, 6, 7, 8}, []byte{0x25, 1, 2, 3, 4}, str(1, ecid))),
		b64(pb(str(1, ecid), str(1, ecid))),
		b64([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}),
		b64([]byte{0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}),
		b64([]byte{0x0b, 0x0c, 0x0e}),
		"", "%", "%zz", "====", "ab+-cd", "\x00\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		got, err := DecodeECID(value)
		if err != nil {
			if got != "" {
				t.Fatalf("error %v with a value %q", err, got)
			}
			return
		}
		if !ValidECID(got) {
			t.Fatalf("DecodeECID(%q) = %q, not 38 digits", value, got)
		}
	})
}
