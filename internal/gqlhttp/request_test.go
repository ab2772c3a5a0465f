package gqlhttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	get := func(q url.Values) *http.Request {
		return httptest.NewRequest(http.MethodGet, "/graphql?"+q.Encode(), nil)
	}
	post := func(ct, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		return r
	}
	tests := []struct {
		name    string
		req     *http.Request
		query   string
		opName  string
		vars    string
		wantErr error
	}{
		{"get", get(url.Values{"query": {"{a}"}, "operationName": {"A"}, "variables": {`{"x":1}`}}), "{a}", "A", `{"x":1}`, nil},
		{"get without query", get(url.Values{"x": {"1"}}), "", "", "", ErrNotGraphQL},
		{"post json", post("application/json; charset=utf-8", `{"query":"{b}","operationName":"B","variables":{"y":2}}`), "{b}", "B", `{"y":2}`, nil},
		{"post null members", post("application/json", `{"query":"{b}","operationName":null,"variables":null}`), "{b}", "", "", nil},
		{"post graphql", post("application/graphql", `{c}`), "{c}", "", "", nil},
		{"batch", post("application/json", `[{"query":"{a}"}]`), "", "", "", ErrNotGraphQL},
		{"form", post("application/x-www-form-urlencoded", `query=x`), "", "", "", ErrNotGraphQL},
		{"put", httptest.NewRequest(http.MethodPut, "/graphql", nil), "", "", "", ErrNotGraphQL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.req, 1<<20, nil)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			text, err := got.Text()
			if err != nil || text != tt.query || got.OperationName != tt.opName || string(got.Variables) != tt.vars {
				t.Fatalf("got %q %q %q (%v)", text, got.OperationName, got.Variables, err)
			}
			if (tt.req.Method == http.MethodGet) != (got.Key() != Key{}) {
				t.Fatalf("Key() = %+v", got.Key())
			}
			if tt.req.Body != nil && tt.req.Method == http.MethodPost {
				body, _ := io.ReadAll(tt.req.Body)
				if len(body) == 0 {
					t.Fatal("body was not restored")
				}
			}
		})
	}
}

func TestReadRejectsBadInput(t *testing.T) {
	for _, body := range []string{`{"query":`, `{"query":"{a}","operationName":5}`} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if _, err := Read(r, 1<<20, nil); err == nil {
			t.Errorf("Read(%s) = nil error", body)
		}
		rest, _ := io.ReadAll(r.Body)
		if string(rest) != body {
			t.Errorf("body after a failed read = %q, want it unchanged", rest)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"`+strings.Repeat("a", 100)+`"}`))
	r.Header.Set("Content-Type", "application/json")
	if _, err := Read(r, 50, nil); err == nil {
		t.Error("an oversized body must be refused")
	}
	if bad := httptest.NewRequest(http.MethodGet, "/graphql?query=%7Ba%7D&variables=%7Bx", nil); true {
		if _, err := Read(bad, 10, nil); err == nil {
			t.Error("invalid variables must be an error")
		}
	}
}

func TestReplace(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/graphql?query=%7Ba%7D&operationName=A&variables=%7B%7D", nil)
	req, err := Read(r, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Replace(r, "{a _aud_x: b}", nil); err != nil {
		t.Fatal(err)
	}
	if q := r.URL.Query(); q.Get("query") != "{a _aud_x: b}" || q.Get("operationName") != "A" || q.Get("variables") != "{}" {
		t.Fatalf("GET after Replace: %v", q)
	}

	r = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{a}","variables":{"v":1},"extensions":{"persistedQuery":{"version":1}}}`))
	r.Header.Set("Content-Type", "application/json")
	if req, err = Read(r, 1<<20, nil); err != nil {
		t.Fatal(err)
	}
	if err := req.Replace(r, "{a b}", nil); err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	var got map[string]json.RawMessage
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if string(got["query"]) != `"{a b}"` || string(got["variables"]) != `{"v":1}` || got["extensions"] == nil {
		t.Fatalf("POST after Replace: %s", body)
	}
	if r.ContentLength != int64(len(body)) {
		t.Fatalf("ContentLength %d, body %d", r.ContentLength, len(body))
	}
	vars, err := req.DecodeVariables()
	if err != nil || vars["v"] != 1.0 {
		t.Fatalf("variables %v %v", vars, err)
	}
}

// TestCheckVariables: CheckVariables fails where DecodeVariables does, numbers beyond
// float64 aside.
func TestCheckVariables(t *testing.T) {
	for _, raw := range []string{``, `{}`, ` {"cartId":"abc"} `, `null`, ` null `, `nul`, `[]`, `"x"`, `1`, `true`,
		`{`, `{"a":1}x`, `{"a":1,}`, "\t{\"a\":[1,{\"b\":null}]}\n", `{"a":"\ud800"}`, `{"a":[1e999]}`} {
		if err := checkAgreesWithDecode(&Request{Variables: json.RawMessage(raw)}); err != nil {
			t.Error(err)
		}
	}
	if err := (&Request{Variables: json.RawMessage(`{"a":1e999}`)}).CheckVariables(); err != nil {
		t.Errorf("a number beyond float64: %v", err)
	}
}

