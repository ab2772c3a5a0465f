// Package demostore is a Magento 2 (Adobe Commerce 2.4.7) compatible GraphQL backend used as a
// test double by `make run`, the end-to-end tests and the benchmarks. It executes real GraphQL
// (graph-gophers/graphql-go) against a schema whose names, types and error messages follow
// Magento's QuoteGraphQl, and computes cart totals from scratch the way Magento does: the
// store's coupon rules (WELCOME10 and an optional rule file) with Magento's coupon semantics,
// an optional extra discount source, flat-rate shipping and tax after discount. Placed orders
// keep what was charged (placeOrder.orderV2, customer.orders, guestOrder).
//
// It also serves a Luma storefront shaped like Magento Open Source 2.4.7-p3's recordings
// (luma_*.go): PHP sessions, the cart and checkout pages with window.checkoutConfig, the
// discount form, and the REST cart API of Luma's checkout, over the same carts and totals.
//
// It is never imported by the sidecar.
package demostore

import (
	_ "embed"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/caddy-audiences/caddy-audiences/rules"
)

//go:embed schema.graphql
var schemaSDL string

//go:embed schema_banner.graphql
var bannerSchemaSDL string

// Options configures a Store.
type Options struct {
	// AudienceRules is an optional extra discount source applied after the store's own coupon
	// rules (see Discounter). Nil means none.
	AudienceRules Discounter
	// CouponRules are the store's own coupon rules (Magento cart price rules of type "Specific
	// coupon"), evaluated at the store's coupon step together with the built-in WELCOME10
	// (10%, "Welcome 10%"), before AudienceRules. Every rule must name a coupon (Validate and
	// LoadCouponRules check); a rule for WELCOME10 replaces the built-in one. Nil means only
	// WELCOME10.
	CouponRules *rules.RuleSet
	// MaxCoupons is Adobe Commerce's "Maximum number of coupons per order"
	// (sales/multicoupon/maximum_number_of_coupons_per_order). Values below 1 mean 1: a single
	// coupon slot.
	MaxCoupons int
	// CouponUses limits how many placed orders may use a coupon code ("Uses per Coupon"), by
	// code (case-insensitive). Codes not listed are unlimited.
	CouponUses map[string]int
	// CouponPools gives coupon rules more codes, by rule id: Magento's auto-generated codes of
	// a rule, each usable by one placed order ("Uses per Coupon" 1). Applying a pool code works
	// like applying the rule's coupon.
	CouponPools map[string][]string
	// TaxCalculation is the store's tax calculation method (Magento's
	// tax/calculation/algorithm): total (the default), row or unit base.
	TaxCalculation rules.TaxCalculation
	// Edition is the Magento edition the store answers as: EditionCommerce (the default,
	// Adobe Commerce) or EditionOpenSource, whose schema lacks Adobe Commerce's fields.
	Edition Edition
	// LumaCSP is how the Luma checkout page's enforcing Content-Security-Policy allows its
	// inline scripts: LumaCSPHash (the default) or LumaCSPNonce.
	LumaCSP LumaCSP
	// BaseURL is the store's public base URL, used in storeConfig and media URLs.
	// Default "http://127.0.0.1:9080/".
	BaseURL string
	// Now returns the current time (order dates, coupon rule dates). Default time.Now. The
	// test endpoint POST /demo/clock shifts the store's clock from it.
	Now func() time.Time
}

// Validate reports options that cannot work: a coupon rule without a coupon or enforced, or a
// usage limit for an unknown code or below 0.
func (o Options) Validate() error {
	if _, err := rules.ParseTaxCalculation(string(o.TaxCalculation)); err != nil {
		return err
	}
	if err := o.Edition.check(o.MaxCoupons); err != nil {
		return err
	}
	if _, err := ParseLumaCSP(string(o.LumaCSP)); err != nil {
		return err
	}
	if o.CouponRules != nil {
		if err := checkCouponRules(o.CouponRules); err != nil {
			return err
		}
	}
	book := newCouponBook(o.CouponRules, nil, nil)
	for id, codes := range o.CouponPools {
		if _, ok := book.byRule[id]; !ok {
			return fmt.Errorf("coupon pool: unknown coupon rule %q", id)
		}
		for _, code := range codes {
			if _, ok := book.lookup(code); ok || strings.TrimSpace(code) == "" {
				return fmt.Errorf("coupon pool of %q: code %q is empty or already a coupon", id, code)
			}
			book.pool[strings.ToUpper(code)] = poolCode{code: code, rule: id}
		}
	}
	for code, n := range o.CouponUses {
		if _, ok := book.lookup(code); !ok {
			return fmt.Errorf("coupon uses: unknown coupon code %q", code)
		}
		if n < 0 {
			return fmt.Errorf("coupon uses: %q: uses must not be negative, got %d", code, n)
		}
	}
	return nil
}

// The one demo customer, authenticated with "Authorization: Bearer demo-customer".
const (
	demoCustomerToken = "demo-customer"
	demoCustomerID    = 1
	demoCustomerEmail = "roni_cost@example.com"
)

