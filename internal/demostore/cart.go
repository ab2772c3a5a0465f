package demostore

import (
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/govalues/decimal"
)

// cartItem is one line of a cart (a Magento quote item).
type cartItem struct {
	id      int
	product *product // the product added; the parent for a configurable item
	child   *product // the chosen child of a configurable item, nil otherwise
	qty     decimal.Decimal
}

// priced is the product whose price the line is charged at.
func (it cartItem) priced() *product {
	if it.child != nil {
		return it.child
	}
	return it.product
}

func (it cartItem) isVirtual() bool { return it.product.typ == typeVirtual }

// uid is Magento's cart item uid: base64 of the numeric item id.
func (it cartItem) uid() string { return encodeUID(strconv.Itoa(it.id)) }

// cartAddress is a shipping or billing address as stored on the quote.
type cartAddress struct {
	firstname, lastname string
	company             *string
	street              []string
	city                string
	region              *cartRegion
	postcode            *string
	countryCode         string
	telephone           *string
	vatID, fax          *string
	middlename          *string
	prefix, suffix      *string
	customerNotes       *string
}

type cartRegion struct {
	code  string
	label string
	id    *int32
}

type shippingSelection struct {
	carrier, method string
}

type paymentSelection struct {
	code, title string
	poNumber    *string
}

// cart is a Magento quote. Resolvers only ever see clones taken under the store lock.
type cart struct {
	maskedID       string
	quoteID        int
	customerID     int // 0 for guests
	active         bool
	email          string
	version        int // incremented by every change; placeOrder checks it did not move
	createdAt      time.Time
	updatedAt      time.Time // the last change, as Magento's quote updated_at
	items          []cartItem
	coupons        []string // applied coupon codes as their rules define them, in apply order
	shipping       *cartAddress
	shippingMethod *shippingSelection
	billing        *cartAddress
	payment        *paymentSelection
}

func (c *cart) clone() *cart {
	cp := *c
	cp.items = append([]cartItem(nil), c.items...)
	cp.coupons = append([]string(nil), c.coupons...)
	return &cp
}

func (c *cart) totalQty() decimal.Decimal {
	var a arith
	q := zero
	for _, it := range c.items {
		q = a.add(q, it.qty)
	}
	return q
}

// isVirtual follows Quote::isVirtual: true only for a non-empty cart of virtual items.
func (c *cart) isVirtual() bool {
	if len(c.items) == 0 {
		return false
	}
	for _, it := range c.items {
		if !it.isVirtual() {
			return false
		}
	}
	return true
}

func (c *cart) itemIndex(id int) int {
	for i, it := range c.items {
		if it.id == id {
			return i
		}
	}
	return -1
}

// maxSaleQty is Magento's default "Maximum Qty Allowed in Shopping Cart".
var maxSaleQty = decimal.MustNew(10000, 0)

// checkQty validates a requested quantity the way Magento's stock checks word it.
func checkQty(qty decimal.Decimal) string {
	switch {
	case !qty.IsPos():
		return "The product quantity should be greater than 0"
	case !qty.IsInt():
		return "You cannot use decimal quantity for this product."
	case maxSaleQty.Less(qty):
		return "The requested qty exceeds the maximum qty allowed in shopping cart"
	}
	return ""
}

// addLocked adds qty of a product (and configurable child) to c, merging with an identical
// line as Magento does. It returns a user-facing message when the quantity is refused.
// s.mu must be held.
func (s *Store) addLocked(c *cart, p, child *product, qty decimal.Decimal) string {
	if msg := checkQty(qty); msg != "" {
		return msg
	}
	for i, it := range c.items {
		if it.product == p && it.child == child {
			var a arith
			total := a.add(it.qty, qty)
			if msg := checkQty(total); msg != "" || a.err != nil {
				return "The requested qty exceeds the maximum qty allowed in shopping cart"
			}
			c.items[i].qty = total
			return ""
		}
	}
	c.items = append(c.items, cartItem{id: s.nextItemIDLocked(), product: p, child: child, qty: qty})
	return ""
}

