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

// upstream sends the sidecar's own GraphQL operations to the backend through the rest of the
// handler chain (reverse_proxy and whatever else the site has), with the shopper's headers:
// Authorization, Store, cookies and the normalized membership.
type upstream struct {
	path string
	r    *http.Request
	next caddyhttp.Handler
}

// Do POSTs one operation and returns the raw answer; it implements gate.Doer.
func (u upstream) Do(query, operationName string, variables map[string]any) ([]byte, error) {
	op := map[string]any{"query": query, "variables": variables}
	if operationName != "" {
		op["operationName"] = operationName
	}
	body, err := json.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("encode operation: %w", err)
	}
	req := u.r.Clone(u.r.Context())
	req.Method = http.MethodPost
	req.URL.Path, req.URL.RawQuery, req.RequestURI = u.path, "", ""
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = nil
	for _, h := range []string{"If-None-Match", "If-Modified-Since", "Range", "If-Range", "Upgrade"} {
		req.Header.Del(h)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	req.Header.Set("Accept-Encoding", "identity")
	rec := &memoryWriter{header: http.Header{}}
	if err := u.next.ServeHTTP(rec, req); err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	if rec.status != 0 && (rec.status < 200 || rec.status > 299) {
		return nil, fmt.Errorf("upstream answered HTTP %d", rec.status)
	}
	answer := rec.body.Bytes()
	if ce := rec.header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		// Asked for identity, answered encoded anyway.
		decoded, err := sanitize.Decode(answer, ce, maxOwnAnswer)
		if err != nil {
			return nil, fmt.Errorf("upstream answer: %w", err)
		}
		answer = decoded
	}
	_, doc, _ := holdback.SplitEnvelope(answer)
	return doc, nil
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
