package demostore

import (
	"context"
	"math"
	"sort"
	"sync"

	"github.com/govalues/decimal"
	graphql "github.com/graph-gophers/graphql-go"
)

// cartResolver resolves Cart over an immutable snapshot of the cart; totals are computed once
// per resolved cart, on first use.
type cartResolver struct {
	s   *Store
	c   *cart
	req *requestInfo

	once   sync.Once
	totals *totals
	err    error
}

func (s *Store) newCartResolver(c *cart, req *requestInfo) *cartResolver {
	req.touchCart()
	return &cartResolver{s: s, c: c, req: req}
}

func (r *cartResolver) collect(ctx context.Context) (*totals, error) {
	r.once.Do(func() { r.totals, r.err = r.s.collectTotals(ctx, r.c, r.req) })
	return r.totals, r.err
}

// ID resolves Cart.id, the masked quote id.
func (r *cartResolver) ID() graphql.ID { return graphql.ID(r.c.maskedID) }

// Email resolves Cart.email.
func (r *cartResolver) Email() *string {
	if r.c.email == "" {
		return nil
	}
	e := r.c.email
	return &e
}

func (r *cartResolver) itemResolvers() []*cartItemResolver {
	out := make([]*cartItemResolver, len(r.c.items))
	for i := range r.c.items {
		out[i] = &cartItemResolver{cart: r, idx: i, it: r.c.items[i]}
	}
	return out
}

// Items resolves the deprecated Cart.items: every item.
func (r *cartResolver) Items() *[]*cartItemResolver {
	items := r.itemResolvers()
	return &items
}

type itemsV2Args struct {
	PageSize    int32
	CurrentPage int32
	Sort        *struct {
		Field string
		Order string
	}
}

// ItemsV2 resolves Cart.itemsV2, the paged item list.
func (r *cartResolver) ItemsV2(args itemsV2Args) (*cartItems, error) {
	pageSize, currentPage := args.PageSize, args.CurrentPage
	if currentPage < 1 {
		return nil, inputError("currentPage value must be greater than 0.")
	}
	if pageSize < 1 {
		return nil, inputError("pageSize value must be greater than 0.")
	}
	items := r.itemResolvers()
	if args.Sort != nil {
		sortItems(items, args.Sort.Field, args.Sort.Order == "DESC")
	}
	total := int32(len(items))
	start := min(int(pageSize)*int(currentPage-1), len(items))
	end := min(start+int(pageSize), len(items))
	page := items[start:end]
	totalPages := int32(math.Ceil(float64(total) / float64(pageSize)))
	return &cartItems{
		Items:      page,
		PageInfo:   &pageInfo{PageSize: &pageSize, CurrentPage: &currentPage, TotalPages: &totalPages},
		TotalCount: total,
	}, nil
}

func sortItems(items []*cartItemResolver, field string, desc bool) {
	less := func(a, b cartItem) bool { return a.id < b.id }
	switch field {
	case "SKU":
		less = func(a, b cartItem) bool { return a.priced().sku < b.priced().sku }
	case "NAME":
		less = func(a, b cartItem) bool { return a.product.name < b.product.name }
	case "QTY":
		less = func(a, b cartItem) bool { return a.qty.Less(b.qty) }
	case "PRICE":
		less = func(a, b cartItem) bool { return a.priced().price.Less(b.priced().price) }
	case "ROW_TOTAL":
		less = func(a, b cartItem) bool {
			var x arith
			return x.mul(a.priced().price, a.qty).Less(x.mul(b.priced().price, b.qty))
		}
	case "PRODUCT_ID":
		less = func(a, b cartItem) bool { return a.product.id < b.product.id }
	}
	sort.SliceStable(items, func(i, j int) bool {
		if desc {
			return less(items[j].it, items[i].it)
		}
		return less(items[i].it, items[j].it)
	})
}

type cartItems struct {
	Items      []*cartItemResolver
	PageInfo   *pageInfo
	TotalCount int32
}

type pageInfo struct {
	PageSize    *int32
	CurrentPage *int32
	TotalPages  *int32
}

type appliedCoupon struct {
	Code string
}

// AppliedCoupon resolves the deprecated Cart.applied_coupon: the first coupon.
func (r *cartResolver) AppliedCoupon() *appliedCoupon {
	if len(r.c.coupons) == 0 {
		return nil
	}
	return &appliedCoupon{Code: r.c.coupons[0]}
}

// AppliedCoupons resolves Cart.applied_coupons: null when none. A coupon that stopped
// applying stays listed (and gives no discount) until it is removed or the order is refused.
func (r *cartResolver) AppliedCoupons() *[]*appliedCoupon {
	if len(r.c.coupons) == 0 {
		return nil
	}
	out := make([]*appliedCoupon, len(r.c.coupons))
	for i, code := range r.c.coupons {
		out[i] = &appliedCoupon{Code: code}
	}
	return &out
}

type appliedGiftCard struct {
	Code           *string
	AppliedBalance *money
	CurrentBalance *money
	ExpirationDate *string
}

// AppliedGiftCards resolves the Adobe Commerce Cart.applied_gift_cards: the demo store sells
// no gift card accounts, so it is always empty.
func (r *cartResolver) AppliedGiftCards() *[]*appliedGiftCard {
	return &[]*appliedGiftCard{}
}

