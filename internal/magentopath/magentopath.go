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
}

// Kind says which route a path reaches.
type Kind uint8

// Route kinds.
const (
	Other      Kind = iota
	GraphQL         // the GraphQL area: /graphql and anything under it
	RESTCart        // REST under /V1/carts/ or /V1/guest-carts/
	CouponPost      // Luma's coupon form: /checkout/cart/couponPost
)

// Match returns the route the raw (still escaped) request path reaches.
func Match(rawPath string) Route {
	segs := segments(rawPath)
	if len(segs) == 0 {
		return Route{}
	}
	// An optional store code before the area (Add Store Code to Urls).
	for _, skip := range []int{0, 1} {
		if len(segs) <= skip {
			break
		}
		s := segs[skip:]
		switch s[0] {
		case "graphql":
			return Route{Kind: GraphQL}
		case "rest":
			if r, ok := matchREST(s[1:]); ok {
				return r
			}
		case "checkout":
			if len(s) >= 3 && s[1] == "cart" && s[2] == "couponpost" {
				return Route{Kind: CouponPost, Params: params(s[3:])}
			}
		}
	}
	return Route{}
}

// matchREST reads segs after "rest": [store/]V1/carts|guest-carts/….
func matchREST(segs []string) (Route, bool) {
	for _, skip := range []int{0, 1} {
		if len(segs) < skip+2 || segs[skip] != "v1" {
			continue
		}
		s := segs[skip+1:]
		if s[0] != "carts" && s[0] != "guest-carts" {
			return Route{}, false
		}
		r := Route{Kind: RESTCart}
		// …/carts/{id|mine}/coupons/{code}
		if len(s) >= 4 && s[2] == "coupons" {
			r.Coupon = strings.Join(s[3:], "/")
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

// segments folds every spelling of a path into its lower-case segments.
func segments(rawPath string) []string {
	p := phpread.RawURLDecode(phpread.RawURLDecode(rawPath))
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p = strings.ToLower(strings.ReplaceAll(p, "\\", "/"))
	p = path.Clean("/" + p)
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) > 0 && (segs[0] == "index.php" || segs[0] == "") {
		segs = segs[1:]
	}
	return segs
}
