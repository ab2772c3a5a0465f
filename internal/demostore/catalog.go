package demostore

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/govalues/decimal"
)

// productType is Magento's product type_id.
type productType string

const (
	typeSimple       productType = "simple"
	typeVirtual      productType = "virtual"
	typeConfigurable productType = "configurable"
)

// product is one catalog entry. Products are built once by newCatalog and never change, so
// resolvers share them freely.
type product struct {
	id         int
	sku        string
	name       string
	urlKey     string
	typ        productType
	price      decimal.Decimal
	weight     decimal.Decimal
	image      string
	listed     bool           // visible in catalog search (configurable children are not)
	categories []*category    // the categories it is assigned to, in id order
	links      productLinks   // related, up-sell and cross-sell links, by link type
	parent     *product       // configurable parent of a child
	super      []superAttr    // configurable: the attributes the shopper chooses
	variants   []*product     // configurable: its children, in catalog order
	attrs      map[int]int    // child: attribute id -> chosen value index
	labels     map[int]string // child: attribute id -> value label
}

// superAttr is a configurable attribute (Magento's super attribute) such as size or color.
type superAttr struct {
	id       int
	code     string
	label    string
	position int
	values   []attrValue
}

type attrValue struct {
	index int
	label string
}

// uid is Magento's product uid: base64 of the entity id.
func (p *product) uid() string { return encodeUID(strconv.Itoa(p.id)) }

