// The store's coupon tests: single and multiple coupons, pools and usage limits over one
// store setup, kept together.

package demostore

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// testCouponRules are the store's coupon rules in the tests; the clock stands at testNow.
const testCouponRules = `{"rules": [
  {"id": "spring", "coupon": "Spring-25", "label": "Spring sale", "action": {"type": "by_percent", "amount": 25}},
  {"id": "big", "coupon": "BIG20", "label": "20 off 100", "conditions": {"field": "subtotal", "op": ">=", "value": 100}, "action": {"type": "cart_fixed", "amount": 20}},
  {"id": "bags", "coupon": "BAGS5", "items": {"field": "sku", "op": "matches", "value": "24-MB*"}, "action": {"type": "by_fixed", "amount": 5}},
  {"id": "summer", "coupon": "SUMMER", "label": "Summer", "to": "2026-06-30", "action": {"type": "by_percent", "amount": 10}},
  {"id": "old", "coupon": "OLD", "to": "2026-01-31", "action": {"type": "by_percent", "amount": 50}},
  {"id": "future", "coupon": "FUTURE", "from": "2027-01-01", "action": {"type": "by_percent", "amount": 50}},
  {"id": "off", "coupon": "OFF", "active": false, "action": {"type": "by_percent", "amount": 50}},
  {"id": "vip", "coupon": "VIP", "audiences": {"any": ["vip"]}, "action": {"type": "by_percent", "amount": 50}}
]}`

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func couponRules(t *testing.T) *rules.RuleSet {
	t.Helper()
	rs, err := rules.Decode([]byte(testCouponRules))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// couponClient is a client of a store with the test coupon rules.
func couponClient(t *testing.T, opts Options) *client {
	t.Helper()
	opts.CouponRules = couponRules(t)
	opts.Now = func() time.Time { return testNow }
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	return newClient(t, opts)
}

const couponCartFields = `applied_coupons { code } applied_coupon { code }
	items { prices { discounts { label amount { value } coupon { code } } } }
	prices { grand_total { value } subtotal_excluding_tax { value } discounts { label amount { value } coupon { code } } discount { amount { value } } }`

func (c *client) applyCoupon(cartID, code string) *result {
	c.t.Helper()
	return c.post(`mutation($id: String!, $code: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: $code}) { cart { `+couponCartFields+` } } }`,
		map[string]any{"id": cartID, "code": code})
}

func (c *client) applyCoupons(cartID, typ string, codes ...string) *result {
	c.t.Helper()
	if codes == nil {
		codes = []string{}
	}
	arg := ""
	if typ != "" {
		arg = ", type: " + typ
	}
	return c.post(`mutation($id: String!, $codes: [String]!) { applyCouponsToCart(input: {cart_id: $id, coupon_codes: $codes`+arg+`}) { cart { `+couponCartFields+` } } }`,
		map[string]any{"id": cartID, "codes": codes})
}

func (c *client) removeCoupons(cartID string, codes ...string) *result {
	c.t.Helper()
	if codes == nil {
		codes = []string{}
	}
	return c.post(`mutation($id: String!, $codes: [String]!) { removeCouponsFromCart(input: {cart_id: $id, coupon_codes: $codes}) { cart { `+couponCartFields+` } } }`,
		map[string]any{"id": cartID, "codes": codes})
}

func (c *client) removeCoupon(cartID string) *result {
	c.t.Helper()
	return c.post(`mutation($id: String!) { removeCouponFromCart(input: {cart_id: $id}) { cart { `+couponCartFields+` } } }`,
		map[string]any{"id": cartID})
}

func (c *client) readCart(cartID string) *result {
	c.t.Helper()
	return c.get(`query($id: String!) { cart(cart_id: $id) { `+couponCartFields+` } }`, "", map[string]any{"id": cartID}).must(c.t)
}

// cartWith creates a guest cart holding sku=qty pairs.
func (c *client) cartWith(items ...any) string {
	c.t.Helper()
	id := c.newCart()
	for i := 0; i < len(items); i += 2 {
		c.add(id, items[i].(string), float64(items[i+1].(int)))
	}
	return id
}

// readyToOrder gives a guest cart an email, addresses, shipping and payment.
func (c *client) readyToOrder(cartID string) {
	c.t.Helper()
	vars := map[string]any{"id": cartID}
	if c.headers["Authorization"] == "" {
		c.post(`mutation($id: String!) { setGuestEmailOnCart(input: {cart_id: $id, email: "guest@example.com"}) { cart { email } } }`, vars).must(c.t)
	}
	c.shipTo(cartID)
	c.post(`mutation($id: String!) { setBillingAddressOnCart(input: {cart_id: $id, billing_address: {same_as_shipping: true}}) { cart { id } } }`, vars).must(c.t)
	c.post(`mutation($id: String!) { setPaymentMethodOnCart(input: {cart_id: $id, payment_method: {code: "checkmo"}}) { cart { id } } }`, vars).must(c.t)
}

const placeOrderMutation = `mutation($id: String!) { placeOrder(input: {cart_id: $id}) {
	order { order_number } errors { code message }
	orderV2 { number email grand_total applied_coupons { code }
		total { subtotal { value currency } discounts { amount { value currency } label coupon { code } } total_tax { value } total_shipping { value } grand_total { value currency } } }
} }`

func (c *client) placeOrder(cartID string) *result {
	c.t.Helper()
	return c.post(placeOrderMutation, map[string]any{"id": cartID})
}

func (c *client) setClock(at string) *result {
	c.t.Helper()
	method := http.MethodPost
	if at == "" {
		method = http.MethodDelete
	}
	return c.do(httptest.NewRequest(method, clockPath+"?at="+at, nil))
}

// codes returns the applied coupon codes under a cart path, "" joined by commas.
func (r *result) codes(t *testing.T, p string) string {
	t.Helper()
	list, _ := r.path(t, p).([]any)
	var out []string
	for _, x := range list {
		out = append(out, x.(map[string]any)["code"].(string))
	}
	return strings.Join(out, ",")
}

// discounts returns a cart's discount list as "label=amount/coupon" entries.
func (r *result) discounts(t *testing.T, p string) string {
	t.Helper()
	list, _ := r.path(t, p).([]any)
	var out []string
	for _, x := range list {
		d := x.(map[string]any)
		coupon := ""
		if cp, ok := d["coupon"].(map[string]any); ok {
			coupon = "/" + cp["code"].(string)
		}
		out = append(out, fmt.Sprintf("%s=%v%s", d["label"], d["amount"].(map[string]any)["value"], coupon))
	}
	return strings.Join(out, ",")
}

func (r *result) wantError(t *testing.T, message, category string) {
	t.Helper()
	if r.firstError() != message || r.category() != category {
		t.Fatalf("want %q (%s), got %s", message, category, r.body)
	}
}

func TestApplyCouponMessages(t *testing.T) {
	c := couponClient(t, Options{})
	big := c.cartWith("24-MB01", 2, "24-WG02", 1) // subtotal 160
	small := c.cartWith("24-MB01", 1)             // subtotal 34
	watch := c.cartWith("24-WG02", 1)             // no bag
	empty := c.newCart()
	tests := []struct {
		name, cartID, code, message, category string
	}{
		{"empty cart", empty, "Spring-25", msgCouponEmptyCart, categoryNoSuchEntity},
		{"unknown code", big, "SPRING", msgCouponInvalid, categoryNoSuchEntity},
		{"rule inactive", big, "OFF", msgCouponInvalid, categoryNoSuchEntity},
		{"rule expired", big, "old", msgCouponInvalid, categoryNoSuchEntity},
		{"rule not started", big, "FUTURE", msgCouponInvalid, categoryNoSuchEntity},
		{"audience not matched", big, "VIP", msgCouponInvalid, categoryNoSuchEntity},
		{"conditions false", small, "BIG20", msgCouponInvalid, categoryNoSuchEntity},
		{"no eligible items", watch, "BAGS5", msgCouponInvalid, categoryNoSuchEntity},
		{"blank code", big, " ", `Required parameter "coupon_code" is missing`, categoryInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.applyCoupon(tt.cartID, tt.code).wantError(t, tt.message, tt.category)
			if r := c.readCart(tt.cartID); r.path(t, "cart.applied_coupons") != nil {
				t.Fatalf("a refused coupon is on the cart: %s", r.body)
			}
		})
	}

	// Codes match case-insensitively; the cart keeps the code as the rule defines it.
	r := c.applyCoupon(big, "spring-25").must(t)
	if got := r.codes(t, "applyCouponToCart.cart.applied_coupons"); got != "Spring-25" || r.str(t, "applyCouponToCart.cart.applied_coupon.code") != "Spring-25" {
		t.Fatalf("applied: %s", r.body)
	}
	if got := r.discounts(t, "applyCouponToCart.cart.prices.discounts"); got != "Spring sale=40/Spring-25" {
		t.Errorf("cart discounts %q", got)
	}
	if got := r.discounts(t, "applyCouponToCart.cart.items.0.prices.discounts"); got != "Spring sale=17/Spring-25" {
		t.Errorf("item discounts %q", got)
	}
	// 160 - 40 = 120, tax 8.25% per item: 4.21 + 5.69
	if got := r.num(t, "applyCouponToCart.cart.prices.grand_total.value"); got != 129.9 {
		t.Errorf("grand total %v", got)
	}
	// Any coupon on the cart refuses another, even the same one.
	for _, code := range []string{"Spring-25", "SPRING-25", "WELCOME10", "NOPE"} {
		c.applyCoupon(big, code).wantError(t, msgCouponAlreadyThere, categoryInput)
	}
	r = c.removeCoupon(big).must(t)
	if r.path(t, "removeCouponFromCart.cart.applied_coupons") != nil || r.path(t, "removeCouponFromCart.cart.prices.discounts") != nil {
		t.Fatalf("after remove: %s", r.body)
	}

	// A rule without a label shows its code; cart conditions and item filters decide.
	r = c.applyCoupon(big, "bags5").must(t)
	if got := r.discounts(t, "applyCouponToCart.cart.prices.discounts"); got != "BAGS5=10/BAGS5" {
		t.Errorf("bags: %q", got)
	}
	if got := r.discounts(t, "applyCouponToCart.cart.items.1.prices.discounts"); got != "" {
		t.Errorf("the watch is not a bag: %q", got)
	}
	c.removeCoupon(big).must(t)
	r = c.applyCoupon(big, "big20").must(t)
	if got := r.discounts(t, "applyCouponToCart.cart.prices.discounts"); got != "20 off 100=20/BIG20" {
		t.Errorf("big: %q", got)
	}
	c.headers["X-Audience-Segments"] = "vip"
	vip := c.cartWith("24-WG02", 1)
	if r := c.applyCoupon(vip, "vip").must(t); r.discounts(t, "applyCouponToCart.cart.prices.discounts") != "VIP=46/VIP" {
		t.Errorf("vip: %s", r.body)
	}
}

