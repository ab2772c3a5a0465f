package demostore

import (
	"reflect"
	"strings"
	"testing"
)

// skus lists the "sku" of each product in the list at path p.
func (r *result) skus(t *testing.T, p string) []string {
	t.Helper()
	list, ok := r.path(t, p).([]any)
	if !ok {
		t.Fatalf("path %s is not a list in %s", p, r.body)
	}
	out := []string{}
	for _, v := range list {
		out = append(out, v.(map[string]any)["sku"].(string))
	}
	return out
}

func TestCatalogLinks(t *testing.T) {
	c := newCatalog()
	for sku, links := range catalogLinks {
		if _, ok := c.lookup(sku); !ok {
			t.Errorf("links of unknown product %q", sku)
		}
		for typ, list := range links {
			for _, l := range list {
				if _, ok := c.lookup(l.sku); !ok {
					t.Errorf("%s link type %d: unknown product %q", sku, typ, l.sku)
				}
			}
		}
	}
	for _, sku := range []string{"24-MB02", "24-MB03", "24-UG04", "24-UG05"} {
		if p, ok := c.lookup(sku); !ok || !p.listed || p.id < 73 {
			t.Errorf("%s: not a listed product after the DEMO products", sku)
		}
	}
}

func TestProductLinks(t *testing.T) {
	const query = `query($sku: String!) { products(filter: {sku: {eq: $sku}}) { items {
		sku
		related_products { sku }
		upsell_products { sku }
		crosssell_products { __typename sku }
	} } }`
	for _, tc := range []struct {
		sku                        string
		related, upsell, crosssell []string
	}{
		// Saved out of order: answered by position.
		{"24-MB01", []string{"24-MB04", "24-WB04", "24-MB02"}, []string{"24-MB02", "24-WB04"}, []string{"24-UG06", "24-UG05"}},
		// MH01-M-Gray (position 2) is a configurable child, not visible individually: left out.
		{"MH01", []string{"24-UG06", "24-WG02"}, []string{}, []string{"24-UG06", "VGC-50"}},
		{"24-WG02", []string{}, []string{}, []string{"24-UG06", "24-UG04"}},
		{"DEMO-001", []string{}, []string{}, []string{}},
	} {
		t.Run(tc.sku, func(t *testing.T) {
			r := newClient(t, Options{}).get(query, "", map[string]any{"sku": tc.sku}).must(t)
			for list, want := range map[string][]string{"related_products": tc.related, "upsell_products": tc.upsell, "crosssell_products": tc.crosssell} {
				if got := r.skus(t, "products.items.0."+list); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", list, got, want)
				}
			}
		})
	}
}

// The lists are on every product type and on products reached from a cart.
func TestProductLinksThroughFragmentsAndCarts(t *testing.T) {
	c := newClient(t, Options{})
	id := c.newCart()
	c.add(id, "24-MB01", 1)
	c.post(`mutation($id: String!) { addProductsToCart(cartId: $id, cartItems: [{sku: "MH01-S-Black", parent_sku: "MH01", quantity: 1}]) { cart { id } } }`,
		map[string]any{"id": id}).must(t)
	r := c.get(`query($id: String!) { cart(cart_id: $id) { items { product {
		sku ...X
		... on ConfigurableProduct { more: upsell_products { sku } variants { product { sku related_products { sku } } } }
	} } } }
	fragment X on ProductInterface { xs: crosssell_products { sku ... on SimpleProduct { weight } } }`, "", map[string]any{"id": id}).must(t)
	if got := r.skus(t, "cart.items.0.product.xs"); !reflect.DeepEqual(got, []string{"24-UG06", "24-UG05"}) {
		t.Errorf("24-MB01 cross-sells %v", got)
	}
	if got := r.skus(t, "cart.items.1.product.xs"); !reflect.DeepEqual(got, []string{"24-UG06", "VGC-50"}) {
		t.Errorf("MH01 cross-sells %v", got)
	}
	if got := r.skus(t, "cart.items.1.product.variants.0.product.related_products"); len(got) != 0 {
		t.Errorf("a child has links: %v", got)
	}
}

