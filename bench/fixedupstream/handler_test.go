package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func newTestHandler(t *testing.T) *handler {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"cart-augmented.json": `{"data":{"cart":{"id":"c1","_aud_items":[]}}}`,
		"cart.json":           `{"data":{"cart":{"id":"c1"}}}`,
		"nocart.json":         `{"data":{"products":{"items":[]}}}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := loadHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRoute(t *testing.T) {
	tests := []struct{ query, want string }{
		{`query GetCartDetails($cartId: String!) { cart(cart_id: $cartId) { id _aud_items: items { uid } } }`, routeAugmented},
		{`query GetCartDetails($cartId: String!) { cart(cart_id: $cartId) { id ...CartPageFragment } }`, routeCart},
		{`{cart (cart_id:"x"){id}}`, routeCart},
		{`{ customerCart { id } }`, routeCart},
		{`mutation { addProductsToCart(cartId: "x", cartItems: []) { cart { id } } }`, routeCart},
		{`{storeConfig{store_code}}`, routeNoCart},
		{`query ProductSearch($search:String!){products(search:$search){items{sku}}}`, routeNoCart},
		{`{ minicart_display: storeConfig { cart_summary_display_quantity } }`, routeNoCart},
		{``, routeNoCart},
	}
	for _, tt := range tests {
		if got := route(tt.query); got != tt.want {
			t.Errorf("route(%q) = %s, want %s", tt.query, got, tt.want)
		}
	}
}

func TestServeRecorded(t *testing.T) {
	h := newTestHandler(t)
	get := func(q string) *http.Request {
		return httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {q}, "variables": {`{"cartId":"c1"}`}}.Encode(), nil)
	}
	post := func(contentType, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		want string
	}{
		{"GET augmented", get(`query Q($cartId:String!){cart(cart_id:$cartId){id _aud_items:items{uid}}}`), routeAugmented},
		{"GET cart", get(`query Q($cartId:String!){cart(cart_id:$cartId){id}}`), routeCart},
		{"GET no cart", get(`{storeConfig{store_code}}`), routeNoCart},
		{"POST JSON augmented", post("application/json", `{"query":"{cart(cart_id:\"c1\"){id _aud_x:id}}"}`), routeAugmented},
		{"POST JSON cart", post("application/json; charset=utf-8", `{"query":"{cart(cart_id:\"c1\"){id}}"}`), routeCart},
		{"POST graphql", post("application/graphql", `{products(search:"x"){total_count}}`), routeNoCart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tt.req)
			res := w.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			want := h.responses[tt.want].body
			if string(body) != string(want) {
				t.Fatalf("body %s, want %s", body, want)
			}
			for k, v := range map[string]string{
				"Content-Type":     "application/json",
				"Content-Length":   strconv.Itoa(len(want)),
				"Cache-Control":    "no-store",
				"X-Fixed-Response": tt.want,
			} {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestServeRejects(t *testing.T) {
	h := newTestHandler(t)
	for _, tt := range []struct {
		req  *http.Request
		want int
	}{
		{httptest.NewRequest(http.MethodGet, "/other?query=%7Bx%7D", nil), http.StatusNotFound},
		{httptest.NewRequest(http.MethodDelete, "/graphql", nil), http.StatusMethodNotAllowed},
		{httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader("not json")), http.StatusBadRequest},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tt.req)
		if w.Code != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.req.Method, tt.req.URL, w.Code, tt.want)
		}
	}
}

func TestLoadHandlerErrors(t *testing.T) {
	if _, err := loadHandler(t.TempDir()); err == nil {
		t.Error("an empty directory must be refused")
	}
	dir := t.TempDir()
	for _, name := range []string{"cart-augmented.json", "cart.json", "nocart.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"data":`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := loadHandler(dir); err == nil {
		t.Error("invalid JSON must be refused")
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	if err := run("0.0.0.0:0", t.TempDir()); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("run on 0.0.0.0 = %v, want a loopback error", err)
	}
}
