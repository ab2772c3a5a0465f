package demostore

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

const itemsQuery = `query($id: String!) { cart(cart_id: $id) {
	total_quantity
	items { __typename uid id quantity product { sku } ... on ConfigurableCartItem { configured_variant { sku } } }
} }`

func TestAddProductsToCart(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	c.add(id, "24-MB01", 1)
	c.add(id, "24-mb01", 2) // SKUs match case-insensitively and identical lines merge
	c.post(`mutation($id: String!, $opts: [ID!]) { addProductsToCart(cartId: $id, cartItems: [
		{sku: "MH01", quantity: 1, selected_options: $opts},
		{sku: "MH01-XS-Black", parent_sku: "MH01", quantity: 1},
		{sku: "MH01-XS-Black", quantity: 1},
		{sku: "VGC-50", quantity: 1}
	]) { user_errors { code message } } }`, map[string]any{"id": id, "opts": []string{
		optionValueUID(attrSize, 167), optionValueUID(attrColor, 49),
	}}).must(t)

	r := c.get(itemsQuery, "", map[string]any{"id": id}).must(t)
	want := []struct{ typename, sku, variant string }{
		{"SimpleCartItem", "24-MB01", ""},
		{"ConfigurableCartItem", "MH01", "MH01-S-Black"},
		{"ConfigurableCartItem", "MH01", "MH01-XS-Black"},
		{"SimpleCartItem", "MH01-XS-Black", ""},
		{"VirtualCartItem", "VGC-50", ""},
	}
	items := r.path(t, "cart.items").([]any)
	if len(items) != len(want) || r.num(t, "cart.total_quantity") != 7 {
		t.Fatalf("items: %s", r.body)
	}
	for i, w := range want {
		p := "cart.items." + strconv.Itoa(i)
		if r.str(t, p+".__typename") != w.typename || r.str(t, p+".product.sku") != w.sku {
			t.Errorf("item %d: %s", i, r.body)
		}
		if w.variant != "" && r.str(t, p+".configured_variant.sku") != w.variant {
			t.Errorf("item %d variant: %s", i, r.body)
		}
		itemID := r.str(t, p+".id")
		if uid := r.str(t, p+".uid"); uid != base64.StdEncoding.EncodeToString([]byte(itemID)) {
			t.Errorf("uid %s is not base64 of id %s", uid, itemID)
		}
	}
	if r.num(t, "cart.items.0.quantity") != 3 {
		t.Errorf("merged quantity: %s", r.body)
	}

	r = c.post(`mutation($id: String!) { addProductsToCart(cartId: $id, cartItems: [
		{sku: "NOPE", quantity: 1}, {sku: "MH01", quantity: 1}, {sku: "24-UG06", quantity: 0}, {sku: "24-UG06", quantity: 1.5}
	]) { cart { total_quantity } user_errors { __typename code message } } }`, map[string]any{"id": id}).must(t)
	wantErrors := []string{
		`CartUserInputError PRODUCT_NOT_FOUND Could not find a product with SKU "NOPE"`,
		"CartUserInputError UNDEFINED You need to choose options for your item.",
		"CartUserInputError INVALID_PARAMETER_VALUE The product quantity should be greater than 0",
		"CartUserInputError INVALID_PARAMETER_VALUE You cannot use decimal quantity for this product.",
	}
	for i, w := range wantErrors {
		p := fmt.Sprintf("addProductsToCart.user_errors.%d.", i)
		if got := r.str(t, p+"__typename") + " " + r.str(t, p+"code") + " " + r.str(t, p+"message"); got != w {
			t.Errorf("user error %d = %q, want %q", i, got, w)
		}
	}
	if r.num(t, "addProductsToCart.cart.total_quantity") != 7 {
		t.Errorf("refused items were added: %s", r.body)
	}
}

