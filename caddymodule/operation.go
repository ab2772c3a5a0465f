package caddymodule

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/gqlhttp"
	"github.com/caddy-audiences/caddy-audiences/internal/magentopath"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// operation is what the first stage of a request works out: the rules and gate in force,
// and, on the GraphQL path, the operation's plan and variables. A nil operation passes
// through untouched.
type operation struct {
	rules   *rules.RuleSet
	gates   *gate.Rules // nil without enforced rules
	at      time.Time   // when the rules are evaluated
	preview bool        // at is a staging preview time

	req       *gqlhttp.Request
	plan      *cartql.Plan // nil: the answer only has to be kept free of gate codes
	variables map[string]any
	luma      *magentopath.Route // a Luma REST cart route or page the gate watches
}

// prices reports whether the operation prices a cart or places an order, the requests
// worth an Edge Network lookup.
func (op *operation) prices() bool {
	return op != nil && (op.luma != nil || op.plan != nil && (op.plan.HasCart() || op.plan.PlacesOrder()))
}

// readOperation works out what r asks for. With gate rules in force a request is read
// exactly as Magento reads it, or refused: then answered is true and w holds the answer.
func (h *Handler) readOperation(w http.ResponseWriter, r *http.Request) (op *operation, answered bool) {
	at, preview := h.evaluationTime(r)
	rs := h.ruleSet()
	if rs == nil || rs.Len() == 0 && !rs.HasMerchandising() {
		return nil, false
	}
	gates := h.state.gates.Get(rs, h.logger)
	if r.URL.Path != h.GraphQLPath {
		return h.readOtherRoute(w, r, &operation{rules: rs, gates: gates, at: at, preview: preview})
	}
	if gates != nil {
		// Every GraphQL request is read and gated, its answer scrubbed whole. An Upgrade goes:
		// Caddy's proxy forwards a request whose Upgrade no "Connection: Upgrade" asks for as
		// an ordinary one, and Magento's GraphQL speaks no other protocol, so it is read as
		// one and the proxy never upgrades. Range and If-Range go: a ranged answer could
		// split a gate code where the scrub cannot see it.
		for _, k := range [...]string{"Upgrade", "Range", "If-Range"} {
			delete(r.Header, k)
		}
	} else if v := r.Header["Upgrade"]; len(v) > 0 && v[0] != "" { // Get("Upgrade") without canonicalizing
		return nil, false // a protocol upgrade passes through untouched
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		if gates != nil && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			h.refuse(w, http.StatusBadRequest, "method", gate.MsgUnreadable, errors.New(r.Method))
			return nil, true
		}
		return nil, false // HEAD, OPTIONS and the rest pass through
	}
	req, err := h.readGraphQL(r, gates, rs.HasMerchandising())
	if err != nil {
		// AsType, not As: most requests that land here are not GraphQL operations of
		// interest, and As pays for reflection on each.
		if ref, ok := errors.AsType[*gqlhttp.Refusal](err); ok {
			h.refuseRead(w, ref)
			return nil, true
		}
		return nil, false
	}
	// The operation is worth reading: most requests have passed through before this.
	op = &operation{rules: rs, gates: gates, at: at, preview: preview}
	plan, err := h.plans.plan(req, rs.HasMerchandising())
	if err == nil && op.gates != nil && plan.Reserved() {
		err = &gqlhttp.Refusal{Status: http.StatusBadRequest, Reason: "reserved", Err: errors.New("the query uses the sidecar's reserved prefix " + cartql.HiddenPrefix)}
	}
	switch {
	case err != nil:
	case op.gates == nil && !plan.HasCart() && !plan.HasMerch():
		return nil, false // nothing to rewrite or guard
	case op.gates != nil || plan.HasMerch() || plan.RewriteUsesVariables():
		op.variables, err = req.DecodeVariables()
	default:
		err = req.CheckVariables() // nothing reads them: only pass through what they break, as before
	}
	if err != nil {
		if op.gates == nil {
			h.debug("graphql operation not rewritten", zap.Error(err))
			return nil, false
		}
		ref, ok := errors.AsType[*gqlhttp.Refusal](err)
		if !ok {
			ref = &gqlhttp.Refusal{Status: http.StatusBadRequest, Reason: "unparsable", Err: err}
		}
		h.refuseRead(w, ref)
		return nil, true
	}
	op.req, op.plan = req, plan
	return op, false
}

// readOtherRoute looks at a request outside the GraphQL path: only with gate rules in force
// does it matter (see checkRoute); Luma's REST cart routes and its cart and checkout pages
// are then gated too.
func (h *Handler) readOtherRoute(w http.ResponseWriter, r *http.Request, op *operation) (*operation, bool) {
	if op.gates == nil {
		return nil, false
	}
	if h.checkRoute(w, r, op.gates) {
		return nil, true
	}
	rt := magentopath.Match(r.URL.EscapedPath())
	switch {
	case rt.Kind == magentopath.RESTCart:
	case (rt.Kind == magentopath.CartPage || rt.Kind == magentopath.CheckoutPage) && r.Method == http.MethodGet:
	default:
		return nil, false
	}
	op.luma = &rt
	return op, false
}

// readGraphQL reads the GraphQL operation of r. With gates it reads as Magento does or
// refuses (a *gqlhttp.Refusal), and every operation is planned: the plan cache keeps the
// analysis of those without carts too. Without, operations that name no cart (nor, with
// merchandising rules, product lists or blocks) are skipped.
func (h *Handler) readGraphQL(r *http.Request, gates *gate.Rules, merchandising bool) (*gqlhttp.Request, error) {
	if gates != nil {
		return gqlhttp.ReadStrict(r, h.MaxBody)
	}
	req, err := gqlhttp.Read(r, h.MaxBody, h.plans.planner(merchandising).Mentions)
	if err != nil && !errors.Is(err, gqlhttp.ErrNotGraphQL) {
		h.debug("graphql request not rewritten", zap.Error(err))
	}
	return req, err
}

// evaluationTime is now, or the preview time a staging request asks for. The preview header
// never reaches the backend.
func (h *Handler) evaluationTime(r *http.Request) (time.Time, bool) {
	delete(r.Header, PreviewResponseHeader) // canonical already: no Del to canonicalize it
	name := h.PreviewTimeHeader
	if name == "" {
		return time.Now(), false
	}
	v := r.Header.Get(name)
	r.Header.Del(name)
	if v == "" {
		return time.Now(), false
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		h.debug("preview time ignored", zap.String("value", v), zap.Error(err))
		return time.Now(), false
	}
	return at, true
}