func TestProductCatalogFields(t *testing.T) {
	r := newClient(t, Options{}).get(`{ products(filter: {sku: {eq: "MH01"}}) { items {
		categories { __typename uid name level url_path url_suffix breadcrumbs { category_uid category_name category_url_path } }
		url_rewrites { url parameters { name value } }
		rating_summary review_count reviews(pageSize: 5) { items { summary } page_info { page_size current_page total_pages } }
	} } }`, "", nil).must(t)
	p := "products.items.0."
	if r.str(t, p+"categories.0.__typename") != "CategoryTree" || r.str(t, p+"categories.2.url_path") != "men/tops-men/hoodies-and-sweatshirts-men" ||
		r.num(t, p+"categories.2.level") != 4 || r.str(t, p+"categories.0.uid") != "MTE=" || r.path(t, p+"categories.0.breadcrumbs") != nil ||
		r.str(t, p+"categories.2.breadcrumbs.1.category_name") != "Tops" {
		t.Errorf("categories: %s", r.body)
	}
	if r.str(t, p+"url_rewrites.0.url") != "chaz-kangeroo-hoodie.html" || r.str(t, p+"url_rewrites.3.url") != "men/tops-men/hoodies-and-sweatshirts-men/chaz-kangeroo-hoodie.html" {
		t.Errorf("url_rewrites: %s", r.body)
	}
	if r.num(t, p+"rating_summary") != 0 || r.num(t, p+"review_count") != 0 || len(r.path(t, p+"reviews.items").([]any)) != 0 ||
		r.num(t, p+"reviews.page_info.page_size") != 5 || r.num(t, p+"reviews.page_info.current_page") != 1 || r.num(t, p+"reviews.page_info.total_pages") != 0 {
		t.Errorf("reviews: %s", r.body)
	}
	bad := newClient(t, Options{}).get(`{ products(filter: {sku: {eq: "MH01"}}) { items { reviews(currentPage: 0) { items { summary } } } } }`, "", nil)
	if bad.firstError() != "currentPage value must be greater than 0." || bad.category() != categoryInput {
		t.Errorf("reviews(currentPage: 0): %s", bad.body)
	}
}