func TestMultiCoupon(t *testing.T) {
	c := couponClient(t, Options{MaxCoupons: 2})
	id := c.cartWith("24-MB01", 2, "24-WG02", 1)
	path := "applyCouponsToCart.cart."

	r := c.applyCoupons(id, "", "spring-25").must(t) // type defaults to REPLACE
	if got := r.codes(t, path+"applied_coupons"); got != "Spring-25" {
		t.Fatalf("replace: %s", r.body)
	}
	r = c.applyCoupons(id, "APPEND", "Bags5").must(t)
	if got := r.codes(t, path+"applied_coupons"); got != "Spring-25,BAGS5" {
		t.Fatalf("append: %s", r.body)
	}
	// Rules run by priority, then id: BAGS5 takes 5 per bag, Spring-25 a quarter of what is left.
	if got := r.discounts(t, path+"prices.discounts"); got != "BAGS5=10/BAGS5,Spring sale=37.5/Spring-25" {
		t.Errorf("discounts %q", got)
	}
	if got := r.discounts(t, path+"items.0.prices.discounts"); got != "BAGS5=10/BAGS5,Spring sale=14.5/Spring-25" {
		t.Errorf("item discounts %q", got)
	}
	if r.str(t, path+"applied_coupon.code") != "Spring-25" {
		t.Errorf("applied_coupon: %s", r.body)
	}

	c.applyCoupons(id, "APPEND", "WELCOME10").wantError(t, msgCouponsTooMany, categoryInput)
	c.applyCoupons(id, "REPLACE", "WELCOME10", "BIG20", "bags5").wantError(t, msgCouponsTooMany, categoryInput)
	c.applyCoupons(id, "APPEND", "bags5").must(t) // already there: nothing to do
	c.applyCoupons(id, "REPLACE", "WELCOME10", "Nope").wantError(t, `The following coupon codes could not be applied: "Nope".`, categoryInput)
	c.applyCoupons(id, "REPLACE", "old", "FUTURE").wantError(t, `The following coupon codes could not be applied: "old","FUTURE".`, categoryInput)
	if got := c.readCart(id).codes(t, "cart.applied_coupons"); got != "Spring-25,BAGS5" {
		t.Fatalf("invalid codes changed the cart: %s", got)
	}
	c.applyCoupon(id, "WELCOME10").wantError(t, msgCouponAlreadyThere, categoryInput)

	r = c.removeCoupons(id, "spring-25").must(t)
	if got := r.codes(t, "removeCouponsFromCart.cart.applied_coupons"); got != "BAGS5" {
		t.Fatalf("remove one: %s", r.body)
	}
	if r = c.removeCoupons(id).must(t); r.path(t, "removeCouponsFromCart.cart.applied_coupons") != nil {
		t.Fatalf("remove all: %s", r.body)
	}

	// A valid code that does not apply is dropped after the others are applied, and named.
	small := c.cartWith("24-MB01", 1)
	c.applyCoupons(small, "REPLACE", "welcome10", "big20").wantError(t, `The following coupon codes could not be applied: "big20".`, categoryInput)
	if got := c.readCart(small).codes(t, "cart.applied_coupons"); got != "WELCOME10" {
		t.Fatalf("partial apply: %q", got)
	}
	if r = c.applyCoupons(small, "REPLACE").must(t); r.path(t, path+"applied_coupons") != nil {
		t.Fatalf("replace with nothing: %s", r.body)
	}
	c.applyCoupons(c.newCart(), "REPLACE", "WELCOME10").wantError(t, msgCouponEmptyCart, categoryInput)
	c.applyCoupons("", "REPLACE", "WELCOME10").wantError(t, msgCartIDMissingStop, categoryInput)
}

