package demostore

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// lumaCall is one Luma request (storefront controller or REST call) in progress: the
// shopper's session, what the cart model needs to know about the request, and the cookies
// the answer carries.
type lumaCall struct {
	s    *Store
	w    http.ResponseWriter
	r    *http.Request
	sess *lumaSession
	req  *requestInfo
	now  time.Time
	// base is the store's base URL as the shopper reached it (scheme and Host header), so the
	// pages' links and redirects lead back through whatever proxy is in front.
	base   string
	domain string // cookie domain
	// frontend marks a storefront controller: its answers renew the form_key cookie.
	frontend bool
	// privateChanged marks a change of private content (cart, customer): a new
	// private_content_version cookie tells Luma to reload its customer data sections.
	privateChanged bool
	// outMessages go into the mage-messages cookie (an answer that redirects).
	outMessages []lumaMessage
}

// beginLuma finds or starts the request's session and describes the shopper to the cart
// model: the session's customer (or a bearer token) and the forwarded audience segments.
func (s *Store) beginLuma(w http.ResponseWriter, r *http.Request, frontend bool) *lumaCall {
	s.mu.Lock()
	sess := s.sessionLocked(r)
	customer := sess.customer
	s.mu.Unlock()
	req := newRequestInfo(r)
	if customer {
		req.token = demoCustomerToken
	}
	return &lumaCall{s: s, w: w, r: r, sess: sess, req: req, now: s.Now(), base: requestBaseURL(r, s.opts.BaseURL),
		domain: cookieDomain(r), frontend: frontend}
}

