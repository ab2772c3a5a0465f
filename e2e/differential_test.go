package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

const (
	segLapsed = "3b8f6e21-7c4d-4e9a-b1f2-5a6d7c8e9f03"
	segBOGO   = "0c3e9a57-5d21-4f7b-8a64-93e1b0c2d4f5"
	segClub   = "free-ship-club"
)

// pair is a sidecar in front of a plain demo store and a reference demo store that applies
// the same audience rules itself. Every cart exists on both, built by the same operations.
type pair struct {
	sidecar, reference string    // base URLs
	hosts              [2]string // host:port of the store behind the sidecar, of the reference
}

// cartPair is one cart, by its id on each side.
type cartPair struct {
	sidecar, reference string
}

// TestDifferentialVenia is the reference check of issue 4: every Venia operation, through the
// sidecar in front of a plain store, must answer exactly what a store computing the same
// audience rules itself answers — for shoppers in and out of the audiences, with and without
// the backend coupon, for carts of 1, 5 and 50 lines, over GET and POST.
func TestDifferentialVenia(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	plain, reference := startStore(t), startStore(t, "-audience-rules", "testdata/rules.json")
	p := pair{
		sidecar: startSidecar(t, plain, `audiences {
		rules testdata/rules.json
		tax_rate "US-CA-*-Rate 1" 8.25
	}`),
		reference: "http://" + reference,
		hosts:     [2]string{plain, reference},
	}
	fixtures := loadFixtures(t)
	shoppers := map[string][]string{
		"outsider":  nil,
		"vip":       {segVIP},
		"bags+back": {segBOGO, segLapsed},
		"everyone":  {segVIP, segBOGO, segLapsed, segClub},
	}
	carts := map[string][]line{
		"1 line":   {{"24-MB01", 2}},
		"5 lines":  {{"24-MB01", 3}, {"24-UG06", 3}, {"24-WG02", 3}, {"MH01-XS-Black", 1}, {"VGC-50", 1}},
		"50 lines": fiftyLines(),
	}
	discounted := 0
	for cartName, lines := range carts {
		for _, coupon := range []bool{false, true} {
			for shopper, segments := range shoppers {
				name := fmt.Sprintf("%s/coupon=%v/%s", cartName, coupon, shopper)
				t.Run(name, func(t *testing.T) {
					cart := p.newCart(t, lines, coupon)
					discounted += p.runFixtures(t, fixtures, cart, segments)
				})
			}
		}
	}
	if discounted == 0 {
		t.Fatal("no response carried an audience discount: the comparison proved nothing")
	}
}

func fiftyLines() []line {
	lines := make([]line, 50)
	for i := range lines {
		lines[i] = line{fmt.Sprintf("DEMO-%03d", i+1), float64(i%3 + 1)}
	}
	return lines
}

// newCart builds the same cart on both sides: lines, a shipping address and method, and
// optionally the backend coupon.
func (p pair) newCart(t *testing.T, lines []line, coupon bool) cartPair {
	t.Helper()
	ids := [2]string{}
	for i, base := range []string{p.sidecar, p.reference} {
		ids[i] = newCart(t, base, lines...)
		setup := []struct {
			query string
			vars  map[string]any
		}{
			{`mutation($c: String!) { setShippingAddressesOnCart(input: {cart_id: $c, shipping_addresses: [{address: {firstname: "Veronica", lastname: "Costello", street: ["6146 Honey Bluff Parkway"], city: "Calder", region: "MI", region_id: 33, postcode: "49628", country_code: "US", telephone: "5555550100", save_in_address_book: false}}]}) { cart { id } } }`, nil},
			{`mutation($c: String!) { setShippingMethodsOnCart(input: {cart_id: $c, shipping_methods: [{carrier_code: "flatrate", method_code: "flatrate"}]}) { cart { id } } }`, nil},
		}
		if coupon {
			setup = append(setup, struct {
				query string
				vars  map[string]any
			}{`mutation($c: String!) { applyCouponToCart(input: {cart_id: $c, coupon_code: "welcome10"}) { cart { id } } }`, nil})
		}
		for _, s := range setup {
			r := graphql(t, base, s.query, map[string]any{"c": ids[i]}, nil)
			if !strings.Contains(string(r.body), `"virtual"`) && strings.Contains(string(r.body), `"errors"`) && !strings.Contains(string(r.body), "shipping") {
				t.Fatalf("setup: %s", r.body)
			}
		}
	}
	return cartPair{sidecar: ids[0], reference: ids[1]}
}

