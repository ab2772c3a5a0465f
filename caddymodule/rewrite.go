package caddymodule

import (
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/gqlhttp"
	"github.com/caddy-audiences/caddy-audiences/internal/membership"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// rewriteJob is what one request needs to rewrite its response: the plan of its operation,
// its variables and how to evaluate the rules for this shopper.
type rewriteJob struct {
	plan      *cartql.Plan
	variables map[string]any
	ruleSet   *rules.RuleSet
	segments  []string
	store     string
	at        time.Time
}

// prepareRewrite decides whether the response to r may need rewriting and, if so, sends the
// augmented operation upstream. It returns nil for everything that must pass untouched.
func (h *Handler) prepareRewrite(r *http.Request, m membership.Membership) *rewriteJob {
	rs := h.ruleSet()
	if rs == nil || rs.Len() == 0 || r.URL.Path != h.GraphQLPath {
		return nil
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil // HEAD and the rest pass through
	}
	if r.Header.Get("Upgrade") != "" {
		return nil
	}
	req, err := gqlhttp.Read(r, h.MaxBody)
	if err != nil {
		if !errors.Is(err, gqlhttp.ErrNotGraphQL) {
			h.debug("graphql request not rewritten", zap.Error(err))
		}
		return nil
	}
	plan, err := h.planner.Plan(req.Query, req.OperationName)
	if err != nil {
		h.debug("graphql operation not planned", zap.Error(err))
		return nil
	}
	if !plan.HasCart() {
		return nil
	}
	vars, err := req.DecodeVariables()
	if err != nil {
		h.debug("graphql variables unreadable", zap.Error(err))
		return nil
	}
	if err := req.Replace(r, plan.Query()); err != nil {
		h.logger.Warn("could not send the augmented operation; passing through", zap.Error(err))
		return nil
	}
	r.Header.Set("Accept-Encoding", "identity")
	return &rewriteJob{
		plan:      plan,
		variables: vars,
		ruleSet:   rs,
		segments:  m.Segments,
		store:     storeCode(r),
		at:        time.Now(),
	}
}

// rewrite returns the body to send to the client and whether it differs from upstream's.
// It fails open: on any problem the backend's body is returned without the hidden fields.
func (h *Handler) rewrite(job *rewriteJob, body []byte) ([]byte, bool) {
	eval := func(c *rules.Cart) *rules.Result {
		return job.ruleSet.EvaluateWith(c, job.segments, job.at, rules.EvalOptions{Trace: rules.TraceOff})
	}
	out, _, err := job.plan.Rewrite(body, job.variables, eval, cartql.RewriteOptions{
		Store:            job.store,
		TaxAfterDiscount: *h.TaxAfterDiscount,
		TaxRates:         h.taxRates,
	})
	if err == nil {
		return out, true
	}
	h.logger.Warn("cart response not rewritten; failing open", zap.Error(err))
	stripped, stripErr := job.plan.Strip(body)
	if stripErr != nil {
		h.logger.Warn("hidden fields not stripped; passing the backend body", zap.Error(stripErr))
		return body, false
	}
	return stripped, true
}

// serveRewrite runs next with the response held back, then rewrites and sends it. When next
// fails nothing is written, so Caddy's error handling answers as it would without us.
func (h *Handler) serveRewrite(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, job *rewriteJob) error {
	bw := newBufferWriter(w, int(h.MaxBody))
	before := w.Header().Clone()
	if err := serveAbortable(next, bw, r); err != nil {
		if !bw.sent() {
			// The upstream's headers describe a body that will not be sent.
			clear(w.Header())
			maps.Copy(w.Header(), before)
		}
		return err
	}
	if !bw.buffered() {
		return nil
	}
	body, changed := h.rewrite(job, bw.buf.Bytes())
	return bw.send(body, changed)
}

func (h *Handler) debug(msg string, fields ...zap.Field) {
	if ce := h.logger.Check(zapcore.DebugLevel, msg); ce != nil {
		ce.Write(fields...)
	}
}

// storeCode is the store view of r: its Store header, or Magento's default store view.
func storeCode(r *http.Request) string {
	if code := r.Header.Get("Store"); code != "" {
		return code
	}
	return DefaultStoreCode
}

// serveAbortable runs next. reverse_proxy aborts the connection (panics with
// http.ErrAbortHandler) when the upstream dies mid-body; while the response is still held
// back nothing has reached the client, so it becomes a clean 502 instead.
func serveAbortable(next caddyhttp.Handler, bw *bufferWriter, r *http.Request) (err error) {
	defer func() {
		rec := recover()
		if rec == nil {
			return
		}
		if rec != http.ErrAbortHandler || !bw.buffered() {
			panic(rec)
		}
		err = caddyhttp.Error(http.StatusBadGateway, errors.New("upstream response ended early"))
	}()
	return next.ServeHTTP(bw, r)
}
