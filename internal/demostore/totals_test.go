package demostore

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

func TestRound2(t *testing.T) {
	tests := map[string]string{
		"2.805": "2.81", "2.804": "2.80", "-2.805": "-2.81", "0.125": "0.13", "0.115": "0.12",
		"1.5": "1.50", "0.0049": "0.00", "0.005": "0.01", "7": "7.00", "0.0924": "0.09",
	}
	for in, want := range tests {
		if got := round2(decimal.MustParse(in)).String(); got != want {
			t.Errorf("round2(%s) = %s, want %s", in, got, want)
		}
	}
}

func testProduct(sku, price string, typ productType) *product {
	return &product{sku: sku, name: sku, typ: typ, price: decimal.MustParse(price), weight: decimal.One}
}

type line struct {
	p, child *product
	qty      int64
}

func testCart(coupon string, shipped bool, lines ...line) *cart {
	c := &cart{maskedID: "test", active: true}
	if coupon != "" {
		c.coupons = []string{coupon}
	}
	for i, l := range lines {
		c.items = append(c.items, cartItem{id: i + 1, product: l.p, child: l.child, qty: decimal.MustNew(l.qty, 0)})
	}
	if shipped {
		c.shipping = &cartAddress{countryCode: "US"}
		c.shippingMethod = &shippingSelection{carrier: carrierFlatrate, method: methodFlatrate}
	}
	return c
}

// wantTotals lists expected amounts as strings; item slices are per cart line.
type wantTotals struct {
	subtotal, subtotalInclTax, discount, shipping, tax, grand string
	itemDiscounts, itemTaxes, rowsInclTax                     []string
	labels                                                    []string
}

