package demostore

import (
	"context"

	graphql "github.com/graph-gophers/graphql-go"
)

// rootResolver resolves the Query and Mutation root fields.
type rootResolver struct {
	s *Store
}

// Cart resolves Query.cart.
func (r *rootResolver) Cart(ctx context.Context, args struct{ CartID string }) (*cartResolver, error) {
	req := requestFrom(ctx)
	req.touchCart()
	c, err := r.s.readCart(args.CartID, req)
	if err != nil {
		return nil, err
	}
	return r.s.newCartResolver(c, req), nil
}

// CustomerCart resolves Query.customerCart for the demo customer.
func (r *rootResolver) CustomerCart(ctx context.Context) (*cartResolver, error) {
	req := requestFrom(ctx)
	req.touchCart()
	if err := requireCustomer(req, msgCustomerOnly); err != nil {
		return nil, err
	}
	r.s.mu.Lock()
	c := r.s.customerCartLocked().clone()
	r.s.mu.Unlock()
	return r.s.newCartResolver(c, req), nil
}

// requireCustomer refuses guests with Magento's message for the field (guestMessage) and an
// unknown bearer token with "The current customer isn't authorized.".
func requireCustomer(req *requestInfo, guestMessage string) error {
	switch {
	case req.isCustomer():
		return nil
	case req.token == "":
		return authorizationError("%s", guestMessage)
	default:
		return authorizationError(msgCustomerUnknown)
	}
}

// Products resolves Query.products.
func (r *rootResolver) Products(ctx context.Context, args productsArgs) (*products, error) {
	return r.s.products(ctx, args)
}

// StoreConfig resolves Query.storeConfig.
func (r *rootResolver) StoreConfig() *storeConfig {
	base := r.s.opts.BaseURL
	return &storeConfig{
		ID:                         ptrInt32(1),
		Code:                       ptrString("default"),
		StoreCode:                  ptrID("default"),
		StoreName:                  ptrString("Default Store View"),
		StoreSortOrder:             ptrInt32(0),
		IsDefaultStore:             ptrBool(true),
		StoreGroupCode:             ptrID("main_website_store"),
		StoreGroupName:             ptrString("Main Website Store"),
		IsDefaultStoreGroup:        ptrBool(true),
		WebsiteID:                  ptrInt32(1),
		WebsiteCode:                ptrID("base"),
		WebsiteName:                ptrString("Main Website"),
		Locale:                     ptrString("en_US"),
		BaseCurrencyCode:           ptrString(currencyUSD),
		DefaultDisplayCurrencyCode: ptrString(currencyUSD),
		Timezone:                   ptrString("America/Los_Angeles"),
		WeightUnit:                 ptrString("lbs"),
		BaseURL:                    ptrString(base),
		BaseLinkURL:                ptrString(base),
		BaseStaticURL:              ptrString(base + "static/"),
		BaseMediaURL:               ptrString(base + "media/"),
		SecureBaseURL:              ptrString(base),
		SecureBaseLinkURL:          ptrString(base),
		SecureBaseStaticURL:        ptrString(base + "static/"),
		SecureBaseMediaURL:         ptrString(base + "media/"),
		RootCategoryID:             ptrInt32(2),
		RootCategoryUID:            ptrID(encodeUID("2")),
		ProductURLSuffix:           ptrString(".html"),
		CategoryURLSuffix:          ptrString(".html"),
		DefaultTitle:               ptrString("Magento Commerce"),
		CmsHomePage:                ptrString("home"),
		Copyright:                  ptrString("Copyright © 2013-present Magento, Inc. All rights reserved."),
		GridPerPage:                ptrInt32(12),
		ListPerPage:                ptrInt32(10),
		CatalogDefaultSortBy:       ptrString("position"),
		IsGuestCheckoutEnabled:     ptrBool(true),
		IsOnePageCheckoutEnabled:   ptrBool(true),
		MaxItemsInOrderSummary:     ptrInt32(10),
		CartSummaryDisplayQuantity: ptrInt32(1),
		MinicartDisplay:            ptrBool(true),
		MinicartMaxItems:           ptrInt32(10),
		CartExpiresInDays:          ptrInt32(30),
		GroupedProductImage:        "ITSELF",
		ConfigurableProductImage:   "ITSELF",
	}
}

type storeConfig struct {
	ID                         *int32
	Code                       *string
	StoreCode                  *graphql.ID
	StoreName                  *string
	StoreSortOrder             *int32
	IsDefaultStore             *bool
	StoreGroupCode             *graphql.ID
	StoreGroupName             *string
	IsDefaultStoreGroup        *bool
	WebsiteID                  *int32
	WebsiteCode                *graphql.ID
	WebsiteName                *string
	Locale                     *string
	BaseCurrencyCode           *string
	DefaultDisplayCurrencyCode *string
	Timezone                   *string
	WeightUnit                 *string
	BaseURL                    *string
	BaseLinkURL                *string
	BaseStaticURL              *string
	BaseMediaURL               *string
	SecureBaseURL              *string
	SecureBaseLinkURL          *string
	SecureBaseStaticURL        *string
	SecureBaseMediaURL         *string
	RootCategoryID             *int32
	RootCategoryUID            *graphql.ID
	ProductURLSuffix           *string
	CategoryURLSuffix          *string
	DefaultTitle               *string
	CmsHomePage                *string
	Copyright                  *string
	GridPerPage                *int32
	ListPerPage                *int32
	CatalogDefaultSortBy       *string
	IsGuestCheckoutEnabled     *bool
	IsOnePageCheckoutEnabled   *bool
	MaxItemsInOrderSummary     *int32
	CartSummaryDisplayQuantity *int32
	MinicartDisplay            *bool
	MinicartMaxItems           *int32
	CartExpiresInDays          *int32
	GroupedProductImage        string
	ConfigurableProductImage   string
}

func ptrInt32(i int32) *int32 { return &i }

func ptrID(s string) *graphql.ID { id := graphql.ID(s); return &id }
