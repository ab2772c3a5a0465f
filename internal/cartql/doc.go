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
// Otherwise send plan.Query() upstream: the client's query with the facts the rewrite reads
// and the client does not select itself added under hidden aliases starting with
// HiddenPrefix ("_aud_"). The facts are the complete item list with what the rule engine
// reads of each item (uid, type, quantity, product SKU, price, row total, discount), the
// currency, the applied taxes with their labels, the applied coupons, the selected shipping
// amounts and the masked cart id. Where the client selects one of them unconditionally
// (through fragments, under its own alias, under type conditions that always hold, not under
// a variable @skip/@include) the plan reads it there; otherwise the smallest hidden field is
// inserted into the client's nearest selection (a hidden uid in an item, a hidden label in an
// applied tax) or, when the client selects nothing of it, at the end of the cart selection.
// itemsV2 pages are matched to the complete list by their items' uids. Venia's cart page
// gets one hidden field (the tax label); Options.HiddenOnly keeps the former augmentation,
// every fact hidden, and Plan.Augmentation measures what a plan adds. The client's own text
// is kept byte for byte, so GraphQL error locations map back to it (Rewrite and Strip do
// that).
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
// subtotal_with_discount_excluding_tax and applied_taxes (tax on the discounted rows, in cart
// order, rounded with RewriteOptions.TaxCalculation as Magento rounds it; the deprecated
// discount's labels name each applied rule once, as Magento's discount description does).
// A client field read for the computation is rewritten like any other. New list entries carry
// the sub-fields the client selected (merged over fragments, @include/@skip evaluated with
// the request's variables), __typename included. The output is built from byte-range edits
// of the body, so when no rule applies it is the backend's body minus the hidden fields;
// RewriteOptions.Buffer lets a caller reuse the memory it is written to.
//
// The index covers only what the plan reads and writes (its shape): the carts' facts and
// written fields, and errors. Everything else (product data, media, CMS blocks) is
// validated as JSON and skipped without nodes; a hidden member inside a skipped value makes
// the body indexed whole, so Strip finds every one. Money uses exact decimals, rounded half
// away from zero to cents and printed in the shortest form (34, 34.5), as the backend prints
// it; sums, differences and comparisons of money-sized amounts take an integer fast path
// (internal/fastdec) whose results are the decimals' own.
//
// Coupon gate (SPEC §3b): the gate keeps a secret Magento coupon on a cart exactly while its
// shopper qualifies, and needs to read carts, see what clients apply and hide the codes.
// Every plan, with or without a cart, knows the coupons an operation applies and the orders
// it places; a coupon mutation whose client selects no cart gets a hidden one (its Site path
// ends in "_aud_cart"), so HasCart is true. After a mutation, the gate reads the cart again
// with CartQuery (the site's own selection, hidden fields included) and puts it in the
// mutation's answer with SpliceCart: a mutation is never replayed. Scrub removes the codes
// from any response, schema-less:
//
//	q, _ := plan.CartQuery(site)
//	cart := post(q, plan.CartQueryVariables(site, variables, snap.CartID)).data[key]
//	body, _ = plan.SpliceCart(body, site, cart) // then Rewrite or Strip, then Scrub
//	body, _, err = cartql.Scrub(body, codes, labels)
//
// API:
//
//	NewPlanner(Options) (*Planner, error)       a planner with an LRU of plans
//	(*Planner).Plan(query, operationName)        analyse one operation
//	(*Plan).HasCart, Query, OperationName,
//	        IsMutation, Sites, RootFields         what the operation does, where its carts are
//	(*Plan).Rewrite(body, variables, eval, opt)  apply audience discounts to a response
//	(*Plan).Augmentation()                       what the augmented query adds (reports)
//	(*Plan).Strip(body)                           remove the hidden fields only (fail open)
//	(*Plan).Snapshots(body, opt)                  the carts of a response as the engine sees
//	                                              them, with their masked ids
//	(*Plan).Index(body) → *Indexed                a response indexed once for Snapshots, then
//	                                              Rewrite (Release when done)
//	(*Plan).RewriteUsesVariables()                whether Rewrite reads the variables
//	(*Plan).ReadMerch(body) → *MerchAnswer        product lists and blocks of a response, to
//	                                              read and replace (Release when done)
//	(*Plan).AppliedCouponInputs(variables)        codes of applyCouponToCart/applyCouponsToCart
//	(*Plan).CouponCartIDs(variables)              carts those coupons are applied to
//	(*Plan).PlacesOrder, OrderCartIDs(variables)  placeOrder/setPaymentMethodAndPlaceOrder
//	(*Plan).CartQuery(site)                       a query reading a site's cart again
//	(*Plan).CartQueryVariables(site, vars, id)    its variables
//	(*Plan).SpliceCart(body, site, cart)          put a cart read again into a response
//	Scrub(body, codes, labels)                    remove secret coupon codes from any response
//	Evaluator, RewriteOptions, Outcome, Site, CartSnapshot, Options
//	DefaultCartFields, DefaultCacheSize, HiddenPrefix, CartVariable, ErrNullData, ErrNoData
package cartql
