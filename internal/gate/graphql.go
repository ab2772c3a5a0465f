package gate

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// Doer sends one GraphQL operation to Magento with the shopper's credentials (Authorization,
// Store, cookies, the normalized membership) and returns the answer's body.
type Doer interface {
	Do(query, operationName string, variables map[string]any) ([]byte, error)
}

// GraphQL is the gate's Upstream over Magento's GraphQL API.
type GraphQL struct {
	Doer    Doer
	Planner *cartql.Planner // adds what reading a cart needs
	Multi   bool            // applyCouponsToCart / removeCouponsFromCart
}

// readQuery reads a cart for the gate; the planner adds what the gate needs.
const readQuery = `query AudiencesGateRead($cart_id: String!) { cart(cart_id: $cart_id) { id } }`

// The gate's own mutations.
const (
	removeOne   = `mutation _aud_gate_remove($cart_id: String!) { removeCouponFromCart(input: {cart_id: $cart_id}) { cart { id } } }`
	removeMulti = `mutation _aud_gate_remove($cart_id: String!, $codes: [String!]!) { removeCouponsFromCart(input: {cart_id: $cart_id, coupon_codes: $codes}) { cart { id } } }`
	applyOne    = `mutation _aud_gate_apply($cart_id: String!, $code: String!) { applyCouponToCart(input: {cart_id: $cart_id, coupon_code: $code}) { cart { id } } }`
	applyMulti  = `mutation _aud_gate_apply($cart_id: String!, $codes: [String!]!) { applyCouponsToCart(input: {cart_id: $cart_id, coupon_codes: $codes, type: APPEND}) { cart { id } } }`
)

// ReadCart implements Upstream.
func (g GraphQL) ReadCart(cartID string) (*rules.Cart, error) {
	plan, err := g.Planner.Plan(readQuery, "")
	if err != nil {
		return nil, err
	}
	body, err := g.Doer.Do(plan.Query(), "", map[string]any{"cart_id": cartID})
	if err != nil {
		return nil, err
	}
	snaps, err := plan.Snapshots(body, cartql.RewriteOptions{})
	if err != nil {
		return nil, fmt.Errorf("read cart: %w", err)
	}
	if len(snaps) != 1 {
		if msg := firstError(body); msg != "" {
			return nil, fmt.Errorf("read cart: cart not found: Magento: %s", msg)
		}
		return nil, errors.New("read cart: cart not found")
	}
	return &snaps[0].Cart, nil
}

// answer is what the gate reads of a GraphQL answer.
type answer struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// firstError is the message of a GraphQL answer's first error, or "".
func firstError(body []byte) string {
	var resp answer
	if json.Unmarshal(body, &resp) != nil || len(resp.Errors) == 0 {
		return ""
	}
	return resp.Errors[0].Message
}

// Apply implements Upstream.
func (g GraphQL) Apply(cartID, code string) error {
	if g.Multi {
		_, err := g.data(applyMulti, map[string]any{"cart_id": cartID, "codes": []string{code}})
		return err
	}
	_, err := g.data(applyOne, map[string]any{"cart_id": cartID, "code": code})
	return err
}

// Remove implements Upstream.
func (g GraphQL) Remove(cartID string, codes []string) error {
	if g.Multi {
		_, err := g.data(removeMulti, map[string]any{"cart_id": cartID, "codes": codes})
		return err
	}
	_, err := g.data(removeOne, map[string]any{"cart_id": cartID})
	return err
}

// data runs an operation and decodes its data; GraphQL errors become a *MagentoError.
func (g GraphQL) data(query string, variables map[string]any) (map[string]json.RawMessage, error) {
	raw, err := g.Doer.Do(query, "", variables)
	if err != nil {
		return nil, err
	}
	var resp answer
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("upstream answer: %w", err)
	}
	if len(resp.Errors) > 0 {
		return resp.Data, &MagentoError{Message: resp.Errors[0].Message}
	}
	return resp.Data, nil
}

// Answer is a GraphQL answer the gate brings in line.
type Answer struct {
	Plan      *cartql.Plan
	Variables map[string]any
	Store     string
	Body      []byte
	// Indexed is Body indexed by Plan (Plan.Index): the carts are read from it.
	Indexed *cartql.Indexed
}

// SyncAnswer makes sure every cart in a GraphQL answer carries exactly the gate coupons its
// shopper qualifies for; the session's Upstream must be a GraphQL. When it had to change a cart it returns the answer as the cart is
// now: a query is run again; a mutation's carts are read again with the mutation's own
// selection — the mutation itself is never replayed. A cart it could not bring in line is
// left as Magento showed it, and reported through Options.Logger.
func (s *Session) SyncAnswer(a Answer) (out []byte, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			out, err = a.Body, fmt.Errorf("gate panicked: %v", rec)
		}
	}()
	g, ok := s.Up.(GraphQL)
	if !ok {
		return a.Body, errors.New("a GraphQL answer needs the GraphQL upstream")
	}
	snaps, err := a.Indexed.Snapshots(cartql.RewriteOptions{Store: a.Store})
	if err != nil {
		return a.Body, err
	}
	var changed []cartql.CartSnapshot
	for _, snap := range snaps {
		if !s.NeedsSync(snap.CartID, &snap.Cart) {
			continue
		}
		did, err := s.Sync(snap.CartID)
		if err != nil {
			s.Options.warn("gate coupon not brought in line; the cart shows Magento's own price", zap.Error(err))
			continue
		}
		if did {
			changed = append(changed, snap)
		}
	}
	if len(changed) == 0 {
		return a.Body, nil
	}
	if !a.Plan.IsMutation() {
		return g.Doer.Do(a.Plan.Query(), a.Plan.OperationName(), a.Variables)
	}
	body := a.Body
	for _, snap := range changed {
		if body, err = refetchCart(g, a, body, snap); err != nil {
			return body, err
		}
	}
	return body, nil
}

// refetchCart reads a mutation's cart again with the mutation's own selection and puts it in
// the mutation's answer.
func refetchCart(g GraphQL, a Answer, body []byte, snap cartql.CartSnapshot) ([]byte, error) {
	query, err := a.Plan.CartQuery(snap.Site)
	if err != nil {
		return body, err
	}
	data, err := g.data(query, a.Plan.CartQueryVariables(snap.Site, a.Variables, snap.CartID))
	if err != nil {
		return body, err
	}
	key := a.Plan.Sites()[snap.Site].Path
	cart, ok := data[key[len(key)-1]]
	if !ok {
		return body, errors.New("refetched cart missing")
	}
	return a.Plan.SpliceCart(body, snap.Site, cart)
}
