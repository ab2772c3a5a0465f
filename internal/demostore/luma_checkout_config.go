package demostore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/govalues/decimal"
)

// window.checkoutConfig of the cart and checkout pages (Magento's DefaultConfigProvider and
// the providers of the recorded store's modules), member by member in the recorded order,
// with the recorded names, types and nulls (fixtures 05, 10, 15). The members that carry
// the quote are computed; the others are the recorded store's configuration.

// quoteTime is how the quote's dates read in quoteData: "2026-12-03 11:54:29".
func quoteTime(t time.Time) string { return t.UTC().Format(time.DateTime) }

// escapedBase is the base URL as a JSON string's inside ("http:\/\/…\/").
func escapedBase(base string) string {
	s := string(phpJSON(base))
	return s[1 : len(s)-1]
}

// checkoutConfig builds window.checkoutConfig for a quote with items. cartPage adds what only
// the cart page carries (quoteData.messages).
func (lc *lumaCall) checkoutConfig(q *lumaQuote, cartPage bool) jObj {
	customer := lc.isCustomer()
	base := escapedBase(lc.base)
	static := func(raw string) jRaw { return jRaw(strings.ReplaceAll(raw, "{BASE}", base)) }
	var customerData any = jObj{}
	if customer {
		customerData = lc.customerData()
	}
	quoteMessages, imageData := jObj{}, jObj{}
	for _, it := range q.c.items {
		id := strconv.Itoa(it.id)
		quoteMessages.set(id, "")
		imageData.set(id, lc.thumbnail(it.product.name))
	}
	captcha := func(forms ...string) jObj {
		o := jObj{}
		for _, f := range forms {
			o.set(f, jObj{{"isCaseSensitive", false}, {"imageHeight", 50}, {"imageSrc", ""},
				{"refreshUrl", lc.url("captcha/refresh/")}, {"isRequired", false}, {"timestamp", lc.now.Unix()}})
		}
		return o
	}
	return jObj{
		{"payment", static(configPayment)},
		{"formKey", lc.formKey()},
		{"customerData", customerData},
		{"quoteData", q.quoteData(cartPage)},
		{"quoteItemData", q.quoteItemData(lc)},
		{"quoteMessages", quoteMessages},
		{"isCustomerLoggedIn", customer},
		{"selectedShippingMethod", q.selectedShippingMethod()},
		{"storeCode", "default"},
		{"isGuestCheckoutAllowed", true},
		{"isCustomerLoginRequired", false},
		{"registerUrl", lc.url("customer/account/create/")},
		{"checkoutUrl", lc.url("checkout/")},
		{"defaultSuccessPageUrl", lc.url("checkout/onepage/success/")},
		{"pageNotFoundUrl", lc.url("checkout/noroute/")},
		{"forgotPasswordUrl", lc.url("customer/account/forgotpassword/")},
		{"staticBaseUrl", lc.url("static/" + staticVersion + "/")},
		{"priceFormat", static(configPriceFormat)},
		{"basePriceFormat", static(configPriceFormat)},
		{"postCodes", static(configPostCodes)},
		{"imageData", imageData},
		{"totalsData", q.totalsData()},
		{"shippingPolicy", static(configShippingPolicy)},
		{"useQty", true},
		{"activeCarriers", []any{carrierFlatrate}},
		{"originCountryCode", "US"},
		{"paymentMethods", []any{}},
		{"autocomplete", "off"},
		{"displayBillingOnPaymentMethod", true},
		{"maxCartItemsToDisplay", 10},
		{"cartUrl", lc.url("checkout/cart/")},
		{"captcha", captcha("payment_processing_request", "user_login", "sales_rule_coupon_request")},
		{"websiteCode", "base"},
		{"storePickupApiSearchTermDelimiter", ":"},
		{"cardinal", jObj{{"environment", "production"}, {"requestJWT", q.cardinalJWT(lc.now)}}},
		{"vault", []any{}},
		{"persistenceConfig", static(configPersistence)},
		{"checkoutAgreements", static(configAgreements)},
		{"recaptcha_paypal", false},
		{"isDisplayShippingPriceExclTax", true},
		{"isDisplayShippingBothPrices", false},
		{"reviewShippingDisplayMode", "excluding"},
		{"reviewItemPriceDisplayMode", "excluding"},
		{"reviewTotalsDisplayMode", "excluding"},
		{"includeTaxInGrandTotal", false},
		{"isFullTaxSummaryDisplayed", false},
		{"isZeroTaxDisplayed", false},
		{"reloadOnBillingAddress", false},
		{"defaultCountryId", "US"},
		{"defaultRegionId", nil},
		{"defaultPostcode", nil},
		{"captchaPayments", captcha("co-payment-form")},
		{"isDisplayPriceWithWeeeDetails", false},
		{"isDisplayFinalPrice", false},
		{"isWeeeEnabled", "0"},
		{"isIncludedInSubtotal", false},
		{"getIncludeWeeeFlag", false},
	}
}

