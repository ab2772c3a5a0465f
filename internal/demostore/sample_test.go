package demostore

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// sampleCartQuery selects the cart fields the sidecar reads and rewrites, with __typename as
// Apollo sends it.
const sampleCartQuery = `query SampleCart($id: String!) {
  cart(cart_id: $id) {
    __typename id email total_quantity is_virtual
    applied_coupons { __typename code }
    items {
      __typename uid quantity
      product { __typename uid sku name }
      prices {
        __typename
        price { __typename value currency }
        price_including_tax { value currency }
        row_total { value currency }
        row_total_including_tax { value currency }
        total_item_discount { value currency }
        discounts { __typename amount { value currency } label applied_to coupon { code } }
      }
      ... on ConfigurableCartItem {
        configurable_options { option_label value_label }
        configured_variant { __typename sku }
      }
    }
    shipping_addresses {
      __typename city
      region { code label region_id }
      country { code label }
      selected_shipping_method { carrier_code method_code carrier_title method_title amount { value currency } }
    }
    prices {
      __typename
      subtotal_excluding_tax { value currency }
      subtotal_including_tax { value currency }
      subtotal_with_discount_excluding_tax { value currency }
      discounts { __typename amount { value currency } label applied_to coupon { code } }
      discount { amount { value currency } label }
      applied_taxes { __typename amount { value currency } label }
      grand_total { value currency }
      grand_total_excluding_tax { value currency }
    }
  }
}`

// TestSampleCartResponse pins the complete response for a cart of two lines (a simple and a
// configurable item) with the coupon applied and flat-rate shipping selected, so other packages
// can check shapes against testdata/sample-cart.json.
func TestSampleCartResponse(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	c.add(id, "24-MB01", 2)
	c.post(`mutation($id: String!) { addProductsToCart(cartId: $id, cartItems: [{sku: "MH01-XS-Black", parent_sku: "MH01", quantity: 1}]) { cart { id } } }`,
		map[string]any{"id": id}).must(t)
	c.post(`mutation($id: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: "WELCOME10"}) { cart { id } } }`,
		map[string]any{"id": id}).must(t)
	c.shipTo(id)

	r := c.get(sampleCartQuery, "SampleCart", map[string]any{"id": id}).must(t)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, bytes.ReplaceAll(r.body, []byte(id), []byte("CART_ID")), "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	golden := filepath.Join("testdata", "sample-cart.json")
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := pretty.String(); got != string(want) {
		t.Fatalf("response differs from %s:\n%s", golden, diffLines(string(want), got))
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("- " + wl + "\n+ " + gl + "\n")
		}
	}
	return b.String()
}
