package caddymodule

import (
	"encoding/json"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/report"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// msgOrderRefused answers an order whose gate coupon could not be brought in line.
const msgOrderRefused = "The discounted price of this cart could not be confirmed, so the order was not placed. Please review your cart and try again."

// newGateOptions are the gate's options for this handler, reporting to its metrics and log.
func (h *Handler) newGateOptions() *gate.Options {
	opts := &gate.Options{
		Multi:    h.MultiCoupon,
		Policy:   gate.Policy(h.GatePolicy),
		Locker:   h.state.locks,
		Stats:    &h.state.gateStats,
		OnAction: func(action string) { metrics.gate.WithLabelValues(action).Inc() },
		Logger:   h.logger,
	}
	if h.fleet != nil {
		opts.Locker = h.fleet.Locker(h.state.locks)
		opts.PoolLedger = func(ruleID string) gate.Ledger { return h.fleet.Ledger(ruleID) }
		opts.ReadFirst = true
	}
	return opts
}

// gateUpstream is how the gate reaches Magento for the shopper of r: GraphQL through the
// rest of the handler chain, with the shopper's headers.
func (h *Handler) gateUpstream(r *http.Request, next caddyhttp.Handler) gate.GraphQL {
	return gate.GraphQL{Doer: h.upstream(r, next), Planner: h.plans.planner(false), Multi: h.MultiCoupon}
}

// gateBefore runs the gate's checks that come before the request is forwarded: a shopper
// typing a gate code, a shopper's own coupon that needs the slot, and an order about to be
// placed. It reports false when it answered.
func (h *Handler) gateBefore(w http.ResponseWriter, r *http.Request, job *rewriteJob) bool {
	if job.op.luma != nil {
		return h.lumaBefore(w, r, job)
	}
	if job.gate == nil {
		return true
	}
	plan, vars := job.op.plan, job.op.variables
	typed := plan.AppliedCouponInputs(vars)
	if job.gate.RefusesTyped(typed) {
		writeGraphQLError(w, gate.MsgCouponInvalid, "graphql-input", rootFieldOf(plan))
		return false
	}
	job.gate.MakeRoom(plan.CouponCartIDs(vars), typed)
	if !plan.PlacesOrder() {
		return true
	}
	if err := job.gate.CheckOrder(plan.OrderCartIDs(vars)); err != nil {
		h.logger.Warn("order refused: the gate coupon could not be brought in line", zap.Error(err))
		writeGraphQLError(w, msgOrderRefused, "graphql-input", rootFieldOf(plan))
		return false
	}
	return true
}

// warnWeakCodes logs the enforced rules whose codes are weak.
func (s *handlerState) warnWeakCodes(rs *rules.RuleSet) {
	for _, w := range report.GateWarnings(rs) {
		s.log().Warn("weak gate coupon code", zap.String("handler", s.name), zap.String("problem", w))
	}
}

// writeGraphQLError answers with one GraphQL error, as Magento would.
func writeGraphQLError(w http.ResponseWriter, message, category string, field string) {
	body, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{
			"message":    message,
			"path":       []string{field},
			"extensions": map[string]string{"category": category},
		}},
		"data": map[string]any{field: nil},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// rootFieldOf names the first root field of an operation, for error paths.
func rootFieldOf(p *cartql.Plan) string {
	if f := p.RootFields(); len(f) > 0 {
		return f[0]
	}
	return "cart"
}
