package demostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
)

// order is a placed order: the cart as it was and the totals that were charged.
type order struct {
	id         int
	number     string // Magento's increment id, e.g. "000000001"
	createdAt  time.Time
	customerID int
	email      string
	cart       *cart
	totals     *totals
}

// placeOrder converts a cart into an order with the checks (and messages) of Magento's
// PlaceOrder resolver. Totals are recollected at placement and every coupon on the cart is
// re-validated: an order whose coupon stopped applying is refused rather than charged a
// different price. Like Magento, coupon usage is counted in a second step, so two orders
// racing for the last use of a code both pass validation and the loser is refused with
// "<CODE> coupon exceeds usage limit.".
func (s *Store) placeOrder(ctx context.Context, maskedID string, req *requestInfo) (*order, error) {
	if maskedID == "" {
		return nil, missingParam("cart_id")
	}
	for attempt := 0; ; attempt++ {
		p, err := s.preparePlacement(ctx, maskedID, req)
		if err != nil {
			return nil, err
		}
		if s.beforeCommit != nil {
			s.beforeCommit()
		}
		o, err := s.commitPlacement(p, req)
		if errors.Is(err, errCartMoved) && attempt < 3 {
			continue
		}
		return o, err
	}
}

// placement is a cart validated for an order, with the totals it will be charged.
type placement struct {
	maskedID string
	version  int
	totals   *totals
}

// errCartMoved reports a cart that changed between validation and commit.
var errCartMoved = placeOrderError("UNDEFINED", "Unable to place order: the cart changed while the order was placed. Please try to place your order again")

// preparePlacement runs Magento's checks and collects the totals to charge.
func (s *Store) preparePlacement(ctx context.Context, maskedID string, req *requestInfo) (*placement, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.cartForUserLocked(maskedID, req)
	if err != nil {
		return nil, placeOrderFailure(err)
	}
	if c.customerID == 0 && c.email == "" {
		return nil, placeOrderError("GUEST_EMAIL_MISSING", msgGuestEmailMissing)
	}
	if msg := checkoutProblem(c); msg != "" {
		return nil, placeOrderError("UNABLE_TO_PLACE_ORDER", "Unable to place order: "+msg)
	}
	t, err := s.collectTotals(ctx, c, req)
	if err != nil {
		return nil, err
	}
	for _, st := range t.coupons {
		if st.status != couponApplied {
			return nil, placeOrderError("UNDEFINED", msgCouponInvalid)
		}
	}
	if !availableFor(t, c.payment.code) {
		return nil, placeOrderError("UNABLE_TO_PLACE_ORDER", "Unable to place order: "+msgPaymentUnavailable)
	}
	return &placement{maskedID: maskedID, version: c.version, totals: t}, nil
}

// commitPlacement counts the coupon uses and records the order, if the cart is still the one
// that was validated.
func (s *Store) commitPlacement(p *placement, req *requestInfo) (*order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.cartForUserLocked(p.maskedID, req)
	if err != nil {
		return nil, placeOrderFailure(err)
	}
	if c.version != p.version {
		return nil, errCartMoved
	}
	if code := s.coupons.reserve(c.coupons); code != "" {
		return nil, couponUsageExceeded(code)
	}
	o := &order{
		id:         len(s.orders) + 1,
		createdAt:  s.Now().UTC(),
		customerID: c.customerID,
		email:      c.email,
		cart:       c.clone(),
		totals:     p.totals,
	}
	o.number = fmt.Sprintf("%09d", o.id)
	s.orders = append(s.orders, o)
	c.active = false
	c.version++
	if s.customerCart == c.maskedID {
		s.customerCart = ""
	}
	return o, nil
}

// placeOrderFailure maps a cart lookup error to Magento's QuoteException codes.
func placeOrderFailure(err error) error {
	me, ok := err.(*magentoError)
	if !ok || me.category == categoryAuthorization {
		return err
	}
	code := "UNDEFINED"
	switch {
	case me.message == msgCartNotActive:
		code = "CART_NOT_ACTIVE"
	case me.category == categoryNoSuchEntity:
		code = "CART_NOT_FOUND"
	}
	return placeOrderError(code, me.message)
}

