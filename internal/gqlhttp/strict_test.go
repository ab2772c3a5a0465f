package gqlhttp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/phpread"
)

// TestReadStrictGET is a table of query-string spellings: what PHP's $_GET holds for each,
// and whether the sidecar reads the same operation or refuses the request.
func TestReadStrictGET(t *testing.T) {
	cart := url.QueryEscape(`{cart(cart_id:"c"){applied_coupons{code}}}`)
	harmless := url.QueryEscape(`{storeConfig{code}}`)
	tests := []struct {
		name     string
		raw      string
		phpQuery string // what PHP's $_GET['query'] holds ("" for none)
		want     string // the query the sidecar reads; "" with refuse or not
		refuse   bool
	}{
		{"plain", "query=" + cart, `{cart(cart_id:"c"){applied_coupons{code}}}`, `{cart(cart_id:"c"){applied_coupons{code}}}`, false},
		{"percent-encoded name", "%71uery=" + cart, `{cart(cart_id:"c"){applied_coupons{code}}}`, "", true},
		{"percent-encoded letter inside", "qu%65ry=" + cart, `{cart(cart_id:"c"){applied_coupons{code}}}`, "", true},
		{"leading space", "+query=" + cart, `{cart(cart_id:"c"){applied_coupons{code}}}`, "", true},
		{"NUL-truncated name", "query%00x=" + cart, `{cart(cart_id:"c"){applied_coupons{code}}}`, "", true},
		{"duplicate, last wins in PHP", "query=" + harmless + "&query=" + cart, `{cart(cart_id:"c"){applied_coupons{code}}}`, "", true},
		{"duplicate spelled apart", "query=" + harmless + "&%71uery=" + cart, `{cart(cart_id:"c"){applied_coupons{code}}}`, "", true},
		{"array", "query[]=" + cart, "", "", true},
		{"past max_input_vars", strings.Repeat("a=1&", phpread.MaxInputVars) + "query=" + cart, "", "", true},
		{"plus is a space", "query=%7Ba+b%7D", "{a b}", "{a b}", false},
		{"invalid escape kept as PHP keeps it", "query=%7Ba%zz%7D", "{a%zz}", "{a%zz}", false},
		{"no query", "foo=bar", "", "", false},
		{"similar names are not query", "Query=" + cart + "&query_=" + harmless, "", "", false},
		{"dotted variables", "query=" + harmless + "&vari.ables=x", `{storeConfig{code}}`, `{storeConfig{code}}`, false},
		{"duplicate variables", "query=" + harmless + "&variables=%7B%7D&variables=%7B%22a%22%3A1%7D", `{storeConfig{code}}`, "", true},
		{"duplicate operationName", "query=" + harmless + "&operationName=A&operationName=B", `{storeConfig{code}}`, "", true},
		{"variables not an object", "query=" + harmless + "&variables=%5B1%5D", `{storeConfig{code}}`, "", true},
		{"variables with a lone surrogate", "query=" + harmless + "&variables=" + url.QueryEscape(`{"a":"\ud800"}`), `{storeConfig{code}}`, "", true},
		{"variables zero is empty in PHP", "query=" + harmless + "&variables=0", `{storeConfig{code}}`, `{storeConfig{code}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			php, array, _ := phpread.ParseQuery(tt.raw).Lookup("query")
			if array {
				php = ""
			}
			if php != tt.phpQuery {
				t.Fatalf("PHP model reads query %q, the table says %q", php, tt.phpQuery)
			}
			req, err := ReadStrict(httptest.NewRequest(http.MethodGet, "/graphql?"+tt.raw, nil), 1<<20)
			var ref *Refusal
			if tt.refuse {
				if !errors.As(err, &ref) || ref.Status != http.StatusBadRequest {
					t.Fatalf("err = %v, want a 400 refusal", err)
				}
				return
			}
			if tt.want == "" {
				if !errors.Is(err, ErrNotGraphQL) {
					t.Fatalf("err = %v, want ErrNotGraphQL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if text, _ := req.Text(); text != tt.want || req.OperationName != "" {
				t.Fatalf("read %q (operation %q), want %q", text, req.OperationName, tt.want)
			}
		})
	}
}

func TestReadStrictPOST(t *testing.T) {
	post := func(ct, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		return r
	}
	big := `{"query":"{cart(cart_id:\"c\"){id}}"` + strings.Repeat(" ", 5000) + `}`
	tests := []struct {
		name   string
		req    *http.Request
		want   string
		vars   string
		status int // 0: read; -1: ErrNotGraphQL
		reason string
	}{
		{"plain", post("application/json", `{"query":"{a}","variables":{"x":1},"operationName":"Q"}`), "{a}", `{"x":1}`, 0, ""},
		{"charset", post("application/json; charset=utf-8", `{"query":"{a}"}`), "{a}", "", 0, ""},
		{"duplicate keys, last wins", post("application/json", `{"query":"{harmless}","query":"{a}"}`), "{a}", "", 0, ""},
		{"escaped key", post("application/json", `{"qu\u0065ry":"{a}"}`), "{a}", "", 0, ""},
		{"padded over the limit", post("application/json", big), "", "", 413, "too_large"},
		{"batch", post("application/json", `[{"query":"{a}"}]`), "", "", 400, "batch"},
		{"graphql content type", post("application/graphql", `{a}`), "", "", 400, "content_type"},
		{"form", post("application/x-www-form-urlencoded", `query=%7Ba%7D`), "", "", 400, "content_type"},
		{"json somewhere in the type", post("text/plain; x=application/json", `{"query":"{a}"}`), "", "", 400, "content_type"},
		{"no type", post("", `{"query":"{a}"}`), "", "", 400, "content_type"},
		{"invalid utf-8", post("application/json", "{\"query\":\"{a}\",\"variables\":{\"c\":\"\xff\"}}"), "", "", 400, "unreadable"},
		{"lone surrogate", post("application/json", `{"query":"{a}","variables":{"c":"\udfff"}}`), "", "", 400, "unreadable"},
		{"too deep for PHP", post("application/json", `{"query":"{a}","variables":{"x":`+strings.Repeat("[", 600)+strings.Repeat("]", 600)+`}}`), "", "", 400, "unreadable"},
		{"query not a string", post("application/json", `{"query":["{a}"]}`), "", "", 400, "unreadable"},
		{"variables a string", post("application/json", `{"query":"{a}","variables":"{}"}`), "", "", 400, "unreadable"},
		{"trailing garbage", post("application/json", `{"query":"{a}"} x`), "", "", 400, "unreadable"},
		{"empty", post("application/json", ``), "", "", -1, ""},
		{"no query", post("application/json", `{"variables":{}}`), "", "", -1, ""},
	}
	encoded := post("application/json", `{"query":"{a}"}`)
	encoded.Header.Set("Content-Encoding", "gzip")
	tests = append(tests, struct {
		name   string
		req    *http.Request
		want   string
		vars   string
		status int
		reason string
	}{"encoded body", encoded, "", "", 400, "encoded"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ReadStrict(tt.req, 4096)
			switch tt.status {
			case 0:
				if err != nil {
					t.Fatal(err)
				}
				if req.Query != tt.want || string(req.Variables) != tt.vars || req.OperationName != "" {
					t.Fatalf("read %q %q %q", req.Query, req.Variables, req.OperationName)
				}
			case -1:
				if !errors.Is(err, ErrNotGraphQL) {
					t.Fatalf("err = %v, want ErrNotGraphQL", err)
				}
			default:
				var ref *Refusal
				if !errors.As(err, &ref) || ref.Status != tt.status || ref.Reason != tt.reason {
					t.Fatalf("err = %#v, want refusal %d %s", err, tt.status, tt.reason)
				}
			}
		})
	}
}

// TestReadStrictReplace checks that what the sidecar sends upstream is what PHP then reads:
// the replaced query and the client's variables.
func TestReadStrictReplace(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/graphql?a=1&query=%7Bx%7D&variables=%7B%22v%22%3A1%7D&b=2", nil)
	req, err := ReadStrict(r, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := req.Text(); text != "{x}" {
		t.Fatalf("read %q", text)
	}
	if err := req.Replace(r, "{cart{id _aud_x: id}}", nil); err != nil {
		t.Fatal(err)
	}
	vs := phpread.ParseQuery(r.URL.RawQuery)
	if q, _, _ := vs.Lookup("query"); q != "{cart{id _aud_x: id}}" {
		t.Fatalf("PHP reads %q after Replace", q)
	}
	if v, _, _ := vs.Lookup("variables"); v != `{"v":1}` {
		t.Fatalf("PHP reads variables %q after Replace", v)
	}
	body := `{"query":"{x}","query":"{y}","variables":{"v":1}}`
	p := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	p.Header.Set("Content-Type", "application/json")
	req, err = ReadStrict(p, 1<<20)
	if err != nil || req.Query != "{y}" {
		t.Fatalf("read %v %v", req, err)
	}
	if err := req.Replace(p, "{z}", nil); err != nil {
		t.Fatal(err)
	}
	again, err := ReadStrict(p, 1<<20)
	if err != nil || again.Query != "{z}" || string(again.Variables) != `{"v":1}` {
		b, _ := io.ReadAll(p.Body)
		t.Fatalf("after Replace PHP would read %v %v (%s)", again, err, b)
	}
}

// TestStrictVariablesDecodedOnce: a strict read keeps the variables it decoded to check them;
// DecodeVariables hands that map over once (equal to a fresh decoding of Variables) and
// decodes afresh after, so no two callers share a map. Invalid JSON keeps its refusal.
func TestStrictVariablesDecodedOnce(t *testing.T) {
	body := `{"query":"{cart(cart_id:$id){id}}","variables":{"id":"c1","n":[1,2.5],"o":{"k":null}}}`
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	req, err := ReadStrict(r, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	kept := req.decoded
	first, err := req.DecodeVariables()
	if err != nil {
		t.Fatal(err)
	}
	if kept == nil || reflect.ValueOf(first).UnsafePointer() != reflect.ValueOf(kept).UnsafePointer() {
		t.Fatal("DecodeVariables decoded again instead of handing over the strict read's map")
	}
	var fresh map[string]any
	if err := json.Unmarshal(req.Variables, &fresh); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, fresh) {
		t.Fatalf("decoded by the strict read: %v, afresh: %v", first, fresh)
	}
	first["id"] = "changed"
	second, err := req.DecodeVariables()
	if err != nil || second["id"] != "c1" {
		t.Fatalf("second DecodeVariables = %v, %v: want a fresh map with id c1", second, err)
	}
	// Variables replaced after the read are decoded, not answered with the kept map.
	req, err = ReadStrict(httptest.NewRequest(http.MethodGet, "/graphql?query=%7Ba%7D&variables="+url.QueryEscape(`{"id":"c1"}`), nil), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	req.Variables = json.RawMessage(`{"id":"c2"}`)
	if vars, err := req.DecodeVariables(); err != nil || vars["id"] != "c2" {
		t.Fatalf("after replacing the variables: %v, %v; want id c2", vars, err)
	}
	for _, vars := range []string{`{"a":1`, `{"a":1} x`, `{"a":tru}`} {
		// The plain query string (read by readGET first) and PHP's reading of one with an
		// array parameter (read by the strict reader alone), each with its message.
		for prefix, msg := range map[string]string{
			"query=%7Ba%7D&variables=":       "variables: invalid json",
			"query=%7Ba%7D&x[]=1&variables=": "variables are not a JSON object",
		} {
			_, err := readStrictGET(prefix + url.QueryEscape(vars))
			ref, ok := errors.AsType[*Refusal](err)
			if !ok || ref.Reason != "unreadable" || !strings.Contains(err.Error(), msg) {
				t.Errorf("%s%s: %v, want the unreadable refusal %q", prefix, vars, err, msg)
			}
		}
	}
}
