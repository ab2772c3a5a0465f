package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/demostore"
)

// misbehavingUpstream serves the demo store in-process, but answers a request carrying
// X-Test-Upstream the way a broken or unusual backend would.
func misbehavingUpstream(t *testing.T) string {
	t.Helper()
	return misbehavingUpstreamWith(t, nil)
}

// misbehavingUpstreamWith is misbehavingUpstream whose event stream sends its second event
// only once released is closed (or after 5 s).
func misbehavingUpstreamWith(t *testing.T, released <-chan struct{}) string {
	t.Helper()
	return misbehavingStore(t, demostore.Options{}, released)
}

// misbehavingStore is misbehavingUpstreamWith in front of a demo store with opts.
func misbehavingStore(t *testing.T, opts demostore.Options, released <-chan struct{}) string {
	t.Helper()
	store := demostore.New(opts)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode := r.Header.Get("X-Test-Upstream")
		rec := httptest.NewRecorder()
		store.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		switch mode {
		case "gzip":
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(body)
			_ = zw.Close()
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Del("Content-Length")
			_, _ = w.Write(buf.Bytes())
		case "die":
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(body[:len(body)/2])
			http.NewResponseController(w).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		case "huge":
			var doc map[string]any
			_ = json.Unmarshal(body, &doc)
			doc["extensions"] = map[string]any{"padding": strings.Repeat("x", 200<<10)}
			big, _ := json.Marshal(doc)
			w.Header().Del("Content-Length")
			_, _ = w.Write(big) // chunked: the size shows only while buffering
		case "bom":
			_, _ = w.Write(append([]byte("\xef\xbb\xbf"), body...))
		case "notice":
			_, _ = io.WriteString(w, "<br />\n<b>Deprecated</b>:  Creation of dynamic property in <b>/var/www/Quote.php</b> on line <b>42</b><br />\n")
			_, _ = w.Write(body)
		case "deep":
			var doc map[string]any
			_ = json.Unmarshal(body, &doc)
			raw, _ := json.Marshal(doc["data"])
			deep := `{"data":` + string(raw) + `,"extensions":` + strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600) + "}"
			w.Header().Del("Content-Length")
			_, _ = io.WriteString(w, deep)
		case "sse-json":
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Del("Content-Length")
			_, _ = io.WriteString(w, "event: next\ndata: ")
			_, _ = w.Write(body)
			_, _ = io.WriteString(w, "\n\nevent: complete\ndata: \n\n")
		case "multipart-json":
			w.Header().Set("Content-Type", `multipart/mixed; boundary="-"`)
			w.Header().Del("Content-Length")
			_, _ = io.WriteString(w, "\r\n---\r\nContent-Type: application/json; charset=utf-8\r\n\r\n")
			_, _ = w.Write(body)
			_, _ = io.WriteString(w, "\r\n-----\r\n")
		case "null-data":
			_, _ = io.WriteString(w, `{"errors":[{"message":"Internal server error","extensions":{"category":"internal"}}],"data":null}`)
		case "invalid":
			_, _ = io.WriteString(w, `{"data":{"cart":{"prices":`)
		case "no-content":
			w.WriteHeader(http.StatusNoContent)
		case "not-modified":
			w.WriteHeader(http.StatusNotModified)
		case "bad-gateway":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write(body)
		case "sse":
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Del("Content-Length")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "data: one\n\n")
			http.NewResponseController(w).Flush()
			select {
			case <-released:
			case <-time.After(5 * time.Second):
			}
			_, _ = io.WriteString(w, "data: two\n\n")
		case "multipart":
			w.Header().Set("Content-Type", `multipart/mixed; boundary="-"`)
			_, _ = w.Write(body)
		default:
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestResponsePassThrough checks every response the sidecar must not rewrite, through the
// real binary, and that a failed upstream is never turned into something else.
func TestResponsePassThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	released := make(chan struct{})
	upstream := misbehavingUpstreamWith(t, released)
	sidecar := startSidecar(t, upstream, `audiences {
		rules testdata/rules.json
		max_body 64KiB
	}`)
	cartID := newCart(t, sidecar, line{"24-MB01", 2})
	query := `query($c: String!) { cart(cart_id: $c) { prices { grand_total { value } discounts { label amount { value } } } } }`
	vip := map[string]string{"aep-segments-membership": segVIP}
	send := func(mode string) response {
		header := map[string]string{"aep-segments-membership": segVIP, "X-Test-Upstream": mode, "Accept-Encoding": "gzip"}
		return graphql(t, sidecar, query, map[string]any{"c": cartID}, header)
	}

	t.Run("rewritten baseline", func(t *testing.T) {
		r := graphql(t, sidecar, query, map[string]any{"c": cartID}, vip)
		if !bytes.Contains(r.body, []byte("VIP 20%")) || bytes.Contains(r.body, []byte("_aud_")) {
			t.Fatalf("baseline not rewritten: %s", r.body)
		}
		if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Length") != fmt.Sprint(len(r.body)) {
			t.Fatalf("headers after rewrite: %v", r.header)
		}
	})
	t.Run("gzip from upstream is decoded and rewritten", func(t *testing.T) {
		r := send("gzip")
		if r.status != 200 || r.header.Get("Content-Encoding") != "" {
			t.Fatalf("status %d, encoding %q", r.status, r.header.Get("Content-Encoding"))
		}
		if !json.Valid(r.body) || !bytes.Contains(r.body, []byte("VIP 20%")) || bytes.Contains(r.body, []byte("_aud_")) {
			t.Fatalf("gzip answer not decoded, rewritten and stripped: %s", r.body)
		}
	})
	t.Run("upstream dies mid-body", func(t *testing.T) {
		r := send("die")
		if r.status != http.StatusBadGateway {
			t.Fatalf("status %d, want 502: %s", r.status, r.body)
		}
	})
	t.Run("body over max_body streams stripped", func(t *testing.T) {
		r := send("huge")
		if r.status != 200 || len(r.body) < 200<<10 || !json.Valid(r.body) || bytes.Contains(r.body, []byte("_aud_")) {
			t.Fatalf("status %d, %d bytes, hidden fields %v", r.status, len(r.body), bytes.Contains(r.body, []byte("_aud_")))
		}
	})
	for _, tc := range []struct{ mode, want string }{
		{"null-data", `{"errors":[{"message":"Internal server error","extensions":{"category":"internal"}}],"data":null}`},
		{"invalid", `{"data":{"cart":{"prices":`},
	} {
		t.Run(tc.mode+" fails open", func(t *testing.T) {
			r := send(tc.mode)
			if r.status != 200 || string(r.body) != tc.want {
				t.Fatalf("status %d, body %s", r.status, r.body)
			}
		})
	}
	for _, tc := range []struct {
		mode   string
		status int
	}{{"no-content", 204}, {"not-modified", 304}, {"bad-gateway", 502}} {
		t.Run(tc.mode, func(t *testing.T) {
			if r := send(tc.mode); r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
		})
	}
	t.Run("multipart passes stripped", func(t *testing.T) {
		r := send("multipart")
		if !strings.HasPrefix(r.header.Get("Content-Type"), "multipart/mixed") || bytes.Contains(r.body, []byte("VIP 20%")) || bytes.Contains(r.body, []byte("_aud_")) {
			t.Fatalf("multipart response was touched: %s", r.body)
		}
	})
	t.Run("sse streams with flushes", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, sidecar+"/graphql?query="+urlQuery(query)+"&variables="+urlQuery(`{"c":"`+cartID+`"}`), nil)
		req.Header.Set("X-Test-Upstream", "sse")
		req.Header.Set("aep-segments-membership", segVIP)
		// The upstream holds its second event back until the first has reached us, so a
		// buffered stream cannot deliver the first one before the 5 s fallback.
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		first, err := br.ReadString('\n')
		if err != nil || first != "data: one\n" {
			t.Fatalf("first event %q: %v", first, err)
		}
		if waited := time.Since(start); waited > 4*time.Second {
			t.Fatalf("first event arrived after %v: the stream was buffered", waited)
		}
		close(released)
		rest, _ := io.ReadAll(br)
		if !strings.Contains(string(rest), "data: two") {
			t.Fatalf("second event missing: %q", rest)
		}
	})
	t.Run("HEAD passes", func(t *testing.T) {
		head := func(base string) response {
			req, _ := http.NewRequest(http.MethodHead, base+"/graphql?query="+urlQuery(query)+"&variables="+urlQuery(`{"c":"`+cartID+`"}`), nil)
			req.Header.Set("aep-segments-membership", segVIP)
			return do(t, req)
		}
		direct, through := head("http://"+upstream), head(sidecar)
		if direct.status != through.status || len(through.body) != 0 || through.header.Get("Allow") != direct.header.Get("Allow") {
			t.Fatalf("HEAD: direct %d %v, through the sidecar %d %v", direct.status, direct.header, through.status, through.header)
		}
	})
}

// TestWebSocketUpgrade checks that an upgrade request still reaches a backend that switches
// protocols, and bytes flow both ways.
func TestWebSocketUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString("echo " + line)
		_ = brw.Flush()
	}))
	defer echo.Close()
	sidecar := startSidecar(t, strings.TrimPrefix(echo.URL, "http://"), "audiences {\n\t\trules testdata/rules.json\n\t}")
	conn, err := net.Dial("tcp", strings.TrimPrefix(sidecar, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /graphql HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\naep-segments-membership: %s\r\n\r\n", strings.TrimPrefix(sidecar, "http://"), segVIP)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	fmt.Fprint(conn, "hello\n")
	got, err := br.ReadString('\n')
	if err != nil || got != "echo hello\n" {
		t.Fatalf("after upgrade got %q: %v", got, err)
	}
}

func urlQuery(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "#", "%23", " ", "%20", "{", "%7B", "}", "%7D", "\"", "%22", "$", "%24").Replace(s)
}
