// Command demostore runs the Magento-compatible demo GraphQL backend used by `make run`, the
// end-to-end tests and the benchmarks.
//
//	demostore [-listen 127.0.0.1:9080] [-audience-rules rules.json] [-coupon-rules coupons.json]
//	          [-multi-coupon N] [-coupon-uses CODE=N[,CODE=N]] [-coupon-pool RULEID=FILE[,RULEID=FILE]]
//	          [-tax-calculation total|row|unit] [-edition commerce|open-source] [-luma-csp hash|nonce]
//
// With -audience-rules the store applies that audience rule file itself, from the
// X-Audience-Segments request header, inside its own totals and after its own coupon rules: a
// reference to check the sidecar's rewritten responses against.
//
// -coupon-rules adds the store's own coupon rules (the same rule format, every rule with a
// "coupon") to the built-in WELCOME10; the store then behaves like Magento for those coupons.
// -multi-coupon sets Adobe Commerce's maximum number of coupons per order (default 1, a single
// slot). -coupon-uses limits how many placed orders may use a code. -coupon-pool (repeatable)
// gives a coupon rule the codes of FILE (one a line, # comments), each usable by one order,
// like Magento's auto-generated codes.
//
// -tax-calculation is Magento's tax calculation method (tax/calculation/algorithm): total
// (TOTAL_BASE_CALCULATION, Magento's default), row or unit base. -edition commerce (the
// default) answers with Adobe Commerce's schema; open-source as Magento Open Source 2.4.7,
// without gift cards, gift options, applyCouponsToCart/removeCouponsFromCart,
// CartPrices.grand_total_excluding_tax and dynamicBlocks.
//
// Products answer related_products, upsell_products and crosssell_products from the catalog's
// links (by position, products not visible individually left out); cmsBlocks answers five CMS
// blocks (home-hero, vip-hero, footer-links, spring-sale, and winter-sale, disabled), and on
// Adobe Commerce dynamicBlocks five dynamic blocks (uids MQ== to NQ==, the last disabled).
//
// Besides /graphql the store serves a Luma storefront shaped like Magento Open Source 2.4.7's:
// PHPSESSID sessions with a form key, product pages, AJAX add to cart, the mini cart
// (customer/section/load), the cart page with its discount form (checkout/cart/couponPost),
// the checkout page with window.checkoutConfig, sign-in for the demo customer
// (roni_cost@example.com / roni_cost3@example.com) and the REST cart API of Luma's checkout
// (/rest/V1/guest-carts/<masked id>/… and /rest/V1/carts/mine/…). -luma-csp hash (the
// default) makes the checkout page's enforcing Content-Security-Policy list the sha256 hash
// of each inline script; nonce gives the scripts a nonce, as the recorded 2.4.7-p3 store does.
//
// Test knobs: POST /demo/clock?at=<RFC 3339> sets the store's clock (coupon rule dates, order
// dates), DELETE /demo/clock restores it; GET /demo/orders lists the placed orders with what
// each charged; GET /demo/coupons every code with the carts it was applied to and the orders
// that used it.
//
// It logs "demostore: listening on ADDR" once it accepts connections (with -listen
// 127.0.0.1:0 the kernel picks the port and ADDR shows it) and stops gracefully on SIGINT or
// SIGTERM.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/caddy-audiences/caddy-audiences/internal/demostore"
	"github.com/caddy-audiences/caddy-audiences/internal/servecmd"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// config is the command line.
type config struct {
	listen        string
	audienceRules string
	couponRules   string
	multiCoupon   int
	couponUses    string
	couponPools   []string // RULEID=FILE
	taxCalc       string
	edition       string
	lumaCSP       string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.listen, "listen", "127.0.0.1:9080", "address to serve /graphql on")
	flag.StringVar(&cfg.audienceRules, "audience-rules", "", "apply this audience rule file inside the store's own totals")
	flag.StringVar(&cfg.couponRules, "coupon-rules", "", "the store's own coupon rules (rule format, every rule with a coupon), besides WELCOME10")
	flag.IntVar(&cfg.multiCoupon, "multi-coupon", 1, "maximum number of coupons per cart (1: a single coupon slot)")
	flag.StringVar(&cfg.couponUses, "coupon-uses", "", "usage limits: CODE=N[,CODE=N], how many placed orders may use each code")
	flag.StringVar(&cfg.taxCalc, "tax-calculation", "total", "tax calculation method: total, row or unit (Magento's tax/calculation/algorithm)")
	flag.StringVar(&cfg.edition, "edition", "commerce", "the Magento edition to answer as: commerce or open-source")
	flag.StringVar(&cfg.lumaCSP, "luma-csp", "hash", "how the Luma checkout page's CSP allows its inline scripts: hash or nonce")
	flag.Func("coupon-pool", "single-use codes of a coupon rule: RULEID=FILE[,RULEID=FILE] (repeatable)", func(v string) error {
		cfg.couponPools = append(cfg.couponPools, strings.Split(v, ",")...)
		return nil
	})
	flag.Parse()
	log.SetFlags(0)
	if err := run(cfg); err != nil {
		log.Fatalf("demostore: %v", err)
	}
}

