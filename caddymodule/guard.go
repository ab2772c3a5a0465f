package caddymodule

import (
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/gqlhttp"
)

// refuse answers a request the gate will not forward with a GraphQL error and counts it.
func (h *Handler) refuse(w http.ResponseWriter, status int, reason, message string, cause error) {
	metrics.refusals.WithLabelValues(reason).Inc()
	h.debug("request refused by the coupon gate", zap.String("reason", reason), zap.Error(cause))
	body, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{
			"message":    message,
			"extensions": map[string]string{"category": "graphql-input"},
		}},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// refuseRead answers a GraphQL request ReadStrict refused.
func (h *Handler) refuseRead(w http.ResponseWriter, ref *gqlhttp.Refusal) {
	msg := gate.MsgUnreadable
	if ref.Status == http.StatusRequestEntityTooLarge {
		msg = gate.MsgTooLarge
	}
	h.refuse(w, ref.Status, ref.Reason, msg, ref.Err)
}

// checkRoute answers, counted, a request outside the GraphQL path that the gate refuses (see
// gate.Rules.CheckRoute). It reports whether it answered.
func (h *Handler) checkRoute(w http.ResponseWriter, r *http.Request, g *gate.Rules) bool {
	v := g.CheckRoute(r, h.GraphQLPath, h.MaxBody)
	switch {
	case !v.Refused:
		return false
	case v.Answer == nil:
		h.refuse(w, http.StatusBadRequest, v.Reason, v.Message, errors.New(r.URL.Path))
		return true
	case v.Reason == gate.ReasonTypedCode:
		metrics.gate.WithLabelValues(gate.ActionRefusedCode).Inc()
	default:
		metrics.refusals.WithLabelValues(v.Reason).Inc()
	}
	v.Answer(w)
	return true
}