func TestSingleCouponSlotMutations(t *testing.T) {
	c := couponClient(t, Options{})
	id := c.cartWith("24-MB01", 2)
	path := "applyCouponsToCart.cart.applied_coupons"
	if got := c.applyCoupons(id, "REPLACE", "Spring-25").must(t).codes(t, path); got != "Spring-25" {
		t.Fatalf("replace: %q", got)
	}
	if got := c.applyCoupons(id, "REPLACE", "bags5").must(t).codes(t, path); got != "BAGS5" {
		t.Fatalf("replace swaps: %q", got)
	}
	c.applyCoupons(id, "APPEND", "WELCOME10").wantError(t, msgCouponsTooMany, categoryInput)
	c.applyCoupons(id, "REPLACE", "WELCOME10", "Spring-25").wantError(t, msgCouponsTooMany, categoryInput)
	c.applyCoupons(id, "APPEND", "BAGS5").must(t)
	c.applyCoupon(id, "BAGS5").wantError(t, msgCouponAlreadyThere, categoryInput)
	// With one slot, removeCouponsFromCart removes whatever is there.
	if r := c.removeCoupons(id, "WELCOME10").must(t); r.path(t, "removeCouponsFromCart.cart.applied_coupons") != nil {
		t.Fatalf("remove: %s", r.body)
	}
	c.removeCoupons(c.newCart(), "WELCOME10").wantError(t, msgCouponRemoveEmpty, categoryNoSuchEntity)
}

