// Package cartql plans Magento GraphQL operations that return carts and rewrites their
// responses with audience discounts (SPEC §3). It works on strings and bytes only: it never
// imports Caddy or net/http, and knows no schema, so it reads operations structurally.
//
// Planning:
//
//	planner, err := cartql.NewPlanner(cartql.Options{CartFields: extra})
//	plan, err := planner.Plan(query, operationName) // cached per (query, operationName)
//
// An error, or a plan whose HasCart is false, means the request passes through untouched.
// Otherwise send plan.Query() upstream: the client's query with hidden fields inserted into
// every cart selection under aliases starting with HiddenPrefix ("_aud_"): the complete item
// list with what the rule engine reads, currency and taxes, applied coupons, the shipping
// amount, and a hidden copy of every itemsV2 page for matching its items. The client's own
// text is untouched, so error locations map back (Strip and Rewrite do it).
//
// Rewriting:
//
//	body, outcome, err := plan.Rewrite(upstreamBody, variables, eval, cartql.RewriteOptions{
//		Store: store, TaxAfterDiscount: true,
//	})
//	if err != nil { // fail open
//		body, err = plan.Strip(upstreamBody)
//		if err != nil {
//			body = upstreamBody
//		}
//	}
//
// Rewrite indexes the body once, builds a rules.Cart snapshot of every cart found at the
// plan's Sites, calls eval, and writes the audience discount into exactly the fields the
// client selected, under its aliases: item total_item_discount and discounts, the cart's
// discounts, the deprecated discount, grand_total, grand_total_excluding_tax,
// subtotal_with_discount_excluding_tax and applied_taxes. New list entries carry the
// sub-fields the client selected (merged over fragments, @include/@skip evaluated with the
// request variables). All hidden fields are removed; when no rule applies the result is the
// backend's body without them. Money uses exact decimals, rounded half away from zero to
// cents and printed in the shortest form (34, 34.5).
//
// Public API:
//
//	NewPlanner(Options) (*Planner, error)        planner with an LRU of plans
//	(*Planner).Plan(query, operationName)         analyse one operation
//	(*Plan).HasCart, Query, OperationName,
//	        IsMutation, Sites                      what the operation does and where its carts are
//	(*Plan).Rewrite(body, variables, eval, opt)   apply audience discounts to a response
//	(*Plan).Strip(body)                            remove hidden fields only (fail open)
//	(*Plan).Snapshots(body, opt)                   the carts of a response as the engine sees them
//	Evaluator, RewriteOptions, Outcome, Site, CartSnapshot, Options
//	DefaultCartFields, DefaultCacheSize, HiddenPrefix, ErrNullData, ErrNoData
package cartql
