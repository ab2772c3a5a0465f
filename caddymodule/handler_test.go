package caddymodule

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

const (
	segVIP  = "6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"
	segBags = "0a7c44e1-3b2f-4c8d-8e15-71c2d9a0b302"
)

// provisioned returns h provisioned in a fresh Caddy context.
func provisioned(t testing.TB, h *Handler) *Handler {
	t.Helper()
	ctx, cancel := newTestContext()
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("provision: %v", err)
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	return h
}

// newTestContext returns a fresh Caddy context.
func newTestContext() (caddy.Context, context.CancelFunc) {
	return caddy.NewContext(caddy.Context{Context: context.Background()})
}

// seen is what the fake next handler observed.
type seen struct {
	header   http.Header
	segments string
	count    string
}

// serve runs r through h with a fake next handler and returns what next saw.
func serve(t *testing.T, h *Handler, r *http.Request) seen {
	t.Helper()
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	var got seen
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		got.header = r.Header.Clone()
		got.segments, _ = repl.GetString(PlaceholderSegments)
		got.count, _ = repl.GetString(PlaceholderCount)
		return nil
	})
	if err := h.ServeHTTP(httptest.NewRecorder(), r, next); err != nil {
		t.Fatalf("ServeHTTP: %v", err)
	}
	return got
}

func TestServeHTTPForwardsNormalizedHeader(t *testing.T) {
	off := false
	tests := []struct {
		name      string
		handler   Handler
		header    map[string]string
		wantValue string
		wantCount string
	}{
		{"header", Handler{}, map[string]string{"aep-segments-membership": segVIP + "%2C" + segBags}, segBags + "," + segVIP, "2"},
		{"cookie", Handler{}, map[string]string{"Cookie": "aep-segments-membership=" + segVIP}, segVIP, "1"},
		{"nothing", Handler{}, nil, "", "0"},
		{"empty cookie", Handler{}, map[string]string{"Cookie": "aep-segments-membership="}, "", "0"},
		{"dnt", Handler{}, map[string]string{"Cookie": "mg_dnt=1; aep-segments-membership=" + segVIP}, "", "0"},
		{"dnt off", Handler{HonorDNT: &off}, map[string]string{"Cookie": "mg_dnt=1; aep-segments-membership=" + segVIP}, segVIP, "1"},
		{"cookie source", Handler{Source: "cookie"}, map[string]string{"aep-segments-membership": segVIP, "Cookie": "aep-segments-membership=" + segBags}, segBags, "1"},
		{"custom header name", Handler{UpstreamHeader: "X-Segs"}, map[string]string{"aep-segments-membership": segVIP}, segVIP, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := provisioned(t, &tt.handler)
			r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			got := serve(t, h, r)
			if v := got.header.Get(h.UpstreamHeader); v != tt.wantValue {
				t.Errorf("%s = %q, want %q", h.UpstreamHeader, v, tt.wantValue)
			}
			if _, present := got.header[http.CanonicalHeaderKey(h.UpstreamHeader)]; present != (tt.wantValue != "") {
				t.Errorf("header present = %v, want %v (an empty set is omitted)", present, tt.wantValue != "")
			}
			if got.segments != tt.wantValue || got.count != tt.wantCount {
				t.Errorf("placeholders = %q/%q, want %q/%q", got.segments, got.count, tt.wantValue, tt.wantCount)
			}
		})
	}
}

func TestServeHTTPRemovesSpoofedHeader(t *testing.T) {
	for _, membership := range []string{"", segVIP} {
		for _, name := range []string{"X-Audience-Segments", "x-audience-segments", "X-AUDIENCE-SEGMENTS", "X_Audience_Segments", "x_audience-segments"} {
			h := provisioned(t, &Handler{})
			r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			r.Header[name] = []string{"spoofed-vip", "another"}
			if membership != "" {
				r.Header.Set("aep-segments-membership", membership)
			}
			got := serve(t, h, r)
			for key, values := range got.header {
				if key != "Aep-Segments-Membership" && (values[0] == "spoofed-vip" || values[0] == "another") {
					t.Errorf("spoofed %q reached the backend as %q", name, key)
				}
			}
			if v := got.header.Values("X-Audience-Segments"); len(v) > 1 || (membership != "" && v[0] != membership) {
				t.Errorf("membership %q: upstream header = %q", membership, v)
			}
		}
	}
}

