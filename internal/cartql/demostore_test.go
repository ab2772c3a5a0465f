package cartql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/demostore"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// TestDemoStoreReference runs every Venia operation against two demo stores with the same
// carts: a plain one, whose answers to the augmented query are rewritten here, and one that
// applies the same audience rules inside its own totals. The two bodies must be identical,
// byte for byte, for every audience (percent, buy X get Y, cart fixed, shipping), with and
// without the store's coupon, for carts of 1, 5 and 12 lines; operations the store does not
// implement must give the same error (locations mapped back). It is the in-process
// counterpart of the end-to-end differential test.
func TestDemoStoreReference(t *testing.T) {
	rs, err := rules.LoadFile("testdata/demostore_rules.json")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	plain := &demoClient{t: t, h: demostore.New(demostore.Options{})}
	ref := &demoClient{t: t, h: demostore.New(demostore.Options{AudienceRules: demostore.RuleDiscounter{RuleSet: rs, Now: func() time.Time { return at }}})}
	pl := newPlanner(t)
	audiences := []string{"", "vip", "bags", "lapsed", "shipping", "bags,lapsed,shipping,vip"}
	var rewritten, failed int
	for _, op := range veniaOps(t) {
		query := minify(withTypename(t, op.Query))
		p := mustPlan(t, pl, query, "")
		for _, lines := range []int{1, 5, 12} {
			for _, coupon := range []bool{false, true} {
				for _, segs := range audiences {
					// Identical operations on both stores give identical item uids; masked
					// cart ids are random.
					cartA, cartB := plain.cart(lines, coupon, lines > 1), ref.cart(lines, coupon, lines > 1)
					varsA, varsB := plain.variables(op.Source, cartA), ref.variables(op.Source, cartB)
					body := plain.do(p.Query(), varsA, segs)
					var segments []string
					if segs != "" {
						segments = strings.Split(segs, ",")
					}
					eval := func(c *rules.Cart) *rules.Result { return rs.Evaluate(c, segments, at) }
					got, out, err := rewriteChecked(t, p, body, varsA, eval, RewriteOptions{Store: "default", TaxAfterDiscount: true})
					if err != nil {
						failed++
						if !bytes.Contains(body, []byte(`"errors"`)) {
							t.Errorf("%s: %v\n%s", op.Source, err, body)
						}
						if got, err = p.Strip(body); err != nil {
							t.Fatal(err)
						}
					}
					rewritten += out.Rewritten
					want := bytes.ReplaceAll(ref.do(query, varsB, segs), []byte(cartB), []byte(cartA))
					if !bytes.Equal(got, want) {
						t.Errorf("%s, %d lines, coupon %v, audiences %q:\n got %s\nwant %s", op.Source, lines, coupon, segs, got, want)
					}
				}
			}
		}
	}
	if rewritten == 0 || failed == 0 {
		t.Errorf("rewritten %d, failed open %d: the test lost its teeth", rewritten, failed)
	}
}

// demoClient drives a demo store in process.
type demoClient struct {
	t *testing.T
	h http.Handler
}

func (c *demoClient) do(query string, vars map[string]any, segments string) []byte {
	c.t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Store", "default")
	if segments != "" {
		r.Header.Set("X-Audience-Segments", segments)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w.Body.Bytes()
}

func (c *demoClient) mutate(query string, vars map[string]any) {
	c.t.Helper()
	if out := c.do(query, vars, ""); bytes.Contains(out, []byte(`"errors"`)) || bytes.Contains(out, []byte(`"message"`)) {
		c.t.Fatalf("%s: %s", query, out)
	}
}

// cart creates a guest cart with lines items (bags first), optionally the store's coupon and
// a flat-rate shipping method.
func (c *demoClient) cart(lines int, coupon, shipping bool) string {
	c.t.Helper()
	var r struct {
		Data struct {
			CreateGuestCart struct{ Cart struct{ ID string } }
		}
	}
	if err := json.Unmarshal(c.do(`mutation { createGuestCart { cart { id } } }`, nil, ""), &r); err != nil {
		c.t.Fatal(err)
	}
	id := r.Data.CreateGuestCart.Cart.ID
	skus := []string{"24-MB01", "24-MB04", "24-UG06", "24-WG02", "24-WB04"}
	for i := 0; i < lines; i++ {
		sku := fmt.Sprintf("DEMO-%03d", i+1)
		if i < len(skus) {
			sku = skus[i]
		}
		c.mutate(`mutation ($id: String!, $sku: String!, $q: Float!) { addProductsToCart(cartId: $id, cartItems: [{sku: $sku, quantity: $q}]) { user_errors { message } } }`,
			map[string]any{"id": id, "sku": sku, "q": 1 + i%3})
	}
	if coupon {
		c.mutate(`mutation ($id: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: "WELCOME10"}) { cart { id } } }`, map[string]any{"id": id})
	}
	if shipping {
		c.mutate(`mutation ($id: String!) { setShippingAddressesOnCart(input: {cart_id: $id, shipping_addresses: [{address: {firstname: "A", lastname: "B", street: ["1 Main St"], city: "Austin", region: "TX", postcode: "78701", country_code: "US", telephone: "5550100"}}]}) { cart { id } } }`, map[string]any{"id": id})
		c.mutate(`mutation ($id: String!) { setShippingMethodsOnCart(input: {cart_id: $id, shipping_methods: [{carrier_code: "flatrate", method_code: "flatrate"}]}) { cart { id } } }`, map[string]any{"id": id})
	}
	return id
}

// variables returns realistic variables for the Venia operation source on cart id.
func (c *demoClient) variables(source, id string) map[string]any {
	vars := map[string]any{"cartId": id}
	switch {
	case strings.Contains(source, "ADD_ITEM"):
		vars["cartItem"] = map[string]any{"sku": "24-WG02", "quantity": 2}
	case strings.Contains(source, "SET_SHIPPING_METHOD"):
		vars["shippingMethod"] = map[string]any{"carrier_code": "flatrate", "method_code": "flatrate"}
	case strings.Contains(source, "applyCoupon"):
		vars["couponCode"] = "WELCOME10"
	case strings.Contains(source, "updateQuantity"):
		vars["cartItemId"], vars["quantity"] = c.firstItem(id), 3
	case strings.Contains(source, "REMOVE_ITEM"):
		vars["itemId"] = c.firstItem(id)
	case strings.Contains(source, "MERGE"):
		vars = map[string]any{"sourceCartId": c.cart(2, false, false), "destinationCartId": id}
	}
	return vars
}

func (c *demoClient) firstItem(id string) string {
	c.t.Helper()
	var r struct {
		Data struct {
			Cart struct{ Items []struct{ UID string } }
		}
	}
	if err := json.Unmarshal(c.do(`query ($id: String!) { cart(cart_id: $id) { items { uid } } }`, map[string]any{"id": id}, ""), &r); err != nil || len(r.Data.Cart.Items) == 0 {
		c.t.Fatalf("first item of %s: %v", id, err)
	}
	return r.Data.Cart.Items[0].UID
}