func TestCouponRevalidatedOnRead(t *testing.T) {
	c := couponClient(t, Options{})

	// The cart changes: BIG20's condition stops holding.
	id := c.cartWith("24-MB01", 2, "24-WG02", 1)
	c.applyCoupon(id, "BIG20").must(t)
	items := c.post(`query($id: String!) { cart(cart_id: $id) { items { uid } } }`, map[string]any{"id": id}).must(t)
	c.post(`mutation($id: String!, $uid: ID!) { updateCartItems(input: {cart_id: $id, cart_items: [{cart_item_uid: $uid, quantity: 0}]}) { cart { id } } }`,
		map[string]any{"id": id, "uid": items.str(t, "cart.items.1.uid")}).must(t)
	r := c.readCart(id)
	if r.codes(t, "cart.applied_coupons") != "BIG20" || r.path(t, "cart.prices.discounts") != nil || r.path(t, "cart.prices.discount") != nil ||
		r.num(t, "cart.prices.grand_total.value") != 73.61 {
		t.Fatalf("coupon no longer applies: %s", r.body)
	}
	// The cart grows back: the coupon applies again.
	c.add(id, "24-WG02", 1)
	if got := c.readCart(id).discounts(t, "cart.prices.discounts"); got != "20 off 100=20/BIG20" {
		t.Fatalf("applies again: %q", got)
	}

	// The rule expires while the coupon is on the cart.
	summer := c.cartWith("24-MB01", 2)
	c.applyCoupon(summer, "summer").must(t)
	if got := c.readCart(summer).discounts(t, "cart.prices.discounts"); got != "Summer=6.8/SUMMER" {
		t.Fatalf("summer: %q", got)
	}
	if r := c.setClock("2026-07-01T00:00:00Z"); r.status != http.StatusOK {
		t.Fatalf("clock: %d %s", r.status, r.body)
	}
	r = c.readCart(summer)
	if r.codes(t, "cart.applied_coupons") != "SUMMER" || r.path(t, "cart.prices.discounts") != nil || r.num(t, "cart.prices.grand_total.value") != 73.61 {
		t.Fatalf("expired coupon: %s", r.body)
	}
	c.setClock("")
	if got := c.readCart(summer).discounts(t, "cart.prices.discounts"); got != "Summer=6.8/SUMMER" {
		t.Fatalf("clock reset: %q", got)
	}
}

