package caddymodule

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPreviewHeaderAnyCasingRemoved sends the preview response header over the wire in
// other casings, over HTTP/1.1 and h2c, to a net/http server (as Caddy's are): the server
// stores it under its canonical key, so evaluationTime's delete by that key removes it
// (TestPreviewHeaderNeverReachesBackend sets it through Header.Set, which canonicalizes).
func TestPreviewHeaderAnyCasingRemoved(t *testing.T) {
	if http.CanonicalHeaderKey(PreviewResponseHeader) != PreviewResponseHeader {
		t.Fatalf("%q is not canonical", PreviewResponseHeader)
	}
	h := &Handler{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.evaluationTime(r)
		var left []string
		for k := range r.Header {
			if strings.EqualFold(strings.TrimSpace(k), PreviewResponseHeader) {
				left = append(left, k)
			}
		}
		fmt.Fprintf(w, "%s left=%q", r.Proto, left)
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	for _, name := range []string{"x-audiences-preview-time", "X-AUDIENCES-PREVIEW-TIME", "x-Audiences-preview-Time", "x-audiences-preview-time "} {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n%s: 2030-01-01T00:00:00Z\r\nConnection: close\r\n\r\n", name)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		c.Close()
		// A name with a trailing space is refused with 400 before any handler runs.
		if resp.StatusCode == http.StatusOK && !strings.HasSuffix(string(body), "left=[]") {
			t.Errorf("HTTP/1.1 %q: the header was left: %s", name, body)
		}
	}
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header["x-audiences-preview-time"] = []string{"2030-01-01T00:00:00Z"}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got := string(body); !strings.HasPrefix(got, "HTTP/2") || !strings.HasSuffix(got, "left=[]") {
		t.Errorf("h2c: %s", got)
	}
}
