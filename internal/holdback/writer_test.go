package holdback

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRewritable(t *testing.T) {
	json := http.Header{"Content-Type": {"application/json"}}
	with := func(k, v string) http.Header {
		h := json.Clone()
		h.Set(k, v)
		return h
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		want   bool
	}{
		{"json 200", 200, json, true},
		{"graphql-response+json", 200, http.Header{"Content-Type": {"application/graphql-response+json; charset=utf-8"}}, true},
		{"json with charset", 200, with("Content-Type", "application/json; charset=utf-8"), true},
		{"identity encoding", 200, with("Content-Encoding", "identity"), true},
		{"gzip", 200, with("Content-Encoding", "gzip"), false},
		{"204", 204, json, false},
		{"206", 206, json, false},
		{"304", 304, json, false},
		{"500", 500, json, false},
		{"101", 101, json, false},
		{"sse", 200, http.Header{"Content-Type": {"text/event-stream"}}, false},
		{"multipart", 200, http.Header{"Content-Type": {"multipart/mixed; boundary=-"}}, false},
		{"html", 200, http.Header{"Content-Type": {"text/html"}}, false},
		{"no type", 200, http.Header{}, false},
		{"too long", 200, with("Content-Length", "101"), false},
		{"long enough", 200, with("Content-Length", "100"), true},
	}
	for _, tt := range tests {
		if got := rewritable(tt.status, tt.header, 100); got != tt.want {
			t.Errorf("%s: rewritable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBufferWriterHoldsBackAndSends(t *testing.T) {
	rec := httptest.NewRecorder()
	bw := NewWriter(rec, 100, nil, nil)
	bw.Header().Set("Content-Type", "application/json")
	bw.Header().Set("ETag", `"x"`)
	bw.Header().Set("Cache-Control", "no-store")
	bw.WriteHeader(http.StatusOK)
	_, _ = bw.Write([]byte(`{"data":`))
	_ = bw.FlushError()
	_, _ = bw.ReadFrom(strings.NewReader(`{}}`))
	if rec.Body.Len() != 0 || rec.Flushed {
		t.Fatal("a buffered response leaked before send")
	}
	if !bw.Buffered() || bw.buf.String() != `{"data":{}}` {
		t.Fatalf("buffered %v %q", bw.Buffered(), bw.buf.String())
	}
	if err := bw.send([]byte(`{"data":{"x":1}}`)); err != nil {
		t.Fatal(err)
	}
	if rec.Body.String() != `{"data":{"x":1}}` || rec.Header().Get("Content-Length") != "16" {
		t.Fatalf("sent %q with length %q", rec.Body.String(), rec.Header().Get("Content-Length"))
	}
	if rec.Header().Get("ETag") != "" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("headers after rewrite: %v", rec.Header())
	}
}

func TestBufferWriterOverflowStreams(t *testing.T) {
	rec := httptest.NewRecorder()
	bw := NewWriter(rec, 10, nil, nil)
	bw.Header().Set("Content-Type", "application/json")
	_, _ = bw.Write([]byte(`{"data":`))
	_, _ = bw.Write([]byte(`{"big":"0123456789"}}`))
	if bw.Buffered() || !bw.overflowed {
		t.Fatal("a body over the limit must stream")
	}
	if rec.Body.String() != `{"data":{"big":"0123456789"}}` || rec.Code != 200 {
		t.Fatalf("streamed %d %q", rec.Code, rec.Body.String())
	}
}

func TestBufferWriterStreamsOthers(t *testing.T) {
	rec := httptest.NewRecorder()
	bw := NewWriter(rec, 100, nil, nil)
	bw.Header().Set("Content-Type", "text/event-stream")
	bw.WriteHeader(http.StatusOK)
	_, _ = bw.Write([]byte("data: 1\n\n"))
	_ = bw.FlushError()
	if !rec.Flushed || rec.Body.String() != "data: 1\n\n" {
		t.Fatal("an event stream must be written and flushed at once")
	}

	rec = httptest.NewRecorder()
	bw = NewWriter(rec, 100, nil, nil)
	bw.WriteHeader(http.StatusEarlyHints)
	bw.Header().Set("Content-Type", "application/json")
	bw.WriteHeader(http.StatusOK)
	if !bw.Buffered() {
		t.Fatal("a final JSON response after 103 must be buffered")
	}
}