func TestLegacyAddMutations(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	vars := map[string]any{"id": id}
	c.post(`mutation($id: String!) { addSimpleProductsToCart(input: {cart_id: $id, cart_items: [{data: {sku: "24-WB04", quantity: 2}}]}) { cart { id } } }`, vars).must(t)
	c.post(`mutation($id: String!) { addVirtualProductsToCart(input: {cart_id: $id, cart_items: [{data: {sku: "VGC-50", quantity: 1}}]}) { cart { id } } }`, vars).must(t)
	c.post(`mutation($id: String!) { addConfigurableProductsToCart(input: {cart_id: $id, cart_items: [{parent_sku: "MH01", data: {sku: "MH01-M-Black", quantity: 1}}]}) { cart { id } } }`, vars).must(t)
	r := c.get(itemsQuery, "", vars).must(t)
	if r.num(t, "cart.total_quantity") != 4 || r.str(t, "cart.items.2.configured_variant.sku") != "MH01-M-Black" {
		t.Fatalf("legacy adds: %s", r.body)
	}

	r = c.post(`mutation($id: String!) { addSimpleProductsToCart(input: {cart_id: $id, cart_items: [{data: {sku: "NOPE", quantity: 1}}]}) { cart { id } } }`, vars)
	if r.firstError() != `Could not find a product with SKU "NOPE"` || r.category() != categoryNoSuchEntity {
		t.Fatalf("unknown SKU: %s", r.body)
	}
	r = c.post(`mutation { addSimpleProductsToCart(input: {cart_id: "unknown", cart_items: [{data: {sku: "24-MB01", quantity: 1}}]}) { cart { id } } }`, nil)
	if r.firstError() != `Could not find a cart with ID "unknown"` || r.category() != categoryNoSuchEntity {
		t.Fatalf("unknown cart: %s", r.body)
	}
}

func TestUpdateAndRemoveItems(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	c.add(id, "24-MB01", 1)
	c.add(id, "24-MB04", 1)
	c.add(id, "24-UG06", 1)
	r := c.get(itemsQuery, "", map[string]any{"id": id}).must(t)
	uid0, uid1 := r.str(t, "cart.items.0.uid"), r.str(t, "cart.items.1.uid")
	id2, _ := strconv.Atoi(r.str(t, "cart.items.2.id"))

	r = c.post(`mutation($id: String!, $a: ID!, $b: ID!) { updateCartItems(input: {cart_id: $id, cart_items: [
		{cart_item_uid: $a, quantity: 4}, {cart_item_uid: $b, quantity: 0}]}) { cart { total_quantity items { uid } } errors { code message } } }`,
		map[string]any{"id": id, "a": uid0, "b": uid1}).must(t)
	if r.num(t, "updateCartItems.cart.total_quantity") != 5 || len(r.path(t, "updateCartItems.cart.items").([]any)) != 2 ||
		len(r.path(t, "updateCartItems.errors").([]any)) != 0 {
		t.Fatalf("update: %s", r.body)
	}

	r = c.post(`mutation($id: String!, $item: Int) { removeItemFromCart(input: {cart_id: $id, cart_item_id: $item}) { cart { total_quantity } } }`,
		map[string]any{"id": id, "item": id2}).must(t)
	if r.num(t, "removeItemFromCart.cart.total_quantity") != 4 {
		t.Fatalf("remove: %s", r.body)
	}
	r = c.post(`mutation($id: String!, $uid: ID) { removeItemFromCart(input: {cart_id: $id, cart_item_uid: $uid}) { cart { total_quantity } } }`,
		map[string]any{"id": id, "uid": uid1})
	if r.firstError() != msgItemNotInCart || r.category() != categoryNoSuchEntity {
		t.Fatalf("remove twice: %s", r.body)
	}
	r = c.post(`mutation($id: String!) { updateCartItems(input: {cart_id: $id, cart_items: [{cart_item_id: 999, quantity: 1}]}) { cart { id } } }`,
		map[string]any{"id": id})
	if r.firstError() != "Could not find cart item with id: 999." {
		t.Fatalf("update unknown item: %s", r.body)
	}
}

func TestCoupons(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	apply := func(code string) *result {
		return c.post(`mutation($id: String!, $code: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: $code}) {
			cart { applied_coupons { code } applied_coupon { code } prices { discounts { label amount { value } coupon { code } } } } } }`,
			map[string]any{"id": id, "code": code})
	}
	remove := func() *result {
		return c.post(`mutation($id: String!) { removeCouponFromCart(input: {cart_id: $id}) {
			cart { applied_coupons { code } applied_coupon { code } prices { discounts { label } discount { label } } } } }`,
			map[string]any{"id": id})
	}

	if r := apply("WELCOME10"); r.firstError() != msgCouponEmptyCart || r.category() != categoryNoSuchEntity {
		t.Fatalf("empty cart: %s", r.body)
	}
	if r := remove(); r.firstError() != msgCouponRemoveEmpty {
		t.Fatalf("remove on empty cart: %s", r.body)
	}
	c.add(id, "24-WG02", 1)
	if r := apply("SPRING"); r.firstError() != msgCouponInvalid || r.category() != categoryNoSuchEntity {
		t.Fatalf("invalid code: %s", r.body)
	}
	r := apply("welcome10").must(t)
	if r.str(t, "applyCouponToCart.cart.applied_coupons.0.code") != couponCode ||
		r.str(t, "applyCouponToCart.cart.applied_coupon.code") != couponCode ||
		r.num(t, "applyCouponToCart.cart.prices.discounts.0.amount.value") != 9.2 ||
		r.str(t, "applyCouponToCart.cart.prices.discounts.0.coupon.code") != couponCode {
		t.Fatalf("apply: %s", r.body)
	}
	if r := apply("WELCOME10"); r.firstError() != msgCouponAlreadyThere || r.category() != categoryInput {
		t.Fatalf("second coupon: %s", r.body)
	}
	r = remove().must(t)
	for _, p := range []string{"applied_coupons", "applied_coupon", "prices.discounts", "prices.discount"} {
		if v := r.path(t, "removeCouponFromCart.cart."+p); v != nil {
			t.Errorf("%s = %v after removal, want null", p, v)
		}
	}
}