func checkTotals(t *testing.T, got *totals, want wantTotals) {
	t.Helper()
	eq := func(name string, got decimal.Decimal, want string) {
		t.Helper()
		if !got.Equal(decimal.MustParse(want)) {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	eq("subtotal", got.subtotal, want.subtotal)
	eq("subtotal incl tax", got.subtotalInclTax, want.subtotalInclTax)
	eq("discount", got.discount, want.discount)
	eq("shipping", got.shipping, want.shipping)
	eq("tax", got.tax, want.tax)
	eq("grand total", got.grandTotal, want.grand)
	for i, l := range got.lines {
		if i < len(want.itemDiscounts) {
			eq("item discount", l.discount, want.itemDiscounts[i])
		}
		if i < len(want.itemTaxes) {
			eq("item tax", l.tax, want.itemTaxes[i])
		}
		if i < len(want.rowsInclTax) {
			eq("row incl tax", l.rowTotalInclTax, want.rowsInclTax[i])
		}
	}
	if labels := got.discountLabels(); !reflect.DeepEqual(labels, want.labels) && (len(labels) > 0 || len(want.labels) > 0) {
		t.Errorf("discount labels = %q, want %q", labels, want.labels)
	}
	var a arith
	if !a.sub(got.grandTotal, got.tax).Equal(got.grandTotalExclTax()) || !a.sub(got.subtotal, got.discount).Equal(got.subtotalWithDiscount()) {
		t.Errorf("derived totals inconsistent")
	}
}

func TestCollectTotals(t *testing.T) {
	s := New(Options{})
	p := func(sku string) *product {
		pr, ok := s.catalog.lookup(sku)
		if !ok {
			t.Fatalf("no product %s", sku)
		}
		return pr
	}
	cheap := testProduct("T-125", "1.25", typeSimple)
	hoodie := p("MH01")
	tests := []struct {
		name string
		tax  rules.TaxCalculation
		cart *cart
		want wantTotals
	}{
		{
			name: "tax rounds half away from zero",
			cart: testCart("", false, line{p: p("24-MB01"), qty: 1}),
			want: wantTotals{subtotal: "34", subtotalInclTax: "36.81", discount: "0", shipping: "0", tax: "2.81", grand: "36.81",
				itemTaxes: []string{"2.81"}, rowsInclTax: []string{"36.81"}},
		},
		{
			// Total base (the default) carries the tax rounding remainders from row to row
			// too: 0.0924, 0.093225, 0.0924 print 0.09, 0.10, 0.09; before discount 0.103125
			// three times prints 0.10, 0.11, 0.10.
			name: "coupon carries the rounding delta across items",
			cart: testCart(couponCode, false, line{p: cheap, qty: 1}, line{p: cheap, qty: 1}, line{p: cheap, qty: 1}),
			want: wantTotals{subtotal: "3.75", subtotalInclTax: "4.06", discount: "0.38", shipping: "0", tax: "0.28", grand: "3.65",
				itemDiscounts: []string{"0.13", "0.12", "0.13"}, itemTaxes: []string{"0.09", "0.10", "0.09"},
				rowsInclTax: []string{"1.35", "1.36", "1.35"}, labels: []string{couponLabel}},
		},
		{
			name: "row base rounds each row's tax alone",
			tax:  rules.TaxRowBase,
			cart: testCart(couponCode, false, line{p: cheap, qty: 1}, line{p: cheap, qty: 1}, line{p: cheap, qty: 1}),
			want: wantTotals{subtotal: "3.75", subtotalInclTax: "4.05", discount: "0.38", shipping: "0", tax: "0.27", grand: "3.64",
				itemDiscounts: []string{"0.13", "0.12", "0.13"}, itemTaxes: []string{"0.09", "0.09", "0.09"},
				rowsInclTax: []string{"1.35", "1.35", "1.35"}, labels: []string{couponLabel}},
		},
		{
			// 34 × 8.25 % = 2.805 per unit: 2.81 × 3 before discount; after 10 %, 30.60 a
			// unit: 2.5245 → 2.52 × 3.
			name: "unit base rounds one unit's tax",
			tax:  rules.TaxUnitBase,
			cart: testCart(couponCode, false, line{p: p("24-MB01"), qty: 3}),
			want: wantTotals{subtotal: "102", subtotalInclTax: "110.43", discount: "10.20", shipping: "0", tax: "7.56", grand: "99.36",
				itemDiscounts: []string{"10.20"}, itemTaxes: []string{"7.56"}, rowsInclTax: []string{"110.43"},
				labels: []string{couponLabel}},
		},
		{
			name: "coupon and tax after discount with quantity",
			cart: testCart(couponCode, false, line{p: p("24-UG06"), qty: 3}),
			want: wantTotals{subtotal: "21", subtotalInclTax: "22.73", discount: "2.10", shipping: "0", tax: "1.56", grand: "20.46",
				itemDiscounts: []string{"2.10"}, itemTaxes: []string{"1.56"}, rowsInclTax: []string{"22.73"},
				labels: []string{couponLabel}},
		},
		{
			name: "flat rate per shipped unit, virtual items taxed but not shipped",
			cart: testCart("", true, line{p: p("24-MB01"), qty: 2}, line{p: p("VGC-50"), qty: 1}),
			want: wantTotals{subtotal: "118", subtotalInclTax: "127.74", discount: "0", shipping: "10", tax: "9.74", grand: "137.74",
				itemTaxes: []string{"5.61", "4.13"}},
		},
		{
			name: "virtual cart has no shipping",
			cart: testCart(couponCode, true, line{p: p("VGC-50"), qty: 2}),
			want: wantTotals{subtotal: "100", subtotalInclTax: "108.25", discount: "10", shipping: "0", tax: "7.43", grand: "97.43",
				itemDiscounts: []string{"10"}, itemTaxes: []string{"7.43"}, labels: []string{couponLabel}},
		},
		{
			name: "configurable item is priced by its child",
			cart: testCart(couponCode, true, line{p: hoodie, child: p("MH01-M-Black"), qty: 1}),
			want: wantTotals{subtotal: "52", subtotalInclTax: "56.29", discount: "5.20", shipping: "5", tax: "3.86", grand: "55.66",
				itemDiscounts: []string{"5.20"}, itemTaxes: []string{"3.86"}, labels: []string{couponLabel}},
		},
		{
			name: "empty cart",
			cart: testCart(couponCode, true),
			want: wantTotals{subtotal: "0", subtotalInclTax: "0", discount: "0", shipping: "0", tax: "0", grand: "0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{TaxCalculation: tt.tax})
			got, err := s.collectTotals(context.Background(), tt.cart, &requestInfo{store: "default"})
			if err != nil {
				t.Fatal(err)
			}
			checkTotals(t, got, tt.want)
		})
	}
}

// fakeDiscounter records its input and returns a fixed output.
type fakeDiscounter struct {
	in  DiscountInput
	out DiscountOutput
	err error
}

func (f *fakeDiscounter) Discount(_ context.Context, in DiscountInput) (DiscountOutput, error) {
	f.in = in
	return f.out, f.err
}

func TestCollectTotalsExtraDiscounts(t *testing.T) {
	fake := &fakeDiscounter{out: DiscountOutput{
		Items: []LineDiscount{
			{ItemID: 1, Rules: []RuleAmount{{Label: "VIP", Amount: decimal.MustParse("5.00")}}},
			{ItemID: 2, Rules: []RuleAmount{{Label: "", Amount: decimal.MustParse("99.00")}}}, // clamped to the row
		},
		Cart: []RuleAmount{
			{Label: "VIP", Amount: decimal.MustParse("5.00"), AppliedTo: "ITEM"},
			{Label: "", Amount: decimal.MustParse("6.30")},
			{Label: "Free-ish shipping", Amount: decimal.MustParse("2.00"), AppliedTo: "SHIPPING"},
		},
		Shipping: decimal.MustParse("2.00"),
		Applied: []RuleAmount{
			{Label: "VIP", Amount: decimal.MustParse("5.00")},
			{Label: "", Amount: decimal.MustParse("6.30")},
			{Label: "Free-ish shipping", Amount: decimal.MustParse("2.00")},
		},
	}}
	s := New(Options{AudienceRules: fake})
	mb01, _ := s.catalog.lookup("24-MB01")
	ug06, _ := s.catalog.lookup("24-UG06")
	c := testCart(couponCode, true, line{p: mb01, qty: 2}, line{p: ug06, qty: 1})
	req := &requestInfo{store: "default", segments: []string{"seg-a", "seg-b"}}

	got, err := s.collectTotals(context.Background(), c, req)
	if err != nil {
		t.Fatal(err)
	}
	// Coupon: 6.80 + 0.70. Extra: 5.00 on MB01, 6.30 (all that is left) on UG06; shipping 15 - 2.
	checkTotals(t, got, wantTotals{
		subtotal: "75", subtotalInclTax: "81.19", discount: "20.80", shipping: "15", tax: "4.64", grand: "73.84",
		itemDiscounts: []string{"11.80", "7.00"}, itemTaxes: []string{"4.64", "0.00"},
		labels: []string{couponLabel, "VIP", "Discount", "Free-ish shipping"},
	})
	if got.discounts[3].appliedTo != "SHIPPING" || got.discounts[2].appliedTo != "ITEM" {
		t.Errorf("applied_to = %+v", got.discounts)
	}
	if n := len(got.lines[0].discounts); n != 2 || got.lines[0].discounts[1].label != "VIP" {
		t.Errorf("item discounts = %+v", got.lines[0].discounts)
	}

	in := fake.in
	if !reflect.DeepEqual(in.Segments, []string{"seg-a", "seg-b"}) || in.Store != "default" || in.Currency != "USD" ||
		!reflect.DeepEqual(in.Coupons, []string{couponCode}) || !in.ShippingAmount.Equal(decimal.MustNew(15, 0)) ||
		!in.Subtotal.Equal(decimal.MustNew(75, 0)) || !in.TotalQty.Equal(decimal.MustNew(3, 0)) {
		t.Errorf("input = %+v", in)
	}
	first := in.Lines[0]
	if first.ItemID != 1 || first.SKU != "24-MB01" || first.ProductType != "simple" || !first.Discount.Equal(decimal.MustParse("6.80")) ||
		!first.DiscountPercent.Equal(decimal.MustNew(10, 0)) || !first.RowTotal.Equal(decimal.MustNew(68, 0)) {
		t.Errorf("first line = %+v", first)
	}

	fake.err = errors.New("boom")
	if _, err := s.collectTotals(context.Background(), c, req); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("discounter error not reported: %v", err)
	}
}

func TestDiscountLineForConfigurable(t *testing.T) {
	fake := &fakeDiscounter{}
	s := New(Options{AudienceRules: fake})
	hoodie, _ := s.catalog.lookup("MH01")
	child, _ := s.catalog.lookup("MH01-L-Gray")
	if _, err := s.collectTotals(context.Background(), testCart("", false, line{p: hoodie, child: child, qty: 2}), &requestInfo{}); err != nil {
		t.Fatal(err)
	}
	l := fake.in.Lines[0]
	if l.SKU != "MH01-L-Gray" || l.ParentSKU != "MH01" || l.ProductType != "configurable" || !l.Discount.IsZero() {
		t.Errorf("line = %+v", l)
	}
}