// options turns the command line into store options.
func (cfg config) options() (demostore.Options, error) {
	opts := demostore.Options{MaxCoupons: cfg.multiCoupon}
	if cfg.multiCoupon < 1 {
		return opts, fmt.Errorf("-multi-coupon must be at least 1, got %d", cfg.multiCoupon)
	}
	var err error
	if opts.TaxCalculation, err = rules.ParseTaxCalculation(cfg.taxCalc); err != nil {
		return opts, fmt.Errorf("-tax-calculation: %w", err)
	}
	if opts.Edition, err = demostore.ParseEdition(cfg.edition); err != nil {
		return opts, fmt.Errorf("-edition: %w", err)
	}
	if opts.LumaCSP, err = demostore.ParseLumaCSP(cfg.lumaCSP); err != nil {
		return opts, fmt.Errorf("-luma-csp: %w", err)
	}
	if cfg.audienceRules != "" {
		rs, err := rules.LoadFile(cfg.audienceRules)
		if err != nil {
			return opts, fmt.Errorf("audience rules: %w", err)
		}
		opts.AudienceRules = demostore.RuleDiscounter{RuleSet: rs}
	}
	if cfg.couponRules != "" {
		rs, err := demostore.LoadCouponRules(cfg.couponRules)
		if err != nil {
			return opts, fmt.Errorf("coupon rules: %w", err)
		}
		opts.CouponRules = rs
	}
	uses, err := parseCouponUses(cfg.couponUses)
	if err != nil {
		return opts, err
	}
	opts.CouponUses = uses
	if opts.CouponPools, err = loadCouponPools(cfg.couponPools); err != nil {
		return opts, err
	}
	return opts, opts.Validate()
}

// loadCouponPools reads the -coupon-pool files: RULEID=FILE, one code a line, blank lines
// and lines starting with # skipped.
func loadCouponPools(specs []string) (map[string][]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	pools := map[string][]string{}
	for _, spec := range specs {
		id, path, ok := strings.Cut(strings.TrimSpace(spec), "=")
		if !ok || strings.TrimSpace(id) == "" || strings.TrimSpace(path) == "" {
			return nil, fmt.Errorf("-coupon-pool: %q is not RULEID=FILE", spec)
		}
		raw, err := os.ReadFile(strings.TrimSpace(path))
		if err != nil {
			return nil, fmt.Errorf("-coupon-pool: %w", err)
		}
		id = strings.TrimSpace(id)
		for _, line := range strings.Split(string(raw), "\n") {
			if code := strings.TrimSpace(line); code != "" && !strings.HasPrefix(code, "#") {
				pools[id] = append(pools[id], code)
			}
		}
	}
	return pools, nil
}

// parseCouponUses reads CODE=N[,CODE=N].
func parseCouponUses(s string) (map[string]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	uses := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		code, n, ok := strings.Cut(strings.TrimSpace(part), "=")
		code = strings.TrimSpace(code)
		limit, err := strconv.Atoi(strings.TrimSpace(n))
		if !ok || code == "" || err != nil || limit < 0 {
			return nil, fmt.Errorf("-coupon-uses: %q is not CODE=N with N >= 0", part)
		}
		uses[code] = limit
	}
	return uses, nil
}

func run(cfg config) error {
	opts, err := cfg.options()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	opts.BaseURL = baseURL(ln.Addr())
	return servecmd.Run("demostore", ln, demostore.New(opts))
}

// baseURL is the store's public URL as seen on the listening address.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