func encodeUID(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func decodeUID(s string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// optionUID identifies a configurable option of a parent product.
func optionUID(parentID, attrID int) string {
	return encodeUID(fmt.Sprintf("configurable/%d/%d", parentID, attrID))
}

// optionValueUID identifies one value of a configurable attribute, as used in
// CartItemInput.selected_options.
func optionValueUID(attrID, valueIndex int) string {
	return encodeUID(fmt.Sprintf("configurable/%d/%d", attrID, valueIndex))
}

// catalog is the immutable product catalog of the demo store.
type catalog struct {
	bySKU    map[string]*product // lower-cased SKU: Magento's SKU lookups are case-insensitive
	products []*product          // every product, in entity id order
}

// byID finds a product by entity id (Luma's add-to-cart posts the id, not the SKU).
func (c *catalog) byID(id int) (*product, bool) {
	if id < 1 || id > len(c.products) {
		return nil, false
	}
	return c.products[id-1], true
}

// byURLKey finds a product by its url key, as Luma's product page URLs carry it.
func (c *catalog) byURLKey(key string) (*product, bool) {
	for _, p := range c.products {
		if p.urlKey == key {
			return p, true
		}
	}
	return nil, false
}

func (c *catalog) lookup(sku string) (*product, bool) {
	p, ok := c.bySKU[strings.ToLower(strings.TrimSpace(sku))]
	return p, ok
}

// variantFor returns the child of a configurable product matching the selected option value
// uids (base64 "configurable/<attribute>/<value>"), or nil.
func (p *product) variantFor(selected []string) *product {
	want := map[int]int{}
	for _, uid := range selected {
		raw, ok := decodeUID(uid)
		if !ok {
			return nil
		}
		var attr, value int
		if _, err := fmt.Sscanf(raw, "configurable/%d/%d", &attr, &value); err != nil {
			return nil
		}
		want[attr] = value
	}
	if len(want) != len(p.super) {
		return nil
	}
	return p.variantWith(want)
}

// variantWith returns the child of a configurable product with the given value index for
// each attribute id, or nil.
func (p *product) variantWith(want map[int]int) *product {
	for _, v := range p.variants {
		match := true
		for attr, value := range want {
			if v.attrs[attr] != value {
				match = false
				break
			}
		}
		if match {
			return v
		}
	}
	return nil
}

// Luma sample-data attribute ids and option values, so uids look like a real store's.
const (
	attrColor = 93
	attrSize  = 144
)

var (
	lumaSizes  = []attrValue{{166, "XS"}, {167, "S"}, {168, "M"}, {169, "L"}, {170, "XL"}}
	lumaColors = []attrValue{{49, "Black"}, {52, "Gray"}, {56, "Orange"}}
)

// demoProductCount is the number of generated DEMO-nnn simple products; with them a test can
// build carts of 50 distinct lines.
const demoProductCount = 50

// newCatalog builds the deterministic demo catalog.
func newCatalog() *catalog {
	c := &catalog{bySKU: map[string]*product{}}
	add := func(p *product) *product {
		p.id = len(c.products) + 1
		c.products = append(c.products, p)
		c.bySKU[strings.ToLower(p.sku)] = p
		return p
	}
	simple := func(sku, name, price, image string) {
		add(&product{sku: sku, name: name, urlKey: urlKey(name), typ: typeSimple,
			price: decimal.MustParse(price), weight: decimal.One, image: image, listed: true})
	}
	// Entity ids 1-5 in the order of the store the Luma fixtures were recorded on (24-MB01 is
	// product 1, 24-WG02 product 2), so Luma's add-to-cart URLs read the same.
	simple("24-MB01", "Joust Duffle Bag", "34.00", "/m/b/mb01-blue-0.jpg")
	simple("24-WG02", "Didi Sport Watch", "92.00", "/w/g/wg02-bk-0.jpg")
	simple("24-UG06", "Affirm Water Bottle", "7.00", "/u/g/ug06-lb-0.jpg")
	simple("24-WB04", "Overnight Duffle", "45.00", "/w/b/wb04-blue-0.jpg")
	simple("24-MB04", "Strive Shoulder Pack", "32.00", "/m/b/mb04-black-0.jpg")

	hoodie := add(&product{sku: "MH01", name: "Chaz Kangeroo Hoodie", urlKey: "chaz-kangeroo-hoodie",
		typ: typeConfigurable, price: decimal.MustParse("52.00"), weight: decimal.One,
		image: "/m/h/mh01-black_main_1.jpg", listed: true,
		super: []superAttr{
			{id: attrSize, code: "size", label: "Size", position: 0, values: lumaSizes},
			{id: attrColor, code: "color", label: "Color", position: 1, values: lumaColors},
		}})
	for _, color := range lumaColors {
		for _, size := range lumaSizes {
			child := add(&product{
				sku:    fmt.Sprintf("MH01-%s-%s", size.label, color.label),
				name:   fmt.Sprintf("Chaz Kangeroo Hoodie-%s-%s", size.label, color.label),
				typ:    typeSimple,
				price:  hoodie.price,
				weight: decimal.One,
				image:  fmt.Sprintf("/m/h/mh01-%s_main_1.jpg", strings.ToLower(color.label)),
				parent: hoodie,
				attrs:  map[int]int{attrSize: size.index, attrColor: color.index},
				labels: map[int]string{attrSize: size.label, attrColor: color.label},
			})
			child.urlKey = urlKey(child.name)
			hoodie.variants = append(hoodie.variants, child)
		}
	}

	add(&product{sku: "VGC-50", name: "Virtual Gift Voucher $50", urlKey: "virtual-gift-voucher-50",
		typ: typeVirtual, price: decimal.MustParse("50.00"), image: "/v/g/vgc-50.jpg", listed: true})

	for i := 1; i <= demoProductCount; i++ {
		// Prices spread deterministically over 3.99 .. 199.00 with uneven cents, so that
		// percentage discounts and taxes exercise rounding.
		cents := 399 + (i*7919)%19502
		price, _ := decimal.New(int64(cents), 2)
		name := fmt.Sprintf("Demo Product %03d", i)
		add(&product{sku: fmt.Sprintf("DEMO-%03d", i), name: name, urlKey: urlKey(name),
			typ: typeSimple, price: price, weight: decimal.One,
			image: fmt.Sprintf("/d/e/demo-%03d.jpg", i), listed: true})
	}

	// Entity ids 73-76: Luma sample-data products that only the related, up-sell and
	// cross-sell links point at.
	simple("24-MB02", "Fusion Backpack", "59.00", "/m/b/mb02-gray-0.jpg")
	simple("24-MB03", "Crown Summit Backpack", "38.00", "/m/b/mb03-black-0.jpg")
	simple("24-UG04", "Zing Jump Rope", "12.00", "/u/g/ug04-bk-0.jpg")
	simple("24-UG05", "Go-Get'r Pushup Grips", "19.00", "/u/g/ug05-gr-0.jpg")

	c.assignCategories()
	c.linkProducts()
	return c
}

func urlKey(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// productFilter is the part of ProductAttributeFilterInput the demo store understands.
type productFilter struct {
	skuEq, urlKeyEq *string
	skuIn, urlKeyIn []string
	nameMatch       *string
	priceFrom       *decimal.Decimal
	priceTo         *decimal.Decimal
}

func (f productFilter) match(p *product) bool {
	if f.skuEq != nil && !strings.EqualFold(*f.skuEq, p.sku) {
		return false
	}
	if f.skuIn != nil && !containsFold(f.skuIn, p.sku) {
		return false
	}
	if f.urlKeyEq != nil && *f.urlKeyEq != p.urlKey {
		return false
	}
	if f.urlKeyIn != nil && !containsFold(f.urlKeyIn, p.urlKey) {
		return false
	}
	if f.nameMatch != nil && !strings.Contains(strings.ToLower(p.name), strings.ToLower(*f.nameMatch)) {
		return false
	}
	if f.priceFrom != nil && p.price.Less(*f.priceFrom) {
		return false
	}
	if f.priceTo != nil && f.priceTo.Less(p.price) {
		return false
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// search returns the listed products matching f and the search text, sorted as asked.
func (c *catalog) search(text string, f productFilter, sortBy string, desc bool) []*product {
	var out []*product
	text = strings.ToLower(strings.TrimSpace(text))
	for _, p := range c.products {
		if !p.listed || !f.match(p) {
			continue
		}
		if text != "" && !strings.Contains(strings.ToLower(p.name+" "+p.sku), text) {
			continue
		}
		out = append(out, p)
	}
	less := func(i, j int) bool { return out[i].id < out[j].id }
	switch sortBy {
	case "name":
		less = func(i, j int) bool { return out[i].name < out[j].name }
	case "price":
		less = func(i, j int) bool { return out[i].price.Less(out[j].price) }
	}
	sort.SliceStable(out, func(i, j int) bool {
		if desc {
			return less(j, i)
		}
		return less(i, j)
	})
	return out
}
