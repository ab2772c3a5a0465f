package gqlhttp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/phpread"
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
		if err := checkAgreesWithDecode(req); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzReadStrictGET compares the gate's reading of a query string with PHP's: whatever
// ReadStrict accepts, PHP reads the same query and variables, before and after the sidecar
// replaces the query with its augmented one.
func FuzzReadStrictGET(f *testing.F) {
	for _, seed := range []string{
		"query=%7Bcart%7Bid%7D%7D&operationName=Q&variables=%7B%7D",
		"%71uery=%7Ba%7D", "query=%7Ba%7D&query=%7Bb%7D", "query[]=x", "+query=x&query=y",
		"query=%7Ba%zz%7D", "query%00=x", "query=x&variables=%7B%22a%22%3A%22%5Cud800%22%7D",
		"a=1&&query=%7Ba+b%7D&b", "query=x&vari.ables=1&variables=%7B%7D",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		vs := phpread.ParseQuery(rawQuery)
		phpQuery, array, _ := vs.Lookup("query")
		req, err := readStrictGET(rawQuery)
		if err != nil {
			var ref *Refusal
			if errors.Is(err, ErrNotGraphQL) && (phpQuery != "" && !array) {
				t.Fatalf("%q: no operation read, PHP reads %q", rawQuery, phpQuery)
			}
			if !errors.Is(err, ErrNotGraphQL) && !errors.As(err, &ref) {
				t.Fatalf("%q: error %v is neither a refusal nor ErrNotGraphQL", rawQuery, err)
			}
			return
		}
		text, err := req.Text()
		if err != nil || array || text != phpQuery {
			t.Fatalf("%q: sidecar reads %q (%v), PHP reads %q (array %v)", rawQuery, text, err, phpQuery, array)
		}
		samePHPVariables(t, rawQuery, vs, req)
		get := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/graphql", RawQuery: rawQuery}, Header: http.Header{}}
		if err := req.Replace(get, "{replaced}", nil); err != nil {
			t.Fatal(err)
		}
		after := phpread.ParseQuery(get.URL.RawQuery)
		if q, array, _ := after.Lookup("query"); q != "{replaced}" || array {
			t.Fatalf("%q → %q: PHP reads query %q after Replace", rawQuery, get.URL.RawQuery, q)
		}
		samePHPVariables(t, get.URL.RawQuery, after, req)
	})
}

// samePHPVariables fails unless PHP's variables parameter is what req carries.
func samePHPVariables(t *testing.T, rawQuery string, vs phpread.Vars, req *Request) {
	t.Helper()
	v, _, _ := vs.Lookup("variables")
	if v == "" || v == "0" {
		if req.Variables != nil {
			t.Fatalf("%q: sidecar reads variables %s, PHP none", rawQuery, req.Variables)
		}
		return
	}
	if strings.TrimSpace(v) != string(req.Variables) && !(strings.TrimSpace(v) == "null" && req.Variables == nil) {
		t.Fatalf("%q: sidecar reads variables %s, PHP %q", rawQuery, req.Variables, v)
	}
}
