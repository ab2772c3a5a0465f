// Package rules is the pure engine for audience cart price rules: it decodes and validates a
// rule file, compiles it into an immutable RuleSet indexed by audience, and evaluates a cart
// snapshot for a shopper's segment set with the semantics and rounding of Magento's SalesRule
// module (2.4.7), explaining every decision in a trace.
//
// The same file may hold merchandising rules, which change by audience the related, up-sell
// and cross-sell lists of products (RuleSet.ProductList) and which CMS and dynamic blocks are
// shown (RuleSet.Blocks); see merch_model.go.
//
// The package never imports Caddy or net/http; all money math uses exact decimals.
package rules

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/govalues/decimal"
)

// Cart is the snapshot of a shopping cart that rules are evaluated against.
type Cart struct {
	Currency       string
	Store          string // store-view code; selects rule labels and store scopes
	Website        string // website code; matched against rule website scopes
	Coupons        []string
	ShippingAmount decimal.Decimal
	Items          []Item
}

// Item is one cart line. Discount is what the backend already took off the row; audience
// rules apply to what is left.
type Item struct {
	SKU         string
	Qty         decimal.Decimal
	Price       decimal.Decimal
	RowTotal    decimal.Decimal // zero means Qty × Price
	Discount    decimal.Decimal
	ProductType string // empty means "simple"
}

// Result is the outcome of one evaluation. Amounts are rounded to 2 decimals.
type Result struct {
	// TotalDiscount is the audience rules' discount on items and shipping.
	TotalDiscount decimal.Decimal
	// Items has one entry per cart item, in input order.
	Items []ItemResult
	// Discounts has one entry per rule and target (ITEM, then SHIPPING), in rule order: what
	// Magento lists in CartPrices.discounts.
	Discounts []CartDiscount
	// ShippingDiscount is the part of TotalDiscount taken off shipping. It may exceed the
	// SHIPPING entries of Discounts: like Magento, a rule's shipping part is listed only when
	// its uncapped amount fits in the shipping amount, but it is always taken off.
	ShippingDiscount decimal.Decimal
	// Applied has one entry per rule that took something off items or shipping, in rule
	// order, with everything it took off: the rules Magento names in the cart's discount
	// description (the deprecated CartPrices.discount.label), once each.
	Applied []RuleDiscount
	// Trace says for each rule whether it applied and why not.
	Trace []TraceEntry
	// Error is set when the cart cannot be evaluated (values out of range); then no
	// discount is given.
	Error string

	backing []RuleDiscount // the memory of the items' Discounts
}

// ItemResult is the audience discount on one cart item.
type ItemResult struct {
	SKU       string
	Discount  decimal.Decimal
	Discounts []RuleDiscount // per rule, in application order
}

// RuleDiscount is one rule's share of an item discount.
type RuleDiscount struct {
	RuleID string
	Label  string
	Amount decimal.Decimal
}

// Targets of a cart-level discount entry, as Magento's Discount.applied_to.
const (
	AppliedToItem     = "ITEM"
	AppliedToShipping = "SHIPPING"
)

// CartDiscount is one rule's total discount on items or on shipping.
type CartDiscount struct {
	RuleID    string
	Label     string
	Amount    decimal.Decimal
	AppliedTo string // AppliedToItem or AppliedToShipping
}

// TraceEntry explains one rule's outcome. For an enforced rule, Applied means the shopper
// qualifies for its coupon.
type TraceEntry struct {
	RuleID  string
	Applied bool
	Reason  string // empty when Applied; see the Reason constants
	Enforce bool
}

// EnforcedRule is a rule whose discount Magento computes itself through a secret coupon.
type EnforcedRule struct {
	RuleID      string
	Coupon      string // set when the rule names one code
	CouponsFile string // set when the codes are in a file, as written in the rule file
}

// ActionType is a rule's discount action.
type ActionType string

// The actions of Magento's cart price rules.
const (
	ByPercent  ActionType = "by_percent"
	ByFixed    ActionType = "by_fixed"
	CartFixed  ActionType = "cart_fixed"
	BuyXGetY   ActionType = "buy_x_get_y"
	actionNone ActionType = ""
)

// Action is what a rule takes off: a percentage, a fixed amount per unit, a fixed amount for
// the cart, or Y free units for every X bought.
type Action struct {
	Type            ActionType
	Amount          decimal.Decimal
	MaxQty          decimal.Decimal // 0: no limit
	Step            decimal.Decimal // 0: none
	ApplyToShipping bool
}

// Enforce names the secret Magento coupon of an enforced rule.
type Enforce struct {
	Coupon      string
	CouponsFile string
}

// Audiences selects shoppers by segment: Mode is "any", "all", "none" or "" (everyone).
type Audiences struct {
	Mode string
	IDs  []string
}

// Rule is a decoded rule as listed by RuleSet.Rules. Its JSON form is the rule as written.
type Rule struct {
	ID               string
	Name             string
	Label            string
	Labels           map[string]string
	Active           bool
	From, To         string // as written, empty when open
	Priority         int
	StopFurtherRules bool
	Audiences        Audiences
	Stores           []string
	Websites         []string
	Currencies       []string
	Coupon           string   // Magento "Specific coupon": the code the cart must carry, "" for none
	Action           *Action  // nil for an enforced rule
	Enforce          *Enforce // nil for a rule with an action
	Raw              json.RawMessage
}

// MarshalJSON returns the rule as written in the rule file (compacted).
func (r Rule) MarshalJSON() ([]byte, error) { return asWritten(r.Raw) }

// asWritten is a rule's JSON form: its text in the rule file, {} when there is none.
func asWritten(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return []byte("{}"), nil
	}
	return raw, nil
}

// clone returns a deep copy so callers cannot change a RuleSet through it.
func (r Rule) clone() Rule {
	c := r
	c.Labels = maps.Clone(r.Labels)
	c.Audiences.IDs = slices.Clone(r.Audiences.IDs)
	c.Stores = slices.Clone(r.Stores)
	c.Websites = slices.Clone(r.Websites)
	c.Currencies = slices.Clone(r.Currencies)
	c.Raw = slices.Clone(r.Raw)
	if r.Action != nil {
		a := *r.Action
		c.Action = &a
	}
	if r.Enforce != nil {
		e := *r.Enforce
		c.Enforce = &e
	}
	return c
}
