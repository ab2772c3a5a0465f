package demostore

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Magento's REST cart API as Luma's checkout uses it: /rest/<store>/V1/guest-carts/<masked
// id>/… for guests and /rest/<store>/V1/carts/mine/… for the signed-in customer of the
// session (or a bearer token); /rest/V1/… is the default store. Answers are JSON as Magento's
// REST renderer writes it, errors {"message": …[, "parameters": …]} with Magento's status
// codes (fixtures 06-08, 12-14, 16-18).

// restCall is a REST request: the Luma call plus the route's cart selector.
type restCall struct {
	*lumaCall
	guestID string // masked id of guest-carts/<id>; "" for carts/mine
	mine    bool
}

// REST answers' fixed headers, as recorded.
func (lc *lumaCall) restHeaders() {
	h := lc.w.Header()
	h.Set("Expires", restExpires)
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	lc.writeCookies()
}

// restJSON answers with a JSON body.
func (lc *lumaCall) restJSON(status int, body []byte) {
	lc.restHeaders()
	lc.w.WriteHeader(status)
	_, _ = lc.w.Write(body)
}

// restError answers Magento's REST error shape; params (a list or a map) is omitted when nil.
func (lc *lumaCall) restError(status int, message string, params any) {
	o := jObj{{"message", message}}
	if params != nil {
		o.set("parameters", params)
	}
	lc.restJSON(status, phpJSON(o))
}

// restFailure is an error answer decided while the store lock is held.
type restFailure struct {
	status  int
	message string
	params  any
}

func (f *restFailure) send(lc *lumaCall) { lc.restError(f.status, f.message, f.params) }

// Magento's REST messages.
const (
	msgNoRoute         = "Request does not match any route."
	msgNoSuchEntity    = "No such entity with %fieldName = %fieldValue"
	msgNotAuthorized   = "The consumer isn't authorized to access %resources."
	msgNoActiveCart    = "Current customer does not have an active cart."
	msgCartNoProducts  = "The \"%1\" Cart doesn't contain products."
	msgFieldRequired   = "\"%fieldName\" is required. Enter and try again."
	msgOrderServerFail = "A server error stopped your order from being placed. Please try to place your order again."
)

func noSuchCart(value any) *restFailure {
	return &restFailure{http.StatusNotFound, msgNoSuchEntity, jObj{{"fieldName", "cartId"}, {"fieldValue", value}}}
}

// serveREST routes a REST request (a path under /rest/).
func (s *Store) serveREST(w http.ResponseWriter, r *http.Request) {
	lc := s.beginLuma(w, r, false)
	segs, ok := restSegments(r)
	if ok && len(segs) > 0 && segs[0] != "V1" {
		lc.req.store, segs = segs[0], segs[1:]
	}
	if !ok || len(segs) < 2 || segs[0] != "V1" {
		lc.restError(http.StatusNotFound, msgNoRoute, nil)
		return
	}
	segs = segs[1:]
	rc := &restCall{lumaCall: lc}
	switch {
	case len(segs) == 1 && segs[0] == "guest-carts" && r.Method == http.MethodPost:
		s.mu.Lock()
		id := s.newCartLocked("", 0).maskedID
		s.mu.Unlock()
		lc.restJSON(http.StatusOK, phpJSON(id))
		return
	case len(segs) >= 2 && segs[0] == "guest-carts":
		rc.guestID, segs = segs[1], segs[2:]
	case len(segs) >= 2 && segs[0] == "carts" && segs[1] == "mine":
		rc.mine, segs = true, segs[2:]
		if lc.req.isCustomer() {
			break
		}
		lc.restError(http.StatusUnauthorized, msgNotAuthorized, jObj{{"resources", "self"}})
		return
	default:
		lc.restError(http.StatusNotFound, msgNoRoute, nil)
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	}
	s.routeCartREST(rc, r.Method, segs)
}

