// Package magentopath recognizes which Magento route a request path reaches. Magento finds
// its area from the first path segment after an optional /index.php and store code, decodes
// percent escapes, and web servers in front of it clean "." and ".." segments; the coupon
// gate must recognize a route however it is spelled, so every spelling is folded here:
// decoded (twice), lower-cased, slashes collapsed, dot segments resolved.
package magentopath

import (
	"path"
	"strings"

	"github.com/caddy-audiences/caddy-audiences/internal/phpread"
)

// Route is what a path reaches.
type Route struct {
	// Kind is one of the constants below.
	Kind Kind
	// Coupon is the coupon code in a REST coupon path (PUT …/coupons/{code}), decoded.
	Coupon string
	// Params are the key/value segments after an action path, as Magento's router reads
	// them (/checkout/cart/couponPost/coupon_code/X).
	Params map[string]string
	// For RESTCart: the store code of the path ("" for the default), the guest cart's masked
	// id or Mine for the session customer's cart (/V1/carts/mine), and the action after the
	// cart ("" for the cart itself, "totals", "payment-information", "coupons", …).
	Store  string
	CartID string
	Mine   bool
	Action string
}

// Kind says which route a path reaches.
type Kind uint8

// Route kinds.
const (
	Other        Kind = iota
	GraphQL           // the GraphQL area: /graphql and anything under it
	RESTCart          // REST under /V1/carts/ or /V1/guest-carts/
	CouponPost        // Luma's coupon form: /checkout/cart/couponPost
	CartPage          // Luma's cart page: /checkout/cart/
	CheckoutPage      // Luma's checkout page: /checkout/
)

// Match returns the route the raw (still escaped) request path reaches.
func Match(rawPath string) Route {
	segs, orig := segments(rawPath)
	if len(segs) == 0 {
		return Route{}
	}
	// An optional store code before the area (Add Store Code to Urls).
	for _, skip := range []int{0, 1} {
		if len(segs) <= skip {
			break
		}
		s, o := segs[skip:], orig[skip:]
		switch s[0] {
		case "graphql":
			return Route{Kind: GraphQL}
		case "rest":
			if r, ok := matchREST(s[1:], o[1:]); ok {
				return r
			}
		case "checkout":
			if r, ok := matchCheckout(s[1:]); ok {
				return r
			}
		}
	}
	return Route{}
}

// matchCheckout reads segs after "checkout": the cart page, the checkout page, the coupon
// form.
func matchCheckout(segs []string) (Route, bool) {
	switch {
	case len(segs) >= 2 && segs[0] == "cart" && segs[1] == "couponpost":
		return Route{Kind: CouponPost, Params: params(segs[2:])}, true
	case len(segs) == 0, len(segs) <= 2 && segs[0] == "index" && (len(segs) == 1 || segs[1] == "index"):
		return Route{Kind: CheckoutPage}, true
	case segs[0] == "cart" && (len(segs) == 1 || len(segs) == 2 && segs[1] == "index"):
		return Route{Kind: CartPage}, true
	}
	return Route{}, false
}

// matchREST reads segs after "rest": [store/]V1/carts|guest-carts/…; orig holds the same
// segments with their case.
func matchREST(segs, orig []string) (Route, bool) {
	for _, skip := range []int{0, 1} {
		if len(segs) < skip+2 || segs[skip] != "v1" {
			continue
		}
		s, o := segs[skip+1:], orig[skip+1:]
		if s[0] != "carts" && s[0] != "guest-carts" {
			return Route{}, false
		}
		r := Route{Kind: RESTCart}
		if skip == 1 && segs[0] != "all" {
			r.Store = orig[0]
		}
		if len(s) >= 2 {
			r.Mine = s[0] == "carts" && s[1] == "mine"
			if s[0] == "guest-carts" {
				r.CartID = o[1]
			}
		}
		if len(s) >= 3 {
			r.Action = s[2]
		}
		// …/carts/{id|mine}/coupons/{code}
		if len(s) >= 4 && s[2] == "coupons" {
			r.Coupon = strings.Join(o[3:], "/")
		}
		return r, true
	}
	return Route{}, false
}

// params reads Magento's key/value path parameters.
func params(segs []string) map[string]string {
	if len(segs) < 2 {
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(segs); i += 2 {
		out[segs[i]] = segs[i+1]
	}
	return out
}

// segments folds every spelling of a path into its lower-case segments, and returns the
// same segments with their case.
func segments(rawPath string) (folded, orig []string) {
	p := phpread.RawURLDecode(phpread.RawURLDecode(rawPath))
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p = path.Clean("/" + strings.ReplaceAll(p, "\\", "/"))
	orig = strings.Split(strings.Trim(p, "/"), "/")
	if len(orig) > 0 && (strings.EqualFold(orig[0], "index.php") || orig[0] == "") {
		orig = orig[1:]
	}
	folded = make([]string, len(orig))
	for i, s := range orig {
		folded[i] = strings.ToLower(s)
	}
	return folded, orig
}
