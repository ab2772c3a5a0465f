package demostore

import (
	"strconv"

	graphql "github.com/graph-gophers/graphql-go"
)

// The catalog fields of ProductInterface beyond the product's own attributes: its linked
// products (RelatedProductGraphQl), categories (CatalogGraphQl), URL rewrites
// (CatalogUrlRewriteGraphQl) and reviews (ReviewGraphQl; the demo catalog has none).

// RelatedProducts resolves ProductInterface.related_products.
func (r *productResolver) RelatedProducts() *[]*productResolver { return r.linked(linkRelated) }

// UpsellProducts resolves ProductInterface.upsell_products.
func (r *productResolver) UpsellProducts() *[]*productResolver { return r.linked(linkUpsell) }

// CrosssellProducts resolves ProductInterface.crosssell_products.
func (r *productResolver) CrosssellProducts() *[]*productResolver {
	return r.linked(linkCrosssell)
}

// linked answers a link list: an empty list, never null, for a product without links, as
// Magento's batch resolver does.
func (r *productResolver) linked(t linkType) *[]*productResolver {
	products := r.s.catalog.linked(r.p, t)
	out := make([]*productResolver, 0, len(products))
	for _, p := range products {
		out = append(out, &productResolver{s: r.s, p: p})
	}
	return &out
}

// Categories resolves ProductInterface.categories.
func (r *productResolver) Categories() *[]*categoryResolver {
	out := make([]*categoryResolver, 0, len(r.p.categories))
	for _, c := range r.p.categories {
		out = append(out, &categoryResolver{c: c})
	}
	return &out
}

type urlRewrite struct {
	URL        *string
	Parameters *[]*httpQueryParameter
}

type httpQueryParameter struct {
	Name  *string
	Value *string
}

// URLRewrites resolves ProductInterface.url_rewrites: the product's own URL and one under each
// of its categories, with the target path's parameters as Magento lists them.
func (r *productResolver) URLRewrites() *[]*urlRewrite {
	if !r.p.listed {
		return &[]*urlRewrite{}
	}
	id := strconv.Itoa(r.p.id)
	rewrite := func(url string, params ...string) *urlRewrite {
		list := make([]*httpQueryParameter, 0, len(params)/2)
		for i := 0; i+1 < len(params); i += 2 {
			list = append(list, &httpQueryParameter{Name: ptrString(params[i]), Value: ptrString(params[i+1])})
		}
		return &urlRewrite{URL: ptrString(url), Parameters: &list}
	}
	out := []*urlRewrite{rewrite(r.p.urlKey+".html", "id", id)}
	for _, c := range r.p.categories {
		out = append(out, rewrite(c.urlPath()+"/"+r.p.urlKey+".html", "id", id, "category", strconv.Itoa(c.id)))
	}
	return &out
}

// RatingSummary resolves ProductInterface.rating_summary (no reviews: 0).
func (r *productResolver) RatingSummary() float64 { return 0 }

// ReviewCount resolves ProductInterface.review_count.
func (r *productResolver) ReviewCount() int32 { return 0 }

type productReviews struct {
	Items    []*productReview
	PageInfo *pageInfo
}

// productReview is never built: the demo catalog has no reviews.
type productReview struct {
	Product          *productResolver
	Summary          string
	Text             string
	Nickname         string
	CreatedAt        string
	AverageRating    float64
	RatingsBreakdown []*productReviewRating
}

type productReviewRating struct {
	Name  string
	Value string
}

// Reviews resolves ProductInterface.reviews with ReviewGraphQl's paging checks; the page info
// of an empty review collection says page 1 (the collection's current page) of 0.
func (r *productResolver) Reviews(args struct{ PageSize, CurrentPage int32 }) (*productReviews, error) {
	if args.CurrentPage < 1 {
		return nil, inputError("currentPage value must be greater than 0.")
	}
	if args.PageSize < 1 {
		return nil, inputError("pageSize value must be greater than 0.")
	}
	return &productReviews{
		Items:    []*productReview{},
		PageInfo: &pageInfo{PageSize: &args.PageSize, CurrentPage: ptrInt32(1), TotalPages: ptrInt32(0)},
	}, nil
}

// categoryResolver resolves CategoryInterface and CategoryTree.
type categoryResolver struct {
	c *category
}

// ToCategoryTree resolves the CategoryTree type.
func (r *categoryResolver) ToCategoryTree() (*categoryResolver, bool) { return r, true }

// ID resolves the deprecated CategoryInterface.id.
func (r *categoryResolver) ID() *int32 { return ptrInt32(int32(r.c.id)) }

// UID resolves CategoryInterface.uid.
func (r *categoryResolver) UID() graphql.ID { return graphql.ID(encodeUID(strconv.Itoa(r.c.id))) }

// Name resolves CategoryInterface.name.
func (r *categoryResolver) Name() *string { return ptrString(r.c.name) }

// Path resolves CategoryInterface.path.
func (r *categoryResolver) Path() *string { return ptrString(r.c.path()) }

// URLKey resolves CategoryInterface.url_key.
func (r *categoryResolver) URLKey() *string { return ptrString(r.c.urlKey) }

// URLPath resolves CategoryInterface.url_path.
func (r *categoryResolver) URLPath() *string { return ptrString(r.c.urlPath()) }

// URLSuffix resolves CategoryInterface.url_suffix.
func (r *categoryResolver) URLSuffix() *string { return ptrString(".html") }

// Position resolves CategoryInterface.position.
func (r *categoryResolver) Position() *int32 { return ptrInt32(int32(r.c.position)) }

// Level resolves CategoryInterface.level.
func (r *categoryResolver) Level() *int32 { return ptrInt32(int32(r.c.level())) }

type breadcrumb struct {
	CategoryID      *int32
	CategoryUID     graphql.ID
	CategoryName    *string
	CategoryLevel   *int32
	CategoryURLKey  *string
	CategoryURLPath *string
}

// Breadcrumbs resolves CategoryInterface.breadcrumbs: the ancestors below the root, or null
// for a top-level category, as Magento's Breadcrumbs resolver answers.
func (r *categoryResolver) Breadcrumbs() *[]*breadcrumb {
	above := r.c.ancestors()
	if len(above) == 0 {
		return nil
	}
	out := make([]*breadcrumb, 0, len(above))
	for _, a := range above {
		out = append(out, &breadcrumb{
			CategoryID:      ptrInt32(int32(a.id)),
			CategoryUID:     graphql.ID(encodeUID(strconv.Itoa(a.id))),
			CategoryName:    ptrString(a.name),
			CategoryLevel:   ptrInt32(int32(a.level())),
			CategoryURLKey:  ptrString(a.urlKey),
			CategoryURLPath: ptrString(a.urlPath()),
		})
	}
	return &out
}
