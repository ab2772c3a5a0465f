package sanitize

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// sanitize runs in through a Writer in chunks of n bytes (all at once for n <= 0).
func sanitize(t testing.TB, in string, n int, hidden string, secrets *Secrets) string {
	t.Helper()
	var out bytes.Buffer
	w := NewWriter(&out, hidden, secrets)
	for len(in) > 0 {
		k := len(in)
		if n > 0 && n < k {
			k = n
		}
		if _, err := w.Write([]byte(in[:k])); err != nil {
			t.Fatal(err)
		}
		in = in[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// without is the reference: v with every member named prefix+… removed, at any depth.
func without(v any, prefix string) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if !strings.HasPrefix(k, prefix) {
				out[k] = without(x, prefix)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = without(x, prefix)
		}
		return out
	}
	return v
}

func TestWriterStripsHiddenMembers(t *testing.T) {
	docs := []string{
		`{"data":{"cart":{"_aud_items":[{"_aud_sku":"A"}],"id":"c","_aud_x":1}}}`,
		`{"_aud_a":{"x":[1,{"y":"}"}]},"b":2}`,
		`{"a":1,"_aud_b":"\"quoted\" }","c":[ ],"_aud_d":null}`,
		`{"a":[{"_aud_b":true},{"c":false,"_aud_d":[[],{}]}], "e" : -1.5e3 }`,
		`{"_aud_only":1}`,
		`[{"_aud_x":1},{"y":"\u005faud_not_a_key"},[]]`,
		`{"a":{"\u005faud_escaped":1,"b":2}}`,
	}
	for _, doc := range docs {
		var want any
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		want = without(want, "_aud_")
		for _, n := range []int{0, 1, 2, 7} {
			got := sanitize(t, doc, n, "_aud_", nil)
			var v any
			if err := json.Unmarshal([]byte(got), &v); err != nil {
				t.Fatalf("%s (chunks of %d) → invalid JSON %s: %v", doc, n, got, err)
			}
			if !reflect.DeepEqual(v, want) {
				t.Fatalf("%s (chunks of %d) → %s", doc, n, got)
			}
		}
	}
}

func TestWriterCutsSecrets(t *testing.T) {
	secrets := NewSecrets([]string{"AUD-VIP-7Q2X"}, []string{"POOL-"})
	tests := []struct{ in, want string }{
		{`{"code":"AUD-VIP-7Q2X"}`, `{"code":""}`},
		{`{"code":"aud-vip-7q2x"}`, `{"code":""}`},
		{`{"label":"You used coupon code \u0041UD-VIP-7Q2X."}`, `{"label":"You used coupon code ."}`},
		{`{"codes":["POOL-ab12","x"]}`, `{"codes":["","x"]}`},
		{`{"c":"AUD-VIAUD-VIP-7Q2XP-7Q2X"}`, `{"c":""}`}, // cutting joins a new one
		{"PHP Notice: AUD-VIP-7Q2X in x.php\n{\"a\":1}", "PHP Notice:  in x.php\n{\"a\":1}"},
	}
	for _, tt := range tests {
		for _, n := range []int{0, 1, 3} {
			if got := sanitize(t, tt.in, n, "_aud_", secrets); got != tt.want {
				t.Errorf("%s (chunks of %d) → %s, want %s", tt.in, n, got, tt.want)
			}
		}
	}
}

func TestWriterStreams(t *testing.T) {
	secrets := NewSecrets([]string{"AUD-VIP-7Q2X"}, nil)
	sse := "event: next\ndata: {\"data\":{\"cart\":{\"id\":\"c\",\"_aud_coupons\":[{\"code\":\"AUD-VIP-7Q2X\"}]}}}\n\n" +
		"event: complete\ndata: \n\n"
	want := "event: next\ndata: {\"data\":{\"cart\":{\"id\":\"c\"}}}\n\nevent: complete\ndata: \n\n"
	if got := sanitize(t, sse, 5, "_aud_", secrets); got != want {
		t.Errorf("SSE → %q", got)
	}
	mp := "\r\n---\r\nContent-Type: application/json; charset=utf-8\r\n\r\n{\"data\":{\"cart\":{\"_aud_x\":1,\"id\":\"c\"}},\"hasNext\":true}\r\n---\r\nContent-Type: application/json\r\n\r\n{\"incremental\":[{\"data\":{\"_aud_c\":[\"AUD-VIP-7Q2X\"]},\"path\":[\"cart\"]}],\"hasNext\":false}\r\n-----\r\n"
	got := sanitize(t, mp, 4, "_aud_", secrets)
	if strings.Contains(got, "_aud_") || strings.Contains(got, "AUD-VIP") || !strings.Contains(got, `{"data":{"cart":{"id":"c"}},"hasNext":true}`) ||
		!strings.Contains(got, `{"incremental":[{"data":{},"path":["cart"]}],"hasNext":false}`) || !strings.HasSuffix(got, "\r\n-----\r\n") {
		t.Errorf("multipart → %q", got)
	}
}

func TestWriterFlushHoldsPartialSecrets(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, "_aud_", NewSecrets([]string{"AUD-VIP-7Q2X"}, nil))
	_, _ = w.Write([]byte("data: AUD-VI"))
	_ = w.Flush()
	if strings.Contains(out.String(), "AUD") {
		t.Fatalf("a flush wrote the start of a secret: %q", out.String())
	}
	_, _ = w.Write([]byte("P-7Q2X done\n\n"))
	_ = w.Close()
	if out.String() != "data:  done\n\n" {
		t.Fatalf("got %q", out.String())
	}
}