// TestCheckVariablesAfterRead: variables a read found valid are not validated again, and
// variables a caller puts in their place are.
func TestCheckVariablesAfterRead(t *testing.T) {
	get := httptest.NewRequest(http.MethodGet, "/graphql?query=%7Bcart%7Bid%7D%7D&variables="+url.QueryEscape(`{"cartId":"abc"}`), nil)
	post := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{cart{id}}","variables":{"cartId":"abc"}}`))
	post.Header.Set("Content-Type", "application/json")
	for name, r := range map[string]*http.Request{"GET": get, "POST": post} {
		req, err := Read(r, 1<<20, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !same(req.valid, req.Variables) {
			t.Errorf("%s: the read's validation of %q is not recorded", name, req.Variables)
		}
		if err := req.CheckVariables(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, bad := range []string{`{"cartId":`, `[1]`} {
			req.Variables = json.RawMessage(bad)
			if err := checkAgreesWithDecode(req); err != nil || req.CheckVariables() == nil {
				t.Errorf("%s: replaced variables %q passed: %v", name, bad, err)
			}
		}
	}
}

// checkAgreesWithDecode reports where CheckVariables and DecodeVariables disagree on req's
// variables other than on a number beyond float64 (an UnmarshalTypeError of decoding).
func checkAgreesWithDecode(req *Request) error {
	_, decodeErr := req.DecodeVariables()
	checkErr := req.CheckVariables()
	var typeErr *json.UnmarshalTypeError
	if (checkErr == nil) == (decodeErr == nil) || checkErr == nil && errors.As(decodeErr, &typeErr) {
		return nil
	}
	return fmt.Errorf("variables %q: CheckVariables %v, DecodeVariables %v", req.Variables, checkErr, decodeErr)
}

func TestReadWanted(t *testing.T) {
	wanted := func(raw string) bool { return strings.Contains(raw, "cart") }
	get := httptest.NewRequest(http.MethodGet, "/graphql?query=%7BstoreConfig%7Bstore_code%7D%7D", nil)
	if _, err := Read(get, 1<<20, wanted); !errors.Is(err, ErrNotGraphQL) {
		t.Fatalf("unwanted GET: %v", err)
	}
	get = httptest.NewRequest(http.MethodGet, "/graphql?x=1&query=%7Bcart%7Bid%7D%7D&query=%7Bother%7D", nil)
	req, err := Read(get, 1<<20, wanted)
	if err != nil {
		t.Fatal(err)
	}
	if text, err := req.Text(); err != nil || text != "{cart{id}}" {
		t.Fatalf("wanted GET: %q %v", text, err)
	}
	bad := httptest.NewRequest(http.MethodGet, "/graphql?query=%7Bcart%zz", nil)
	if req, err := Read(bad, 1<<20, wanted); err == nil {
		if _, err := req.Text(); err == nil {
			t.Fatal("a malformed escape must be an error")
		}
	}
	post := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{products{total_count}}"}`))
	post.Header.Set("Content-Type", "application/json")
	if _, err := Read(post, 1<<20, wanted); !errors.Is(err, ErrNotGraphQL) {
		t.Fatalf("unwanted POST: %v", err)
	}
	if body, _ := io.ReadAll(post.Body); len(body) == 0 {
		t.Fatal("body not restored")
	}
}

func TestReplaceKeepsOtherParameters(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/graphql?b=%2F&query=%7Ba%7D&z=1+2", nil)
	req, err := Read(r, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Replace(r, "{a b}", nil); err != nil {
		t.Fatal(err)
	}
	if r.URL.RawQuery != "b=%2F&query=%7Ba+b%7D&z=1+2" {
		t.Fatalf("RawQuery = %s", r.URL.RawQuery)
	}
}

// TestReplaceParam: the first query parameter is replaced, every other byte kept.
func TestReplaceParam(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{"query=a&variables=%7B%7D", "query=NEW&variables=%7B%7D"},
		{"variables=%7B%7D&query=a", "variables=%7B%7D&query=NEW"},
		{"&&queryx=1&query=2&query=3&", "&&queryx=1&query=NEW&query=3&"},
		{"query&x=1", "query=NEW&x=1"},
		{"x=1&query=", "x=1&query=NEW"},
		{"x=1;query=2", "x=1;query=2"},
		{"", ""},
	} {
		if got := replaceParam(tt.raw, "query", "NEW"); got != tt.want {
			t.Errorf("replaceParam(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}
