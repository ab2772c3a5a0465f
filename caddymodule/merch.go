package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/merch"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// merchandises reports whether the operation's answer gets merchandising rules: it selects
// product lists or blocks (which are planned only for rule sets with merchandising rules).
func (op *operation) merchandises() bool {
	return op != nil && op.plan != nil && op.plan.HasMerch()
}

// merchandise applies the merchandising rules to a held answer, before the cart rewrite
// (which strips the hidden fields it reads). It fails open: on any error the shopper gets
// the backend's lists and blocks.
func (h *Handler) merchandise(job *rewriteJob, r *http.Request, next caddyhttp.Handler, body []byte) []byte {
	op := job.op
	if !op.merchandises() {
		return body
	}
	out, res, err := h.state.merch.Rewrite(merch.Answer{
		Plan:      op.plan,
		Variables: op.variables,
		Rules:     op.rules,
		Shopper: merch.Shopper{
			Segments: job.segments,
			At:       op.at,
			Scope:    rules.Scope{Store: job.store},
			Store:    job.store,
			Currency: r.Header.Get("Content-Currency"),
			Identity: identityKey(r),
		},
		Doer: h.upstream(r, next),
		Body: body,
	})
	if err != nil {
		metrics.merchFailures.Inc()
		if h.merchWarn.allow() {
			h.logger.Warn("merchandising not applied; the backend's lists and blocks are sent", zap.Error(err))
		}
		return body
	}
	job.personal = res.Changed
	for _, id := range res.Rules {
		h.state.merchHits.Add(id)
		metrics.merchandised.WithLabelValues(id).Inc()
	}
	return out
}

// identityKey stands for whom the backend answers a lookup: products read with one
// customer's token (their group's prices) are not shown to anyone else. Guests share "".
func identityKey(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(auth))
	return hex.EncodeToString(sum[:12])
}
