package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// requestSource builds request i of a run: the same method, headers and body every time,
// with the path and rotated header values taken at i modulo their count.
type requestSource struct {
	method  string
	urls    []*url.URL
	header  http.Header
	rotated []rotation
	body    []byte
}

// rotation is a header whose value changes from request to request.
type rotation struct {
	name   string
	values []string
}

func newRequestSource(base *url.URL, method string, paths, headers []string, body []byte) (*requestSource, error) {
	if method == "" || strings.ContainsAny(method, " \t\r\n") {
		return nil, fmt.Errorf("-method: invalid %q", method)
	}
	src := &requestSource{method: method, header: http.Header{}, body: body}
	for _, p := range paths {
		u, err := resolvePath(base, p)
		if err != nil {
			return nil, err
		}
		src.urls = append(src.urls, u)
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("-H: want \"Name: value\", got %q", h)
		}
		src.header.Add(name, strings.TrimSpace(value))
	}
	return src, nil
}

// resolvePath joins a request path (with its query) to the base URL. It must stay on the
// base's host: a path cannot name another server.
func resolvePath(base *url.URL, p string) (*url.URL, error) {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return nil, fmt.Errorf("path %.60q: want an absolute path starting with a single /", p)
	}
	ref, err := url.Parse(p)
	if err != nil {
		return nil, fmt.Errorf("path %.60q: %w", p, err)
	}
	return base.ResolveReference(ref), nil
}

func (s *requestSource) rotate(name string, values []string) {
	s.rotated = append(s.rotated, rotation{name: textproto.CanonicalMIMEHeaderKey(name), values: values})
}

// request returns request number i.
func (s *requestSource) request(ctx context.Context, i uint64) *http.Request {
	u := s.urls[i%uint64(len(s.urls))]
	header := s.header.Clone()
	for _, r := range s.rotated {
		header[r.name] = []string{r.values[i%uint64(len(r.values))]}
	}
	req := &http.Request{
		Method:     s.method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
		Host:       u.Host,
	}
	if len(s.body) > 0 {
		req.ContentLength = int64(len(s.body))
		req.Body = io.NopCloser(bytes.NewReader(s.body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(s.body)), nil }
	}
	return req.WithContext(ctx)
}