func TestPlaceOrderRefusedWhenCouponStopsApplying(t *testing.T) {
	c := couponClient(t, Options{})
	id := c.cartWith("24-MB01", 2)
	c.applyCoupon(id, "SUMMER").must(t)
	c.readyToOrder(id)
	c.setClock("2026-07-01T00:00:00Z")

	r := c.placeOrder(id)
	r.wantError(t, msgCouponInvalid, categoryInput)
	if r.resp.Errors[0].Extensions["error_code"] != "UNDEFINED" || len(c.store.orders) != 0 {
		t.Fatalf("refusal: %s", r.body)
	}
	// Nothing was charged and the cart is still there: the shopper removes the coupon and pays
	// the price the cart now shows.
	shown := c.removeCoupon(id).must(t).num(t, "removeCouponFromCart.cart.prices.grand_total.value")
	r = c.placeOrder(id).must(t)
	if r.num(t, "placeOrder.orderV2.total.grand_total.value") != shown || shown != 83.61 || r.codes(t, "placeOrder.orderV2.applied_coupons") != "" {
		t.Fatalf("order at full price (cart showed %v): %s", shown, r.body)
	}
}

func TestPlacedOrderRecordsWhatWasCharged(t *testing.T) {
	c := couponClient(t, Options{MaxCoupons: 2})
	c.headers["Authorization"] = "Bearer " + demoCustomerToken
	id := c.post(`{ customerCart { id } }`, nil).must(t).str(t, "customerCart.id")
	c.add(id, "24-MB01", 2)
	c.add(id, "24-WG02", 1)
	c.add(id, "VGC-50", 1)
	c.applyCoupons(id, "REPLACE", "spring-25", "BAGS5").must(t)
	c.readyToOrder(id)
	cart := c.readCart(id)

	r := c.placeOrder(id).must(t)
	o := "placeOrder.orderV2."
	for _, p := range []struct{ order, cart string }{
		{"total.grand_total.value", "cart.prices.grand_total.value"},
		{"total.subtotal.value", "cart.prices.subtotal_excluding_tax.value"},
		{"total.discounts.0.amount.value", "cart.prices.discounts.0.amount.value"},
	} {
		if p.order == "total.discounts.0.amount.value" {
			// The order has one discount line: the sum of the cart's.
			if got, want := r.num(t, o+p.order), cart.num(t, "cart.prices.discount.amount.value"); got != -want {
				t.Errorf("order discount %v, cart discount %v", got, want)
			}
			continue
		}
		if got, want := r.num(t, o+p.order), cart.num(t, p.cart); got != want {
			t.Errorf("%s = %v, cart showed %v", p.order, got, want)
		}
	}
	// 68 + 92 + 50 = 210; BAGS5 10, then Spring 25% of 200; tax on 150, its rounding carried
	// from item to item (total base): 12.375 → 12.38; shipping 3 × 5.
	if r.num(t, o+"total.grand_total.value") != 177.38 || r.num(t, o+"grand_total") != 177.38 ||
		r.str(t, o+"total.discounts.0.label") != "BAGS5, Spring sale" || r.codes(t, o+"applied_coupons") != "Spring-25,BAGS5" ||
		r.num(t, o+"total.total_shipping.value") != 15 || r.num(t, o+"total.total_tax.value") != 12.38 ||
		r.str(t, o+"email") != demoCustomerEmail || r.str(t, "placeOrder.order.order_number") != r.str(t, o+"number") {
		t.Fatalf("order: %s", r.body)
	}

	orders := `query($page: Int) { customer { email firstname lastname orders(pageSize: 1, currentPage: $page) {
		items { number order_date status grand_total applied_coupons { code }
			total { grand_total { value currency } subtotal { value } discounts { amount { value } label } total_tax { value } total_shipping { value } } }
		total_count page_info { total_pages } } } }`
	cr := c.post(orders, map[string]any{"page": 1}).must(t)
	if cr.num(t, "customer.orders.total_count") != 1 || cr.str(t, "customer.orders.items.0.number") != r.str(t, o+"number") ||
		cr.num(t, "customer.orders.items.0.total.grand_total.value") != 177.38 || cr.codes(t, "customer.orders.items.0.applied_coupons") != "Spring-25,BAGS5" ||
		cr.str(t, "customer.firstname") != demoCustomerFirstname || cr.str(t, "customer.orders.items.0.order_date") != "2026-06-01 12:00:00" {
		t.Fatalf("customer.orders: %s", cr.body)
	}
	if cr = c.post(orders, map[string]any{"page": 2}).must(t); len(cr.path(t, "customer.orders.items").([]any)) != 0 {
		t.Fatalf("page 2: %s", cr.body)
	}
	guestOrder := `query($n: String!, $e: String!, $l: String!) { guestOrder(input: {number: $n, email: $e, lastname: $l}) { number total { grand_total { value } } applied_coupons { code } } }`
	vars := map[string]any{"n": r.str(t, o+"number"), "e": demoCustomerEmail, "l": "Costello"}
	c.post(guestOrder, vars).wantError(t, msgGuestOrderLogin, categoryAuthorization)

	delete(c.headers, "Authorization")
	c.post(`{ customer { email } }`, nil).wantError(t, msgCustomerUnknown, categoryAuthorization)
	guest := c.cartWith("24-UG06", 1)
	c.applyCoupon(guest, "WELCOME10").must(t)
	c.readyToOrder(guest)
	shown := c.readCart(guest).num(t, "cart.prices.grand_total.value")
	number := c.placeOrder(guest).must(t).str(t, o+"number")
	gr := c.post(guestOrder, map[string]any{"n": number, "e": "GUEST@example.com", "l": "costello"}).must(t)
	if gr.num(t, "guestOrder.total.grand_total.value") != shown || gr.codes(t, "guestOrder.applied_coupons") != couponCode {
		t.Fatalf("guestOrder: %s", gr.body)
	}
	c.post(guestOrder, map[string]any{"n": number, "e": "guest@example.com", "l": "Smith"}).wantError(t, msgGuestOrderNotFound, categoryNoSuchEntity)
}

