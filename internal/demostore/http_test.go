package demostore

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestGetMutationRefused(t *testing.T) {
	c := newClient(t, Options{})
	r := c.get(`mutation { createEmptyCart }`, "", nil)
	want := `{"errors":[{"message":"Mutation requests allowed only for POST requests","extensions":{"category":"graphql-input"}}]}`
	if r.status != http.StatusOK || string(r.body) != want {
		t.Fatalf("got %d %s\nwant 200 %s", r.status, r.body, want)
	}
	if len(c.store.carts) != 0 {
		t.Fatal("the mutation ran")
	}
}

func TestUnknownCart(t *testing.T) {
	c := newClient(t, Options{})
	r := c.get(`{ cart(cart_id: "xyz") { id } }`, "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	want := `{"errors":[{"message":"Could not find a cart with ID \"xyz\"","extensions":{"category":"graphql-no-such-entity"},"locations":[{"line":1,"column":3}],"path":["cart"]}],"data":{"cart":null}}`
	if string(r.body) != want {
		t.Fatalf("got  %s\nwant %s", r.body, want)
	}
}

func TestCustomerCartAuthorization(t *testing.T) {
	c := newClient(t, Options{})
	r := c.post(`{ customerCart { id } }`, nil)
	if r.status != http.StatusForbidden || r.firstError() != msgCustomerOnly || r.category() != categoryAuthorization || r.resp.Data != nil {
		t.Fatalf("guest: %d %s", r.status, r.body)
	}

	c.headers["Authorization"] = "Bearer not-a-token"
	r = c.post(`{ customerCart { id } }`, nil)
	if r.status != http.StatusForbidden || r.firstError() != msgCustomerUnknown || r.category() != categoryAuthorization {
		t.Fatalf("unknown token: %d %s", r.status, r.body)
	}

	c.headers["Authorization"] = "Bearer demo-customer"
	first := c.post(`{ customerCart { id email } }`, nil).must(t)
	id := first.str(t, "customerCart.id")
	if first.str(t, "customerCart.email") != demoCustomerEmail || len(id) != 32 {
		t.Fatalf("customer cart: %s", first.body)
	}
	c.add(id, "24-MB04", 1)
	if again := c.post(`{ customerCart { id total_quantity } }`, nil).must(t); again.str(t, "customerCart.id") != id ||
		again.num(t, "customerCart.total_quantity") != 1 {
		t.Fatalf("customer cart is not persistent: %s", again.body)
	}

	delete(c.headers, "Authorization")
	r = c.get(`query($id: String!) { cart(cart_id: $id) { id } }`, "", map[string]any{"id": id})
	if r.firstError() != `The current user cannot perform operations on cart "`+id+`"` || r.status != http.StatusForbidden {
		t.Fatalf("guest reading the customer's cart: %d %s", r.status, r.body)
	}
}

func TestSegmentsHeaderEcho(t *testing.T) {
	c := newClient(t, Options{})
	for _, path := range []string{"/graphql?query={storeConfig{store_code}}", "/elsewhere"} {
		r := c.do(httptest.NewRequest(http.MethodGet, path, nil))
		if v, ok := r.header["X-Demo-Received-Segments"]; !ok || !reflect.DeepEqual(v, []string{""}) {
			t.Fatalf("%s without segments: header %q", path, v)
		}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("X-Audience-Segments", "seg-1,seg-2")
		if got := c.do(req).header.Get("X-Demo-Received-Segments"); got != "seg-1,seg-2" {
			t.Fatalf("%s: echoed %q", path, got)
		}
	}
}

func TestResponseHeaders(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	tests := []struct {
		name      string
		r         *result
		wantCache string
	}{
		{"cart query", c.get(`query($id: String!) { cart(cart_id: $id) { id } }`, "", map[string]any{"id": id}), "no-store"},
		{"mutation", c.post(`mutation { createGuestCart { cart { id } } }`, nil), "no-store"},
		{"cart error", c.get(`{ cart(cart_id: "nope") { id } }`, "", nil), "no-store"},
		{"customer cart refused", c.get(`{ customerCart { id } }`, "", nil), "no-store"},
		{"catalog query", c.get(`{ products(filter: {sku: {eq: "24-MB01"}}) { total_count } }`, "", nil), "max-age=86400, public, s-maxage=86400"},
	}
	for _, tt := range tests {
		if got := tt.r.header.Get("Cache-Control"); got != tt.wantCache {
			t.Errorf("%s: Cache-Control %q, want %q", tt.name, got, tt.wantCache)
		}
		if got := tt.r.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("%s: Content-Type %q", tt.name, got)
		}
	}
}

func TestRequestFormats(t *testing.T) {
	c := newClient(t, Options{})

	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`mutation { createEmptyCart }`))
	req.Header.Set("Content-Type", "application/graphql")
	r := c.do(req).must(t)
	if id, _ := r.path(t, "createEmptyCart").(string); len(id) != 32 {
		t.Fatalf("application/graphql: %s", r.body)
	}

	req = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ storeConfig { store_code } }"}`))
	req.Header.Set("Content-Type", "text/plain")
	if r = c.do(req); r.status != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain: %d %s", r.status, r.body)
	}

	req = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if r = c.do(req); r.status != http.StatusBadRequest || r.firstError() != "Unable to parse the request." {
		t.Fatalf("bad JSON: %d %s", r.status, r.body)
	}

	if r = c.get(`{ cart(cart_id: "x") { id }`, "", nil); r.status != http.StatusBadRequest || !strings.HasPrefix(r.firstError(), "Syntax Error: ") {
		t.Fatalf("syntax error: %d %s", r.status, r.body)
	}
}

func TestValidationErrors(t *testing.T) {
	c := newClient(t, Options{})
	r := c.get(`query Q($id: String!) {
  cart(cart_id: $id) { id total_summary_quantity_including_config }
}`, "Q", map[string]any{"id": "x"})
	want := `{"errors":[{"message":"Cannot query field \"total_summary_quantity_including_config\" on type \"Cart\".","locations":[{"line":2,"column":27}]}]}`
	if r.status != http.StatusOK || string(r.body) != want {
		t.Fatalf("got %d %s\nwant %s", r.status, r.body, want)
	}

	r = c.get(`query Q($id: String!) { cart(cart_id: $id) { id } }`, "Q", nil)
	if r.firstError() != `Variable "$id" of required type "String!" was not provided.` {
		t.Fatalf("missing variable: %s", r.body)
	}
}

func TestOperationName(t *testing.T) {
	c := newClient(t, Options{})
	doc := `query A { storeConfig { store_code } } query B { storeConfig { store_name } }`
	r := c.get(doc, "B", nil).must(t)
	if r.str(t, "storeConfig.store_name") != "Default Store View" {
		t.Fatalf("B: %s", r.body)
	}
	if r = c.get(doc, "", nil); r.firstError() != "Must provide operation name if query contains multiple operations." {
		t.Fatalf("no name: %s", r.body)
	}
	if r = c.get(doc, "C", nil); r.firstError() != `Unknown operation named "C".` {
		t.Fatalf("unknown name: %s", r.body)
	}
}