// Store is the demo backend: an http.Handler serving /graphql and the Luma storefront. It
// keeps carts, orders and Luma sessions in memory and is safe for concurrent requests.
type Store struct {
	opts    Options
	schema  *graphql.Schema
	catalog *catalog

	coupons      *couponBook
	clockOffset  atomic.Int64 // nanoseconds added to Options.Now by POST /demo/clock
	beforeCommit func()       // test hook: runs between the two phases of placeOrder

	mu           sync.Mutex
	luma         lumaSessions     // Luma's PHP sessions
	carts        map[string]*cart // by masked id
	customerCart string           // masked id of the demo customer's active cart, if any
	orders       []*order
	lastItemID   int
	lastQuoteID  int
}

// New returns a ready Store.
func New(opts Options) *Store {
	if opts.BaseURL == "" {
		opts.BaseURL = "http://127.0.0.1:9080/"
	}
	if !strings.HasSuffix(opts.BaseURL, "/") {
		opts.BaseURL += "/"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxCoupons < 1 {
		opts.MaxCoupons = 1
	}
	if opts.LumaCSP == "" {
		opts.LumaCSP = LumaCSPHash
	}
	s := &Store{
		opts:    opts,
		catalog: newCatalog(),
		coupons: newCouponBook(opts.CouponRules, opts.CouponUses, opts.CouponPools),
		carts:   map[string]*cart{},
	}
	s.schema = graphql.MustParseSchema(opts.Edition.schema(), &rootResolver{s: s}, graphql.UseFieldResolvers())
	return s
}

// ServeHTTP serves /graphql, the Luma storefront and its REST API (see serveLuma), and the
// test endpoints /demo/clock, /demo/orders and /demo/coupons; every other path is 404.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Demo-Received-Segments", r.Header.Get("X-Audience-Segments"))
	switch r.URL.Path {
	case "/graphql":
		s.serveGraphQL(w, r)
	case clockPath:
		s.serveClock(w, r)
	case ordersPath:
		s.serveOrders(w, r)
	case couponsPath:
		s.serveCoupons(w, r)
	default:
		if !s.serveLuma(w, r) {
			http.NotFound(w, r)
		}
	}
}

// Now returns the store's clock: Options.Now shifted by POST /demo/clock.
func (s *Store) Now() time.Time {
	return s.opts.Now().Add(time.Duration(s.clockOffset.Load()))
}

// maskedIDAlphabet is the alphabet of Magento's 32-character masked quote ids.
const maskedIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func newMaskedID() string { return randomString(maskedIDAlphabet, 32) }

// newCartLocked creates and registers an empty active cart. s.mu must be held.
func (s *Store) newCartLocked(maskedID string, customerID int) *cart {
	if maskedID == "" {
		maskedID = newMaskedID()
	}
	s.lastQuoteID++
	now := s.Now().UTC()
	c := &cart{maskedID: maskedID, quoteID: s.lastQuoteID, customerID: customerID, active: true, createdAt: now, updatedAt: now}
	if customerID == demoCustomerID {
		c.email = demoCustomerEmail
		s.customerCart = maskedID
	}
	s.carts[maskedID] = c
	return c
}

// customerCartLocked returns the demo customer's active cart, creating it when needed, as
// Magento's CustomerCartResolver does. s.mu must be held.
func (s *Store) customerCartLocked() *cart {
	if c := s.activeCustomerCartLocked(); c != nil {
		return c
	}
	return s.newCartLocked("", demoCustomerID)
}

// activeCustomerCartLocked returns the demo customer's active cart, nil when there is none.
// s.mu must be held.
func (s *Store) activeCustomerCartLocked() *cart {
	if c, ok := s.carts[s.customerCart]; ok && c.active {
		return c
	}
	return nil
}

// cartForUserLocked finds an active cart the requester may use, with Magento's
// GetCartForUser checks and messages. s.mu must be held.
func (s *Store) cartForUserLocked(maskedID string, req *requestInfo) (*cart, error) {
	if strings.TrimSpace(maskedID) == "" {
		return nil, missingParam("cart_id")
	}
	c, ok := s.carts[maskedID]
	if !ok {
		return nil, cartNotFound(maskedID)
	}
	if !c.active {
		return nil, noSuchEntity(msgCartNotActive)
	}
	if c.customerID != req.customerID() {
		return nil, cartForbidden(maskedID)
	}
	return c, nil
}

// readCart returns a snapshot of a cart for a query.
func (s *Store) readCart(maskedID string, req *requestInfo) (*cart, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.cartForUserLocked(maskedID, req)
	if err != nil {
		return nil, err
	}
	return c.clone(), nil
}

// updateCart runs fn on a cart under the store lock and returns a snapshot of the result.
func (s *Store) updateCart(maskedID string, req *requestInfo, fn func(c *cart) error) (*cart, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.cartForUserLocked(maskedID, req)
	if err != nil {
		return nil, err
	}
	err = fn(c)
	c.version++ // fn may have changed the cart even when it fails, as Magento saves before some errors
	c.updatedAt = s.Now().UTC()
	if err != nil {
		return nil, err
	}
	return c.clone(), nil
}

// nextItemIDLocked allocates a quote item id. s.mu must be held.
func (s *Store) nextItemIDLocked() int {
	s.lastItemID++
	return s.lastItemID
}

var _ http.Handler = (*Store)(nil)
