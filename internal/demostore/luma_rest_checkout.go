package demostore

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// The REST routes of Luma's checkout: totals-information (the cart page's estimate, fixture
// 08), estimate-shipping-methods, shipping-information (16), payment-information GET (17)
// and POST (18: places the order and answers its id), set-payment-information and order.

// restAddressInput is an AddressInterface in a request, in the snake_case or camelCase
// spelling Magento's REST input processor accepts.
type restAddressInput struct {
	Firstname   string          `json:"firstname"`
	Lastname    string          `json:"lastname"`
	Company     *string         `json:"company"`
	Street      []string        `json:"street"`
	City        string          `json:"city"`
	Region      json.RawMessage `json:"region"`
	RegionID    *int32          `json:"region_id"`
	RegionIDC   *int32          `json:"regionId"`
	RegionCode  string          `json:"region_code"`
	RegionCodeC string          `json:"regionCode"`
	Postcode    *string         `json:"postcode"`
	CountryID   string          `json:"country_id"`
	CountryIDC  string          `json:"countryId"`
	Telephone   *string         `json:"telephone"`
	Email       string          `json:"email"`
}

// toAddress converts the input; ok is false without a country.
func (in *restAddressInput) toAddress() (*cartAddress, bool) {
	if in == nil {
		return nil, false
	}
	country := strings.ToUpper(strings.TrimSpace(in.CountryID + in.CountryIDC))
	if country == "" {
		return nil, false
	}
	regionID := in.RegionID
	if regionID == nil {
		regionID = in.RegionIDC
	}
	region := strings.TrimSpace(in.RegionCode + in.RegionCodeC)
	var text string
	var obj struct {
		Region     string `json:"region"`
		RegionCode string `json:"region_code"`
		RegionID   *int32 `json:"region_id"`
	}
	switch {
	case json.Unmarshal(in.Region, &text) == nil && text != "":
		region = text
	case json.Unmarshal(in.Region, &obj) == nil:
		if obj.RegionCode != "" {
			region = obj.RegionCode
		} else if obj.Region != "" {
			region = obj.Region
		}
		if regionID == nil {
			regionID = obj.RegionID
		}
	}
	var street []string
	for _, line := range in.Street {
		if line = strings.TrimSpace(line); line != "" {
			street = append(street, line)
		}
	}
	return &cartAddress{
		firstname: strings.TrimSpace(in.Firstname), lastname: strings.TrimSpace(in.Lastname),
		company: trimmed(in.Company), street: street, city: strings.TrimSpace(in.City),
		region: regionFor(country, trimmed(&region), regionID), postcode: trimmed(in.Postcode),
		countryCode: country, telephone: trimmed(in.Telephone),
	}, true
}

// restAddress is an AddressInterface in an answer.
func restAddress(a *cartAddress, email string) jObj {
	opt := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	var region, regionCode, regionID any
	if a.region != nil {
		region, regionCode = a.region.label, a.region.code
		if a.region.id != nil {
			regionID = int(*a.region.id)
		}
	}
	street := make([]any, len(a.street))
	for i, s := range a.street {
		street[i] = s
	}
	var mail any
	if email != "" {
		mail = email
	}
	return jObj{
		{"region", region}, {"region_id", regionID}, {"region_code", regionCode}, {"country_id", a.countryCode},
		{"street", street}, {"telephone", opt(a.telephone)}, {"postcode", opt(a.postcode)}, {"city", a.city},
		{"firstname", a.firstname}, {"lastname", a.lastname}, {"email", mail},
	}
}

// restTotalsInformation is POST …/totals-information: the estimate address and shipping
// method are kept on the quote (the cart page shows them afterwards, fixture 10) and the
// totals answered with base_subtotal_incl_tax and coupon_code.
func (s *Store) restTotalsInformation(rc *restCall) {
	var body struct {
		AddressInformation struct {
			Address             *restAddressInput `json:"address"`
			ShippingMethodCode  string            `json:"shipping_method_code"`
			ShippingCarrierCode string            `json:"shipping_carrier_code"`
		} `json:"addressInformation"`
	}
	if fail := readJSONBody(rc.r, &body); fail != nil {
		fail.send(rc.lumaCall)
		return
	}
	info := body.AddressInformation
	s.withCart(rc, true, func(c *cart) ([]byte, *restFailure) {
		if len(c.items) == 0 {
			return nil, &restFailure{http.StatusBadRequest, "Totals calculation is not applicable to empty cart", nil}
		}
		a, ok := info.Address.toAddress()
		switch {
		case !ok:
			return nil, &restFailure{http.StatusBadRequest, msgFieldRequired, jObj{{"fieldName", "address"}}}
		case c.isVirtual():
			c.billing = a
		default:
			c.shipping = a
			c.shippingMethod = nil
			if info.ShippingCarrierCode != "" && info.ShippingMethodCode != "" {
				_ = setShippingMethod(c, info.ShippingCarrierCode, info.ShippingMethodCode)
			}
		}
		return s.quoteAnswer(rc, c, func(q *lumaQuote) any { return q.restTotals(totalsEstimate) })
	})
}

