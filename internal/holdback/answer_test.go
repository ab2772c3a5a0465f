package holdback

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
)

func TestAcceptsIdentity(t *testing.T) {
	for ae, want := range map[string]bool{
		"":                          true,
		"gzip, br":                  true,
		"identity;q=0, gzip":        false,
		"*;q=0":                     false,
		"*;q=0, identity":           true,
		"gzip;q=1.0, identity; q=0": false,
	} {
		if got := acceptsIdentity(ae); got != want {
			t.Errorf("acceptsIdentity(%q) = %v", ae, got)
		}
	}
}

// TestGuardedWriter: with a guard nothing passes unread: an encoded answer is held to be
// decoded, and everything else streams through the sanitizer.
func TestGuardedWriter(t *testing.T) {
	guard := &Guard{Hidden: "_aud_", Secrets: sanitize.NewSecrets([]string{"AUD-VIP-7Q2X"}, nil)}
	t.Run("sse streams sanitized with flushes", func(t *testing.T) {
		rec := httptest.NewRecorder()
		bw := NewWriter(rec, 1<<10, guard, nil)
		bw.Header().Set("Content-Type", "text/event-stream")
		bw.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(bw, "data: {\"_aud_x\":1,\"a\":\"AUD-VIP-7Q2X\"}\n\n")
		_ = bw.FlushError()
		if got := rec.Body.String(); got != "data: {\"a\":\"\"}\n\n" || !rec.Flushed {
			t.Fatalf("after flush: %q (flushed %v)", got, rec.Flushed)
		}
		_ = bw.Finish()
	})
	t.Run("over max_body streams sanitized", func(t *testing.T) {
		rec := httptest.NewRecorder()
		bw := NewWriter(rec, 16, guard, nil)
		bw.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(bw, `{"data":{"_aud_items":[1,2,3],"cart":{"id":"c"}}}`)
		_ = bw.Finish()
		if bw.Buffered() || rec.Body.String() != `{"data":{"cart":{"id":"c"}}}` || rec.Header().Get("Content-Length") != "" {
			t.Fatalf("got %q %v", rec.Body.String(), rec.Header())
		}
	})
	t.Run("encoded is held", func(t *testing.T) {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = io.WriteString(zw, `{"data":{"_aud_x":1}}`)
		_ = zw.Close()
		rec := httptest.NewRecorder()
		bw := NewWriter(rec, 1<<10, guard, nil)
		bw.Header().Set("Content-Type", "application/json")
		bw.Header().Set("Content-Encoding", "gzip")
		_, _ = bw.Write(gz.Bytes())
		if !bw.Buffered() || !bw.encoded || rec.Body.Len() != 0 {
			t.Fatal("an encoded answer was not held back")
		}
	})
	t.Run("encoded over the limit cannot be checked", func(t *testing.T) {
		rec := httptest.NewRecorder()
		bw := NewWriter(rec, 8, guard, nil)
		bw.Header().Set("Content-Encoding", "br")
		_, _ = io.WriteString(bw, strings.Repeat("x", 64))
		if !bw.tooLarge || bw.Buffered() || rec.Body.Len() != 0 {
			t.Fatal("an encoded answer over the limit went out")
		}
	})
	t.Run("without a guard, as before", func(t *testing.T) {
		rec := httptest.NewRecorder()
		bw := NewWriter(rec, 1<<10, nil, nil)
		bw.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(bw, "data: {\"_aud_x\":1}\n\n")
		if rec.Body.String() != "data: {\"_aud_x\":1}\n\n" {
			t.Fatalf("got %q", rec.Body.String())
		}
	})
}

// TestJoinEnvelope: the text around the JSON is sanitized; a document not known clean is
// searched for hidden members, a clean one alone is returned as it is.
func TestJoinEnvelope(t *testing.T) {
	guard := &Guard{Hidden: "_aud_"}
	doc := []byte(`{"data":{"a":1,"_aud_x":2}}`)
	for _, tt := range []struct {
		name       string
		lead, tail string
		clean      bool
		want       string
	}{
		{"not known clean", "", "", false, `{"data":{"a":1}}`},
		{"known clean", "", "", true, `{"data":{"a":1,"_aud_x":2}}`},
		{"known clean, in an envelope", "Notice: x\n", "\n", true, "Notice: x\n" + `{"data":{"a":1}}` + "\n"},
		{"envelope holding a hidden member", `{"_aud_y":1}`, "", true, `{}{"data":{"a":1}}`},
	} {
		got := JoinEnvelope([]byte(tt.lead), doc, []byte(tt.tail), guard, tt.clean)
		if string(got) != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