func TestCouponUsageLimit(t *testing.T) {
	c := couponClient(t, Options{CouponUses: map[string]int{"spring-25": 1}})
	first, second := c.cartWith("24-MB01", 1), c.cartWith("24-MB01", 1)
	for _, id := range []string{first, second} {
		c.applyCoupon(id, "Spring-25").must(t)
		c.readyToOrder(id)
	}
	c.placeOrder(first).must(t)
	// The last use is gone: the other cart keeps the code but not the discount, and its
	// order is refused rather than charged more than the shopper saw before.
	r := c.readCart(second)
	if r.codes(t, "cart.applied_coupons") != "Spring-25" || r.path(t, "cart.prices.discounts") != nil {
		t.Fatalf("used up: %s", r.body)
	}
	c.placeOrder(second).wantError(t, msgCouponInvalid, categoryInput)
	c.applyCoupon(c.cartWith("24-MB01", 1), "spring-25").wantError(t, msgCouponInvalid, categoryNoSuchEntity)
	c.removeCoupon(second).must(t)
	c.placeOrder(second).must(t)
}

func TestCouponLastUseRace(t *testing.T) {
	c := couponClient(t, Options{CouponUses: map[string]int{"Spring-25": 1}})
	a, b := c.cartWith("24-MB01", 1), c.cartWith("24-MB01", 1)
	for _, id := range []string{a, b} {
		c.applyCoupon(id, "spring-25").must(t)
		c.readyToOrder(id)
	}
	// Both orders pass validation before either counts its use, as two PHP workers would.
	var validated sync.WaitGroup
	validated.Add(2)
	c.store.beforeCommit = func() {
		validated.Done()
		validated.Wait()
	}
	results := make([]*result, 2)
	var wg sync.WaitGroup
	for i, id := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.placeOrder(id)
		}()
	}
	wg.Wait()
	var won, lost int
	for _, r := range results {
		switch {
		case len(r.resp.Errors) == 0:
			won++
		case r.firstError() == "Spring-25 coupon exceeds usage limit." && r.category() == categoryInput:
			lost++
		default:
			t.Errorf("unexpected answer: %s", r.body)
		}
	}
	if won != 1 || lost != 1 || len(c.store.orders) != 1 {
		t.Fatalf("won %d, lost %d, %d orders", won, lost, len(c.store.orders))
	}
	if u := c.store.coupons.usageOf("SPRING-25"); u.used.Load() != 1 {
		t.Fatalf("used %d times", u.used.Load())
	}
}

