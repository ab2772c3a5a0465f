package gqlhttp

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary query strings and POST bodies to Read: it must never panic, must
// put a POST body back unchanged whatever it decides, and Replace must keep other parameters.
func FuzzRead(f *testing.F) {
	for _, seed := range [][2]string{
		{"query=%7Bcart%7Bid%7D%7D&operationName=Q&variables=%7B%7D", `{"query":"{cart{id}}","variables":{"a":1}}`},
		{"query=%zz&x=1", `[{"query":"{a}"}]`},
		{"query=&query=%7Ba%7D", `{"query":null,"operationName":5}`},
		{"variables=%7Bx", `{"query":"{a}","variables":"not an object"}`},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, rawQuery, body string) {
		get := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/graphql", RawQuery: rawQuery}, Header: http.Header{}}
		if req, err := Read(get, 1<<16, nil); err == nil {
			if _, err := req.Text(); err == nil {
				if err := req.Replace(get, "{replaced}", nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		post := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/graphql"}, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
		req, err := Read(post, 1<<16, nil)
		if err != nil || len(body) > 1<<16 {
			rest, _ := io.ReadAll(post.Body)
			if len(body) <= 1<<16 && !bytes.Equal(rest, []byte(body)) {
				t.Fatalf("body changed after a failed read: %q → %q", body, rest)
			}
			return
		}
		if err := req.Replace(post, "{replaced}", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := req.DecodeVariables(); err != nil {
			return
		}
	})
}