// restEstimateShipping is POST …/estimate-shipping-methods: the flat rate for the cart.
func (s *Store) restEstimateShipping(rc *restCall) {
	s.withCart(rc, false, func(c *cart) ([]byte, *restFailure) {
		if c.isVirtual() || len(c.items) == 0 {
			return []byte("[]"), nil
		}
		amount := num(shippingAmount(c))
		return phpJSON([]any{jObj{
			{"carrier_code", carrierFlatrate}, {"method_code", methodFlatrate}, {"carrier_title", carrierTitle},
			{"method_title", methodTitle}, {"amount", amount}, {"base_amount", amount}, {"available", true},
			{"error_message", ""}, {"price_excl_tax", amount}, {"price_incl_tax", amount},
		}}), nil
	})
}

// paymentDetails is PaymentDetailsInterface: the payment methods and the totals.
func (q *lumaQuote) paymentDetails() jObj {
	return jObj{{"payment_methods", restPaymentMethodList(q)}, {"totals", q.restTotals(totalsGet)}}
}

// restShippingInformation is POST …/shipping-information: shipping address, billing address
// and method, with Magento's checks and messages; answers payment details.
func (s *Store) restShippingInformation(rc *restCall) {
	var body struct {
		AddressInformation struct {
			ShippingAddress     *restAddressInput `json:"shipping_address"`
			BillingAddress      *restAddressInput `json:"billing_address"`
			ShippingMethodCode  string            `json:"shipping_method_code"`
			ShippingCarrierCode string            `json:"shipping_carrier_code"`
		} `json:"addressInformation"`
	}
	if fail := readJSONBody(rc.r, &body); fail != nil {
		fail.send(rc.lumaCall)
		return
	}
	info := body.AddressInformation
	s.withCart(rc, true, func(c *cart) ([]byte, *restFailure) {
		if len(c.items) == 0 {
			return nil, &restFailure{http.StatusBadRequest, "The shipping method can't be set for an empty cart. Add an item to cart and try again.", nil}
		}
		if c.isVirtual() {
			return nil, &restFailure{http.StatusNotFound, "Cart contains virtual product(s) only. Shipping address is not applicable.", nil}
		}
		shipping, ok := info.ShippingAddress.toAddress()
		if !ok {
			return nil, &restFailure{http.StatusBadRequest, msgNoShippingAddress, nil}
		}
		if info.ShippingCarrierCode == "" || info.ShippingMethodCode == "" {
			return nil, &restFailure{http.StatusBadRequest, "The shipping method is missing. Select the shipping method and try again.", nil}
		}
		if info.ShippingCarrierCode != carrierFlatrate || info.ShippingMethodCode != methodFlatrate {
			return nil, &restFailure{http.StatusNotFound, "Carrier with such method not found: %1, %2", []any{info.ShippingCarrierCode, info.ShippingMethodCode}}
		}
		c.shipping = shipping
		if billing, ok := info.BillingAddress.toAddress(); ok {
			c.billing = billing
		}
		_ = setShippingMethod(c, carrierFlatrate, methodFlatrate)
		return s.quoteAnswer(rc, c, func(q *lumaQuote) any { return q.paymentDetails() })
	})
}

// restGetPaymentInformation is GET …/payment-information.
func (s *Store) restGetPaymentInformation(rc *restCall) {
	s.withCart(rc, false, func(c *cart) ([]byte, *restFailure) {
		return s.quoteAnswer(rc, c, func(q *lumaQuote) any { return q.paymentDetails() })
	})
}

