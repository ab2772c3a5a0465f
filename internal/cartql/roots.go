package cartql

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// roots is what the coupon gate watches in an operation's root selection: the coupons a
// client applies and the orders it places. It is read from every operation, with or without
// a cart, and conservatively: fields under @skip/@include count as selected.
type roots struct {
	keys        []string     // response keys of the root fields, in document order
	coupons     []*ast.Value // input arguments of applyCouponToCart / applyCouponsToCart
	orders      []*ast.Value // input arguments of placeOrder / setPaymentMethodAndPlaceOrder
	placesOrder bool
	defaults    map[string]*ast.Value // variable defaults, when coupons or orders use them
}

// Mutations the coupon gate watches.
var (
	couponFields = []string{"applyCouponToCart", "applyCouponsToCart"}
	orderFields  = []string{"placeOrder", "setPaymentMethodAndPlaceOrder"}
)

// inspectRoots reads the root fields of op (fragments expanded in fields).
func inspectRoots(op *ast.OperationDefinition, fields []occ) roots {
	var r roots
	for _, o := range fields {
		if !slices.Contains(r.keys, o.key) {
			r.keys = append(r.keys, o.key)
		}
		if op.Operation != ast.Mutation {
			continue
		}
		switch {
		case slices.Contains(couponFields, o.f.Name):
			r.coupons = appendInputs(r.coupons, o.f)
		case slices.Contains(orderFields, o.f.Name):
			r.placesOrder = true
			r.orders = appendInputs(r.orders, o.f)
		}
	}
	if len(r.coupons)+len(r.orders) == 0 {
		return r
	}
	for _, v := range op.VariableDefinitions {
		if v.DefaultValue != nil {
			if r.defaults == nil {
				r.defaults = map[string]*ast.Value{}
			}
			r.defaults[v.Variable] = v.DefaultValue
		}
	}
	return r
}

func appendInputs(in []*ast.Value, f *ast.Field) []*ast.Value {
	for _, a := range f.Arguments {
		if a.Name == "input" && a.Value != nil {
			in = append(in, a.Value)
		}
	}
	return in
}

// RootFields returns the response keys (aliases or names) of the operation's root fields, in
// document order, fragments expanded.
func (p *Plan) RootFields() []string { return slices.Clone(p.roots.keys) }

// AppliedCouponInputs returns the coupon codes the operation asks Magento to apply: the
// coupon_code of every applyCouponToCart and the coupon_codes of every applyCouponsToCart
// root field, whether written in the query or passed in variables (the code, the list or
// the whole input), variable defaults included. Codes are trimmed of spaces as Magento trims
// them; compare them case-insensitively. Fields under @skip/@include are counted.
func (p *Plan) AppliedCouponInputs(variables map[string]any) []string {
	var out []string
	for _, in := range p.roots.coupons {
		m, _ := p.roots.resolve(in, variables).(map[string]any)
		out = appendStrings(out, m["coupon_code"], true)
		out = appendStrings(out, m["coupon_codes"], true)
	}
	return out
}

// CouponCartIDs returns the cart ids of the applyCouponToCart and applyCouponsToCart root
// fields, from the query or its variables.
func (p *Plan) CouponCartIDs(variables map[string]any) []string {
	return p.roots.cartIDs(p.roots.coupons, variables)
}

// PlacesOrder reports whether the operation places an order (placeOrder or
// setPaymentMethodAndPlaceOrder).
func (p *Plan) PlacesOrder() bool { return p.roots.placesOrder }

// OrderCartIDs returns the cart ids of the orders the operation places: the cart_id of the
// input of every placeOrder and setPaymentMethodAndPlaceOrder root field, from the query or
// its variables.
func (p *Plan) OrderCartIDs(variables map[string]any) []string {
	return p.roots.cartIDs(p.roots.orders, variables)
}

// cartIDs returns the cart_id members of the inputs.
func (r *roots) cartIDs(inputs []*ast.Value, variables map[string]any) []string {
	var out []string
	for _, in := range inputs {
		m, _ := r.resolve(in, variables).(map[string]any)
		out = appendStrings(out, m["cart_id"], false)
	}
	return out
}

// resolve returns the value of an argument as the server coerces it: variables replaced by
// the request's values or their defaults, objects as maps, lists as slices, scalars as their
// text.
func (r *roots) resolve(v *ast.Value, variables map[string]any) any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case ast.Variable:
		if x, ok := variables[v.Raw]; ok {
			return x
		}
		if d := r.defaults[v.Raw]; d != nil {
			return r.resolve(d, nil)
		}
		return nil
	case ast.NullValue:
		return nil
	case ast.ListValue:
		out := make([]any, 0, len(v.Children))
		for _, c := range v.Children {
			out = append(out, r.resolve(c.Value, variables))
		}
		return out
	case ast.ObjectValue:
		out := make(map[string]any, len(v.Children))
		for _, c := range v.Children {
			if _, dup := out[c.Name]; !dup {
				out[c.Name] = r.resolve(c.Value, variables)
			}
		}
		return out
	default:
		return v.Raw // strings (unescaped by the lexer), numbers, booleans, enums
	}
}

// appendStrings appends the strings in x: a string, a number (written as a client would
// mean it), or a list of them, as GraphQL coerces a single value to a one-element list.
// trim removes the spaces Magento trims from coupon codes; empty results are left out.
func appendStrings(out []string, x any, trim bool) []string {
	var s string
	switch x := x.(type) {
	case nil:
		return out
	case string:
		s = x
	case json.Number:
		s = x.String()
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case int, int32, int64, uint, uint32, uint64, float32:
		s = fmt.Sprint(x)
	case []string:
		for _, e := range x {
			out = appendStrings(out, e, trim)
		}
		return out
	case []any:
		for _, e := range x {
			out = appendStrings(out, e, trim)
		}
		return out
	default:
		return out
	}
	if trim {
		s = strings.Trim(s, phpTrimSet)
	}
	if s == "" {
		return out
	}
	return append(out, s)
}

// phpTrimSet is what PHP's trim removes, as Magento's CouponManagement does.
const phpTrimSet = " \t\n\r\x00\x0b"
