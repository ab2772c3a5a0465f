package caddymodule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-audiences/caddy-audiences/internal/holdback"
	"github.com/caddy-audiences/caddy-audiences/internal/sanitize"
)

// upstream sends the sidecar's own requests to the backend through the rest of the handler
// chain (reverse_proxy and whatever else the site has), with the shopper's headers:
// Authorization, Store, cookies and the normalized membership. Their answers' cookies never
// reach the shopper.
type upstream struct {
	path string // the GraphQL path
	r    *http.Request
	next caddyhttp.Handler
}

// upstream returns the sidecar's way to the backend for the shopper of r.
func (h *Handler) upstream(r *http.Request, next caddyhttp.Handler) upstream {
	return upstream{path: h.GraphQLPath, r: r, next: next}
}

// answer is the backend's answer to one of the sidecar's requests, decoded.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send sends method path?query with body (JSON when not nil) as the shopper.
func (u upstream) send(method, path, rawQuery string, body []byte) (answer, error) {
	req := u.r.Clone(u.r.Context())
	req.Method = method
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery, req.RequestURI = path, "", rawQuery, ""
	req.Body, req.ContentLength, req.GetBody = http.NoBody, 0, nil
	for _, h := range []string{"If-None-Match", "If-Modified-Since", "Range", "If-Range", "Upgrade", "Content-Type", "Content-Length", "Content-Encoding"} {
		req.Header.Del(h)
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	req.Header.Set("Accept-Encoding", "identity")
	rec := &memoryWriter{header: http.Header{}}
	if err := u.next.ServeHTTP(rec, req); err != nil {
		return answer{}, fmt.Errorf("upstream: %w", err)
	}
	a := answer{status: rec.status, header: rec.header, body: rec.body.Bytes()}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if ce := rec.header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		// Asked for identity, answered encoded anyway.
		decoded, err := sanitize.Decode(a.body, ce, maxOwnAnswer)
		if err != nil {
			return answer{}, fmt.Errorf("upstream answer: %w", err)
		}
		a.body = decoded
		a.header.Del("Content-Encoding")
	}
	return a, nil
}

// Do POSTs one GraphQL operation and returns the raw answer; it implements gate.Doer.
func (u upstream) Do(query, operationName string, variables map[string]any) ([]byte, error) {
	op := map[string]any{"query": query, "variables": variables}
	if operationName != "" {
		op["operationName"] = operationName
	}
	body, err := json.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("encode operation: %w", err)
	}
	a, err := u.send(http.MethodPost, u.path, "", body)
	if err != nil {
		return nil, err
	}
	if a.status < 200 || a.status > 299 {
		return nil, fmt.Errorf("upstream answered HTTP %d", a.status)
	}
	_, doc, _ := holdback.SplitEnvelope(a.body)
	return doc, nil
}

// DoREST sends one REST request; it implements gate.RESTDoer.
func (u upstream) DoREST(method, path string) (int, []byte, error) {
	a, err := u.send(method, path, "", nil)
	if err != nil {
		return 0, nil, err
	}
	return a.status, bytes.TrimPrefix(bytes.TrimSpace(a.body), []byte("\xef\xbb\xbf")), nil
}

// again sends the shopper's own GET request once more, for a page rendered again.
func (u upstream) again() (answer, error) {
	return u.send(http.MethodGet, u.r.URL.Path, u.r.URL.RawQuery, nil)
}

// maxOwnAnswer bounds the decoded answers to the sidecar's own calls.
const maxOwnAnswer = 16 << 20

// memoryWriter is the ResponseWriter of the sidecar's own upstream calls.
type memoryWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (m *memoryWriter) Header() http.Header { return m.header }

func (m *memoryWriter) WriteHeader(status int) {
	if m.status == 0 && status >= 200 {
		m.status = status
	}
}

func (m *memoryWriter) Write(p []byte) (int, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	return m.body.Write(p)
}

// FlushError has nothing to flush: the body is read when the call returns.
func (m *memoryWriter) FlushError() error { return nil }
