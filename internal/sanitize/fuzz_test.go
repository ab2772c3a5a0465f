package sanitize

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzWriter feeds arbitrary bodies in arbitrary chunks: no secret may ever come out, and a
// valid JSON document comes out as the same document without its hidden members.
func FuzzWriter(f *testing.F) {
	for _, seed := range []string{
		`{"data":{"cart":{"_aud_c":[{"code":"AUD-VIP-7Q2X"}],"id":"x"}}}`,
		"data: {\"_aud_x\":\"pool-a1\"}\n\n", `{"a":"\u0041UD-VIP-7Q2X"}`, `[1,{"_aud_":[]},"AUD-VIP-"]`,
		`{"a":1 "b"}`, "\ufeff{\"a\":\"aud-vip-7q2x\"}", `<b>Notice</b>: {x} AUD-VIP-7Q2X`,
	} {
		f.Add(seed, uint8(3))
	}
	secrets := NewSecrets([]string{"AUD-VIP-7Q2X"}, []string{"POOL-"})
	f.Fuzz(func(t *testing.T, in string, chunk uint8) {
		out := sanitize(t, in, int(chunk), "_aud_", secrets)
		upper := strings.ToUpper(out)
		if strings.Contains(upper, "AUD-VIP-7Q2X") || strings.Contains(upper, "POOL-") {
			t.Fatalf("%q → %q holds a secret", in, out)
		}
		var v any
		if json.Unmarshal([]byte(in), &v) != nil || !strings.HasPrefix(strings.TrimLeft(in, " \t\r\n"), "{") {
			return
		}
		if strings.Contains(strings.ToUpper(in), "AUD-VIP") || strings.Contains(strings.ToUpper(in), "POOL-") || strings.Contains(in, `\`) {
			return // strings with secrets or escapes change; the shape test is for the rest
		}
		var got any
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &got); err != nil {
			t.Fatalf("%q → invalid JSON %q", in, out)
		}
		if want := without(v, "_aud_"); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q → %q", in, out)
		}
	})
}
