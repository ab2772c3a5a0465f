package demostore

import "testing"

func TestCheckoutErrors(t *testing.T) {
	c := newClient(t, Options{})
	physical := c.newCart()
	c.add(physical, "24-MB01", 1)
	virtual := c.newCart()
	c.add(virtual, "VGC-50", 1)
	address := `{firstname: "A", lastname: "B", street: ["1 Main St"], city: "Austin", region: "TX", postcode: "78701", country_code: "US", telephone: "555"}`
	tests := []struct {
		name, cartID, mutation, want string
	}{
		{"shipping method before address", physical,
			`setShippingMethodsOnCart(input: {cart_id: $id, shipping_methods: [{carrier_code: "flatrate", method_code: "flatrate"}]}) { cart { id } }`,
			msgNoShippingAddress},
		{"payment before address", physical,
			`setPaymentMethodOnCart(input: {cart_id: $id, payment_method: {code: "checkmo"}}) { cart { id } }`,
			msgNoShippingAddress},
		{"billing same as missing shipping", physical,
			`setBillingAddressOnCart(input: {cart_id: $id, billing_address: {same_as_shipping: true}}) { cart { id } }`,
			`Could not use the "same_as_shipping" option, because the shipping address has not been set.`},
		{"billing without anything", physical,
			`setBillingAddressOnCart(input: {cart_id: $id, billing_address: {}}) { cart { id } }`,
			`The billing address must contain either "customer_address_id", "address", or "same_as_shipping".`},
		{"two shipping addresses", physical,
			`setShippingAddressesOnCart(input: {cart_id: $id, shipping_addresses: [{address: ` + address + `}, {address: ` + address + `}]}) { cart { id } }`,
			"You cannot specify multiple shipping addresses."},
		{"shipping address on a virtual cart", virtual,
			`setShippingAddressesOnCart(input: {cart_id: $id, shipping_addresses: [{address: ` + address + `}]}) { cart { id } }`,
			msgVirtualNoShipping},
		{"bad guest email", physical,
			`setGuestEmailOnCart(input: {cart_id: $id, email: "not an email"}) { cart { id } }`,
			"Invalid email format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post(`mutation($id: String!) { `+tt.mutation+` }`, map[string]any{"id": tt.cartID})
			if r.firstError() != tt.want {
				t.Fatalf("got %s, want %q", r.body, tt.want)
			}
		})
	}
}

func TestShippingAndEmptyValues(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	query := `query($id: String!) { cart(cart_id: $id) {
		items { prices { total_item_discount { value } discounts { label } } errors { code } }
		shipping_addresses { available_shipping_methods { amount { value } carrier_title method_title available error_message }
			selected_shipping_method { amount { value } } }
		prices { applied_taxes { label } discounts { label } discount { label } grand_total { value } }
		applied_coupons { code } applied_coupon { code } applied_gift_cards { code }
		selected_payment_method { code title }
		available_payment_methods { code title }
	} }`
	r := c.get(query, "", map[string]any{"id": id}).must(t)
	if n := len(r.path(t, "cart.prices.applied_taxes").([]any)); n != 0 {
		t.Errorf("empty cart applied_taxes: %s", r.body)
	}
	if r.str(t, "cart.available_payment_methods.0.code") != paymentFree {
		t.Errorf("nothing due: %s", r.body)
	}

	c.add(id, "24-WG02", 3)
	c.shipTo(id)
	r = c.get(query, "", map[string]any{"id": id}).must(t)
	for _, p := range []string{"cart.items.0.prices.discounts", "cart.items.0.errors", "cart.prices.discounts", "cart.prices.discount", "cart.applied_coupons", "cart.applied_coupon"} {
		if v := r.path(t, p); v != nil {
			t.Errorf("%s = %v, want null", p, v)
		}
	}
	if r.num(t, "cart.items.0.prices.total_item_discount.value") != 0 || len(r.path(t, "cart.applied_gift_cards").([]any)) != 0 {
		t.Errorf("zero values: %s", r.body)
	}
	method := "cart.shipping_addresses.0.available_shipping_methods.0."
	if r.num(t, method+"amount.value") != 15 || r.str(t, method+"carrier_title") != carrierTitle || r.str(t, method+"method_title") != methodTitle ||
		r.num(t, "cart.shipping_addresses.0.selected_shipping_method.amount.value") != 15 || r.str(t, "cart.selected_payment_method.code") != "" {
		t.Errorf("shipping: %s", r.body)
	}
	// 276 + 22.77 tax + 15 shipping
	if r.num(t, "cart.prices.grand_total.value") != 313.77 || r.str(t, "cart.available_payment_methods.0.title") != paymentCheckmoTitle {
		t.Errorf("grand total: %s", r.body)
	}
}