func TestCMSBlocks(t *testing.T) {
	c := newClient(t, Options{})
	r := c.get(`query($ids: [String]) { cmsBlocks(identifiers: $ids) { items { identifier title content } } }`, "",
		map[string]any{"ids": []string{"spring-sale", "home-hero", "nope", "spring-sale", "winter-sale", "3"}})
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	items := r.path(t, "cmsBlocks.items").([]any)
	var got []any
	for _, it := range items {
		if it == nil {
			got = append(got, nil)
			continue
		}
		got = append(got, it.(map[string]any)["identifier"])
	}
	// A repeated identifier keeps its first place; unknown and disabled blocks are null.
	if want := []any{"spring-sale", "home-hero", nil, nil, "footer-links"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("items %v, want %v", got, want)
	}
	if len(r.resp.Errors) != 2 {
		t.Fatalf("errors: %s", r.body)
	}
	for i, want := range []struct {
		message string
		index   float64
	}{{`The CMS block with the "nope" ID doesn't exist.`, 2}, {`The CMS block with the "winter-sale" ID doesn't exist.`, 3}} {
		e := r.resp.Errors[i]
		if e.Message != want.message || e.Extensions["category"] != categoryNoSuchEntity ||
			!reflect.DeepEqual(e.Path, []any{"cmsBlocks", "items", want.index}) || len(e.Locations) != 1 {
			t.Errorf("error %d: %+v", i, e)
		}
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("an answer with errors is cached: %s", r.header.Get("Cache-Control"))
	}

	// A single identifier is a list of one; a numeric one is a block id; aliases are kept.
	r = c.get(`{ a: cmsBlocks(identifiers: "vip-hero") { blocks: items { identifier } } b: cmsBlocks(identifiers: ["4", "9"]) { ...B } }
		fragment B on CmsBlocks { items { title } }`, "", nil)
	if r.str(t, "a.blocks.0.identifier") != "vip-hero" || r.str(t, "b.items.0.title") != "Spring Sale" || r.path(t, "b.items.1") != nil ||
		len(r.resp.Errors) != 1 || r.resp.Errors[0].Message != `The CMS block with the "9" ID doesn't exist.` ||
		!reflect.DeepEqual(r.resp.Errors[0].Path, []any{"b", "items", float64(1)}) {
		t.Errorf("aliases: %s", r.body)
	}
	// Without items selected Magento raises nothing.
	if r = c.get(`{ cmsBlocks(identifiers: ["nope"]) { __typename } }`, "", nil).must(t); r.str(t, "cmsBlocks.__typename") != "CmsBlocks" {
		t.Errorf("no items: %s", r.body)
	}
	for _, q := range []string{`{ cmsBlocks { items { identifier } } }`, `{ cmsBlocks(identifiers: []) { items { identifier } } }`} {
		r = c.get(q, "", nil)
		if r.firstError() != `"identifiers" of CMS blocks should be specified` || r.category() != categoryInput || r.path(t, "cmsBlocks") != nil {
			t.Errorf("%s: %s", q, r.body)
		}
	}
	// CmsBlock has no uid in Magento.
	if r = c.get(`{ cmsBlocks(identifiers: ["home-hero"]) { items { uid } } }`, "", nil); r.firstError() != `Cannot query field "uid" on type "CmsBlock".` {
		t.Errorf("CmsBlock.uid: %s", r.body)
	}
}