func TestFiftyDistinctLines(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	var items []map[string]any
	for i := 1; i <= 50; i++ {
		items = append(items, map[string]any{"sku": fmt.Sprintf("DEMO-%03d", i), "quantity": 1})
	}
	c.post(`mutation($id: String!, $items: [CartItemInput!]!) { addProductsToCart(cartId: $id, cartItems: $items) { user_errors { message } } }`,
		map[string]any{"id": id, "items": items}).must(t)
	r := c.get(`query($id: String!) { cart(cart_id: $id) {
		items { uid }
		itemsV2(pageSize: 20, currentPage: 3) { items { product { sku } } total_count page_info { page_size current_page total_pages } }
	} }`, "", map[string]any{"id": id}).must(t)
	if n := len(r.path(t, "cart.items").([]any)); n != 50 {
		t.Fatalf("%d lines", n)
	}
	if n := len(r.path(t, "cart.itemsV2.items").([]any)); n != 10 || r.num(t, "cart.itemsV2.total_count") != 50 ||
		r.num(t, "cart.itemsV2.page_info.total_pages") != 3 || r.str(t, "cart.itemsV2.items.0.product.sku") != "DEMO-041" {
		t.Fatalf("page 3: %s", r.body)
	}
}

func TestCatalog(t *testing.T) {
	c := newClient(t, Options{})
	r := c.get(`{ products(filter: {sku: {in: ["24-MB01", "MH01", "MH01-XS-Black", "VGC-50"]}}) {
		total_count items { __typename sku name price_range { minimum_price { final_price { value currency } } } }
	} }`, "", nil).must(t)
	if r.num(t, "products.total_count") != 3 || r.str(t, "products.items.1.__typename") != "ConfigurableProduct" ||
		r.str(t, "products.items.2.__typename") != "VirtualProduct" || r.num(t, "products.items.0.price_range.minimum_price.final_price.value") != 34 {
		t.Fatalf("products: %s", r.body)
	}
	if n := len(New(Options{}).catalog.products); n < 50 {
		t.Fatalf("%d SKUs", n)
	}
	r = c.get(`{ storeConfig { store_code store_name base_currency_code default_display_currency_code locale timezone root_category_uid } }`, "", nil).must(t)
	if r.str(t, "storeConfig.store_code") != "default" || r.str(t, "storeConfig.base_currency_code") != "USD" ||
		r.str(t, "storeConfig.root_category_uid") != "Mg==" {
		t.Fatalf("storeConfig: %s", r.body)
	}
}