// resolveCartItemInput maps a CartItemInput (sku, parent_sku, selected_options) to the product
// and configurable child to add. It returns a user error code and message when it cannot.
func (s *Store) resolveCartItemInput(sku string, parentSKU *string, selected []string) (p, child *product, code, msg string) {
	if parentSKU != nil && *parentSKU != "" {
		parent, ok := s.catalog.lookup(*parentSKU)
		if !ok {
			return nil, nil, "PRODUCT_NOT_FOUND", productNotFoundMessage(*parentSKU)
		}
		c, ok := s.catalog.lookup(sku)
		if !ok {
			return nil, nil, "PRODUCT_NOT_FOUND", productNotFoundMessage(sku)
		}
		if parent.typ != typeConfigurable || c.parent != parent {
			return nil, nil, "UNDEFINED", "You need to choose options for your item."
		}
		return parent, c, "", ""
	}
	found, ok := s.catalog.lookup(sku)
	if !ok {
		return nil, nil, "PRODUCT_NOT_FOUND", productNotFoundMessage(sku)
	}
	if found.typ != typeConfigurable {
		return found, nil, "", ""
	}
	v := found.variantFor(selected)
	if v == nil {
		return nil, nil, "UNDEFINED", "You need to choose options for your item."
	}
	return found, v, "", ""
}

// The built-in coupon rule of the demo backend: 10% off every item.
const (
	couponCode  = "WELCOME10"
	couponLabel = "Welcome 10%"
)

var couponPercent = decimal.MustNew(10, 0)

// Flat-rate shipping of the demo store: 5.00 per unit of non-virtual items.
const (
	carrierFlatrate = "flatrate"
	methodFlatrate  = "flatrate"
	carrierTitle    = "Flat Rate"
	methodTitle     = "Fixed"
)

var flatRatePerUnit = decimal.MustNew(500, 2)

// Payment methods of the demo store.
const (
	paymentCheckmo      = "checkmo"
	paymentCheckmoTitle = "Check / Money order"
	paymentFree         = "free"
	paymentFreeTitle    = "No Payment Information Required"
)

func setShippingMethod(c *cart, carrier, method string) error {
	if c.shipping == nil {
		return inputError(msgNoShippingAddress)
	}
	if carrier != carrierFlatrate || method != methodFlatrate {
		return inputError("Carrier with such method not found: %s, %s", carrier, method)
	}
	c.shippingMethod = &shippingSelection{carrier: carrier, method: method}
	return nil
}

func validEmail(email string) bool {
	a, err := mail.ParseAddress(email)
	return err == nil && a.Address == email && strings.Contains(email[strings.LastIndex(email, "@"):], ".")
}

// US regions known to the demo store (Magento's directory_country_region ids).
var usRegions = map[string]struct {
	label string
	id    int32
}{
	"AL": {"Alabama", 1}, "AK": {"Alaska", 2}, "AZ": {"Arizona", 4}, "CA": {"California", 12},
	"CO": {"Colorado", 13}, "FL": {"Florida", 18}, "GA": {"Georgia", 19}, "IL": {"Illinois", 23},
	"MA": {"Massachusetts", 32}, "MI": {"Michigan", 33}, "NY": {"New York", 43},
	"OR": {"Oregon", 49}, "PA": {"Pennsylvania", 51}, "TX": {"Texas", 57}, "WA": {"Washington", 62},
}

// regionFor resolves the region of an address input from a code, a name or an id.
func regionFor(country string, region *string, regionID *int32) *cartRegion {
	if country == "US" {
		for code, r := range usRegions {
			if (region != nil && (strings.EqualFold(*region, code) || strings.EqualFold(*region, r.label))) ||
				(regionID != nil && *regionID == r.id) {
				id := r.id
				return &cartRegion{code: code, label: r.label, id: &id}
			}
		}
	}
	if region == nil || *region == "" {
		return nil
	}
	return &cartRegion{code: *region, label: *region, id: regionID}
}