// paymentInput is the body of payment-information, set-payment-information and order.
type paymentInput struct {
	Email         string `json:"email"`
	PaymentMethod *struct {
		Method   string  `json:"method"`
		PONumber *string `json:"po_number"`
	} `json:"paymentMethod"`
	BillingAddress *restAddressInput `json:"billingAddress"`
}

// restPaymentInformation is POST …/payment-information (place: the order is placed and its id
// answered as a JSON number, fixture 18) and POST …/set-payment-information (true). A guest
// must send an email.
func (s *Store) restPaymentInformation(rc *restCall, place bool) {
	var in paymentInput
	if fail := readJSONBody(rc.r, &in); fail != nil {
		fail.send(rc.lumaCall)
		return
	}
	email := strings.TrimSpace(in.Email)
	if !rc.mine && email == "" {
		rc.restError(http.StatusBadRequest, msgFieldRequired, jObj{{"fieldName", "email"}})
		return
	}
	if in.PaymentMethod == nil || strings.TrimSpace(in.PaymentMethod.Method) == "" {
		rc.restError(http.StatusBadRequest, msgFieldRequired, jObj{{"fieldName", "paymentMethod"}})
		return
	}
	maskedID, fail := s.setPayment(rc, in, email)
	if fail != nil {
		fail.send(rc.lumaCall)
		return
	}
	if !place {
		rc.restJSON(http.StatusOK, []byte("true"))
		return
	}
	s.placeOrderREST(rc, maskedID)
}

// setPayment stores the billing address, the guest's email and the payment method, refusing
// a method that is not available; it returns the cart's masked id.
func (s *Store) setPayment(rc *restCall, in paymentInput, email string) (string, *restFailure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, fail := s.cartLocked(rc)
	if fail != nil {
		return "", fail
	}
	if billing, ok := in.BillingAddress.toAddress(); ok {
		c.billing = billing
	}
	if !rc.mine && email != "" {
		c.email = email
	}
	q, fail := s.quoteLocked(rc, c)
	if fail != nil {
		return "", fail
	}
	method := strings.TrimSpace(in.PaymentMethod.Method)
	for _, m := range availablePayments(q.t) {
		if m.Code == method {
			c.payment = &paymentSelection{code: m.Code, title: m.Title, poNumber: trimmed(in.PaymentMethod.PONumber)}
			s.touchLocked(c)
			return c.maskedID, nil
		}
	}
	s.touchLocked(c)
	return "", &restFailure{http.StatusBadRequest, msgPaymentUnavailable, nil}
}

// restPutOrder is PUT …/order (CartManagement::placeOrder): an optional paymentMethod, then
// the order; answers its id.
func (s *Store) restPutOrder(rc *restCall) {
	var in paymentInput
	if fail := readJSONBody(rc.r, &in); fail != nil {
		fail.send(rc.lumaCall)
		return
	}
	s.mu.Lock()
	c, fail := s.cartLocked(rc)
	maskedID := ""
	if c != nil {
		maskedID = c.maskedID
	}
	s.mu.Unlock()
	if fail != nil {
		fail.send(rc.lumaCall)
		return
	}
	if in.PaymentMethod != nil && strings.TrimSpace(in.PaymentMethod.Method) != "" {
		if _, fail := s.setPayment(rc, in, ""); fail != nil {
			fail.send(rc.lumaCall)
			return
		}
	}
	s.placeOrderREST(rc, maskedID)
}

// placeOrderREST places the cart's order with the store's placement checks (the same as
// GraphQL's placeOrder) and answers the order's entity id as a JSON number (fixture 18's
// body is 4). Failures are Magento's CouldNotSaveException: 400 with the reason.
func (s *Store) placeOrderREST(rc *restCall, maskedID string) {
	req := rc.req
	if !rc.mine {
		req = &requestInfo{segments: rc.req.segments, store: rc.req.store}
	}
	o, err := s.placeOrder(rc.r.Context(), maskedID, req)
	if err != nil {
		msg := msgOrderServerFail
		var me *magentoError
		if errors.As(err, &me) {
			msg = strings.TrimPrefix(me.message, "Unable to place order: ")
		}
		rc.restError(http.StatusBadRequest, msg, nil)
		return
	}
	s.mu.Lock()
	rc.sess.lastOrder = o
	s.mu.Unlock()
	rc.privateChanged = true
	rc.restJSON(http.StatusOK, []byte(strconv.Itoa(o.id)))
}