// runFixtures sends every fixture operation to both sides and compares the answers. It
// returns how many answers carried an audience discount.
func (p pair) runFixtures(t *testing.T, fixtures []fixture, cart cartPair, segments []string) int {
	discounted := 0
	queries, mutations := splitFixtures(t, fixtures)
	run := func(f fixture, vars func(cartID string) map[string]any, post bool) {
		t.Helper()
		query := apolloize(t, f.Query)
		side := p.send(t, p.sidecar, query, vars(cart.sidecar), map[string]string{
			"aep-segments-membership": url.QueryEscape(strings.Join(segments, ",")),
			"Store":                   "default",
		}, post)
		ref := p.send(t, p.reference, query, vars(cart.reference), map[string]string{
			"X-Audience-Segments": strings.Join(segments, ","),
			"Store":               "default",
		}, post)
		if side.status != ref.status {
			t.Fatalf("%s: status sidecar %d, reference %d\nsidecar: %s\nreference: %s", f.Source, side.status, ref.status, side.body, ref.body)
		}
		got, want := normalize(t, side.body, cart.sidecar, p.hosts[0]), normalize(t, ref.body, cart.reference, p.hosts[1])
		if path := firstDifference("", got, want); path != "" {
			t.Fatalf("%s (post=%v): answers differ at %s\nsidecar:   %.3000s\nreference: %.3000s", f.Source, post, path, side.body, ref.body)
		}
		if bytes.Contains(side.body, []byte("_aud_")) {
			t.Fatalf("%s: hidden field leaked: %s", f.Source, side.body)
		}
		if audienceDiscount(ref.body) {
			discounted++
		}
	}
	cartVars := func(id string) map[string]any { return map[string]any{"cartId": id} }
	for _, post := range []bool{false, true} {
		for _, f := range queries {
			run(f, cartVars, post)
		}
	}
	// Mutations change both carts the same way; the queries then run again on the result.
	firstItem := p.firstItemUID(t, cart)
	for _, f := range mutations {
		vars := cartVars
		switch {
		case strings.Contains(f.Source, "ADD_ITEM"):
			vars = func(id string) map[string]any {
				return map[string]any{"cartId": id, "cartItem": map[string]any{"sku": "24-WB04", "quantity": 2}}
			}
		case strings.Contains(f.Source, "SET_SHIPPING_METHOD"):
			vars = func(id string) map[string]any {
				return map[string]any{"cartId": id, "shippingMethod": map[string]any{"carrier_code": "flatrate", "method_code": "flatrate"}}
			}
		case strings.Contains(f.Source, "applyCoupon"):
			vars = func(id string) map[string]any { return map[string]any{"cartId": id, "couponCode": "WELCOME10"} }
		case strings.Contains(f.Source, "updateQuantity"):
			vars = func(id string) map[string]any {
				return map[string]any{"cartId": id, "cartItemId": firstItem, "quantity": 4}
			}
		case strings.Contains(f.Source, "REMOVE_ITEM"):
			vars = func(id string) map[string]any { return map[string]any{"cartId": id, "itemId": firstItem} }
		case strings.Contains(f.Source, "MERGE_CARTS"):
			vars = func(id string) map[string]any { return map[string]any{"sourceCartId": id, "destinationCartId": id} }
		}
		run(f, vars, true)
	}
	for _, f := range queries {
		run(f, cartVars, false)
	}
	return discounted
}

// splitFixtures orders the fixtures: queries, then mutations with the item removal last.
func splitFixtures(t *testing.T, fixtures []fixture) (queries, mutations []fixture) {
	var last []fixture
	for _, f := range fixtures {
		switch {
		case operationKind(t, f.Query) == "query":
			queries = append(queries, f)
		case strings.Contains(f.Source, "REMOVE_ITEM") || strings.Contains(f.Source, "MERGE_CARTS"):
			last = append(last, f)
		default:
			mutations = append(mutations, f)
		}
	}
	return queries, append(mutations, last...)
}