// restSegments splits the escaped path after /rest/ and decodes each segment, so a coupon
// code may contain an escaped slash.
func restSegments(r *http.Request) ([]string, bool) {
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/index.php")
	p = strings.TrimPrefix(p, "/rest/")
	raw := strings.Split(strings.TrimSuffix(p, "/"), "/")
	out := make([]string, len(raw))
	for i, seg := range raw {
		v, err := url.PathUnescape(seg)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// routeCartREST dispatches the routes under a cart.
func (s *Store) routeCartREST(rc *restCall, method string, segs []string) {
	route := strings.Join(segs, "/")
	if len(segs) == 2 && segs[0] == "coupons" {
		route = "coupons/{code}"
	}
	type key struct{ method, route string }
	handlers := map[key]func(*restCall){
		{http.MethodGet, ""}:                           s.restGetCart,
		{http.MethodGet, "items"}:                      s.restItems,
		{http.MethodGet, "totals"}:                     s.restTotals,
		{http.MethodPost, "totals-information"}:        s.restTotalsInformation,
		{http.MethodGet, "coupons"}:                    s.restGetCoupon,
		{http.MethodDelete, "coupons"}:                 s.restDeleteCoupon,
		{http.MethodPut, "coupons/{code}"}:             func(rc *restCall) { s.restPutCoupon(rc, segs[1]) },
		{http.MethodPost, "estimate-shipping-methods"}: s.restEstimateShipping,
		{http.MethodPost, "shipping-information"}:      s.restShippingInformation,
		{http.MethodGet, "payment-information"}:        s.restGetPaymentInformation,
		{http.MethodPost, "payment-information"}:       func(rc *restCall) { s.restPaymentInformation(rc, true) },
		{http.MethodPost, "set-payment-information"}:   func(rc *restCall) { s.restPaymentInformation(rc, false) },
		{http.MethodGet, "payment-methods"}:            s.restPaymentMethods,
		{http.MethodPut, "order"}:                      s.restPutOrder,
		{http.MethodPost, "order"}:                     s.restPutOrder,
	}
	h, ok := handlers[key{method, route}]
	if !ok {
		h = s.restNoRoute
	}
	h(rc)
}

func (s *Store) restNoRoute(rc *restCall) { rc.restError(http.StatusNotFound, msgNoRoute, nil) }

// cartLocked finds the route's active cart: a guest cart by masked id, or the customer's
// active cart. s.mu must be held.
func (s *Store) cartLocked(rc *restCall) (*cart, *restFailure) {
	if rc.mine {
		if c := s.activeCustomerCartLocked(); c != nil {
			return c, nil
		}
		return nil, &restFailure{http.StatusNotFound, msgNoActiveCart, nil}
	}
	c, ok := s.carts[rc.guestID]
	if !ok || c.customerID != 0 {
		return nil, noSuchCart(nil)
	}
	if !c.active {
		return nil, noSuchCart(strconv.Itoa(c.quoteID))
	}
	return c, nil
}

// withCart runs fn on the route's cart under the store lock; fn may change the cart (it is
// then marked changed) and returns the answer or a failure.
func (s *Store) withCart(rc *restCall, change bool, fn func(c *cart) ([]byte, *restFailure)) {
	s.mu.Lock()
	c, fail := s.cartLocked(rc)
	var body []byte
	if fail == nil {
		body, fail = fn(c)
		if change {
			s.touchLocked(c)
		}
	}
	s.mu.Unlock()
	if fail != nil {
		fail.send(rc.lumaCall)
		return
	}
	rc.restJSON(http.StatusOK, body)
}

// quoteLocked collects the totals of a cart for the request. s.mu must be held.
func (s *Store) quoteLocked(rc *restCall, c *cart) (*lumaQuote, *restFailure) {
	q, err := s.quoteOf(rc.r.Context(), c.clone(), rc.req)
	if err != nil {
		return nil, &restFailure{http.StatusInternalServerError, "Internal Error. Details are available in Magento log file. Report ID: demostore", nil}
	}
	return q, nil
}

// quoteAnswer is the JSON of what fn reads from the cart's quote. s.mu must be held.
func (s *Store) quoteAnswer(rc *restCall, c *cart, fn func(*lumaQuote) any) ([]byte, *restFailure) {
	q, fail := s.quoteLocked(rc, c)
	if fail != nil {
		return nil, fail
	}
	return phpJSON(fn(q)), nil
}

// readJSONBody decodes the request body into v; an empty body leaves v alone.
func readJSONBody(r *http.Request, v any) *restFailure {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return &restFailure{http.StatusBadRequest, "Request body is too large.", nil}
	}
	if strings.TrimSpace(string(raw)) == "" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &restFailure{http.StatusBadRequest, "Decoding error: \nSyntax error\n", nil}
	}
	return nil
}

// restTotals is GET …/totals (fixtures 06, 12).
func (s *Store) restTotals(rc *restCall) {
	s.withCart(rc, false, func(c *cart) ([]byte, *restFailure) {
		return s.quoteAnswer(rc, c, func(q *lumaQuote) any { return q.restTotals(totalsGet) })
	})
}

// restItems is GET …/items (fixture 07): quote_id is the masked id on guest-carts.
func (s *Store) restItems(rc *restCall) {
	s.withCart(rc, false, func(c *cart) ([]byte, *restFailure) {
		quoteID := strconv.Itoa(c.quoteID)
		if !rc.mine {
			quoteID = c.maskedID
		}
		return phpJSON(restCartItems(c, quoteID)), nil
	})
}