// customerData is checkoutConfig.customerData of the signed-in demo customer (the
// recordings are a guest's, whose customerData is []): Magento's customer data object with
// an empty address book.
func (lc *lumaCall) customerData() jObj {
	return jObj{
		{"id", demoCustomerID},
		{"group_id", 1},
		{"created_at", "2026-01-01 00:00:00"},
		{"updated_at", "2026-01-01 00:00:00"},
		{"created_in", "Default Store View"},
		{"email", demoCustomerEmail},
		{"firstname", demoCustomerFirstname},
		{"lastname", demoCustomerLastname},
		{"store_id", 1},
		{"website_id", 1},
		{"addresses", jObj{}},
		{"disable_auto_group_change", 0},
		{"extension_attributes", jObj{{"is_subscribed", false}}},
	}
}

// quoteData is checkoutConfig.quoteData: the quote row as Magento loads it. entity_id is the
// masked id for a guest and the numeric id for a customer.
func (q *lumaQuote) quoteData(cartPage bool) jObj {
	c, t := q.c, q.t
	customer := c.customerID != 0
	guestOr := func(guest, customerValue any) any {
		if customer {
			return customerValue
		}
		return guest
	}
	var email any
	if c.email != "" {
		email = c.email
	}
	isVirtual := 0
	if c.isVirtual() {
		isVirtual = 1
	}
	emptyItems := make([]any, len(c.items))
	for i := range emptyItems {
		emptyItems[i] = jEmptyObject{}
	}
	o := jObj{
		{"entity_id", q.maskedOrNumeric()},
		{"store_id", 1},
		{"created_at", quoteTime(c.createdAt)},
		{"updated_at", quoteTime(c.updatedAt)},
		{"converted_at", nil},
		{"is_active", "1"},
		{"is_virtual", isVirtual},
		{"is_multi_shipping", "0"},
		{"items_count", strconv.Itoa(len(c.items))},
		{"items_qty", amt4(c.totalQty())},
		{"orig_order_id", "0"},
		{"store_to_base_rate", amt4(zero)},
		{"store_to_quote_rate", amt4(zero)},
		{"base_currency_code", currencyUSD},
		{"store_currency_code", currencyUSD},
		{"quote_currency_code", currencyUSD},
		{"grand_total", amt4(t.grandTotal)},
		{"base_grand_total", amt4(t.grandTotal)},
		{"checkout_method", nil},
		{"customer_id", guestOr(nil, strconv.Itoa(c.customerID))},
		{"customer_tax_class_id", "3"},
		{"customer_group_id", guestOr("0", "1")},
		{"customer_email", email},
		{"customer_prefix", nil},
		{"customer_firstname", guestOr(nil, demoCustomerFirstname)},
		{"customer_middlename", nil},
		{"customer_lastname", guestOr(nil, demoCustomerLastname)},
		{"customer_suffix", nil},
		{"customer_dob", nil},
		{"customer_note", nil},
		{"customer_note_notify", "1"},
		{"customer_is_guest", guestOr("1", "0")},
		{"applied_rule_ids", q.appliedRuleIDs(-1)},
		{"reserved_order_id", nil},
		{"password_hash", nil},
		{"coupon_code", q.couponValue()},
		{"global_currency_code", currencyUSD},
		{"base_to_global_rate", amt4(decimal.One)},
		{"base_to_quote_rate", amt4(decimal.One)},
		{"customer_taxvat", nil},
		{"customer_gender", nil},
		{"subtotal", amt4(t.subtotal)},
		{"base_subtotal", amt4(t.subtotal)},
		{"subtotal_with_discount", amt4(t.subtotalWithDiscount())},
		{"base_subtotal_with_discount", amt4(t.subtotalWithDiscount())},
		{"is_changed", "1"},
		{"trigger_recollect", "0"},
		{"ext_shipping_info", nil},
		{"gift_message_id", nil},
		{"is_persistent", "0"},
		{"items", emptyItems},
		{"extension_attributes", jObj{{"shipping_assignments", []any{jEmptyObject{}}}}},
	}
	if cartPage {
		o.set("messages", []any{})
	}
	return o
}