func TestDynamicBlocks(t *testing.T) {
	const query = `query($input: DynamicBlocksFilterInput, $size: Int = 20, $page: Int = 1) {
		dynamicBlocks(input: $input, pageSize: $size, currentPage: $page) {
			items { uid content { html } } page_info { page_size current_page total_pages } total_count
		}
	}`
	c := newClient(t, Options{})
	withCoupon := c.newCart()
	c.add(withCoupon, "24-MB01", 1)
	c.post(`mutation($id: String!) { applyCouponToCart(input: {cart_id: $id, coupon_code: "welcome10"}) { cart { id } } }`,
		map[string]any{"id": withCoupon}).must(t)
	without := c.newCart()
	for _, tc := range []struct {
		name       string
		vars       map[string]any
		uids       []string
		page       [3]float64 // page_size, current_page, total_pages
		totalCount float64
	}{
		{"all specified", map[string]any{"input": map[string]any{"type": "SPECIFIED"}}, []string{"MQ==", "Mg==", "Mw==", "NA=="}, [3]float64{20, 1, 1}, 4},
		{"by uid, in id order, disabled left out", map[string]any{"input": map[string]any{"type": "SPECIFIED", "dynamic_block_uids": []any{"Mw==", "NQ==", "MQ==", "OTk="}}},
			[]string{"MQ==", "Mw=="}, [3]float64{20, 1, 1}, 2},
		{"location", map[string]any{"input": map[string]any{"type": "SPECIFIED", "locations": []string{"HEADER"}}}, []string{"Mg==", "Mw=="}, [3]float64{20, 1, 1}, 2},
		{"second page", map[string]any{"input": map[string]any{"type": "SPECIFIED"}, "size": 3, "page": 2}, []string{"NA=="}, [3]float64{3, 2, 2}, 4},
		{"past the last page answers the last", map[string]any{"input": map[string]any{"type": "SPECIFIED"}, "size": 3, "page": 9}, []string{"NA=="}, [3]float64{3, 2, 2}, 4},
		{"none", map[string]any{"input": map[string]any{"type": "SPECIFIED", "dynamic_block_uids": []string{"NQ=="}}}, []string{}, [3]float64{20, 1, 0}, 0},
		{"cart price rule related", map[string]any{"input": map[string]any{"type": "CART_PRICE_RULE_RELATED"}}, []string{"NA=="}, [3]float64{20, 1, 1}, 1},
		{"cart price rule applied", map[string]any{"input": map[string]any{"type": "CART_PRICE_RULE_RELATED", "cart_id": withCoupon}}, []string{"NA=="}, [3]float64{20, 1, 1}, 1},
		{"cart price rule not applied", map[string]any{"input": map[string]any{"type": "CART_PRICE_RULE_RELATED", "cart_id": without}}, []string{}, [3]float64{20, 1, 0}, 0},
		{"catalog price rule related", map[string]any{"input": map[string]any{"type": "CATALOG_PRICE_RULE_RELATED", "product_uid": "MQ=="}}, []string{}, [3]float64{20, 1, 0}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.get(query, "", tc.vars).must(t)
			var uids []string
			for _, it := range r.path(t, "dynamicBlocks.items").([]any) {
				uids = append(uids, it.(map[string]any)["uid"].(string))
			}
			if uids == nil {
				uids = []string{}
			}
			p := "dynamicBlocks.page_info."
			got := [3]float64{r.num(t, p+"page_size"), r.num(t, p+"current_page"), r.num(t, p+"total_pages")}
			if !reflect.DeepEqual(uids, tc.uids) || got != tc.page || r.num(t, "dynamicBlocks.total_count") != tc.totalCount {
				t.Errorf("uids %v page %v, want %v %v: %s", uids, got, tc.uids, tc.page, r.body)
			}
		})
	}
	for name, tc := range map[string]struct {
		vars     map[string]any
		message  string
		category string
	}{
		"uid not base64":       {map[string]any{"input": map[string]any{"type": "SPECIFIED", "dynamic_block_uids": []string{"1"}}}, `Value of uid "1" is incorrect.`, categoryInput},
		"pageSize 0":           {map[string]any{"input": map[string]any{"type": "SPECIFIED"}, "size": 0}, "pageSize value must be greater than 0.", categoryInput},
		"currentPage 0":        {map[string]any{"input": map[string]any{"type": "SPECIFIED"}, "page": 0}, "currentPage value must be greater than 0.", categoryInput},
		"unknown cart":         {map[string]any{"input": map[string]any{"type": "CART_PRICE_RULE_RELATED", "cart_id": "nope"}}, `Could not find a cart with ID "nope"`, categoryNoSuchEntity},
		"no input (PHP error)": {map[string]any{}, "Internal server error", ""},
	} {
		r := c.get(query, "", tc.vars)
		if r.firstError() != tc.message || r.category() != tc.category || r.resp.Data != nil {
			t.Errorf("%s: %s", name, r.body)
		}
	}
}

func TestDynamicBlocksNeedAdobeCommerce(t *testing.T) {
	open := newClient(t, Options{Edition: EditionOpenSource})
	r := open.get(`{ dynamicBlocks(input: {type: SPECIFIED}) { items { uid } } }`, "", nil)
	if r.firstError() != `Cannot query field "dynamicBlocks" on type "Query".` || r.resp.Data != nil {
		t.Errorf("open source: %s", r.body)
	}
	r = open.get(`query($t: DynamicBlockTypeEnum!) { cmsBlocks(identifiers: ["home-hero"]) { items { identifier } } t: __typename }`, "", map[string]any{"t": "SPECIFIED"})
	if !strings.Contains(string(r.body), `Unknown type \"DynamicBlockTypeEnum\"`) {
		t.Errorf("open source knows the banner types: %s", r.body)
	}
	// cmsBlocks and the product lists are in both editions.
	open.get(`{ cmsBlocks(identifiers: ["home-hero"]) { items { identifier } } products(filter: {sku: {eq: "24-MB01"}}) { items { related_products { sku } } } }`, "", nil).must(t)
}
