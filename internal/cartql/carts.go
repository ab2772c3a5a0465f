package cartql

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// defaultCartFields are Magento's cart entry points (QuoteGraphQl, SPEC §3): "Type.field" for a
// root field that returns a Cart, "Type.field.cart" for one whose output holds it.
var defaultCartFields = []string{
	"Query.cart",
	"Query.customerCart",
	"Mutation.mergeCarts",
	"Mutation.assignCustomerToGuestCart",
	"Mutation.addProductsToCart.cart",
	"Mutation.addSimpleProductsToCart.cart",
	"Mutation.addVirtualProductsToCart.cart",
	"Mutation.addConfigurableProductsToCart.cart",
	"Mutation.addBundleProductsToCart.cart",
	"Mutation.addDownloadableProductsToCart.cart",
	"Mutation.updateCartItems.cart",
	"Mutation.removeItemFromCart.cart",
	"Mutation.applyCouponToCart.cart",
	"Mutation.applyCouponsToCart.cart",
	"Mutation.removeCouponFromCart.cart",
	"Mutation.removeCouponsFromCart.cart",
	"Mutation.setShippingAddressesOnCart.cart",
	"Mutation.setBillingAddressOnCart.cart",
	"Mutation.setShippingMethodsOnCart.cart",
	"Mutation.setPaymentMethodOnCart.cart",
	"Mutation.setGuestEmailOnCart.cart",
	"Mutation.createGuestCart.cart",
	"Mutation.estimateTotals.cart",
	"Mutation.clearCart.cart",
}

// DefaultCartFields returns the built-in cart entry points, in the syntax of
// Options.CartFields.
func DefaultCartFields() []string { return append([]string(nil), defaultCartFields...) }

var graphQLName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

// entries maps "Query.field" / "Mutation.field" to the name of the output field that holds
// the Cart, or "" when the root field returns the Cart itself.
type entries map[string]string

func parseEntries(specs []string) (entries, error) {
	e := make(entries, len(specs))
	for _, spec := range specs {
		parts := strings.Split(spec, ".")
		if len(parts) < 2 || len(parts) > 3 || (parts[0] != "Query" && parts[0] != "Mutation") {
			return nil, fmt.Errorf("cart field %q: want Query.field, Mutation.field or Mutation.field.cart", spec)
		}
		for _, p := range parts[1:] {
			if !graphQLName.MatchString(p) {
				return nil, fmt.Errorf("cart field %q: %q is not a GraphQL name", spec, p)
			}
		}
		via := ""
		if len(parts) == 3 {
			via = parts[2]
		}
		e[parts[0]+"."+parts[1]] = via
	}
	return e, nil
}

// Site is a place in the response where the operation returns a Cart.
type Site struct {
	// Path is the response keys (client aliases) from "data" to the cart, e.g.
	// ["addProductsToCart", "cart"]. A key whose value is a list is walked element by element.
	Path []string
	// Field is the entry point, e.g. "Mutation.addProductsToCart.cart".
	Field string
}

// site is a Site with the occurrences of its cart field in the document.
type site struct {
	Site
	fields   []occ // the cart field per occurrence; nil once programs are compiled statically
	optional bool  // every occurrence is under @skip/@include: the key may be absent
	// hidden marks a cart the planner added under hiddenCartKey to a coupon mutation whose
	// client selected none; root is that mutation's field until the query is augmented.
	hidden bool
	root   *ast.Field
	// reads are the keys the rewrite reads the cart's facts under; pageUID maps "itemsV2
	// key.items key" to the key of the uid that matches a page's items to the complete list.
	reads   reads
	pageUID map[string]string
}

// hiddenCartFields are the mutations that get a hidden cart when the client selects none:
// the coupon gate must see the cart a shopper applies a coupon to.
var hiddenCartFields = []string{"applyCouponToCart", "applyCouponsToCart"}

// findSites returns the cart sites of the operation's root selection (roots, fragments
// expanded).
func findSites(col *collector, kind ast.Operation, roots []occ, e entries) []*site {
	root := "Query"
	switch kind {
	case ast.Mutation:
		root = "Mutation"
	case ast.Subscription:
		return nil
	}
	var sites []*site
	add := func(path []string, field string, o occ, conditional bool) {
		if len(o.f.SelectionSet) == 0 {
			return
		}
		for _, s := range sites {
			if slices.Equal(s.Path, path) {
				s.fields = append(s.fields, o)
				s.optional = s.optional && conditional
				return
			}
		}
		sites = append(sites, &site{Site: Site{Path: path, Field: field}, fields: []occ{o}, optional: conditional})
	}
	for _, o := range roots {
		name := root + "." + o.f.Name
		via, ok := e[name]
		if !ok {
			continue
		}
		if via == "" {
			add([]string{o.key}, name, o, len(o.conds) > 0)
			continue
		}
		for _, c := range col.collect(o.f.SelectionSet) {
			if c.f.Name == via {
				c.conds = append(o.conds[:len(o.conds):len(o.conds)], c.conds...)
				add([]string{o.key, c.key}, name+"."+via, c, len(c.conds) > 0)
			}
		}
	}
	if root == "Mutation" {
		sites = addHiddenCarts(sites, roots, e)
	}
	return sites
}

// addHiddenCarts adds a hidden cart to every coupon mutation whose client selected no cart.
func addHiddenCarts(sites []*site, roots []occ, e entries) []*site {
	for _, o := range roots {
		via := e["Mutation."+o.f.Name]
		if via == "" || !slices.Contains(hiddenCartFields, o.f.Name) || len(o.f.SelectionSet) == 0 {
			continue
		}
		i := slices.IndexFunc(sites, func(s *site) bool { return s.Path[0] == o.key })
		if i >= 0 {
			// A cart is selected, or this key has its hidden cart already: move it to an
			// occurrence without conditions if there is one.
			if s := sites[i]; s.hidden && s.optional && len(o.conds) == 0 {
				s.root, s.optional = o.f, false
			}
			continue
		}
		sites = append(sites, &site{
			Site:     Site{Path: []string{o.key, hiddenCartKey}, Field: "Mutation." + o.f.Name + "." + via},
			optional: len(o.conds) > 0,
			hidden:   true,
			root:     o.f,
		})
	}
	return sites
}
