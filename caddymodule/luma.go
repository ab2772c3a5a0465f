package caddymodule

import (
	"maps"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/holdback"
	"github.com/caddy-audiences/caddy-audiences/internal/luma"
	"github.com/caddy-audiences/caddy-audiences/internal/magentopath"
)

// sessionCookie is the PHP session cookie that holds a Luma shopper's quote.
const sessionCookie = "PHPSESSID"

// lumaSession is the gate's session for a Luma cart, reached over the REST routes Luma's own
// checkout uses: a guest's cart by its masked id, a signed-in customer's through the session.
func (h *Handler) lumaSession(job *rewriteJob, r *http.Request, next caddyhttp.Handler, store string, mine bool) *gate.Session {
	return h.gateSession(job, gate.REST{Doer: h.upstream(r, next), Store: store, Mine: mine})
}

// lumaCartKey is what a Luma cart is known by to the gate (its locks and pool codes): the
// masked id of a guest cart, the PHP session of a customer's; "" when there is none.
func lumaCartKey(r *http.Request, cartID string, mine bool) string {
	if !mine {
		return cartID
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return "session:" + c.Value
	}
	return ""
}

// lumaBefore brings a Luma REST cart in line before Magento answers: before an order is
// placed (refused, in REST's format, when it cannot be) and before a route that shows the
// cart's prices. It reports false when it answered.
func (h *Handler) lumaBefore(w http.ResponseWriter, r *http.Request, job *rewriteJob) bool {
	if job.gate == nil { // a cart or checkout page: brought in line when its answer is read
		return true
	}
	rt := job.op.luma
	key := lumaCartKey(r, rt.CartID, rt.Mine)
	if key == "" {
		return true
	}
	h.pinLumaCart(job, key)
	switch {
	case placesOrder(rt, r.Method):
		if err := job.gate.CheckOrder([]string{key}); err != nil {
			h.logger.Warn("order refused: the gate coupon could not be brought in line", zap.Error(err))
			gate.WriteRESTError(w, http.StatusBadRequest, msgOrderRefused)
			return false
		}
	case showsPrices(rt, r.Method):
		if _, err := job.gate.SyncIfNeeded(key); err != nil {
			h.logger.Warn("gate coupon not brought in line; the cart shows Magento's own price", zap.Error(err))
		}
	}
	return true
}

// pinLumaCart prices a Luma cart only for the ECID first seen with it, as checkPins does
// for GraphQL carts.
func (h *Handler) pinLumaCart(job *rewriteJob, key string) {
	if h.pinsApply(job) && !h.pins.Allow(key, job.ecid) {
		revokeForPin(job)
	}
}

// placesOrder reports the REST routes that place an order.
func placesOrder(rt *magentopath.Route, method string) bool {
	switch rt.Action {
	case "payment-information":
		return method == http.MethodPost
	case "order":
		return method == http.MethodPut || method == http.MethodPost
	}
	return false
}

// showsPrices reports the REST routes whose answers show the cart's prices or coupon.
func showsPrices(rt *magentopath.Route, method string) bool {
	switch rt.Action {
	case "", "totals", "payment-information", "coupons":
		return method == http.MethodGet
	case "totals-information", "shipping-information":
		return method == http.MethodPost
	}
	return false
}

// lumaAnswer brings a held Luma answer in line and hides the gate's codes: a cart or
// checkout page is read for its cart, which is synced and the page rendered again when that
// changed it; then the page, or a REST answer, is cleaned and its cookies too.
func (h *Handler) lumaAnswer(bw *holdback.Writer, r *http.Request, next caddyhttp.Handler, job *rewriteJob, body []byte) []byte {
	rt, g := job.op.luma, job.op.gates
	scrub := luma.Scrubber{IsGate: g.Codes().Has, Label: g.Label, Secrets: g.Secrets()}
	defer scrub.Cookies(bw.Header())
	if rt.Kind == magentopath.RESTCart {
		return scrub.JSON(body)
	}
	if page, ok := luma.ReadPage(body); ok {
		if key := lumaCartKey(r, page.CartID, page.Customer); key != "" {
			h.pinLumaCart(job, key)
			sess := h.lumaSession(job, r, next, page.Store, page.Customer)
			changed, err := sess.SyncIfNeeded(key)
			if err != nil {
				h.logger.Warn("gate coupon not brought in line; the page shows Magento's own price", zap.Error(err))
			}
			if changed {
				body = h.renderAgain(bw, r, next, body)
			}
		}
	}
	return scrub.Page(body, bw.Header())
}

// renderAgain asks Magento for the page once more, now that its cart changed; on failure
// the first rendering is kept.
func (h *Handler) renderAgain(bw *holdback.Writer, r *http.Request, next caddyhttp.Handler, body []byte) []byte {
	a, err := h.upstream(r, next).again()
	if err != nil || a.status < 200 || a.status > 299 {
		h.logger.Warn("page not rendered again after the gate changed its cart", zap.Error(err))
		return body
	}
	clear(bw.Header())
	maps.Copy(bw.Header(), a.header)
	return a.body
}
