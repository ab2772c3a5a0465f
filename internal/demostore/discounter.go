package demostore

import (
	"context"
	"time"

	"github.com/govalues/decimal"
)

// Discounter is an extra source of cart price rules that the store applies inside its own
// totals, after its backend coupon rule and before tax, the way Magento's SalesRule engine
// would apply further rules. The audience rule engine plugs in here (flag -audience-rules),
// which makes the demo store a reference that computes audience discounts from scratch.
//
// Implementations must be safe for concurrent use; they must not keep or modify the input.
type Discounter interface {
	Discount(ctx context.Context, in DiscountInput) (DiscountOutput, error)
}

// DiscountInput is the cart as the extra source sees it: every amount is exact and already
// rounded to cents; Lines carry the discount the store's coupon rules have already applied.
type DiscountInput struct {
	// Segments is the shopper's audience membership from the X-Audience-Segments header.
	Segments []string
	// Store is the store view code from the Store request header ("default" when absent).
	Store string
	// Currency is the cart's currency code.
	Currency string
	// Coupons lists the coupon codes on the cart (Cart.applied_coupons), whether or not they
	// still apply.
	Coupons []string
	// Subtotal is the sum of row totals, excluding tax and before any discount.
	Subtotal decimal.Decimal
	// TotalQty is the sum of item quantities.
	TotalQty decimal.Decimal
	// ShippingAmount is the selected shipping method's amount less what the store's coupon
	// rules took off it (zero when no method is selected).
	ShippingAmount decimal.Decimal
	// Now is the store's clock (Store.Now), the time rules are evaluated at.
	Now time.Time
	// Lines are the cart items in cart order.
	Lines []DiscountLine
}

// DiscountLine is one cart item.
type DiscountLine struct {
	// ItemID is the cart item id (Magento quote item id).
	ItemID int
	// SKU is the SKU that is priced: the chosen child of a configurable product.
	SKU string
	// ParentSKU is the configurable parent's SKU, empty for other items.
	ParentSKU string
	// ProductType is Magento's type_id of the added product: simple, virtual or configurable.
	ProductType string
	Qty         decimal.Decimal
	// Price is the unit price excluding tax.
	Price decimal.Decimal
	// RowTotal is Price × Qty, rounded to cents.
	RowTotal decimal.Decimal
	// Discount is the discount already applied to the item by earlier rules.
	Discount decimal.Decimal
	// DiscountPercent is Magento's item discount_percent after earlier rules (the key of
	// Magento's by_percent rounding deltas).
	DiscountPercent decimal.Decimal
}

// DiscountOutput is what the extra source adds. Amounts are positive and rounded to cents.
type DiscountOutput struct {
	// Items holds the per-item discounts, one entry per discounted item.
	Items []LineDiscount
	// Cart holds one entry per rule for Cart.prices.discounts, in rule order.
	Cart []RuleAmount
	// Shipping is the total discount on the shipping amount. It may exceed the SHIPPING
	// entries of Cart: Magento lists a rule's shipping discount only when it fits uncapped.
	Shipping decimal.Decimal
	// Applied has one entry per rule that took something off items or shipping, in rule
	// order: the rules Magento's discount description names (the deprecated
	// CartPrices.discount.label). Amount is everything the rule took off.
	Applied []RuleAmount
}

// LineDiscount is the discount the extra source puts on one item, per rule.
type LineDiscount struct {
	ItemID int
	Rules  []RuleAmount
}

// RuleAmount is the amount one rule contributes, with the label shoppers see.
type RuleAmount struct {
	// Label is the rule's store label; empty shows as "Discount", as in Magento.
	Label  string
	Amount decimal.Decimal
	// AppliedTo is "ITEM" or "SHIPPING" (empty means ITEM).
	AppliedTo string
}
