package demostore

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/govalues/decimal"
	graphql "github.com/graph-gophers/graphql-go"
)

// productResolver resolves ProductInterface and its implementations.
type productResolver struct {
	s *Store
	p *product
}

// ToSimpleProduct resolves the SimpleProduct type.
func (r *productResolver) ToSimpleProduct() (*productResolver, bool) {
	return r, r.p.typ == typeSimple
}

// ToVirtualProduct resolves the VirtualProduct type.
func (r *productResolver) ToVirtualProduct() (*productResolver, bool) {
	return r, r.p.typ == typeVirtual
}

// ToConfigurableProduct resolves the ConfigurableProduct type.
func (r *productResolver) ToConfigurableProduct() (*productResolver, bool) {
	return r, r.p.typ == typeConfigurable
}

// ID resolves the deprecated ProductInterface.id.
func (r *productResolver) ID() *int32 { id := int32(r.p.id); return &id }

// UID resolves ProductInterface.uid.
func (r *productResolver) UID() graphql.ID { return graphql.ID(r.p.uid()) }

// Name resolves ProductInterface.name.
func (r *productResolver) Name() *string { return ptrString(r.p.name) }

// Sku resolves ProductInterface.sku.
func (r *productResolver) Sku() *string { return ptrString(r.p.sku) }

// TypeID resolves the deprecated ProductInterface.type_id.
func (r *productResolver) TypeID() *string { return ptrString(string(r.p.typ)) }

// URLKey resolves ProductInterface.url_key.
func (r *productResolver) URLKey() *string { return ptrString(r.p.urlKey) }

// URLSuffix resolves ProductInterface.url_suffix.
func (r *productResolver) URLSuffix() *string { return ptrString(".html") }

// StockStatus resolves ProductInterface.stock_status.
func (r *productResolver) StockStatus() *string { return ptrString("IN_STOCK") }

// OnlyXLeftInStock resolves ProductInterface.only_x_left_in_stock (the threshold is off).
func (r *productResolver) OnlyXLeftInStock() *float64 { return nil }

type complexTextValue struct {
	HTML string
}

// Description resolves ProductInterface.description.
func (r *productResolver) Description() *complexTextValue {
	return &complexTextValue{HTML: fmt.Sprintf("<p>%s from the demo store catalog.</p>", r.p.name)}
}

// ShortDescription resolves ProductInterface.short_description.
func (r *productResolver) ShortDescription() *complexTextValue { return &complexTextValue{HTML: ""} }

// MetaTitle resolves ProductInterface.meta_title.
func (r *productResolver) MetaTitle() *string { return nil }

type productImage struct {
	URL      *string
	Label    *string
	Position *int32
	Disabled *bool
}

func (r *productResolver) image() *productImage {
	return &productImage{
		URL:   ptrString(r.s.opts.BaseURL + "media/catalog/product" + r.p.image),
		Label: ptrString(r.p.name),
	}
}

// Thumbnail resolves ProductInterface.thumbnail.
func (r *productResolver) Thumbnail() *productImage { return r.image() }

// SmallImage resolves ProductInterface.small_image.
func (r *productResolver) SmallImage() *productImage { return r.image() }

// Image resolves ProductInterface.image.
func (r *productResolver) Image() *productImage { return r.image() }

// Weight resolves PhysicalProductInterface.weight.
func (r *productResolver) Weight() *float64 {
	if r.p.typ == typeVirtual {
		return nil
	}
	return ptrFloat(toFloat(r.p.weight))
}

type priceRange struct {
	MinimumPrice *productPrice
	MaximumPrice *productPrice
}

type productPrice struct {
	RegularPrice      *money
	FinalPrice        *money
	Discount          *productDiscount
	FixedProductTaxes *[]*fixedProductTax
}

type productDiscount struct {
	PercentOff *float64
	AmountOff  *float64
}

func priceOf(d decimal.Decimal) *productPrice {
	return &productPrice{
		RegularPrice:      usd(d),
		FinalPrice:        usd(d),
		Discount:          &productDiscount{PercentOff: ptrFloat(0), AmountOff: ptrFloat(0)},
		FixedProductTaxes: &[]*fixedProductTax{},
	}
}

// PriceRange resolves ProductInterface.price_range.
func (r *productResolver) PriceRange() *priceRange {
	lo, hi := r.p.price, r.p.price
	for _, v := range r.p.variants {
		lo, hi = lo.Min(v.price), hi.Max(v.price)
	}
	return &priceRange{MinimumPrice: priceOf(lo), MaximumPrice: priceOf(hi)}
}

type configurableOption struct {
	ID            *int32
	UID           graphql.ID
	AttributeID   *string
	AttributeIDV2 *int32
	AttributeUID  graphql.ID
	AttributeCode *string
	Label         *string
	Position      *int32
	UseDefault    *bool
	Values        *[]*configurableOptionValue
	ProductID     *int32
}

type configurableOptionValue struct {
	UID             *graphql.ID
	ValueIndex      *int32
	Label           *string
	DefaultLabel    *string
	StoreLabel      *string
	UseDefaultValue *bool
}

