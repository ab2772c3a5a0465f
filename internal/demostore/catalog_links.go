package demostore

import "sort"

// linkType is a Magento product link type (catalog_product_link_type): the lists
// RelatedProductGraphQl answers as related_products, upsell_products and crosssell_products.
type linkType int

// Magento's link type ids.
const (
	linkRelated   linkType = 1
	linkUpsell    linkType = 4
	linkCrosssell linkType = 5
)

// productLink is one row of catalog_product_link: a linked product and its position.
type productLink struct {
	sku      string
	position int
}

// productLinks are a product's links by type, in the order they were saved.
type productLinks map[linkType][]productLink

// catalogLinks are the demo catalog's related, up-sell and cross-sell links by SKU, written
// out of position order where that shows the sort. MH01's related MH01-M-Gray is a
// configurable child (visibility "Not Visible Individually"), which Magento leaves out.
var catalogLinks = map[string]productLinks{
	"24-MB01": {
		linkRelated:   {{"24-WB04", 2}, {"24-MB04", 1}, {"24-MB02", 3}},
		linkUpsell:    {{"24-MB02", 1}, {"24-WB04", 2}},
		linkCrosssell: {{"24-UG05", 2}, {"24-UG06", 1}},
	},
	"24-MB04": {
		linkRelated:   {{"24-MB01", 1}, {"24-MB03", 2}},
		linkUpsell:    {{"24-MB02", 1}},
		linkCrosssell: {{"24-UG06", 1}},
	},
	"24-WB04": {
		linkRelated:   {{"24-MB01", 1}},
		linkCrosssell: {{"24-UG06", 1}, {"24-UG04", 2}},
	},
	"24-WG02": {
		linkCrosssell: {{"24-UG04", 2}, {"24-UG06", 1}},
	},
	"24-UG06": {
		linkRelated: {{"24-UG04", 1}, {"24-UG05", 2}},
	},
	"MH01": {
		linkRelated:   {{"24-UG06", 1}, {"MH01-M-Gray", 2}, {"24-WG02", 3}},
		linkCrosssell: {{"24-UG06", 1}, {"VGC-50", 2}},
	},
}

// linkProducts attaches catalogLinks to the products (TestCatalogLinks checks every SKU
// named is in the catalog).
func (c *catalog) linkProducts() {
	for sku, links := range catalogLinks {
		if p, ok := c.lookup(sku); ok {
			p.links = links
		}
	}
}

// linked returns the products p links to with type t, as RelatedProductGraphQl answers them:
// ordered by position (ties in the order saved), leaving out products the storefront cannot
// show (not visible in the catalog, as a configurable child).
func (c *catalog) linked(p *product, t linkType) []*product {
	links := append([]productLink(nil), p.links[t]...)
	sort.SliceStable(links, func(i, j int) bool { return links[i].position < links[j].position })
	out := make([]*product, 0, len(links))
	for _, l := range links {
		if target, ok := c.lookup(l.sku); ok && target.listed {
			out = append(out, target)
		}
	}
	return out
}