// quoteItemData is checkoutConfig.quoteItemData: every quote item row with its product.
func (q *lumaQuote) quoteItemData(lc *lumaCall) []any {
	out := make([]any, len(q.c.items))
	for i, it := range q.c.items {
		l := q.t.lines[i]
		p := it.priced()
		weight := p.weight
		if p.typ == typeVirtual {
			weight = zero
		}
		var a arith
		rowWeight := a.mul(weight, it.qty)
		ts := quoteTime(q.c.updatedAt)
		isVirtual := "0"
		if it.isVirtual() {
			isVirtual = "1"
		}
		out[i] = jObj{
			{"item_id", strconv.Itoa(it.id)},
			{"quote_id", strconv.Itoa(q.c.quoteID)},
			{"created_at", ts},
			{"updated_at", ts},
			{"product_id", strconv.Itoa(it.product.id)},
			{"store_id", 1},
			{"parent_item_id", nil},
			{"is_virtual", isVirtual},
			{"sku", p.sku},
			{"name", itemName(it)},
			{"description", nil},
			{"applied_rule_ids", q.appliedRuleIDs(i)},
			{"additional_data", nil},
			{"is_qty_decimal", false},
			{"no_discount", "0"},
			{"weight", weight.Round(6).Pad(6).String()},
			{"qty", num(it.qty)},
			{"price", amt4(l.price)},
			{"base_price", amt4(l.price)},
			{"custom_price", nil},
			{"discount_percent", amt4(l.discountPercent)},
			{"discount_amount", amt4(l.discount)},
			{"base_discount_amount", amt4(l.discount)},
			{"tax_percent", amt4(taxPercent())},
			{"tax_amount", amt4(l.tax)},
			{"base_tax_amount", amt4(l.tax)},
			{"row_total", amt4(l.rowTotal)},
			{"base_row_total", amt4(l.rowTotal)},
			{"row_total_with_discount", amt4(zero)},
			{"row_weight", amt4(rowWeight)},
			{"product_type", string(it.product.typ)},
			{"base_tax_before_discount", nil},
			{"tax_before_discount", nil},
			{"original_custom_price", nil},
			{"redirect_url", nil},
			{"base_cost", nil},
			{"price_incl_tax", amt4(l.priceInclTax)},
			{"base_price_incl_tax", amt4(l.priceInclTax)},
			{"row_total_incl_tax", amt4(l.rowTotalInclTax)},
			{"base_row_total_incl_tax", amt4(l.rowTotalInclTax)},
			{"discount_tax_compensation_amount", amt4(zero)},
			{"base_discount_tax_compensation_amount", amt4(zero)},
			{"gift_message_id", nil},
			{"free_shipping", "0"},
			{"weee_tax_applied", nil},
			{"weee_tax_applied_amount", nil},
			{"weee_tax_applied_row_amount", nil},
			{"weee_tax_disposition", nil},
			{"weee_tax_row_disposition", nil},
			{"base_weee_tax_applied_amount", nil},
			{"base_weee_tax_applied_row_amnt", nil},
			{"base_weee_tax_disposition", nil},
			{"base_weee_tax_row_disposition", nil},
			{"qty_options", jObj{}},
			{"product", q.itemProduct(it)},
			{"tax_class_id", "2"},
			{"has_error", false},
			{"stock_state_result", jEmptyObject{}},
			{"options", []any{}},
			{"thumbnail", lc.url(placeholderThumbnail)},
			{"message", ""},
		}
	}
	return out
}