// send is graphql with the transport chosen: queries may go as POST JSON too.
func (p pair) send(t *testing.T, base, query string, vars map[string]any, header map[string]string, post bool) response {
	t.Helper()
	if !post {
		return graphql(t, base, query, vars, header)
	}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// firstItemUID returns the uid of the cart's first item (the same on both sides).
func (p pair) firstItemUID(t *testing.T, cart cartPair) string {
	t.Helper()
	uids := [2]string{}
	for i, c := range []struct{ base, id string }{{p.sidecar, cart.sidecar}, {p.reference, cart.reference}} {
		d := data(t, graphql(t, c.base, `query($c: String!) { cart(cart_id: $c) { items { uid } } }`, map[string]any{"c": c.id}, nil))
		items := d["cart"].(map[string]any)["items"].([]any)
		uids[i] = items[0].(map[string]any)["uid"].(string)
	}
	if uids[0] != uids[1] {
		t.Fatalf("the two stores disagree on item uids: %q vs %q", uids[0], uids[1])
	}
	return uids[0]
}

// normalize decodes a body with the side's cart id and host replaced, so the sides compare.
func normalize(t *testing.T, body []byte, cartID, host string) any {
	t.Helper()
	body = bytes.ReplaceAll(body, []byte(cartID), []byte("CART"))
	body = bytes.ReplaceAll(body, []byte(host), []byte("STORE"))
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("invalid json %s: %v", body, err)
	}
	return v
}

