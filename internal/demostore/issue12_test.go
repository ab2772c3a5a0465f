package demostore

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// issue12Rules are the rules of issue 12, created in a real Magento Open Source 2.4.7-p3 as
// native cart price rules: 10 % then 15 % for the shopper "stack", cart fixed 100 with
// shipping for "hundred", 10 % with shipping for "shipfan".
const issue12Rules = `{"rules": [
	{"id": "ten", "label": "10% off", "priority": 1, "audiences": {"any": ["stack"]}, "action": {"type": "by_percent", "amount": 10}},
	{"id": "fifteen", "label": "15% off", "priority": 2, "audiences": {"any": ["stack"]}, "action": {"type": "by_percent", "amount": 15}},
	{"id": "hundred", "label": "$100 off", "priority": 3, "audiences": {"any": ["hundred"]}, "action": {"type": "cart_fixed", "amount": 100, "apply_to_shipping": true}},
	{"id": "ship", "label": "10% incl. shipping", "priority": 4, "audiences": {"any": ["shipfan"]}, "action": {"type": "by_percent", "amount": 10, "apply_to_shipping": true}}
]}`

const issue12Query = `query($id: String!) { cart(cart_id: $id) { prices {
	applied_taxes { label amount { value } }
	discounts { label applied_to amount { value } }
	discount { label amount { value } }
	subtotal_with_discount_excluding_tax { value }
	grand_total { value }
} } }`

func issue12Client(t *testing.T, method rules.TaxCalculation, segment string) *client {
	t.Helper()
	rs, err := rules.Decode([]byte(issue12Rules))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	c := newClient(t, Options{TaxCalculation: method, Edition: EditionOpenSource,
		AudienceRules: RuleDiscounter{RuleSet: rs, Now: func() time.Time { return at }}})
	c.headers["X-Audience-Segments"] = segment
	return c
}

// TestTaxAcrossRows: taxable rows 78.03, 34.42, 16.07 at 8.25 % are 6.437475, 2.83965 and
// 1.325775; Magento's default total base prints 10.60 and 139.12, row and unit base 10.61
// and 139.13.
func TestTaxAcrossRows(t *testing.T) {
	for _, tt := range []struct {
		method     rules.TaxCalculation
		tax, grand float64
	}{
		{"", 10.60, 139.12},
		{rules.TaxTotalBase, 10.60, 139.12},
		{rules.TaxRowBase, 10.61, 139.13},
		{rules.TaxUnitBase, 10.61, 139.13},
	} {
		c := issue12Client(t, tt.method, "stack")
		id := c.newCart()
		c.add(id, "24-MB01", 3)
		c.add(id, "24-WB04", 1)
		c.add(id, "24-UG06", 3)
		r := c.post(issue12Query, map[string]any{"id": id}).must(t)
		p := "cart.prices."
		if r.num(t, p+"applied_taxes.0.amount.value") != tt.tax || r.num(t, p+"grand_total.value") != tt.grand ||
			r.num(t, p+"discount.amount.value") != -39.48 || r.num(t, p+"subtotal_with_discount_excluding_tax.value") != 128.52 {
			t.Errorf("%q: %s", tt.method, r.body)
		}
	}
}

// TestCartFixedShippingShareNotListed: cart fixed 100 on 41.00 of items and 10.00 of
// shipping lists only ITEM 41.00, yet takes 51.00 off.
func TestCartFixedShippingShareNotListed(t *testing.T) {
	c := issue12Client(t, "", "hundred")
	id := c.newCart()
	c.add(id, "24-MB01", 1)
	c.add(id, "24-UG06", 1)
	c.shipTo(id)
	r := c.post(issue12Query, map[string]any{"id": id}).must(t)
	p := "cart.prices."
	discounts := r.path(t, p+"discounts").([]any)
	if len(discounts) != 1 || r.str(t, p+"discounts.0.applied_to") != "ITEM" || r.num(t, p+"discounts.0.amount.value") != 41 ||
		r.num(t, p+"discount.amount.value") != -51 || r.num(t, p+"grand_total.value") != 0 ||
		r.num(t, p+"subtotal_with_discount_excluding_tax.value") != -10 ||
		!reflect.DeepEqual(r.path(t, p+"discount.label"), []any{"$100 off"}) {
		t.Errorf("%s", r.body)
	}
}