func TestServeHTTPStripInbound(t *testing.T) {
	for _, strip := range []bool{false, true} {
		h := provisioned(t, &Handler{StripInbound: strip})
		r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
		r.Header.Set("aep-segments-membership", segVIP)
		r.Header.Set("Cookie", "PHPSESSID=abc; aep-segments-membership="+segBags)
		got := serve(t, h, r)
		rawKept := got.header.Get("aep-segments-membership") != ""
		if rawKept == strip {
			t.Errorf("strip_inbound %v: raw header kept = %v", strip, rawKept)
		}
		wantCookie := "PHPSESSID=abc; aep-segments-membership=" + segBags
		if strip {
			wantCookie = "PHPSESSID=abc"
		}
		if c := got.header.Get("Cookie"); c != wantCookie {
			t.Errorf("strip_inbound %v: Cookie = %q, want %q", strip, c, wantCookie)
		}
		if v := got.header.Get("X-Audience-Segments"); v != segVIP {
			t.Errorf("strip_inbound %v: forwarded %q", strip, v)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, h := range []Handler{
		{Source: "both"},
		{UpstreamHeader: "X Bad"},
		{UpstreamHeader: "X-Bad:"},
		{MaxSegments: -1},
		{MaxBytes: -5},
		{TaxCalculation: "TOTAL_BASE_CALCULATION"},
	} {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		if err := h.Provision(ctx); err != nil {
			t.Fatalf("provision: %v", err)
		}
		if err := h.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", h)
		}
		cancel()
	}
}

func TestLogThrottle(t *testing.T) {
	var e logThrottle
	if !e.allow() {
		t.Fatal("first event must pass")
	}
	if e.allow() {
		t.Fatal("second event within a minute must not pass")
	}
}

func TestPreviewHeaderNeverReachesBackend(t *testing.T) {
	for _, h := range []*Handler{{}, {PreviewTimeHeader: "X-Preview-Time"}} {
		h = provisioned(t, h)
		r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
		r.Header.Set("X-Preview-Time", "2030-01-01T00:00:00Z")
		r.Header.Set(PreviewResponseHeader, "2030-01-01T00:00:00Z")
		got := serve(t, h, r)
		if h.PreviewTimeHeader != "" && got.header.Get("X-Preview-Time") != "" {
			t.Errorf("the configured preview header reached the backend")
		}
		if got.header.Get(PreviewResponseHeader) != "" {
			t.Errorf("%s reached the backend", PreviewResponseHeader)
		}
	}
}

func TestUnknownAudiencesDropped(t *testing.T) {
	catalog := []byte(`{"audiences":[{"id":"` + segVIP + `","name":"VIP"}]}`)
	for _, allow := range []bool{false, true} {
		h := provisioned(t, &Handler{Name: "catalog-test", AudiencesJSON: catalog, AllowUnknownAudiences: allow})
		r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
		r.Header.Set("aep-segments-membership", segVIP+","+segBags)
		want := segVIP
		if allow {
			want = segBags + "," + segVIP
		}
		if got := serve(t, h, r).header.Get("X-Audience-Segments"); got != want {
			t.Errorf("allow_unknown_audiences %v: forwarded %q, want %q", allow, got, want)
		}
	}
}

// TestReadOperationDecodesVariablesOnlyWhenRead: the variables of a cart query are decoded
// when its rewrite depends on them (@include on a variable), checked only otherwise, and a
// query whose variables are not a JSON object is not rewritten either way.
func TestReadOperationDecodesVariablesOnlyWhenRead(t *testing.T) {
	rule := `{"rules": [{"id": "vip", "audiences": {"any": ["` + segVIP + `"]}, "action": {"type": "by_percent", "amount": 10}}]}`
	h := provisioned(t, &Handler{RulesJSON: json.RawMessage(rule)})
	plain := `query($id: String!) { cart(cart_id: $id) { id items { uid quantity } } }`
	included := `query($id: String!, $p: Boolean!) { cart(cart_id: $id) { id prices @include(if: $p) { grand_total { value } } } }`
	for _, tt := range []struct {
		name, query, variables string
		rewritten, decoded     bool
	}{
		{"plain", plain, `{"id":"c1"}`, true, false},
		{"include on a variable", included, `{"id":"c1","p":true}`, true, true},
		{"plain, variables an array", plain, `[1]`, false, false},
		{"include, variables broken", included, `{"id":`, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {tt.query}, "variables": {tt.variables}}.Encode(), nil)
			op, answered := h.readOperation(httptest.NewRecorder(), r)
			if answered || (op != nil) != tt.rewritten {
				t.Fatalf("operation %v, answered %v; want rewritten %v", op, answered, tt.rewritten)
			}
			if op != nil && (op.variables != nil) != tt.decoded {
				t.Errorf("variables %v; want decoded %v", op.variables, tt.decoded)
			}
		})
	}
}

// TestGatedRequestHeadersDropped: with a gate rule in force, a GraphQL request reaches the
// backend without Upgrade, Range or If-Range (it is read and gated as an ordinary request,
// and its answer is scrubbed whole); without gates they pass as before.
func TestGatedRequestHeadersDropped(t *testing.T) {
	path, err := os.ReadFile("testdata/bench/nocart.path")
	if err != nil {
		t.Fatal(err)
	}
	for rules, gated := range map[string]bool{"testdata/bench/gated_rules.json": true, "testdata/bench/rules.json": false} {
		h := provisioned(t, &Handler{Rules: rules, Name: "headers-" + filepath.Base(rules)})
		for k, v := range map[string]string{"Range": "bytes=0-10", "If-Range": `"etag-1"`, "Upgrade": "websocket"} {
			r := httptest.NewRequest(http.MethodGet, strings.TrimSpace(string(path)), nil)
			r.Header.Set(k, v)
			if got := serve(t, h, r).header.Get(k); (got == "") != gated {
				t.Errorf("%s, gated %v: the backend got %s %q", rules, gated, k, got)
			}
		}
	}
}