func TestWriterLostJSONCutsRaw(t *testing.T) {
	secrets := NewSecrets([]string{"AUD-VIP-7Q2X"}, nil)
	got := sanitize(t, `{"a":1 "_aud_x": "AUD-VIP-7Q2X"}`, 2, "_aud_", secrets)
	if strings.Contains(got, "_aud_") || strings.Contains(strings.ToUpper(got), "AUD-VIP-7Q2X") {
		t.Fatalf("broken JSON leaked: %q", got)
	}
	got = sanitize(t, `{"a":"unterminated _aud_x AUD-VIP-7Q2X`, 3, "_aud_", secrets)
	if strings.Contains(got, "_aud_") || strings.Contains(got, "AUD-VIP-7Q2X") {
		t.Fatalf("unterminated JSON leaked: %q", got)
	}
}

func TestWriterDeepAndLong(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 9000) + `{"_aud_x":1}` + strings.Repeat("}", 9000)
	got := sanitize(t, deep, 4096, "_aud_", nil)
	if strings.Contains(got, "_aud_") || !json.Valid([]byte(got)) {
		t.Fatal("deep document not sanitized")
	}
	secrets := NewSecrets([]string{"AUD-VIP-7Q2X"}, nil)
	long := `{"html":"` + strings.Repeat("x", MaxString+10) + `AUD-VIP-7Q2X` + strings.Repeat("y", 100) + `","_aud_z":1}`
	got = sanitize(t, long, 65536, "_aud_", secrets)
	if strings.Contains(got, "AUD-VIP") || strings.Contains(got, "_aud_") || !json.Valid([]byte(got)) || len(got) != len(long)-len(`AUD-VIP-7Q2X`)-len(`,"_aud_z":1`) {
		t.Fatalf("long string: %d bytes, valid %v", len(got), json.Valid([]byte(got)))
	}
}

// TestWriterChunkingDoesNotMatter feeds random documents in random chunks: the output is
// the same as in one piece.
func TestWriterChunkingDoesNotMatter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	secrets := NewSecrets([]string{"AUD-VIP-7Q2X"}, []string{"POOL-"})
	for i := 0; i < 200; i++ {
		doc := randomJSON(r, 4)
		b, _ := json.Marshal(doc)
		whole := sanitize(t, string(b), 0, "_aud_", secrets)
		if got := sanitize(t, string(b), 1+r.IntN(9), "_aud_", secrets); got != whole {
			t.Fatalf("chunked %s\n→ %s\nwhole → %s", b, got, whole)
		}
	}
}

func randomJSON(r *rand.Rand, depth int) any {
	switch k := r.IntN(6); {
	case depth == 0 || k == 0:
		return []string{"AUD-VIP-7Q2X", "pool-x1", "plain", "_aud_", "x\"y"}[r.IntN(5)]
	case k == 1:
		return r.Float64()
	case k < 4:
		m := map[string]any{}
		for j := r.IntN(4); j > 0; j-- {
			m[[]string{"a", "_aud_b", "c", "_aud_"}[r.IntN(4)]+string(rune('a'+j))] = randomJSON(r, depth-1)
		}
		return m
	default:
		var l []any
		for j := r.IntN(4); j > 0; j-- {
			l = append(l, randomJSON(r, depth-1))
		}
		return l
	}
}