// TestDeprecatedLabelOncePerRule: a rule with ITEM and SHIPPING entries is named once, after
// the store's coupon.
func TestDeprecatedLabelOncePerRule(t *testing.T) {
	c := issue12Client(t, "", "shipfan")
	id := c.newCart()
	c.add(id, "24-MB01", 2)
	c.shipTo(id)
	c.post(`mutation($id: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: "WELCOME10"}) { cart { id } } }`, map[string]any{"id": id}).must(t)
	r := c.post(issue12Query, map[string]any{"id": id}).must(t)
	p := "cart.prices."
	if n := len(r.path(t, p+"discounts").([]any)); n != 3 ||
		!reflect.DeepEqual(r.path(t, p+"discount.label"), []any{"Welcome 10%", "10% incl. shipping"}) {
		t.Errorf("%s", r.body)
	}
}

func TestDiscountLabelsAreMagentosDescription(t *testing.T) {
	tt := &totals{descriptions: []string{"Welcome 10%", "Summer, VIP", "Welcome 10%", "Discount", "welcome 10%"}}
	if got, want := tt.discountLabels(), []string{"Welcome 10%", "Summer", "VIP", "Discount", "welcome 10%"}; !reflect.DeepEqual(got, want) {
		t.Errorf("labels %q, want %q", got, want)
	}
	// Luma's discount total shows the same description: array_unique drops exact repeats
	// only, so labels differing in case both stay.
	if got, want := (&lumaQuote{t: tt}).discountTitle(), "Discount (Welcome 10%, Summer, VIP, Discount, welcome 10%)"; got != want {
		t.Errorf("Luma title %q, want %q", got, want)
	}
	if got := (&lumaQuote{t: &totals{}}).discountTitle(); got != "Discount" {
		t.Errorf("Luma title without a description %q, want Discount", got)
	}
}

func TestEditions(t *testing.T) {
	query := `query($id: String!) { cart(cart_id: $id) { prices { grand_total_excluding_tax { value } } } }`
	commerce := newClient(t, Options{})
	id := commerce.newCart()
	if r := commerce.post(query, map[string]any{"id": id}); r.firstError() != "" {
		t.Errorf("commerce: %s", r.body)
	}
	open := newClient(t, Options{Edition: EditionOpenSource})
	id = open.newCart()
	if r := open.post(query, map[string]any{"id": id}); !strings.HasPrefix(r.firstError(), `Cannot query field "grand_total_excluding_tax" on type "CartPrices".`) || r.resp.Data != nil {
		t.Errorf("open source: %s", r.body)
	}
	if r := open.post(`mutation { applyCouponsToCart(input: {cart_id: "x", coupon_codes: ["A"]}) { cart { id } } }`, nil); !strings.Contains(r.firstError(), `Cannot query field "applyCouponsToCart"`) {
		t.Errorf("open source applyCouponsToCart: %s", r.body)
	}
	// Every field the open-source schema leaves out exists in the full one.
	for _, def := range openSourceLacks {
		if !strings.Contains(schemaSDL, def) || strings.Contains(EditionOpenSource.schema(), def) {
			t.Errorf("%q: not filtered as written", def)
		}
	}
}

func TestValidateTaxAndEdition(t *testing.T) {
	for name, o := range map[string]Options{
		"tax calculation":           {TaxCalculation: "rows"},
		"edition":                   {Edition: "enterprise"},
		"open source, multi-coupon": {Edition: EditionOpenSource, MaxCoupons: 2},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (Options{TaxCalculation: rules.TaxUnitBase, Edition: EditionOpenSource}).Validate(); err != nil {
		t.Error(err)
	}
}