func TestCouponLastUseUnderLoad(t *testing.T) {
	c := couponClient(t, Options{CouponUses: map[string]int{"BAGS5": 1}})
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = c.cartWith("24-MB01", 1)
		c.applyCoupon(ids[i], "BAGS5").must(t)
		c.readyToOrder(ids[i])
	}
	results := make([]*result, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.placeOrder(id)
		}()
	}
	wg.Wait()
	won := 0
	for _, r := range results {
		switch r.firstError() {
		case "":
			won++
			if r.num(t, "placeOrder.orderV2.total.grand_total.value") != 36.39 {
				t.Errorf("winner charged: %s", r.body)
			}
		case msgCouponInvalid, "BAGS5 coupon exceeds usage limit.":
		default:
			t.Errorf("unexpected answer: %s", r.body)
		}
	}
	if won != 1 || len(c.store.orders) != 1 {
		t.Fatalf("%d orders won", won)
	}
}

func TestConcurrentCouponMutations(t *testing.T) {
	c := couponClient(t, Options{MaxCoupons: 3})
	id := c.cartWith("24-MB01", 2, "24-WG02", 1)
	var wg sync.WaitGroup
	for _, code := range []string{"Spring-25", "BAGS5", "WELCOME10", "BIG20"} {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c.applyCoupons(id, "APPEND", code)
		}()
		go func() {
			defer wg.Done()
			c.readCart(id)
		}()
	}
	wg.Wait()
	if got := c.readCart(id).codes(t, "cart.applied_coupons"); strings.Count(got, ",") != 2 {
		t.Fatalf("at most 3 coupons, got %q", got)
	}
}

