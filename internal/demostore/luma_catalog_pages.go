package demostore

import (
	"fmt"
	"strconv"
)

// The home page (a product list) and the product page (fixture 01) with Luma's add-to-cart
// form: what a shopper, or a test, needs to start a Luma session and find the form key.

// homePage lists the catalog's visible products with links to their pages.
func (s *Store) homePage(lc *lumaCall) {
	p := &htmlPage{}
	lc.pageStart(p, "Home Page", "Home Page", "cms-index-index")
	lc.pageMessages(p, "messages")
	lc.columnsStart(p)
	p.w("<ol class=\"products list items product-items\">\n")
	for _, prod := range s.catalog.products {
		if !prod.listed {
			continue
		}
		p.w(`<li class="item product product-item"><a class="product-item-link" href="`, lc.url(prod.urlKey+".html"), `">`,
			escapeHTML(prod.name), `</a> `, priceSpan(moneyString(prod.price)), "</li>\n")
	}
	p.w("</ol>\n")
	lc.answerPage(p)
}

// productPage renders a product with Luma's add-to-cart form: the action URL carries uenc and
// the product id, the form the product id, the form key and qty (a configurable product
// adds its super_attribute selects).
func (s *Store) productPage(lc *lumaCall, idText string) {
	id, _ := strconv.Atoi(idText)
	prod, ok := s.catalog.byID(id)
	if !ok {
		lc.w.WriteHeader(404)
		return
	}
	here := lc.url(prod.urlKey + ".html")
	action := lc.url("checkout/cart/add/uenc/" + uenc(here) + "/product/" + strconv.Itoa(prod.id) + "/")
	p := &htmlPage{}
	lc.pageStart(p, prod.name, prod.name, "catalog-product-view product-"+prod.urlKey)
	lc.pageMessages(p, "messages")
	lc.columnsStart(p)
	p.w(`<div class="product-info-price">`, priceSpan(moneyString(prod.price)), `</div>
<div class="product attribute sku">
        <strong class="type">SKU</strong>
        <div class="value" itemprop="sku">`, escapeHTML(prod.sku), `</div>
</div>

<div class="product-add-form">
    <form data-product-sku="`, escapeHTMLAttr(prod.sku), `"
          action="`, action, `" method="post"
          id="product_addtocart_form">
        <input type="hidden" name="product" value="`, strconv.Itoa(prod.id), `" />
        <input type="hidden" name="selected_configurable_option" value="" />
        <input type="hidden" name="related_product" id="related-products-field" value="" />
        <input type="hidden" name="item"  value="`, strconv.Itoa(prod.id), `" />
        <input name="form_key" type="hidden" value="`, escapeHTMLAttr(lc.formKey()), `" />`)
	for _, attr := range prod.super {
		p.w("\n        <select name=\"super_attribute[", strconv.Itoa(attr.id), "]\" data-attribute-code=\"", attr.code, "\">")
		for _, v := range attr.values {
			p.w(fmt.Sprintf(`<option value="%d">%s</option>`, v.index, escapeHTML(v.label)))
		}
		p.w("</select>")
	}
	p.w(`
        <div class="box-tocart">
            <input type="number" name="qty" id="qty" min="0" value="1" title="Qty" class="input-text qty" />
            <button type="submit" title="Add&#x20;to&#x20;Cart" class="action primary tocart" id="product-addtocart-button"><span>Add to Cart</span></button>
        </div>
    </form>
</div>
`)
	lc.answerPage(p)
}
