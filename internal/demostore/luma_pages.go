package demostore

import (
	"net/http"
	"strconv"
)

// The cart page (checkout/cart, fixtures 05 and 10), the checkout page (checkout/index/index,
// fixture 15) and the success page (checkout/onepage/success, fixture 19).

// cartPage renders the shopping cart: the session's messages, the summary with
// window.checkoutConfig, the items and the discount form.
func (s *Store) cartPage(lc *lumaCall) {
	p := &htmlPage{}
	lc.pageStart(p, "Shopping Cart", "Shopping Cart", "checkout-cart-index")
	lc.pageMessages(p, "checkout-cart-validationmessages")
	lc.columnsStart(p)
	c := lc.sessionCart()
	if c == nil || len(c.items) == 0 {
		p.w(`<div class="cart-empty">
    <p>You have no items in your shopping cart.</p>
    <p>Click <a href="`, escapeHTMLAttr(lc.base), `">here</a> to continue shopping.</p>
</div>
`)
		lc.answerPage(p)
		return
	}
	q, ok := s.pageQuote(lc, c)
	if !ok {
		return
	}
	p.w(`<div class="cart-container"><div class="cart-summary"><strong class="summary title">Summary</strong>
<div id="block-shipping" class="block shipping">
    <div id="block-summary" data-bind="scope:'block-summary'" class="content">
        <!-- ko template: getTemplate() --><!-- /ko -->
        `)
	p.script("", "\n            window.checkoutConfig = "+string(phpJSON(lc.checkoutConfig(q, true)))+";\n"+
		"            window.customerData = window.checkoutConfig.customerData;\n"+
		"            window.isCustomerLoggedIn = window.checkoutConfig.isCustomerLoggedIn;\n"+
		"            require([\n                'mage/url',\n                'Magento_Ui/js/block-loader'\n"+
		"            ], function(url, blockLoader) {\n                blockLoader(\n"+
		"                    \""+escapeJS(lc.staticURL("images/loader-1.gif"))+"\"\n                );\n"+
		"                return url.setBaseUrl('"+escapeJS(lc.base)+"');\n            })")
	p.w(`    </div>
</div>
<div id="cart-totals" class="cart-totals" data-bind="scope:'block-totals'">
    <!-- ko template: getTemplate() --><!-- /ko -->
</div>
<ul class="checkout methods items checkout-methods-items">
    <li class="item">
        <button type="button" data-role="proceed-to-checkout" title="Proceed&#x20;to&#x20;Checkout" class="action primary checkout"><span>Proceed to Checkout</span></button>
    </li>
</ul>
</div>
`)
	lc.cartItemsForm(p, q)
	p.w(`<div class="cart-discount">`, lc.discountForm(q.couponCode()), "</div>\n</div>\n")
	lc.answerPage(p)
}

// pageQuote collects the totals of the session's cart for a page; when it cannot, it
// answers 500.
func (s *Store) pageQuote(lc *lumaCall, c *cart) (*lumaQuote, bool) {
	q, err := s.quoteOf(lc.r.Context(), c, lc.req)
	if err != nil {
		http.Error(lc.w, "cannot collect totals", http.StatusInternalServerError)
		return nil, false
	}
	return q, true
}