// itemProduct is the product row a quote item carries in quoteItemData.
func (q *lumaQuote) itemProduct(it cartItem) jObj {
	p := it.product
	group := "0"
	if q.c.customerID != 0 {
		group = "1"
	}
	return jObj{
		{"entity_id", strconv.Itoa(p.id)},
		{"attribute_set_id", "4"},
		{"type_id", string(p.typ)},
		{"sku", p.sku},
		{"has_options", "0"},
		{"required_options", "0"},
		{"created_at", "2026-01-01 00:00:00"},
		{"updated_at", "2026-01-01 00:00:00"},
		{"price", p.price.Round(6).Pad(6).String()},
		{"weight", p.weight.Round(6).Pad(6).String()},
		{"name", p.name},
		{"url_key", p.urlKey},
		{"msrp_display_actual_price_type", "0"},
		{"status", "1"},
		{"visibility", "4"},
		{"tax_class_id", "2"},
		{"store_id", 1},
		{"request_path", p.urlKey + ".html"},
		{"extension_attributes", jEmptyObject{}},
		{"customer_group_id", group},
		{"final_price", nil},
	}
}

// selectedShippingMethod is the quote's shipping rate once a method is set, else null.
func (q *lumaQuote) selectedShippingMethod() any {
	if !q.t.hasShipping {
		return nil
	}
	amount := q.t.shipping
	return jObj{
		{"carrier_code", carrierFlatrate},
		{"method_code", methodFlatrate},
		{"carrier_title", carrierTitle},
		{"method_title", methodTitle},
		{"amount", num(amount)},
		{"base_amount", amt4(amount)},
		{"available", true},
		{"error_message", false},
		{"price_excl_tax", num(amount)},
		{"price_incl_tax", num(amount)},
	}
}

// cardinalJWT is the Cardinal Commerce request token of checkoutConfig, HS256 over the quote's
// numeric id and grand total in cents as Magento_CardinalCommerce writes it (signed with a
// demo key). Note that it carries the discounted grand total.
func (q *lumaQuote) cardinalJWT(now time.Time) string {
	var a arith
	cents := a.mul(q.t.grandTotal, hundred).Trunc(0)
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))
	payload := enc.EncodeToString(phpJSON(jObj{
		{"jti", randomUUID()},
		{"iss", ""},
		{"iat", now.Unix()},
		{"OrgUnitId", ""},
		{"Payload", jObj{{"OrderDetails", jObj{{"OrderNumber", strconv.Itoa(q.c.quoteID)}, {"Amount", num(cents)}, {"CurrencyCode", currencyUSD}}}}},
		{"ObjectifyPayload", true},
	}))
	mac := hmac.New(sha256.New, []byte("demostore"))
	mac.Write([]byte(header + "." + payload))
	return header + "." + payload + "." + enc.EncodeToString(mac.Sum(nil))
}

// randomUUID is a version 4 UUID.
func randomUUID() string {
	h := randomString("0123456789abcdef", 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}
