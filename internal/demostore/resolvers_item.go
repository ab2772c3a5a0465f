package demostore

import (
	"context"
	"strconv"

	graphql "github.com/graph-gophers/graphql-go"
)

// cartItemResolver resolves CartItemInterface and its three implementations.
type cartItemResolver struct {
	cart *cartResolver
	idx  int
	it   cartItem
}

func (r *cartItemResolver) kind() productType {
	if r.it.child != nil {
		return typeConfigurable
	}
	return r.it.product.typ
}

// ToSimpleCartItem resolves the SimpleCartItem type.
func (r *cartItemResolver) ToSimpleCartItem() (*cartItemResolver, bool) {
	return r, r.kind() == typeSimple
}

// ToVirtualCartItem resolves the VirtualCartItem type.
func (r *cartItemResolver) ToVirtualCartItem() (*cartItemResolver, bool) {
	return r, r.kind() == typeVirtual
}

// ToConfigurableCartItem resolves the ConfigurableCartItem type.
func (r *cartItemResolver) ToConfigurableCartItem() (*cartItemResolver, bool) {
	return r, r.kind() == typeConfigurable
}

// ID resolves the deprecated CartItemInterface.id.
func (r *cartItemResolver) ID() string { return strconv.Itoa(r.it.id) }

// UID resolves CartItemInterface.uid.
func (r *cartItemResolver) UID() graphql.ID { return graphql.ID(r.it.uid()) }

// Quantity resolves CartItemInterface.quantity.
func (r *cartItemResolver) Quantity() float64 { return toFloat(r.it.qty) }

// IsAvailable resolves CartItemInterface.is_available: everything is in stock.
func (r *cartItemResolver) IsAvailable() bool { return true }

// Errors resolves CartItemInterface.errors: null when the item has none.
func (r *cartItemResolver) Errors() *[]*cartItemError { return nil }

type cartItemError struct {
	Code    string
	Message string
}

// Product resolves CartItemInterface.product: the parent for a configurable item.
func (r *cartItemResolver) Product() *productResolver {
	return &productResolver{s: r.cart.s, p: r.it.product}
}

// ConfiguredVariant resolves ConfigurableCartItem.configured_variant: the chosen child.
func (r *cartItemResolver) ConfiguredVariant() *productResolver {
	return &productResolver{s: r.cart.s, p: r.it.priced()}
}

// CustomizableOptions resolves customizable_options: the demo catalog has none.
func (r *cartItemResolver) CustomizableOptions() []*selectedCustomizableOption {
	return []*selectedCustomizableOption{}
}

type selectedCustomizableOption struct {
	ID                    int32
	CustomizableOptionUID graphql.ID
	Label                 string
	Type                  string
	IsRequired            bool
	Values                []*selectedCustomizableOptionValue
	SortOrder             int32
}

type selectedCustomizableOptionValue struct {
	ID                         int32
	CustomizableOptionValueUID graphql.ID
	Label                      string
	Value                      string
}

type selectedConfigurableOption struct {
	ID                                int32
	ConfigurableProductOptionUID      graphql.ID
	OptionLabel                       string
	ValueID                           int32
	ConfigurableProductOptionValueUID graphql.ID
	ValueLabel                        string
}

// ConfigurableOptions resolves ConfigurableCartItem.configurable_options.
func (r *cartItemResolver) ConfigurableOptions() []*selectedConfigurableOption {
	child := r.it.child
	if child == nil {
		return []*selectedConfigurableOption{}
	}
	parent := r.it.product
	out := make([]*selectedConfigurableOption, 0, len(parent.super))
	for _, attr := range parent.super {
		value := child.attrs[attr.id]
		out = append(out, &selectedConfigurableOption{
			ID:                                int32(attr.id),
			ConfigurableProductOptionUID:      graphql.ID(optionUID(parent.id, attr.id)),
			OptionLabel:                       attr.label,
			ValueID:                           int32(value),
			ConfigurableProductOptionValueUID: graphql.ID(optionValueUID(attr.id, value)),
			ValueLabel:                        child.labels[attr.id],
		})
	}
	return out
}

// Prices resolves CartItemInterface.prices.
func (r *cartItemResolver) Prices(ctx context.Context) (*cartItemPrices, error) {
	t, err := r.cart.collect(ctx)
	if err != nil {
		return nil, err
	}
	l := t.lines[r.idx]
	return &cartItemPrices{
		Price:                usd(l.price),
		PriceIncludingTax:    usd(l.priceInclTax),
		RowTotal:             usd(l.rowTotal),
		RowTotalIncludingTax: usd(l.rowTotalInclTax),
		Discounts:            discountList(l.discounts),
		TotalItemDiscount:    usd(l.discount),
		OriginalItemPrice:    usd(l.price),
		OriginalRowTotal:     usd(l.rowTotal),
		CatalogDiscount:      &productDiscount{PercentOff: ptrFloat(0), AmountOff: ptrFloat(0)},
		RowCatalogDiscount:   &productDiscount{PercentOff: ptrFloat(0), AmountOff: ptrFloat(0)},
		FixedProductTaxes:    &[]*fixedProductTax{},
	}, nil
}

type cartItemPrices struct {
	Price                *money
	PriceIncludingTax    *money
	RowTotal             *money
	RowTotalIncludingTax *money
	Discounts            *[]*discount
	TotalItemDiscount    *money
	OriginalItemPrice    *money
	OriginalRowTotal     *money
	CatalogDiscount      *productDiscount
	RowCatalogDiscount   *productDiscount
	FixedProductTaxes    *[]*fixedProductTax
}

type fixedProductTax struct {
	Amount *money
	Label  *string
}
