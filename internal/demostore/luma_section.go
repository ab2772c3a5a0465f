package demostore

import (
	"strconv"
	"strings"
)

// customer/section/load: Luma's private content ("customer data sections"), fixture 04. The
// demo store knows three sections: cart (the mini cart), customer and messages. The cart
// section carries no discount-dependent amount: its subtotal is before discounts, and Luma
// compares it with the totals' subtotal.

// staticVersion is the static-content version of the recorded store, part of asset URLs.
const staticVersion = "version1796296461"

// placeholderThumbnail is the product image path of the recorded store (no images there).
const placeholderThumbnail = "static/" + staticVersion + "/frontend/Magento/luma/en_US/Magento_Catalog/images/product/placeholder/thumbnail.jpg"

// thumbnail is a product's image entry (src, alt, width, height) with the placeholder image.
func (lc *lumaCall) thumbnail(alt string) jObj {
	return jObj{{"src", lc.url(placeholderThumbnail)}, {"alt", alt}, {"width", 150}, {"height", 150}}
}

// sectionLoad answers customer/section/load?sections=a,b: each known section by name, in
// the order asked; without sections, all three.
func (s *Store) sectionLoad(lc *lumaCall) {
	names := strings.Split(lc.r.FormValue("sections"), ",")
	if strings.TrimSpace(lc.r.FormValue("sections")) == "" {
		names = []string{"cart", "customer", "messages"}
	}
	out := jObj{}
	for _, name := range names {
		switch name = strings.TrimSpace(name); name {
		case "cart":
			data, err := s.cartSection(lc)
			if err != nil {
				lc.w.WriteHeader(500)
				return
			}
			out.set(name, data)
		case "customer":
			out.set(name, lc.customerSection())
		case "messages":
			out.set(name, lc.messagesSection())
		}
	}
	lc.ajaxJSON(kindSection, phpJSON(out))
}

// dataID is a section's data_id: the time it was built, in seconds.
func (lc *lumaCall) dataID() int64 { return lc.now.Unix() }

// priceSpan is how Luma's blocks print an amount: <span class="price">$1.00</span>.
func priceSpan(amount string) string { return `<span class="price">` + amount + `</span>` }

// cartSection is the cart section: the quote's subtotals and its items, newest first.
func (s *Store) cartSection(lc *lumaCall) (jObj, error) {
	c := lc.sessionCart()
	if c == nil {
		c = &cart{}
	}
	q, err := s.quoteOf(lc.r.Context(), c, lc.req)
	if err != nil {
		return nil, err
	}
	var subtotalAmount any
	if c.maskedID != "" {
		subtotalAmount = amt4(q.t.subtotal)
	}
	items := make([]any, 0, len(c.items))
	for i := len(c.items) - 1; i >= 0; i-- {
		items = append(items, lc.miniCartItem(c.items[i], q.t.lines[i]))
	}
	return jObj{
		{"summary_count", num(c.totalQty())},
		{"subtotalAmount", subtotalAmount},
		{"subtotal", priceSpan(moneyString(q.t.subtotal))},
		{"possible_onepage_checkout", true},
		{"items", items},
		{"extra_actions", ""},
		{"isGuestCheckoutAllowed", true},
		{"website_id", "1"},
		{"storeId", "1"},
		{"subtotal_incl_tax", priceSpan(moneyString(q.t.subtotalInclTax))},
		{"subtotal_excl_tax", priceSpan(moneyString(q.t.subtotal))},
		{"data_id", lc.dataID()},
	}, nil
}

// miniCartItem is one item of the cart section, as Magento's DefaultItem renders it.
func (lc *lumaCall) miniCartItem(it cartItem, l lineTotals) jObj {
	p := it.product
	options := []any{}
	if it.child != nil {
		for _, attr := range p.super {
			options = append(options, jObj{
				{"label", attr.label}, {"value", it.child.labels[attr.id]},
				{"option_id", attr.id}, {"option_value", strconv.Itoa(it.child.attrs[attr.id])},
			})
		}
	}
	id := strconv.Itoa(it.id)
	price := "\n\n    <span class=\"price-excluding-tax\" data-label=\"Excl.&#x20;Tax\">\n" +
		"            <span class=\"minicart-price\">\n" +
		"            " + priceSpan(moneyString(l.price)) + "        </span>\n\n        </span>\n"
	return jObj{
		{"product_type", string(p.typ)},
		{"options", options},
		{"qty", num(it.qty)},
		{"item_id", id},
		{"configure_url", lc.url("checkout/cart/configure/id/" + id + "/product_id/" + strconv.Itoa(p.id) + "/")},
		{"is_visible_in_site_visibility", true},
		{"product_id", strconv.Itoa(p.id)},
		{"product_name", p.name},
		{"product_sku", it.priced().sku},
		{"product_url", lc.url(p.urlKey + ".html")},
		{"product_has_url", true},
		{"product_price", price},
		{"product_price_value", num(l.price)},
		{"product_image", lc.thumbnail(p.name)},
		{"canApplyMsrp", false},
		{"message", ""},
	}
}

// customerSection is the customer section: the signed-in customer's names, or only data_id.
func (lc *lumaCall) customerSection() jObj {
	if !lc.isCustomer() {
		return jObj{{"data_id", lc.dataID()}}
	}
	return jObj{
		{"fullname", demoCustomerFirstname + " " + demoCustomerLastname},
		{"firstname", demoCustomerFirstname},
		{"websiteId", "1"},
		{"data_id", lc.dataID()},
	}
}

// messagesSection hands the session's waiting messages to Luma's messages component.
func (lc *lumaCall) messagesSection() jObj {
	return jObj{{"messages", messageList(lc.takeMessages())}, {"data_id", lc.dataID()}}
}
