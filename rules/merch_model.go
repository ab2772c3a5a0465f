// Merchandising: the second rule kind of a rule file, beside the cart price rules. A
// merchandising rule changes, for an audience, either the related, up-sell and cross-sell
// product lists of the products it matches, or which CMS and dynamic blocks are shown.

package rules

import (
	"encoding/json"
	"maps"
	"slices"
)

// The product lists a merchandising rule can change: Magento's related_products,
// upsell_products and crosssell_products.
const (
	ListRelated   = "related"
	ListUpsell    = "upsell"
	ListCrosssell = "crosssell"
)

// productLists are the lists in their canonical order.
var productLists = []string{ListRelated, ListUpsell, ListCrosssell}

// MerchKind says what a merchandising rule changes.
type MerchKind string

// The kinds of merchandising rules.
const (
	MerchProductLists MerchKind = "product_lists"
	MerchBlocks       MerchKind = "blocks"
)

// MerchRule is a decoded merchandising rule as listed by RuleSet.Merchandising. Its JSON form
// is the rule as written. A rule changes product lists (Lists, Add, Limit, Remove, First) or
// blocks (Blocks), never both.
type MerchRule struct {
	ID               string
	Name             string
	Label            string
	Active           bool
	From, To         string // as written, empty when open
	Priority         int
	StopFurtherRules bool
	Audiences        Audiences
	Stores           []string
	Websites         []string

	// Lists are the product lists the rule changes, in canonical order (all three when the
	// rule does not say).
	Lists []string
	// Add are SKUs appended in this order, skipping those already listed and the product itself.
	Add []string
	// Limit is the most SKUs the rule adds; 0 means all of Add.
	Limit int
	// Remove are SKUs or globs (* and ?) taken out of the list.
	Remove []string
	// First are SKUs moved to the front in this order when they are listed.
	First []string

	// Blocks is set for a content-block rule.
	Blocks *BlockChanges

	Raw json.RawMessage
}

// BlockChanges is what a content-block rule does with CMS block identifiers or dynamic block
// uids (opaque strings, compared exactly).
type BlockChanges struct {
	// Show lists blocks for the audience only: members see them, everyone else does not.
	Show []string
	// Hide lists blocks members do not see.
	Hide []string
	// Replace maps a block to the block members see instead.
	Replace map[string]string
}

// Kind says whether the rule changes product lists or blocks.
func (m MerchRule) Kind() MerchKind {
	if m.Blocks != nil {
		return MerchBlocks
	}
	return MerchProductLists
}

// MarshalJSON returns the rule as written in the rule file (compacted).
func (m MerchRule) MarshalJSON() ([]byte, error) { return asWritten(m.Raw) }

// clone returns a deep copy so callers cannot change a RuleSet through it.
func (m MerchRule) clone() MerchRule {
	c := m
	c.Audiences.IDs = slices.Clone(m.Audiences.IDs)
	c.Stores = slices.Clone(m.Stores)
	c.Websites = slices.Clone(m.Websites)
	c.Lists = slices.Clone(m.Lists)
	c.Add = slices.Clone(m.Add)
	c.Remove = slices.Clone(m.Remove)
	c.First = slices.Clone(m.First)
	c.Raw = slices.Clone(m.Raw)
	if m.Blocks != nil {
		c.Blocks = &BlockChanges{
			Show:    slices.Clone(m.Blocks.Show),
			Hide:    slices.Clone(m.Blocks.Hide),
			Replace: maps.Clone(m.Blocks.Replace),
		}
	}
	return c
}

// Product is the catalog product whose list is evaluated.
type Product struct {
	SKU string
	// Type is Magento's type_id ("simple", "configurable", "bundle", …). Empty means
	// unknown: conditions on type then see "" (so == and in fail, != and not_in hold).
	Type string
}

// Scope is where the shopper is: matched against rules' stores and websites.
type Scope struct {
	Store   string // store-view code
	Website string // website code
}

// ListResult is the outcome of ProductList for one product and list.
type ListResult struct {
	Product Product
	List    string
	// Items is the new list of SKUs, in order. When Changed is false it is the input slice.
	Items []string
	// Added are the SKUs rules added, in list order: not in the input, so the caller fetches
	// them from the store.
	Added []string
	// Removed are the input SKUs no longer listed, in input order.
	Removed []string
	// Changed reports whether Items differs from the input (content or order).
	Changed bool
	// Trace says for each product-list rule whether it changed the list and why not.
	Trace []TraceEntry
}

// BlockAction is what a shopper gets in place of a requested block.
type BlockAction string

// The block actions.
const (
	BlockKeep    BlockAction = "keep"
	BlockHide    BlockAction = "hide"
	BlockReplace BlockAction = "replace"
)

// BlockDecision is the outcome for one requested block.
type BlockDecision struct {
	ID     string
	Action BlockAction
	With   string // for BlockReplace: the block shown instead
	RuleID string // the rule that decided; empty when none did
}

// BlocksResult is the outcome of Blocks.
type BlocksResult struct {
	// Blocks has one decision per requested id, in request order.
	Blocks []BlockDecision
	// Changed reports whether some block is hidden or replaced.
	Changed bool
	// Trace says for each block rule whether it decided a requested block and why not.
	Trace []TraceEntry
}