// checkoutProblem is Magento's QuoteValidator::validateBeforeSubmit, in its order.
func checkoutProblem(c *cart) string {
	if len(c.items) == 0 {
		return "A server error stopped your order from being placed. Please try to place your order again"
	}
	if !c.isVirtual() {
		if c.shipping == nil {
			return "Please check the shipping address information."
		}
		if c.shippingMethod == nil {
			return "The shipping method is missing. Select the shipping method and try again."
		}
	}
	if c.billing == nil {
		return "Please check the billing address information."
	}
	if c.payment == nil {
		return "Enter a valid payment method and try again."
	}
	return ""
}

func availableFor(t *totals, code string) bool {
	for _, m := range availablePayments(t) {
		if m.Code == code {
			return true
		}
	}
	return false
}

// orderResolver resolves CustomerOrder.
type orderResolver struct {
	o *order
}

func (r *orderResolver) ID() graphql.ID          { return graphql.ID(encodeUID(strconv.Itoa(r.o.id))) }
func (r *orderResolver) Number() string          { return r.o.number }
func (r *orderResolver) OrderNumber() string     { return r.o.number }
func (r *orderResolver) OrderDate() string       { return r.o.createdAt.Format(time.DateTime) }
func (r *orderResolver) CreatedAt() *string      { return ptrString(r.o.createdAt.Format(time.DateTime)) }
func (r *orderResolver) Status() string          { return "Pending" }
func (r *orderResolver) IsVirtual() bool         { return r.o.cart.isVirtual() }
func (r *orderResolver) ShippingMethod() *string { return r.shippingMethod() }

// Email resolves CustomerOrder.email.
func (r *orderResolver) Email() *string {
	if r.o.email == "" {
		return nil
	}
	return ptrString(r.o.email)
}

func (r *orderResolver) shippingMethod() *string {
	if r.o.cart.shippingMethod == nil || r.o.cart.isVirtual() {
		return nil
	}
	return ptrString(carrierTitle + " - " + methodTitle)
}

// AppliedCoupons resolves CustomerOrder.applied_coupons: the coupons the order was charged
// with.
func (r *orderResolver) AppliedCoupons() []*appliedCoupon {
	out := make([]*appliedCoupon, len(r.o.cart.coupons))
	for i, code := range r.o.cart.coupons {
		out[i] = &appliedCoupon{Code: code}
	}
	return out
}

// GrandTotal resolves the deprecated CustomerOrder.grand_total.
func (r *orderResolver) GrandTotal() *float64 { return ptrFloat(toFloat(r.o.totals.grandTotal)) }

// Items resolves CustomerOrder.items.
func (r *orderResolver) Items() *[]*orderItemResolver {
	out := make([]*orderItemResolver, len(r.o.cart.items))
	for i, it := range r.o.cart.items {
		out[i] = &orderItemResolver{it: it, line: r.o.totals.lines[i]}
	}
	return &out
}

// PaymentMethods resolves CustomerOrder.payment_methods.
func (r *orderResolver) PaymentMethods() *[]*orderPaymentMethod {
	p := r.o.cart.payment
	return &[]*orderPaymentMethod{{Name: p.title, Type: p.code}}
}

type orderPaymentMethod struct {
	Name string
	Type string
}

// ShippingAddress resolves CustomerOrder.shipping_address.
func (r *orderResolver) ShippingAddress() *orderAddress {
	if r.o.cart.isVirtual() {
		return nil
	}
	return newOrderAddress(r.o.cart.shipping)
}

// BillingAddress resolves CustomerOrder.billing_address.
func (r *orderResolver) BillingAddress() *orderAddress { return newOrderAddress(r.o.cart.billing) }

// orderCountryCodes are the CountryCodeEnum values of the schema.
var orderCountryCodes = map[string]bool{"CA": true, "DE": true, "FR": true, "GB": true, "MX": true, "US": true}

type orderAddress struct {
	Firstname   string
	Lastname    string
	Company     *string
	Street      []*string
	City        string
	Region      *string
	RegionID    *graphql.ID
	Postcode    *string
	CountryCode *string
	Telephone   *string
}

func newOrderAddress(a *cartAddress) *orderAddress {
	if a == nil {
		return nil
	}
	out := &orderAddress{Firstname: a.firstname, Lastname: a.lastname, Company: a.company, City: a.city,
		Postcode: a.postcode, Telephone: a.telephone}
	if orderCountryCodes[a.countryCode] {
		out.CountryCode = ptrString(a.countryCode)
	}
	for _, line := range a.street {
		out.Street = append(out.Street, ptrString(line))
	}
	if a.region != nil {
		out.Region = ptrString(a.region.label)
		if a.region.id != nil {
			id := graphql.ID(strconv.Itoa(int(*a.region.id)))
			out.RegionID = &id
		}
	}
	return out
}