// cartItemsForm renders the items table: prices and row totals before discounts.
func (lc *lumaCall) cartItemsForm(p *htmlPage, q *lumaQuote) {
	p.w(`<form action="`, lc.url("checkout/cart/updatePost/"), `"
          method="post"
          id="form-validate"
          class="form form-cart">
    <input name="form_key" type="hidden" value="`, escapeHTMLAttr(lc.formKey()), `" />    <div class="cart table-wrapper">
                <table id="shopping-cart-table"
               class="cart items data table">
            <caption class="table-caption">Shopping Cart Items</caption>
            <thead>
                <tr>
                    <th class="col item" scope="col"><span>Item</span></th>
                    <th class="col price" scope="col"><span>Price</span></th>
                    <th class="col qty" scope="col"><span>Qty</span></th>
                    <th class="col subtotal" scope="col"><span>Subtotal</span></th>
                </tr>
            </thead>
`)
	for i, it := range q.c.items {
		l := q.t.lines[i]
		id := strconv.Itoa(it.id)
		qty := num(it.qty)
		p.w(`                            <tbody class="cart item">
    <tr class="item-info">
        <td data-th="Item" class="col item">
            <div class="product-item-details">
                <strong class="product-item-name"><a href="`, lc.url(it.product.urlKey+".html"), `">`, escapeHTML(it.product.name), `</a></strong>
            </div>
        </td>
        <td class="col price" data-th="Price">
    <span class="price-excluding-tax" data-label="Excl.&#x20;Tax">
                    <span class="cart-price">
                        `, priceSpan(moneyString(l.price)), `            </span>

            </span>
            </td>
        <td class="col qty" data-th="Qty">
            <input id="cart-`, id, `-qty" name="cart[`, id, `][qty]" data-cart-item-id="`, escapeHTMLAttr(it.priced().sku), `" value="`, string(qty), `" type="number" title="Qty" class="input-text qty" data-item-qty="`, string(qty), `" data-role="cart-item-qty"/>
        </td>
        <td class="col subtotal" data-th="Subtotal">
    <span class="price-excluding-tax" data-label="Excl.&#x20;Tax">
                    <span class="cart-price">
                        `, priceSpan(moneyString(l.rowTotal)), `            </span>

            </span>
                    </td>
    </tr>
</tbody>
`)
	}
	p.w("        </table>\n    </div>\n</form>\n")
}

// discountForm is Luma's "Apply Discount Code" block (Magento_Checkout::cart/coupon.phtml) as
// Magento 2.4.7 renders it without a coupon (fixture 05) and with one (fixture 10): open,
// "fieldset coupon applied", the code in a disabled input and a "Cancel Coupon" button.
func (lc *lumaCall) discountForm(code string) string {
	applied := code != ""
	active, fieldset, value, disabled := "false", "coupon", "", ""
	if applied {
		active, fieldset, value = "true", "coupon applied", escapeHTMLAttr(code)
		disabled = "                                                                   disabled=\"disabled\"\n"
	}
	out := `<div class="block discount"
     id="block-discount"
     data-mage-init='{"collapsible":{"active": ` + active + `, "openedState": "active", "saveState": false}}'>
    <div class="title" data-role="title">
        <strong id="block-discount-heading" role="heading" aria-level="2">Apply Discount Code</strong>
    </div>
    <div class="content" data-role="content" aria-labelledby="block-discount-heading">
        <form id="discount-coupon-form"
              action="` + lc.url("checkout/cart/couponPost/") + `"
              method="post"
              data-mage-init='{"discountCode":{"couponCodeSelector": "#coupon_code",
                                               "removeCouponSelector": "#remove-coupon",
                                               "applyButton": "button.action.apply",
                                               "cancelButton": "button.action.cancel"}}'>
            <div class="fieldset ` + fieldset + `">
                <input type="hidden" name="remove" id="remove-coupon" value="0" />
                <div class="field">
                    <label for="coupon_code" class="label">
                        <span>Enter discount code</span>
                    </label>
                    <div class="control">
                        <input type="text"
                               class="input-text"
                               id="coupon_code"
                               name="coupon_code"
                               value="` + value + `"
                               placeholder="Enter&#x20;discount&#x20;code"
` + disabled + `                                                        />
                    </div>
                </div>
                <div class="actions-toolbar">
`
	if applied {
		out += `                                            <div class="primary">
                            <button  type="button" class="action cancel primary"
                                     value="Cancel&#x20;Coupon">
                                <span>Cancel Coupon</span>
                            </button>
                        </div>
                                    </div>
            </div>
                    </form>
`
	} else {
		out += `                                        <div class="primary">
                        <button class="action apply primary" type="button"
                                value="Apply&#x20;Discount">
                            <span>Apply Discount</span>
                        </button>
                    </div>
                                    </div>
            </div>
                                                </form>
`
	}
	return out + "    </div>\n</div>\n"
}

