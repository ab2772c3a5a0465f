package demostore

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// result is one GraphQL HTTP exchange.
type result struct {
	status int
	header http.Header
	body   []byte
	resp   struct {
		Data   map[string]any `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
			Locations  []any          `json:"locations"`
			Path       []any          `json:"path"`
		} `json:"errors"`
	}
}

func (r *result) firstError() string {
	if len(r.resp.Errors) == 0 {
		return ""
	}
	return r.resp.Errors[0].Message
}

func (r *result) category() string {
	if len(r.resp.Errors) == 0 {
		return ""
	}
	c, _ := r.resp.Errors[0].Extensions["category"].(string)
	return c
}

// client talks to a Store through httptest.
type client struct {
	t       *testing.T
	store   *Store
	headers map[string]string
}

func newClient(t *testing.T, opts Options) *client {
	t.Helper()
	return &client{t: t, store: New(opts), headers: map[string]string{}}
}

func (c *client) do(req *http.Request) *result {
	c.t.Helper()
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	c.store.ServeHTTP(rec, req)
	r := &result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if len(r.body) > 0 && r.header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(r.body, &r.resp); err != nil {
			c.t.Fatalf("response is not JSON: %v\n%s", err, r.body)
		}
	}
	return r
}

// post sends a query or mutation as POST application/json.
func (c *client) post(query string, vars map[string]any) *result {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

// get sends a query as GET with query, operationName and variables parameters.
func (c *client) get(query, operationName string, vars map[string]any) *result {
	c.t.Helper()
	q := url.Values{"query": {query}}
	if operationName != "" {
		q.Set("operationName", operationName)
	}
	if vars != nil {
		b, err := json.Marshal(vars)
		if err != nil {
			c.t.Fatal(err)
		}
		q.Set("variables", string(b))
	}
	return c.do(httptest.NewRequest(http.MethodGet, "/graphql?"+q.Encode(), nil))
}

// must fails the test when the response has errors.
func (r *result) must(t *testing.T) *result {
	t.Helper()
	if r.status != http.StatusOK || len(r.resp.Errors) > 0 {
		t.Fatalf("status %d, errors: %s", r.status, r.body)
	}
	return r
}

// path walks the data by dotted keys and list indexes.
func (r *result) path(t *testing.T, p string) any {
	t.Helper()
	var v any = r.resp.Data
	for _, key := range strings.Split(p, ".") {
		switch cur := v.(type) {
		case map[string]any:
			v = cur[key]
		case []any:
			i := 0
			for _, ch := range key {
				i = i*10 + int(ch-'0')
			}
			if i >= len(cur) {
				t.Fatalf("path %s: index %d out of range in %s", p, i, r.body)
			}
			v = cur[i]
		default:
			t.Fatalf("path %s: cannot descend into %T at %q in %s", p, v, key, r.body)
		}
	}
	return v
}

func (r *result) str(t *testing.T, p string) string {
	t.Helper()
	s, ok := r.path(t, p).(string)
	if !ok {
		t.Fatalf("path %s is not a string in %s", p, r.body)
	}
	return s
}

func (r *result) num(t *testing.T, p string) float64 {
	t.Helper()
	f, ok := r.path(t, p).(float64)
	if !ok {
		t.Fatalf("path %s is not a number in %s", p, r.body)
	}
	return f
}

// newCart creates a guest cart and returns its id.
func (c *client) newCart() string {
	c.t.Helper()
	return c.post(`mutation { createGuestCart { cart { id } } }`, nil).must(c.t).str(c.t, "createGuestCart.cart.id")
}

// add puts a product into a cart with addProductsToCart.
func (c *client) add(cartID, sku string, qty float64) {
	c.t.Helper()
	r := c.post(`mutation($id: String!, $sku: String!, $qty: Float!) {
		addProductsToCart(cartId: $id, cartItems: [{sku: $sku, quantity: $qty}]) { user_errors { code message } }
	}`, map[string]any{"id": cartID, "sku": sku, "qty": qty}).must(c.t)
	if errs := r.path(c.t, "addProductsToCart.user_errors").([]any); len(errs) > 0 {
		c.t.Fatalf("add %s: %v", sku, errs)
	}
}

// checkout sets an address and flat-rate shipping on a cart.
func (c *client) shipTo(cartID string) {
	c.t.Helper()
	c.post(`mutation($id: String!) {
		setShippingAddressesOnCart(input: {cart_id: $id, shipping_addresses: [{address: {
			firstname: "Veronica", lastname: "Costello", street: ["6146 Honey Bluff Parkway"],
			city: "Calder", region: "MI", postcode: "49628-7978", country_code: "US",
			telephone: "(555) 229-3326"}}]}) { cart { id } }
	}`, map[string]any{"id": cartID}).must(c.t)
	c.post(`mutation($id: String!) {
		setShippingMethodsOnCart(input: {cart_id: $id, shipping_methods: [{carrier_code: "flatrate", method_code: "flatrate"}]}) { cart { id } }
	}`, map[string]any{"id": cartID}).must(c.t)
}