// TotalQuantity resolves Cart.total_quantity.
func (r *cartResolver) TotalQuantity() float64 { return toFloat(r.c.totalQty()) }

// IsVirtual resolves Cart.is_virtual.
func (r *cartResolver) IsVirtual() bool { return r.c.isVirtual() }

// ShippingAddresses resolves Cart.shipping_addresses.
func (r *cartResolver) ShippingAddresses() []*shippingAddressResolver {
	if r.c.shipping == nil {
		return []*shippingAddressResolver{}
	}
	return []*shippingAddressResolver{{addressFields: addressFields{a: r.c.shipping, id: 2*r.c.quoteID - 1}, cart: r}}
}

// BillingAddress resolves Cart.billing_address.
func (r *cartResolver) BillingAddress() *billingAddressResolver {
	if r.c.billing == nil {
		return nil
	}
	return &billingAddressResolver{addressFields: addressFields{a: r.c.billing, id: 2 * r.c.quoteID}}
}

type paymentMethod struct {
	Code  string
	Title string
}

// availablePayments lists the payment methods for a cart's grand total: only "free" when
// nothing is due (Magento's ZeroTotal check), otherwise check / money order.
func availablePayments(t *totals) []*paymentMethod {
	if t.grandTotal.IsZero() {
		return []*paymentMethod{{Code: paymentFree, Title: paymentFreeTitle}}
	}
	return []*paymentMethod{{Code: paymentCheckmo, Title: paymentCheckmoTitle}}
}

// AvailablePaymentMethods resolves Cart.available_payment_methods.
func (r *cartResolver) AvailablePaymentMethods(ctx context.Context) (*[]*paymentMethod, error) {
	t, err := r.collect(ctx)
	if err != nil {
		return nil, err
	}
	methods := availablePayments(t)
	return &methods, nil
}

type selectedPaymentMethod struct {
	Code                string
	Title               string
	PurchaseOrderNumber *string
}

// SelectedPaymentMethod resolves Cart.selected_payment_method. Magento answers an object with
// empty code and title when none is selected.
func (r *cartResolver) SelectedPaymentMethod() *selectedPaymentMethod {
	if r.c.payment == nil {
		return &selectedPaymentMethod{}
	}
	return &selectedPaymentMethod{Code: r.c.payment.code, Title: r.c.payment.title, PurchaseOrderNumber: r.c.payment.poNumber}
}

// Prices resolves Cart.prices.
func (r *cartResolver) Prices(ctx context.Context) (*cartPrices, error) {
	t, err := r.collect(ctx)
	if err != nil {
		return nil, err
	}
	p := &cartPrices{
		GrandTotal:                       usd(t.grandTotal),
		GrandTotalExcludingTax:           usd(t.grandTotalExclTax()),
		SubtotalIncludingTax:             usd(t.subtotalInclTax),
		SubtotalExcludingTax:             usd(t.subtotal),
		SubtotalWithDiscountExcludingTax: usd(t.subtotalWithDiscount()),
		AppliedTaxes:                     &[]*cartTaxItem{},
		Discounts:                        discountList(t.discounts),
		GiftOptions: &giftOptionsPrices{
			GiftWrappingForOrder: usd(zero),
			GiftWrappingForItems: usd(zero),
			PrintedCard:          usd(zero),
		},
	}
	if t.tax.IsPos() {
		p.AppliedTaxes = &[]*cartTaxItem{{Amount: usd(t.tax), Label: taxLabel}}
	}
	if t.discount.IsPos() {
		p.Discount = &cartDiscount{Amount: usd(t.discount.Neg()), Label: t.discountLabels()}
	}
	return p, nil
}

type cartPrices struct {
	GrandTotal                       *money
	GrandTotalExcludingTax           *money
	SubtotalIncludingTax             *money
	SubtotalExcludingTax             *money
	Discount                         *cartDiscount
	SubtotalWithDiscountExcludingTax *money
	AppliedTaxes                     *[]*cartTaxItem
	Discounts                        *[]*discount
	GiftOptions                      *giftOptionsPrices
}

type cartTaxItem struct {
	Amount *money
	Label  string
}

type cartDiscount struct {
	Amount *money
	Label  []string
}

type giftOptionsPrices struct {
	GiftWrappingForOrder *money
	GiftWrappingForItems *money
	PrintedCard          *money
}

type discount struct {
	Amount    *money
	AppliedTo string
	Label     string
	Coupon    *appliedCoupon
}

// discountList renders applied discounts as a [Discount] list: null when empty, as Magento.
func discountList(ds []appliedDiscount) *[]*discount {
	if len(ds) == 0 {
		return nil
	}
	out := make([]*discount, len(ds))
	for i, d := range ds {
		out[i] = &discount{Amount: usd(d.amount), AppliedTo: d.appliedTo, Label: d.label}
		if d.coupon != "" {
			out[i].Coupon = &appliedCoupon{Code: d.coupon}
		}
	}
	return &out
}

func toFloat(d decimal.Decimal) float64 {
	f, _ := d.Float64()
	return f
}

func ptrFloat(f float64) *float64 { return &f }

func ptrString(s string) *string { return &s }