func TestCheckoutAndPlaceOrder(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	vars := map[string]any{"id": id}
	c.add(id, "24-MB01", 2)
	c.add(id, "VGC-50", 1)
	c.post(`mutation($id: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: "WELCOME10"}) { cart { id } } }`, vars).must(t)
	c.shipTo(id)

	place := `mutation($id: String!) { placeOrder(input: {cart_id: $id}) {
		order { order_number } errors { code message }
		orderV2 { number applied_coupons { code } total { grand_total { value currency } subtotal { value } discounts { amount { value } label } total_tax { value } total_shipping { value } } }
	} }`
	r := c.post(place, vars)
	if r.firstError() != msgGuestEmailMissing || r.resp.Errors[0].Extensions["error_code"] != "GUEST_EMAIL_MISSING" {
		t.Fatalf("no email: %s", r.body)
	}
	c.post(`mutation($id: String!) { setGuestEmailOnCart(input: {cart_id: $id, email: "guest@example.com"}) { cart { email } } }`, vars).must(t)
	if r = c.post(place, vars); r.firstError() != "Unable to place order: Please check the billing address information." {
		t.Fatalf("no billing: %s", r.body)
	}
	c.post(`mutation($id: String!) { setBillingAddressOnCart(input: {cart_id: $id, billing_address: {same_as_shipping: true}}) { cart { billing_address { city } } } }`, vars).must(t)
	if r = c.post(`mutation($id: String!) { setPaymentMethodOnCart(input: {cart_id: $id, payment_method: {code: "banktransfer"}}) { cart { id } } }`, vars); r.firstError() != msgPaymentUnavailable {
		t.Fatalf("unknown payment: %s", r.body)
	}
	r = c.post(`mutation($id: String!) { setPaymentMethodOnCart(input: {cart_id: $id, payment_method: {code: "checkmo"}}) {
		cart { selected_payment_method { code title } prices { grand_total { value } } } } }`, vars).must(t)
	if r.str(t, "setPaymentMethodOnCart.cart.selected_payment_method.title") != paymentCheckmoTitle {
		t.Fatalf("payment: %s", r.body)
	}
	shown := r.num(t, "setPaymentMethodOnCart.cart.prices.grand_total.value")

	r = c.post(place, vars).must(t)
	if r.str(t, "placeOrder.order.order_number") != "000000001" || r.num(t, "placeOrder.orderV2.total.grand_total.value") != shown ||
		r.str(t, "placeOrder.orderV2.applied_coupons.0.code") != couponCode || len(r.path(t, "placeOrder.errors").([]any)) != 0 ||
		r.num(t, "placeOrder.orderV2.total.total_shipping.value") != 10 || r.num(t, "placeOrder.orderV2.total.discounts.0.amount.value") != 11.8 {
		t.Fatalf("order: %s (cart showed %v)", r.body, shown)
	}
	if len(c.store.orders) != 1 || c.store.orders[0].email != "guest@example.com" {
		t.Fatalf("order not recorded")
	}
	if r = c.get(`query($id: String!) { cart(cart_id: $id) { id } }`, "", vars); r.firstError() != msgCartNotActive {
		t.Fatalf("ordered cart: %s", r.body)
	}
	if r = c.post(place, vars); r.firstError() != msgCartNotActive || r.resp.Errors[0].Extensions["error_code"] != "CART_NOT_ACTIVE" {
		t.Fatalf("second order: %s", r.body)
	}
}

func TestMergeCarts(t *testing.T) {
	c := newClient(t, Options{})
	guest := c.newCart()
	c.add(guest, "24-MB01", 1)
	c.post(`mutation($id: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: "WELCOME10"}) { cart { id } } }`, map[string]any{"id": guest}).must(t)
	merge := `mutation($src: String!) { mergeCarts(source_cart_id: $src) { id email total_quantity applied_coupons { code } } }`
	if r := c.post(merge, map[string]any{"src": guest}); r.firstError() != msgCustomerUnknown || r.status != http.StatusForbidden {
		t.Fatalf("guest merge: %d %s", r.status, r.body)
	}
	c.headers["Authorization"] = "Bearer demo-customer"
	customer := c.post(`{ customerCart { id } }`, nil).must(t).str(t, "customerCart.id")
	c.add(customer, "24-MB01", 2)
	r := c.post(merge, map[string]any{"src": guest}).must(t)
	if r.str(t, "mergeCarts.id") != customer || r.num(t, "mergeCarts.total_quantity") != 3 ||
		r.str(t, "mergeCarts.applied_coupons.0.code") != couponCode || r.str(t, "mergeCarts.email") != demoCustomerEmail {
		t.Fatalf("merge: %s", r.body)
	}
	delete(c.headers, "Authorization")
	if r = c.get(`query($id: String!) { cart(cart_id: $id) { id } }`, "", map[string]any{"id": guest}); r.firstError() != msgCartNotActive {
		t.Fatalf("guest cart after merge: %s", r.body)
	}
}

func TestConcurrentRequests(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := c.post(`mutation($id: String!) { addProductsToCart(cartId: $id, cartItems: [{sku: "24-MB01", quantity: 1}]) { cart { total_quantity } } }`,
				map[string]any{"id": id})
			if len(r.resp.Errors) > 0 {
				t.Errorf("add: %s", r.body)
			}
		}()
		go func() {
			defer wg.Done()
			if r := c.get(sampleCartQuery, "", map[string]any{"id": id}); len(r.resp.Errors) > 0 {
				t.Errorf("read: %s", r.body)
			}
		}()
	}
	wg.Wait()
	r := c.get(sampleCartQuery, "", map[string]any{"id": id}).must(t)
	if r.num(t, "cart.total_quantity") != 20 || r.num(t, "cart.prices.subtotal_excluding_tax.value") != 680 {
		t.Fatalf("after concurrent adds: %s", r.body)
	}
}