// ConfigurableOptions resolves ConfigurableProduct.configurable_options.
func (r *productResolver) ConfigurableOptions() *[]*configurableOption {
	if r.p.typ != typeConfigurable {
		return nil
	}
	out := make([]*configurableOption, 0, len(r.p.super))
	for _, attr := range r.p.super {
		values := make([]*configurableOptionValue, 0, len(attr.values))
		for _, v := range attr.values {
			uid := graphql.ID(optionValueUID(attr.id, v.index))
			index := int32(v.index)
			values = append(values, &configurableOptionValue{
				UID: &uid, ValueIndex: &index, Label: ptrString(v.label), DefaultLabel: ptrString(v.label),
				StoreLabel: ptrString(v.label), UseDefaultValue: ptrBool(true),
			})
		}
		id, attrID, position, productID := int32(attr.id), int32(attr.id), int32(attr.position), int32(r.p.id)
		out = append(out, &configurableOption{
			ID:            &id,
			UID:           graphql.ID(optionUID(r.p.id, attr.id)),
			AttributeID:   ptrString(strconv.Itoa(attr.id)),
			AttributeIDV2: &attrID,
			AttributeUID:  graphql.ID(encodeUID(strconv.Itoa(attr.id))),
			AttributeCode: ptrString(attr.code),
			Label:         ptrString(attr.label),
			Position:      &position,
			UseDefault:    ptrBool(false),
			Values:        &values,
			ProductID:     &productID,
		})
	}
	return &out
}

type configurableVariant struct {
	Attributes *[]*configurableAttributeOption
	Product    *productResolver
}

type configurableAttributeOption struct {
	Label      *string
	Code       *string
	ValueIndex *int32
	UID        graphql.ID
}

// Variants resolves ConfigurableProduct.variants.
func (r *productResolver) Variants() *[]*configurableVariant {
	if r.p.typ != typeConfigurable {
		return nil
	}
	out := make([]*configurableVariant, 0, len(r.p.variants))
	for _, v := range r.p.variants {
		attrs := make([]*configurableAttributeOption, 0, len(r.p.super))
		for _, attr := range r.p.super {
			index := int32(v.attrs[attr.id])
			attrs = append(attrs, &configurableAttributeOption{
				Label: ptrString(v.labels[attr.id]), Code: ptrString(attr.code), ValueIndex: &index,
				UID: graphql.ID(optionValueUID(attr.id, v.attrs[attr.id])),
			})
		}
		out = append(out, &configurableVariant{Attributes: &attrs, Product: &productResolver{s: r.s, p: v}})
	}
	return &out
}

func ptrBool(b bool) *bool { return &b }

// products resolves Query.products.

type productsArgs struct {
	Search      *string
	Filter      *productFilterInput
	PageSize    int32
	CurrentPage int32
	Sort        *struct {
		Name      *string
		Price     *string
		Position  *string
		Relevance *string
	}
}

type productFilterInput struct {
	Sku         *filterEqual
	URLKey      *filterEqual
	Name        *struct{ Match *string }
	Price       *struct{ From, To *string }
	CategoryID  *filterEqual
	CategoryUID *filterEqual
}

type filterEqual struct {
	Eq *string
	In *[]*string
}

type products struct {
	Items      *[]*productResolver
	PageInfo   *pageInfo
	TotalCount *int32
}

func (s *Store) products(_ context.Context, args productsArgs) (*products, error) {
	if args.Search == nil && args.Filter == nil {
		return nil, inputError("'search' or 'filter' input argument is required.")
	}
	pageSize, currentPage := args.PageSize, args.CurrentPage
	if pageSize < 1 {
		return nil, inputError("pageSize value must be greater than 0.")
	}
	if currentPage < 1 {
		return nil, inputError("currentPage value must be greater than 0.")
	}
	f, err := args.Filter.toFilter()
	if err != nil {
		return nil, err
	}
	sortBy, desc := "", false
	if args.Sort != nil {
		switch {
		case args.Sort.Name != nil:
			sortBy, desc = "name", *args.Sort.Name == "DESC"
		case args.Sort.Price != nil:
			sortBy, desc = "price", *args.Sort.Price == "DESC"
		}
	}
	search := ""
	if args.Search != nil {
		search = *args.Search
	}
	found := s.catalog.search(search, f, sortBy, desc)
	total := int32(len(found))
	totalPages := int32(math.Ceil(float64(total) / float64(pageSize)))
	if total > 0 && currentPage > totalPages {
		return nil, inputError("currentPage value %d specified is greater than the %d page(s) available.", currentPage, totalPages)
	}
	start := min(int(pageSize)*int(currentPage-1), len(found))
	end := min(start+int(pageSize), len(found))
	items := make([]*productResolver, 0, end-start)
	for _, p := range found[start:end] {
		items = append(items, &productResolver{s: s, p: p})
	}
	return &products{
		Items:      &items,
		PageInfo:   &pageInfo{PageSize: &pageSize, CurrentPage: &currentPage, TotalPages: &totalPages},
		TotalCount: &total,
	}, nil
}

func (in *productFilterInput) toFilter() (productFilter, error) {
	var f productFilter
	if in == nil {
		return f, nil
	}
	if in.Sku != nil {
		f.skuEq, f.skuIn = in.Sku.Eq, in.Sku.list()
	}
	if in.URLKey != nil {
		f.urlKeyEq, f.urlKeyIn = in.URLKey.Eq, in.URLKey.list()
	}
	if in.Name != nil {
		f.nameMatch = in.Name.Match
	}
	if in.Price != nil {
		for _, bound := range []struct {
			in  *string
			out **decimal.Decimal
		}{{in.Price.From, &f.priceFrom}, {in.Price.To, &f.priceTo}} {
			if bound.in == nil || *bound.in == "" {
				continue
			}
			d, err := decimal.Parse(*bound.in)
			if err != nil {
				return f, inputError("Invalid price filter value %q.", *bound.in)
			}
			*bound.out = &d
		}
	}
	return f, nil
}

func (e *filterEqual) list() []string {
	if e.In == nil {
		return nil
	}
	out := make([]string, 0, len(*e.In))
	for _, v := range *e.In {
		if v != nil {
			out = append(out, *v)
		}
	}
	return out
}