// requestBaseURL is the base URL the shopper used: the scheme (TLS or X-Forwarded-Proto) and
// the Host header; fallback when the request has no Host.
func requestBaseURL(r *http.Request, fallback string) string {
	if r.Host == "" {
		return fallback
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/"
}

// isSecure reports an HTTPS request, as Magento's isSecure does behind an offloader.
func (lc *lumaCall) isSecure() bool { return strings.HasPrefix(lc.base, "https:") }

// url is an absolute storefront URL for a path without leading slash.
func (lc *lumaCall) url(path string) string { return lc.base + path }

// sessionID reads the session's current id (it changes when regenerated).
func (lc *lumaCall) sessionID() string {
	lc.s.mu.Lock()
	defer lc.s.mu.Unlock()
	return lc.sess.id
}

// formKey reads the session's form key.
func (lc *lumaCall) formKey() string {
	lc.s.mu.Lock()
	defer lc.s.mu.Unlock()
	return lc.sess.formKey
}

// writeCookies sets the answer's cookies: the session (always, as PHP refreshes it), then
// private_content_version, form_key on storefront answers, and mage-messages.
func (lc *lumaCall) writeCookies() {
	h := lc.w.Header()
	h.Add("Set-Cookie", phpCookie(sessionCookieName, lc.sessionID(), lc.now, sessionLifetime, lc.domain, true, "Lax"))
	if lc.privateChanged {
		h.Add("Set-Cookie", phpCookie(versionCookieName, randomString("0123456789abcdef", 32), lc.now, versionLifetime, "", false, "Lax"))
	}
	if lc.frontend {
		h.Add("Set-Cookie", phpCookie(formKeyCookieName, lc.formKey(), lc.now, sessionLifetime, lc.domain, false, "Lax"))
	}
	if len(lc.outMessages) > 0 {
		h.Add("Set-Cookie", phpCookie(messagesCookieName, rawURLEncode(string(lc.messagesCookie())), lc.now, messageLifetime, "", false, "Strict"))
	}
}

// messagesCookie is the mage-messages value: the messages already in the cookie followed by
// the new ones, as Magento's MessagePlugin merges them.
func (lc *lumaCall) messagesCookie() []byte {
	var msgs []lumaMessage
	if c, err := lc.r.Cookie(messagesCookieName); err == nil {
		var old []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if raw, err := url.PathUnescape(c.Value); err == nil && json.Unmarshal([]byte(raw), &old) == nil {
			for _, m := range old {
				msgs = append(msgs, lumaMessage{m.Type, m.Text})
			}
		}
	}
	return phpJSON(messageList(append(msgs, lc.outMessages...)))
}

// messageList is messages as Luma reads them: [{"type": …, "text": …}, …].
func messageList(msgs []lumaMessage) []any {
	list := []any{}
	for _, m := range msgs {
		list = append(list, jObj{{"type", m.typ}, {"text", m.text}})
	}
	return list
}

// Cache and security headers of Magento's storefront answers, as recorded.
const (
	noStore     = "max-age=0, must-revalidate, no-cache, no-store"
	htmlType    = "text/html; charset=UTF-8"
	restExpires = "Thu, 19 Nov 1981 08:52:00 GMT" // PHP's session cache limiter
)

// answerKind is the family of headers a storefront answer gets.
type answerKind int

const (
	kindPage     answerKind = iota // an HTML page or a redirect (X-Magento-Tags: FPC)
	kindAJAX                       // the JSON answer of an AJAX controller (add to cart)
	kindSection                    // customer/section/load (expires in a day, FPC tag)
	kindCheckout                   // the checkout page: enforcing CSP, set by the page itself
)

// storefrontHeaders sets the headers of a storefront answer, then its cookies.
func (lc *lumaCall) storefrontHeaders(kind answerKind, contentType string) {
	h := lc.w.Header()
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", noStore)
	expires := lc.now.AddDate(-1, 0, 0)
	if kind == kindSection {
		expires = lc.now.AddDate(0, 0, 1)
	}
	h.Set("Expires", expires.UTC().Format(http.TimeFormat))
	if kind != kindAJAX {
		h.Set("X-Magento-Tags", "FPC")
	}
	if kind != kindCheckout {
		h.Set("Content-Security-Policy-Report-Only", reportOnlyPolicy())
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Xss-Protection", "1; mode=block")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", contentType)
	lc.writeCookies()
}

// html answers a storefront page.
func (lc *lumaCall) html(kind answerKind, body string) {
	lc.storefrontHeaders(kind, htmlType)
	lc.w.WriteHeader(http.StatusOK)
	_, _ = lc.w.Write([]byte(body))
}

// redirect answers 302 to an absolute URL, moving the session's messages into the
// mage-messages cookie (Magento does so for every answer that is not JSON and not a page).
func (lc *lumaCall) redirect(location string) {
	lc.outMessages = append(lc.outMessages, lc.takeMessages()...)
	lc.storefrontHeaders(kindPage, htmlType)
	lc.w.Header().Set("Location", location)
	lc.w.WriteHeader(http.StatusFound)
}

// takeMessages empties the session's message queue and returns what it held.
func (lc *lumaCall) takeMessages() []lumaMessage {
	lc.s.mu.Lock()
	defer lc.s.mu.Unlock()
	return lc.sess.takeMessages()
}

// refererOrBase is Magento's setRefererOrBaseUrl: the Referer when it is a URL of this
// store, else the base URL.
func (lc *lumaCall) refererOrBase() string { return lc.refererOr(lc.base) }

// refererOr is the Referer when it is a URL of this store, else fallback.
func (lc *lumaCall) refererOr(fallback string) string {
	if ref := lc.r.Referer(); ref != "" && strings.HasPrefix(ref, lc.base) {
		return ref
	}
	return fallback
}

// ajaxJSON answers an AJAX storefront controller with JSON.
func (lc *lumaCall) ajaxJSON(kind answerKind, body []byte) {
	lc.storefrontHeaders(kind, "application/json")
	lc.w.WriteHeader(http.StatusOK)
	_, _ = lc.w.Write(body)
}

// isAJAX is Magento's isAjax: the X-Requested-With header, or an isAjax/ajax parameter.
func isAJAX(r *http.Request) bool {
	return r.Header.Get("X-Requested-With") == "XMLHttpRequest" || r.FormValue("isAjax") != "" || r.FormValue("ajax") != ""
}

// validFormKeyPost checks a POST's form_key against the session's, as Magento's FormKey
// validator does.
func (lc *lumaCall) validFormKeyPost() bool {
	got := lc.r.PostFormValue("form_key")
	return got != "" && got == lc.formKey()
}

// lumaRoute is a storefront URL resolved the way Magento's standard router reads it:
// front name, controller, action (each "index" when absent, case-insensitive) and the
// key/value parameters that follow.
type lumaRoute struct {
	front, controller, action string
	params                    map[string]string
}

func (rt lumaRoute) is(front, controller, action string) bool {
	return rt.front == front && rt.controller == controller && rt.action == action
}

// parseLumaRoute reads a storefront path (without /index.php). A product URL "/<url key>.html"
// (or "/<sku>.html") becomes catalog/product/view with its id.
func (s *Store) parseLumaRoute(path string) (lumaRoute, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 1 && strings.HasSuffix(segs[0], ".html") {
		key := strings.TrimSuffix(segs[0], ".html")
		p, ok := s.catalog.byURLKey(key)
		if !ok {
			// The recorded store's url keys are the SKUs (/24-mb01.html): accept those too.
			if p, ok = s.catalog.lookup(key); !ok {
				return lumaRoute{}, false
			}
		}
		return lumaRoute{front: "catalog", controller: "product", action: "view", params: map[string]string{"id": strconv.Itoa(p.id)}}, true
	}
	rt := lumaRoute{front: "cms", controller: "index", action: "index", params: map[string]string{}}
	for i, seg := range segs {
		seg = strings.ToLower(seg)
		switch {
		case seg == "" && i == 0:
		case i == 0:
			rt.front = seg
		case i == 1:
			rt.controller = seg
		case i == 2:
			rt.action = seg
		case i%2 == 1 && i+1 < len(segs):
			rt.params[seg] = segs[i+1]
		}
	}
	return rt, true
}

// serveLuma answers the Luma storefront and its REST API; it reports false for a path that is
// neither, which the caller answers 404.
func (s *Store) serveLuma(w http.ResponseWriter, r *http.Request) bool {
	path := strings.TrimPrefix(r.URL.Path, "/index.php")
	if strings.HasPrefix(path, "/rest/") {
		s.serveREST(w, r)
		return true
	}
	rt, ok := s.parseLumaRoute(path)
	if !ok {
		return false
	}
	post := r.Method == http.MethodPost
	var handle func(*lumaCall)
	switch {
	case rt.is("cms", "index", "index"):
		handle = s.homePage
	case rt.is("catalog", "product", "view"):
		handle = func(lc *lumaCall) { s.productPage(lc, rt.params["id"]) }
	case rt.is("checkout", "cart", "add") && post:
		handle = func(lc *lumaCall) { s.addToCart(lc, rt.params["product"]) }
	case rt.is("checkout", "cart", "couponpost") && post:
		handle = s.couponPost
	case rt.is("checkout", "cart", "index"):
		handle = s.cartPage
	case rt.is("checkout", "index", "index"):
		handle = s.checkoutPage
	case rt.is("checkout", "onepage", "success"):
		handle = s.successPage
	case rt.is("customer", "section", "load"):
		handle = s.sectionLoad
	case rt.is("customer", "account", "login"):
		handle = s.loginPage
	case rt.is("customer", "account", "loginpost") && post:
		handle = s.loginPost
	case rt.is("customer", "account", "logout"):
		handle = s.logout
	case rt.is("customer", "account", "logoutsuccess"):
		handle = func(lc *lumaCall) { s.accountPage(lc, true) }
	case rt.is("customer", "account", "index"):
		handle = func(lc *lumaCall) { s.accountPage(lc, false) }
	default:
		return false
	}
	if post {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		_ = r.ParseForm()
	}
	handle(s.beginLuma(w, r, true))
	return true
}