// restCartItems are CartItemInterface entries.
func restCartItems(c *cart, quoteID string) []any {
	items := make([]any, len(c.items))
	for i, it := range c.items {
		items[i] = jObj{
			{"item_id", it.id}, {"sku", it.priced().sku}, {"qty", num(it.qty)}, {"name", itemName(it)},
			{"price", num(it.priced().price)}, {"product_type", string(it.product.typ)}, {"quote_id", quoteID},
		}
	}
	return items
}

// restGetCart is GET guest-carts/<id> and carts/mine: CartInterface.
func (s *Store) restGetCart(rc *restCall) {
	s.withCart(rc, false, func(c *cart) ([]byte, *restFailure) {
		customer := jObj{{"email", nil}, {"firstname", nil}, {"lastname", nil}}
		if c.customerID != 0 {
			customer = jObj{{"id", c.customerID}, {"group_id", 1}, {"email", demoCustomerEmail},
				{"firstname", demoCustomerFirstname}, {"lastname", demoCustomerLastname}, {"store_id", 1}, {"website_id", 1}}
		}
		o := jObj{
			{"id", c.quoteID},
			{"created_at", quoteTime(c.createdAt)},
			{"updated_at", quoteTime(c.updatedAt)},
			{"is_active", c.active},
			{"is_virtual", c.isVirtual()},
			{"items", restCartItems(c, strconv.Itoa(c.quoteID))},
			{"items_count", len(c.items)},
			{"items_qty", num(c.totalQty())},
			{"customer", customer},
		}
		if c.billing != nil {
			o.set("billing_address", restAddress(c.billing, c.email))
		}
		o = append(o, jObj{
			{"orig_order_id", 0},
			{"currency", jObj{{"global_currency_code", currencyUSD}, {"base_currency_code", currencyUSD},
				{"store_currency_code", currencyUSD}, {"quote_currency_code", currencyUSD},
				{"store_to_base_rate", 0}, {"store_to_quote_rate", 0}, {"base_to_global_rate", 1}, {"base_to_quote_rate", 1}}},
			{"customer_is_guest", c.customerID == 0},
			{"customer_note_notify", true},
			{"customer_tax_class_id", 3},
			{"store_id", 1},
		}...)
		return phpJSON(o), nil
	})
}

// restGetCoupon is GET …/coupons (fixture 13): the code as a JSON string; null without one
// (CouponManagement::get returns the quote's coupon_code, which is null then).
func (s *Store) restGetCoupon(rc *restCall) {
	s.withCart(rc, false, func(c *cart) ([]byte, *restFailure) {
		if len(c.coupons) == 0 {
			return []byte("null"), nil
		}
		return phpJSON(c.coupons[0]), nil
	})
}

// restPutCoupon is PUT …/coupons/<code> (CouponManagement::set): the code replaces the
// quote's coupon; one that does not apply leaves the quote without a coupon (Magento saves
// the quote before it checks) and answers 404 "The coupon code isn't valid…" (fixture 14;
// fixtures 15-17 show the earlier coupon gone). true on success.
func (s *Store) restPutCoupon(rc *restCall, code string) {
	code = phpTrim(code)
	s.withCart(rc, true, func(c *cart) ([]byte, *restFailure) {
		if len(c.items) == 0 {
			return nil, &restFailure{http.StatusNotFound, msgCartNoProducts, []any{strconv.Itoa(c.quoteID)}}
		}
		c.coupons = nil
		if code == "" {
			return []byte("true"), nil
		}
		if canonical, ok := s.coupons.lookup(code); ok {
			if applied, _ := s.setCouponIfAppliesLocked(rc.r.Context(), c, rc.req, canonical); applied {
				return []byte("true"), nil
			}
		}
		return nil, &restFailure{http.StatusNotFound, msgCouponInvalid, nil}
	})
}

// restDeleteCoupon is DELETE …/coupons: true.
func (s *Store) restDeleteCoupon(rc *restCall) {
	s.withCart(rc, true, func(c *cart) ([]byte, *restFailure) {
		if len(c.items) == 0 {
			return nil, &restFailure{http.StatusNotFound, msgCartNoProducts, []any{strconv.Itoa(c.quoteID)}}
		}
		c.coupons = nil
		return []byte("true"), nil
	})
}

// restPaymentMethods is GET …/payment-methods.
func (s *Store) restPaymentMethods(rc *restCall) {
	s.withCart(rc, false, func(c *cart) ([]byte, *restFailure) {
		return s.quoteAnswer(rc, c, func(q *lumaQuote) any { return restPaymentMethodList(q) })
	})
}

// restPaymentMethodList lists the available payment methods: {code, title}.
func restPaymentMethodList(q *lumaQuote) []any {
	var out []any
	for _, m := range availablePayments(q.t) {
		out = append(out, jObj{{"code", m.Code}, {"title", m.Title}})
	}
	return out
}