// checkoutPage renders the one-page checkout: window.checkoutConfig in an inline script, under
// an enforcing Content-Security-Policy that allows each inline script by hash (or nonce, see
// LumaCSP). An empty quote goes back to the cart page. On plain HTTP the session id is
// regenerated first, as Magento's checkout controller does (fixture 15's new PHPSESSID).
func (s *Store) checkoutPage(lc *lumaCall) {
	c := lc.sessionCart()
	if c == nil || len(c.items) == 0 {
		lc.redirect(lc.url("checkout/cart/"))
		return
	}
	q, ok := s.pageQuote(lc, c)
	if !ok {
		return
	}
	if !lc.isSecure() {
		lc.s.mu.Lock()
		lc.s.regenerateLocked(lc.sess)
		lc.s.mu.Unlock()
	}

	p := &htmlPage{}
	if s.opts.LumaCSP == LumaCSPNonce {
		p.nonce = newNonce()
	}
	lc.pageStart(p, "Checkout", "Checkout", "checkout-index-index")
	lc.columnsStart(p)
	p.w(`
<div id="checkout" data-bind="scope:'checkout'" class="checkout-container">
    <div id="checkout-loader" data-role="checkout-loader" class="loading-mask" data-mage-init='{"checkoutLoader": {}}'>
        <div class="loader">
            <img src="`, lc.staticURL("images/loader-1.gif"), `"
                 alt="Loading...">
        </div>
    </div>
    `)
	p.script(` type="text&#x2F;javascript"`, "    var elemaOs4DVNvArray = document.querySelectorAll('#checkout-loader img');\n"+
		"    if(elemaOs4DVNvArray.length !== 'undefined'){\n        elemaOs4DVNvArray.forEach(function(element) {\n"+
		"            if (element) {\n                element.style.position = 'absolute';\n\n            }\n        });\n    }")
	p.w("    <!-- ko template: getTemplate() --><!-- /ko -->\n    ")
	p.initScript(`        {
            "#checkout": {
                "Magento_Ui/js/core/app": {"components":{"checkout":{"component":"uiComponent","config":{"template":"Magento_Checkout\/onepage"}}}}            }
        }
    `)
	p.w("        ")
	p.script("", "        window.checkoutConfig = "+string(phpJSON(lc.checkoutConfig(q, false)))+";\n"+
		"        // Create aliases for customer.js model from customer module\n"+
		"        window.isCustomerLoggedIn = window.checkoutConfig.isCustomerLoggedIn;\n"+
		"        window.customerData = window.checkoutConfig.customerData;")
	p.w("        ")
	p.script("", "        require([\n            'mage/url',\n            'Magento_Ui/js/block-loader'\n"+
		"        ], function(url, blockLoader) {\n"+
		"            blockLoader(\""+escapeJS(lc.staticURL("images/loader-1.gif"))+"\");\n"+
		"            return url.setBaseUrl('"+escapeJS(lc.base)+"');\n        })")
	p.w("</div>\n")
	lc.pageEnd(p)
	lc.w.Header().Set("Content-Security-Policy", checkoutPolicy(cspSources(s.opts.LumaCSP, p.nonce, p.scripts)))
	lc.html(kindCheckout, p.String())
}

// successPage renders "Thank you for your purchase!" once after an order, as Magento's
// success validator allows; otherwise it sends the shopper to the cart page.
func (s *Store) successPage(lc *lumaCall) {
	lc.s.mu.Lock()
	o := lc.sess.lastOrder
	lc.sess.lastOrder = nil
	lc.s.mu.Unlock()
	if o == nil {
		lc.redirect(lc.url("checkout/cart/"))
		return
	}
	p := &htmlPage{}
	lc.pageStart(p, "Success Page", "Thank you for your purchase!", "checkout-onepage-success")
	lc.columnsStart(p)
	p.w("<div class=\"checkout-success\">\n")
	if o.customerID != 0 {
		p.w(`                        <p>Your order number is: <a href="`, lc.url("sales/order/view/order_id/"+strconv.Itoa(o.id)+"/"),
			`" class="order-number"><strong>`, o.number, "</strong></a>.</p>\n")
	} else {
		p.w("                        <p>Your order # is: <span>", o.number, "</span>.</p>\n")
	}
	p.w(`                            <p>We&#039;ll email you an order confirmation with details and tracking info.</p>
            
    
    <div class="actions-toolbar">
        <div class="primary">
            <a class="action primary continue"
               href="`, lc.base, `"><span>Continue Shopping</span></a>
        </div>
    </div>
</div>
`)
	lc.answerPage(p)
}
