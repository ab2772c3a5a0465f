package demostore

import (
	"context"
	"strconv"
	"strings"
)

// addressFields resolves the fields of CartAddressInterface.
type addressFields struct {
	a  *cartAddress
	id int
}

func (f addressFields) UID() string        { return encodeUID(strconv.Itoa(f.id)) }
func (f addressFields) ID() *int32         { id := int32(f.id); return &id }
func (f addressFields) Firstname() string  { return f.a.firstname }
func (f addressFields) Lastname() string   { return f.a.lastname }
func (f addressFields) Company() *string   { return f.a.company }
func (f addressFields) Street() []string   { return f.a.street }
func (f addressFields) City() string       { return f.a.city }
func (f addressFields) Postcode() *string  { return f.a.postcode }
func (f addressFields) Telephone() *string { return f.a.telephone }
func (f addressFields) VatID() *string     { return f.a.vatID }
func (f addressFields) Fax() *string       { return f.a.fax }
func (f addressFields) Middlename() *string {
	return f.a.middlename
}
func (f addressFields) Prefix() *string { return f.a.prefix }
func (f addressFields) Suffix() *string { return f.a.suffix }

// Region resolves CartAddressInterface.region.
func (f addressFields) Region() *cartAddressRegion {
	if f.a.region == nil {
		return nil
	}
	return &cartAddressRegion{Code: ptrString(f.a.region.code), Label: ptrString(f.a.region.label), RegionID: f.a.region.id}
}

// Country resolves CartAddressInterface.country; Magento labels it with the country code.
func (f addressFields) Country() *cartAddressCountry {
	return &cartAddressCountry{Code: f.a.countryCode, Label: f.a.countryCode}
}

type cartAddressRegion struct {
	Code     *string
	Label    *string
	RegionID *int32
}

type cartAddressCountry struct {
	Code  string
	Label string
}

// shippingAddressResolver resolves ShippingCartAddress.
type shippingAddressResolver struct {
	addressFields
	cart *cartResolver
}

// CustomerNotes resolves ShippingCartAddress.customer_notes.
func (r *shippingAddressResolver) CustomerNotes() *string { return r.a.customerNotes }

// ItemsWeight resolves the deprecated ShippingCartAddress.items_weight.
func (r *shippingAddressResolver) ItemsWeight() *float64 {
	var a arith
	w := zero
	for _, it := range r.cart.c.items {
		w = a.add(w, a.mul(it.priced().weight, it.qty))
	}
	return ptrFloat(toFloat(w))
}

// CartItemsV2 resolves ShippingCartAddress.cart_items_v2: the shipped items.
func (r *shippingAddressResolver) CartItemsV2() *[]*cartItemResolver {
	var out []*cartItemResolver
	for _, it := range r.cart.itemResolvers() {
		if !it.it.isVirtual() {
			out = append(out, it)
		}
	}
	if out == nil {
		out = []*cartItemResolver{}
	}
	return &out
}

type availableShippingMethod struct {
	CarrierCode  string
	CarrierTitle string
	MethodCode   *string
	MethodTitle  *string
	ErrorMessage *string
	Amount       *money
	BaseAmount   *money
	PriceExclTax *money
	PriceInclTax *money
	Available    bool
}

// AvailableShippingMethods resolves ShippingCartAddress.available_shipping_methods: flat rate
// for carts with something to ship.
func (r *shippingAddressResolver) AvailableShippingMethods() *[]*availableShippingMethod {
	out := []*availableShippingMethod{}
	if len(r.cart.c.items) > 0 && !r.cart.c.isVirtual() {
		amount := shippingAmount(r.cart.c)
		out = append(out, &availableShippingMethod{
			CarrierCode:  carrierFlatrate,
			CarrierTitle: carrierTitle,
			MethodCode:   ptrString(methodFlatrate),
			MethodTitle:  ptrString(methodTitle),
			ErrorMessage: ptrString(""),
			Amount:       usd(amount),
			BaseAmount:   usd(amount),
			PriceExclTax: usd(amount),
			PriceInclTax: usd(amount),
			Available:    true,
		})
	}
	return &out
}

type selectedShippingMethod struct {
	CarrierCode  string
	MethodCode   string
	CarrierTitle string
	MethodTitle  string
	Amount       *money
	BaseAmount   *money
	PriceExclTax *money
	PriceInclTax *money
}

// SelectedShippingMethod resolves ShippingCartAddress.selected_shipping_method.
func (r *shippingAddressResolver) SelectedShippingMethod(ctx context.Context) (*selectedShippingMethod, error) {
	if r.cart.c.shippingMethod == nil {
		return nil, nil
	}
	t, err := r.cart.collect(ctx)
	if err != nil {
		return nil, err
	}
	m := r.cart.c.shippingMethod
	return &selectedShippingMethod{
		CarrierCode:  m.carrier,
		MethodCode:   m.method,
		CarrierTitle: carrierTitle,
		MethodTitle:  methodTitle,
		Amount:       usd(t.shipping),
		BaseAmount:   usd(t.shipping),
		PriceExclTax: usd(t.shipping),
		PriceInclTax: usd(t.shipping),
	}, nil
}

// billingAddressResolver resolves BillingCartAddress.
type billingAddressResolver struct {
	addressFields
}

// CustomerNotes resolves the deprecated BillingCartAddress.customer_notes.
func (r *billingAddressResolver) CustomerNotes() *string { return nil }

// trimmed returns a pointer to the trimmed string, nil for nil or empty.
func trimmed(s *string) *string {
	if s == nil {
		return nil
	}
	v := strings.TrimSpace(*s)
	if v == "" {
		return nil
	}
	return &v
}