// Total resolves CustomerOrder.total.
func (r *orderResolver) Total() *orderTotal {
	t := r.o.totals
	ot := &orderTotal{
		Subtotal:          usd(t.subtotal),
		SubtotalExclTax:   usd(t.subtotal),
		SubtotalInclTax:   usd(t.subtotalInclTax),
		Discounts:         &[]*discount{},
		TotalTax:          usd(t.tax),
		Taxes:             &[]*taxItem{},
		GrandTotal:        usd(t.grandTotal),
		GrandTotalExclTax: usd(t.grandTotalExclTax()),
		BaseGrandTotal:    usd(t.grandTotal),
		TotalShipping:     usd(t.shipping),
		ShippingHandling: &shippingHandling{
			TotalAmount:        usd(t.shipping),
			AmountIncludingTax: usd(t.shipping),
			AmountExcludingTax: usd(t.shipping),
			Taxes:              &[]*taxItem{},
			Discounts:          &[]*shippingDiscount{},
		},
	}
	if t.shippingDiscount.IsPos() {
		ot.ShippingHandling.Discounts = &[]*shippingDiscount{{Amount: usd(t.shippingDiscount)}}
	}
	// SalesGraphQl reports one order-level discount: the total, labelled with the order's
	// discount description.
	if t.discount.IsPos() {
		label := ""
		for i, l := range t.discountLabels() {
			if i > 0 {
				label += ", "
			}
			label += l
		}
		ot.Discounts = &[]*discount{{Amount: usd(t.discount), AppliedTo: "ITEM", Label: label}}
	}
	if t.tax.IsPos() {
		rate := 8.25
		ot.Taxes = &[]*taxItem{{Amount: usd(t.tax), Rate: &rate, Title: taxLabel}}
	}
	return ot
}

type orderTotal struct {
	Subtotal          *money
	SubtotalExclTax   *money
	SubtotalInclTax   *money
	Discounts         *[]*discount
	TotalTax          *money
	Taxes             *[]*taxItem
	GrandTotal        *money
	GrandTotalExclTax *money
	BaseGrandTotal    *money
	TotalShipping     *money
	ShippingHandling  *shippingHandling
}

type taxItem struct {
	Amount *money
	Rate   *float64
	Title  string
}

type shippingHandling struct {
	TotalAmount        *money
	AmountIncludingTax *money
	AmountExcludingTax *money
	Taxes              *[]*taxItem
	Discounts          *[]*shippingDiscount
}

type shippingDiscount struct {
	Amount *money
}

// orderItemResolver resolves OrderItemInterface / OrderItem.
type orderItemResolver struct {
	it   cartItem
	line lineTotals
}

func (r *orderItemResolver) ToOrderItem() (*orderItemResolver, bool) { return r, true }

func (r *orderItemResolver) ID() graphql.ID           { return graphql.ID(encodeUID(strconv.Itoa(r.it.id))) }
func (r *orderItemResolver) ProductName() *string     { return ptrString(r.it.product.name) }
func (r *orderItemResolver) ProductSku() string       { return r.it.priced().sku }
func (r *orderItemResolver) ProductURLKey() *string   { return ptrString(r.it.product.urlKey) }
func (r *orderItemResolver) ProductType() *string     { return ptrString(string(r.it.product.typ)) }
func (r *orderItemResolver) Status() *string          { return ptrString("Ordered") }
func (r *orderItemResolver) ProductSalePrice() *money { return usd(r.line.price) }
func (r *orderItemResolver) QuantityOrdered() *float64 {
	return ptrFloat(toFloat(r.it.qty))
}

// Discounts resolves OrderItemInterface.discounts.
func (r *orderItemResolver) Discounts() *[]*discount { return discountList(r.line.discounts) }

// SelectedOptions resolves OrderItemInterface.selected_options: a configurable item's choices.
func (r *orderItemResolver) SelectedOptions() *[]*orderItemOption {
	out := []*orderItemOption{}
	if r.it.child != nil {
		for _, attr := range r.it.product.super {
			out = append(out, &orderItemOption{Label: attr.label, Value: r.it.child.labels[attr.id]})
		}
	}
	return &out
}

// EnteredOptions resolves OrderItemInterface.entered_options.
func (r *orderItemResolver) EnteredOptions() *[]*orderItemOption { return &[]*orderItemOption{} }

type orderItemOption struct {
	Label string
	Value string
}