func TestBuiltinCouponOverridden(t *testing.T) {
	rs, err := rules.Decode([]byte(`{"rules": [{"id": "w", "coupon": "welcome10", "action": {"type": "by_percent", "amount": 50}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{CouponRules: rs})
	id := c.cartWith("24-MB01", 1)
	r := c.applyCoupon(id, "WELCOME10").must(t)
	if got := r.discounts(t, "applyCouponToCart.cart.prices.discounts"); got != "welcome10=17/welcome10" {
		t.Fatalf("overridden WELCOME10: %q", got)
	}
}

func TestClockEndpoint(t *testing.T) {
	c := newClient(t, Options{Now: func() time.Time { return testNow }})
	now := func(r *result) string {
		t.Helper()
		var v struct{ Now string }
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatalf("%s: %v", r.body, err)
		}
		return v.Now
	}
	if r := c.do(httptest.NewRequest(http.MethodGet, clockPath, nil)); r.status != http.StatusOK || now(r) != "2026-06-01T12:00:00Z" {
		t.Fatalf("GET: %d %s", r.status, r.body)
	}
	if r := c.setClock("2026-07-01T00:00:00Z"); r.status != http.StatusOK || now(r) != "2026-07-01T00:00:00Z" || !c.store.Now().Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	if r := c.setClock("tomorrow"); r.status != http.StatusBadRequest {
		t.Fatalf("bad time: %d %s", r.status, r.body)
	}
	if r := c.setClock(""); r.status != http.StatusOK || now(r) != "2026-06-01T12:00:00Z" {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if r := c.do(httptest.NewRequest(http.MethodPut, clockPath, nil)); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", r.status)
	}
}

func TestCouponOptions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := LoadCouponRules(write("ok.json", testCouponRules)); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	for name, data := range map[string]string{
		"no coupon": `{"rules": [{"id": "a", "action": {"type": "by_percent", "amount": 5}}]}`,
		"enforced":  `{"rules": [{"id": "a", "enforce": {"coupon": "X"}}]}`,
		"invalid":   `{"rules": [{"id": "a", "coupon": "X"}]}`,
	} {
		if _, err := LoadCouponRules(write(name+".json", data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	rs := couponRules(t)
	for _, tt := range []struct {
		uses map[string]int
		ok   bool
	}{
		{map[string]int{"spring-25": 1, "welcome10": 0}, true},
		{map[string]int{"NOPE": 1}, false},
		{map[string]int{"BIG20": -1}, false},
	} {
		if err := (Options{CouponRules: rs, CouponUses: tt.uses}).Validate(); (err == nil) != tt.ok {
			t.Errorf("uses %v: %v", tt.uses, err)
		}
	}
}

func TestCouponPool(t *testing.T) {
	c := couponClient(t, Options{CouponPools: map[string][]string{"spring": {"SPRPOOL-A1", "SPRPOOL-B2"}}})
	first, second, third := c.cartWith("24-MB01", 1), c.cartWith("24-MB01", 1), c.cartWith("24-MB01", 1)
	r := c.applyCoupon(first, "sprpool-a1").must(t)
	// Like the rule's own coupon, tagged with the code on the cart.
	if r.codes(t, "applyCouponToCart.cart.applied_coupons") != "SPRPOOL-A1" ||
		r.discounts(t, "applyCouponToCart.cart.prices.discounts") != "Spring sale=8.5/SPRPOOL-A1" {
		t.Fatalf("pool code: %s", r.body)
	}
	c.applyCoupon(second, "SPRPOOL-A1").must(t)
	c.applyCoupon(third, "SPRPOOL-B2").must(t)
	for _, id := range []string{first, second} {
		c.readyToOrder(id)
	}
	if r := c.placeOrder(first).must(t); r.codes(t, "placeOrder.orderV2.applied_coupons") != "SPRPOOL-A1" {
		t.Fatalf("order: %s", r.body)
	}
	// Each pool code serves one order.
	c.placeOrder(second).wantError(t, msgCouponInvalid, categoryInput)
	c.applyCoupon(c.cartWith("24-MB01", 1), "SPRPOOL-A1").wantError(t, msgCouponInvalid, categoryNoSuchEntity)
	if r := c.readCart(third); r.codes(t, "cart.applied_coupons") != "SPRPOOL-B2" || r.path(t, "cart.prices.discounts") == nil {
		t.Fatalf("the other pool code still applies: %s", r.body)
	}
}
