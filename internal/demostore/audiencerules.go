package demostore

import (
	"context"
	"errors"
	"time"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

// RuleDiscounter applies an audience rule file inside the store's own totals, making the
// demo store a reference that computes audience discounts from scratch (flag -audience-rules).
type RuleDiscounter struct {
	RuleSet *rules.RuleSet
	// Now is the evaluation time; nil means the store's clock (DiscountInput.Now).
	Now func() time.Time
}

// Discount evaluates the rules for the shopper's segments on the cart as it stands after the
// store's own coupon rules. Lines are identified to the engine by their product's SKU (the
// configurable parent's for a configurable item), as a GraphQL client sees them.
func (d RuleDiscounter) Discount(_ context.Context, in DiscountInput) (DiscountOutput, error) {
	cart := &rules.Cart{
		Currency:       in.Currency,
		Store:          in.Store,
		Coupons:        in.Coupons,
		ShippingAmount: in.ShippingAmount,
		Items:          make([]rules.Item, len(in.Lines)),
	}
	for i, l := range in.Lines {
		sku := l.SKU
		if l.ParentSKU != "" {
			sku = l.ParentSKU
		}
		cart.Items[i] = rules.Item{SKU: sku, Qty: l.Qty, Price: l.Price, RowTotal: l.RowTotal, Discount: l.Discount, ProductType: l.ProductType}
	}
	at := in.Now
	if d.Now != nil {
		at = d.Now()
	}
	res := d.RuleSet.EvaluateWith(cart, in.Segments, at, rules.EvalOptions{})
	if res.Error != "" {
		return DiscountOutput{}, errors.New(res.Error)
	}
	var out DiscountOutput
	for i, item := range res.Items {
		if len(item.Discounts) == 0 {
			continue
		}
		ld := LineDiscount{ItemID: in.Lines[i].ItemID}
		for _, rd := range item.Discounts {
			ld.Rules = append(ld.Rules, RuleAmount{Label: rd.Label, Amount: rd.Amount, AppliedTo: rules.AppliedToItem})
		}
		out.Items = append(out.Items, ld)
	}
	for _, cd := range res.Discounts {
		out.Cart = append(out.Cart, RuleAmount{Label: cd.Label, Amount: cd.Amount, AppliedTo: cd.AppliedTo})
	}
	for _, a := range res.Applied {
		out.Applied = append(out.Applied, RuleAmount{Label: a.Label, Amount: a.Amount})
	}
	out.Shipping = res.ShippingDiscount
	if out.Shipping.IsZero() {
		out.Shipping = decimal.Zero
	}
	return out, nil
}

var _ Discounter = RuleDiscounter{}
