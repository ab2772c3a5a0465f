// Package cartql plans Magento GraphQL operations that return carts and rewrites their
// responses with audience discounts (SPEC §3). It works on strings and bytes only (it never
// imports Caddy or net/http) and knows no schema, so it reads operations structurally.
//
// Planning:
//
//	planner, err := cartql.NewPlanner(cartql.Options{CartFields: extra})
//	plan, err := planner.Plan(query, operationName) // cached per (query, operationName)
//
// An error, or a plan whose HasCart is false, means the request passes through untouched.
// Otherwise send plan.Query() upstream: the client's query with hidden fields inserted at the
// end of every cart selection, under aliases starting with HiddenPrefix ("_aud_"): the
// complete item list with what the rule engine reads, the currency and applied taxes, the
// applied coupons, the selected shipping amounts, and a hidden copy of every itemsV2 page to
// identify its items. The client's own text is kept byte for byte, so GraphQL error locations
// map back to it (Rewrite and Strip do that).
//
// Rewriting:
//
//	body, outcome, err := plan.Rewrite(upstream, variables, eval, cartql.RewriteOptions{
//		Store: store, TaxAfterDiscount: true,
//	})
//	if err != nil { // fail open
//		if body, err = plan.Strip(upstream); err != nil {
//			body = upstream
//		}
//	}
//
// Rewrite indexes the body in one pass, builds a rules.Cart snapshot of every cart found at
// the plan's Sites, calls eval, and writes the audience discount into exactly the fields the
// client selected, under its aliases: item total_item_discount and discounts, the cart's
// discounts, the deprecated discount, grand_total, grand_total_excluding_tax,
// subtotal_with_discount_excluding_tax and applied_taxes. New list entries carry the
// sub-fields the client selected (merged over fragments, @include/@skip evaluated with the
// request's variables), __typename included. The output is built from byte-range edits of
// the body, so when no rule applies it is the backend's body minus the hidden fields. Money
// uses exact decimals, rounded half away from zero to cents and printed in the shortest form
// (34, 34.5), as the backend prints it.
//
// API:
//
//	NewPlanner(Options) (*Planner, error)       a planner with an LRU of plans
//	(*Planner).Plan(query, operationName)        analyse one operation
//	(*Plan).HasCart, Query, OperationName,
//	        IsMutation, Sites                     what the operation does, where its carts are
//	(*Plan).Rewrite(body, variables, eval, opt)  apply audience discounts to a response
//	(*Plan).Strip(body)                           remove the hidden fields only (fail open)
//	(*Plan).Snapshots(body, opt)                  the carts of a response as the engine sees them
//	Evaluator, RewriteOptions, Outcome, Site, CartSnapshot, Options
//	DefaultCartFields, DefaultCacheSize, HiddenPrefix, ErrNullData, ErrNoData
package cartql