// firstDifference returns the JSON path where got and want first differ, or "".
func firstDifference(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return path + " (object members)"
		}
		for k := range w {
			if d := firstDifference(path+"."+k, g[k], w[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path + " (list length)"
		}
		for i := range w {
			if d := firstDifference(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%s: %v != %v", path, got, want)
	}
	return ""
}

// audienceDiscount reports whether a reference answer shows one of the audience rules' labels.
func audienceDiscount(body []byte) bool {
	for _, label := range []string{"VIP 20%", "Bags: buy 1 get 1", "Welcome back", `"Discount"`, "Club"} {
		if bytes.Contains(body, []byte(label)) {
			return true
		}
	}
	return false
}

// magentoPricesQuery selects what Magento Open Source 2.4.7 prints for a cart's totals.
const magentoPricesQuery = `query MagentoPrices($cartId: String!) { cart(cart_id: $cartId) { id prices {
	subtotal_excluding_tax { value currency }
	subtotal_with_discount_excluding_tax { value currency }
	applied_taxes { label amount { value currency } }
	discounts { label applied_to amount { value currency } }
	discount { label amount { value currency } }
	grand_total { value currency }
} } }`

// TestDifferentialMagentoCases holds the sidecar in front of a plain store, and the reference
// store, to what a real Magento Open Source 2.4.7-p3 printed for issue 12 (the same rules as
// native cart price rules): tax after discount rounded across rows with the default total-base
// method, a cart fixed shipping share that does not fit, one deprecated label per rule; and to
// what Magento's row and unit base calculators compute for the same cart. Both stores answer
// as Open Source, which has no grand_total_excluding_tax.
func TestDifferentialMagentoCases(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, tc := range []struct {
		method     string
		tax, grand float64
	}{
		{"total", 10.60, 139.12}, // Magento's default: 6.44 + 2.84 + 1.32
		{"row", 10.61, 139.13},   // 6.44 + 2.84 + 1.33
		{"unit", 10.61, 139.13},  // 2.15 × 3 + 2.84 + 0.44 × 3
	} {
		t.Run(tc.method, func(t *testing.T) {
			store := []string{"-edition", "open-source", "-tax-calculation", tc.method}
			plain := startStore(t, store...)
			reference := startStore(t, append(store, "-audience-rules", "testdata/magento_rules.json")...)
			p := pair{
				sidecar: startSidecar(t, plain, `audiences {
		rules testdata/magento_rules.json
		tax_rate "US-CA-*-Rate 1" 8.25
		tax_calculation `+tc.method+`
	}`),
				reference: "http://" + reference,
				hosts:     [2]string{plain, reference},
			}

			// Taxable rows 78.03, 34.42, 16.07 after 10 % then 15 %.
			cart := p.cartOf(t, []line{{"24-MB01", 3}, {"24-WB04", 1}, {"24-UG06", 3}}, false, false)
			prices, _ := p.compare(t, magentoPricesQuery, cart, "stack")
			if tax := num(t, prices, "applied_taxes", 0, "amount", "value"); tax != tc.tax {
				t.Errorf("tax %v, Magento printed %v", tax, tc.tax)
			}
			if grand := num(t, prices, "grand_total", "value"); grand != tc.grand {
				t.Errorf("grand total %v, Magento printed %v", grand, tc.grand)
			}
			if tc.method != "total" {
				return
			}

			// Cart fixed 100 on 41.00 of items and 10.00 of shipping: only ITEM 41 is listed.
			cart = p.cartOf(t, []line{{"24-MB01", 1}, {"24-UG06", 1}}, true, false)
			prices, _ = p.compare(t, magentoPricesQuery, cart, "hundred")
			discounts := prices["discounts"].([]any)
			if len(discounts) != 1 || num(t, prices, "discounts", 0, "amount", "value") != 41 ||
				num(t, prices, "discount", "amount", "value") != -51 || num(t, prices, "grand_total", "value") != 0 ||
				num(t, prices, "subtotal_with_discount_excluding_tax", "value") != -10 {
				t.Errorf("cart fixed with shipping: %v", prices)
			}

			// A rule with ITEM and SHIPPING parts is one label of the deprecated discount.
			cart = p.cartOf(t, []line{{"24-MB01", 2}}, true, true)
			prices, _ = p.compare(t, magentoPricesQuery, cart, "shipfan")
			labels := prices["discount"].(map[string]any)["label"]
			if want := []any{"Welcome 10%", "10% incl. shipping"}; !reflect.DeepEqual(labels, want) || len(prices["discounts"].([]any)) != 3 {
				t.Errorf("labels %v, want %v: %v", labels, want, prices)
			}

			// Open Source has no grand_total_excluding_tax: the sidecar passes the error through.
			_, body := p.compare(t, `query($cartId: String!) { cart(cart_id: $cartId) { prices { grand_total_excluding_tax { value } } } }`, cart, "shipfan")
			if !bytes.Contains(body, []byte(`Cannot query field \"grand_total_excluding_tax\" on type \"CartPrices\"`)) {
				t.Errorf("open source answered grand_total_excluding_tax: %s", body)
			}
		})
	}
}

// cartOf builds the same cart on both sides, optionally with flat-rate shipping and the
// store's coupon.
func (p pair) cartOf(t *testing.T, lines []line, shipping, coupon bool) cartPair {
	t.Helper()
	ids := [2]string{}
	for i, base := range []string{p.sidecar, p.reference} {
		ids[i] = newCart(t, base, lines...)
		vars := map[string]any{"c": ids[i]}
		if shipping {
			data(t, graphql(t, base, `mutation($c: String!) { setShippingAddressesOnCart(input: {cart_id: $c, shipping_addresses: [{address: {firstname: "Veronica", lastname: "Costello", street: ["6146 Honey Bluff Parkway"], city: "Calder", region: "MI", region_id: 33, postcode: "49628", country_code: "US", telephone: "5555550100", save_in_address_book: false}}]}) { cart { id } } }`, vars, nil))
			data(t, graphql(t, base, `mutation($c: String!) { setShippingMethodsOnCart(input: {cart_id: $c, shipping_methods: [{carrier_code: "flatrate", method_code: "flatrate"}]}) { cart { id } } }`, vars, nil))
		}
		if coupon {
			data(t, graphql(t, base, `mutation($c: String!) { applyCouponToCart(input: {cart_id: $c, coupon_code: "WELCOME10"}) { cart { id } } }`, vars, nil))
		}
	}
	return cartPair{sidecar: ids[0], reference: ids[1]}
}

// compare sends query for the shopper in segment to both sides, over GET and POST, requires
// identical answers and returns the reference's cart prices (nil when it answered errors) and
// its body.
func (p pair) compare(t *testing.T, query string, cart cartPair, segment string) (map[string]any, []byte) {
	t.Helper()
	query = apolloize(t, query)
	var ref response
	for _, post := range []bool{false, true} {
		side := p.send(t, p.sidecar, query, map[string]any{"cartId": cart.sidecar},
			map[string]string{"aep-segments-membership": segment, "Store": "default"}, post)
		ref = p.send(t, p.reference, query, map[string]any{"cartId": cart.reference},
			map[string]string{"X-Audience-Segments": segment, "Store": "default"}, post)
		got, want := normalize(t, side.body, cart.sidecar, p.hosts[0]), normalize(t, ref.body, cart.reference, p.hosts[1])
		if side.status != ref.status || firstDifference("", got, want) != "" {
			t.Fatalf("post=%v: answers differ at %s\nsidecar:   %s\nreference: %s", post, firstDifference("", got, want), side.body, ref.body)
		}
	}
	if bytes.Contains(ref.body, []byte(`"errors"`)) {
		return nil, ref.body
	}
	return data(t, ref)["cart"].(map[string]any)["prices"].(map[string]any), ref.body
}

// num reads a number at path (member names and list indexes) below v.
func num(t *testing.T, v any, path ...any) float64 {
	t.Helper()
	for _, step := range path {
		switch s := step.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[s]
		case int:
			l, _ := v.([]any)
			if s >= len(l) {
				t.Fatalf("no %v in %v", path, v)
			}
			v = l[s]
		}
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v is %v, not a number", path, v)
	}
	return f
}
