package caddymodule

import (
	"errors"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/gqlhttp"
	"github.com/caddy-audiences/caddy-audiences/internal/magentopath"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// PreviewResponseHeader marks a response rewritten at a preview time.
const PreviewResponseHeader = "X-Audiences-Preview-Time"

// rewriteJob is what one request needs to rewrite its response: the plan of its operation,
// its variables and how to evaluate the rules for this shopper.
type rewriteJob struct {
	plan      *cartql.Plan
	variables map[string]any
	ruleSet   *rules.RuleSet
	segments  []string
	store     string
	at        time.Time
	preview   bool
	results   []evaluation // one per cart evaluated
	gate      *gateJob     // nil when no rule is enforced by a coupon
	ecid      string       // the shopper's ECID with trusted membership
	// guard says what must not leave in the answer; acceptEncoding is what the client
	// accepts (the upstream is asked for identity).
	guard          *responseGuard
	acceptEncoding string
	cutOnly        bool // the answer is not GraphQL: gate codes are cut, not scrubbed
}

// evaluation is one cart's rule result with the cart's currency.
type evaluation struct {
	currency string
	result   *rules.Result
}

// prepareRewrite decides whether the response to r may need rewriting and, if so, sends the
// augmented operation upstream. It returns nil for everything that must pass untouched.
// With gate rules in force a request is read exactly as Magento reads it, or refused: then
// answered is true and w has the answer.
func (h *Handler) prepareRewrite(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) (job *rewriteJob, answered bool) {
	at, preview := h.evaluationTime(r)
	rs := h.ruleSet()
	if rs == nil || rs.Len() == 0 {
		return nil, false
	}
	gates := h.state.gates.get(rs, h.logger)
	if r.URL.Path != h.GraphQLPath {
		if gates == nil {
			return nil, false
		}
		if h.checkRoute(w, r, gates) {
			return nil, true
		}
		if magentopath.Match(r.URL.EscapedPath()).Kind == magentopath.RESTCart {
			job := h.guardOnly(r, gates)
			job.cutOnly = true // REST: not GraphQL-shaped; codes are cut wherever they are
			return job, false
		}
		return nil, false
	}
	if r.Header.Get("Upgrade") != "" {
		return nil, false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		if gates != nil && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			h.refuse(w, http.StatusBadRequest, "method", msgUnreadable, errors.New(r.Method))
			return nil, true
		}
		return nil, false // HEAD, OPTIONS and the rest pass through
	}
	req, err := h.readOperation(r, gates)
	var ref *gqlhttp.Refusal
	switch {
	case errors.As(err, &ref):
		h.refuseRead(w, ref)
		return nil, true
	case err != nil:
		return nil, false
	}
	plan, err := h.plans.plan(req)
	if err == nil && gates != nil && plan.Reserved() {
		h.refuse(w, http.StatusBadRequest, "reserved", msgUnreadable, errors.New("the query uses the sidecar's reserved prefix "+cartql.HiddenPrefix))
		return nil, true
	}
	if err != nil {
		if gates != nil {
			h.refuse(w, http.StatusBadRequest, "unparsable", msgUnreadable, err)
			return nil, true
		}
		h.debug("graphql operation not planned", zap.Error(err))
		return nil, false
	}
	if !plan.HasCart() && gates == nil {
		return nil, false
	}
	vars, err := req.DecodeVariables()
	if err != nil {
		if gates != nil {
			h.refuse(w, http.StatusBadRequest, "unreadable", msgUnreadable, err)
			return nil, true
		}
		h.debug("graphql variables unreadable", zap.Error(err))
		return nil, false
	}
	if plan.HasCart() {
		if err := req.Replace(r, plan.Query(), func() string { return h.plans.escaped(plan) }); err != nil {
			if gates != nil {
				h.refuse(w, http.StatusBadRequest, "unreadable", msgUnreadable, err)
				return nil, true
			}
			h.logger.Warn("could not send the augmented operation; passing through", zap.Error(err))
			return nil, false
		}
	}
	job = &rewriteJob{
		plan:      plan,
		variables: vars,
		ruleSet:   rs,
		store:     storeCode(r),
		at:        at,
		preview:   preview,
		guard:     newGuard(plan.HasCart(), gates),
	}
	job.acceptEncoding = identityUpstream(r)
	if gates != nil {
		job.gate = &gateJob{rules: gates, at: at, up: upstream{path: h.GraphQLPath, r: r, next: next}}
	}
	return job, false
}

// readOperation reads the GraphQL operation of r. With gates it reads as Magento does or
// refuses (a *gqlhttp.Refusal), and every operation is planned: the plan cache keeps the
// analysis of those without carts too.
func (h *Handler) readOperation(r *http.Request, gates *gateRules) (*gqlhttp.Request, error) {
	if gates == nil {
		req, err := gqlhttp.Read(r, h.MaxBody, h.plans.planner.Mentions)
		if err != nil && !errors.Is(err, gqlhttp.ErrNotGraphQL) {
			h.debug("graphql request not rewritten", zap.Error(err))
		}
		return req, err
	}
	return gqlhttp.ReadStrict(r, h.MaxBody)
}

// guardOnly is the job of a request whose answer only has to be kept free of gate codes.
func (h *Handler) guardOnly(r *http.Request, gates *gateRules) *rewriteJob {
	job := &rewriteJob{guard: newGuard(false, gates), gate: &gateJob{rules: gates}}
	job.acceptEncoding = identityUpstream(r)
	return job
}

// newGuard says what an answer must be kept free of: hidden fields when the request carried
// them, gate codes when gates are in force; nil for neither.
func newGuard(hidden bool, gates *gateRules) *responseGuard {
	if !hidden && gates == nil {
		return nil
	}
	g := &responseGuard{}
	if hidden {
		g.hidden = cartql.HiddenPrefix
	}
	if gates != nil {
		g.secrets = gates.secrets
	}
	return g
}

// identityUpstream asks the upstream for an identity-encoded answer and returns what the
// client accepts.
func identityUpstream(r *http.Request) string {
	ae := r.Header.Get("Accept-Encoding")
	r.Header.Set("Accept-Encoding", "identity")
	return ae
}

// setShopper gives the job the shopper's segment set, once membership is known.
func (job *rewriteJob) setShopper(segments []string) {
	job.segments = segments
	if job.gate != nil {
		job.gate.segments = segments
	}
}

// gateBefore runs the gate's checks that come before the request is forwarded: a shopper
// typing a gate code, and an order about to be placed. It reports false when it answered.
func (h *Handler) gateBefore(w http.ResponseWriter, job *rewriteJob) bool {
	if h.refuseTypedCode(w, job) {
		return false
	}
	h.makeRoomForShopperCoupon(job)
	if job.plan.PlacesOrder() {
		return h.checkOrder(w, job)
	}
	return true
}

// evaluationTime is now, or the preview time a staging request asks for. The preview header
// never reaches the backend.
func (h *Handler) evaluationTime(r *http.Request) (time.Time, bool) {
	r.Header.Del(PreviewResponseHeader)
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

// rewrite returns the body to send to the client and its outcome. It fails open: on any
// problem the backend's body is returned without the hidden fields.
func (h *Handler) rewrite(job *rewriteJob, body []byte) (out []byte, outcome string) {
	defer func() {
		// A bug must not cost the shopper the page: answer with the backend's body.
		if rec := recover(); rec != nil {
			h.logger.Error("cart rewrite panicked; failing open", zap.Any("panic", rec), zap.Stack("stack"))
			out, outcome = body, outcomeFailedOpen
		}
	}()
	eval := func(c *rules.Cart) *rules.Result {
		res := job.ruleSet.EvaluateWith(c, job.segments, job.at, rules.EvalOptions{Trace: rules.TraceOff})
		job.results = append(job.results, evaluation{currency: c.Currency, result: res})
		return res
	}
	rewritten, result, err := job.plan.Rewrite(body, job.variables, eval, cartql.RewriteOptions{
		Store:            job.store,
		TaxAfterDiscount: *h.TaxAfterDiscount,
		TaxRates:         h.taxRates,
		TaxCalculation:   rules.TaxCalculation(h.TaxCalculation),
	})
	if err == nil {
		if result.Rewritten == 0 {
			return rewritten, outcomeUnchanged
		}
		return rewritten, outcomeRewritten
	}
	h.logger.Warn("cart response not rewritten; failing open", zap.Error(err))
	return h.stripOrRaw(job, body), outcomeFailedOpen
}

// stripOrRaw is the fail-open answer: the backend's body without the hidden fields, by the
// plan where it can read the body, by the sanitizer where it cannot.
func (h *Handler) stripOrRaw(job *rewriteJob, body []byte) []byte {
	stripped, err := job.plan.Strip(body)
	if err != nil {
		h.logger.Warn("hidden fields not stripped by the plan; sanitizing the backend body", zap.Error(err))
		return sanitizeBytes(body, job.guard)
	}
	return stripped
}

// serveRewrite runs next with the response held back, then rewrites and sends it. When next
// fails nothing is written, so Caddy's error handling answers as it would without us.
func (h *Handler) serveRewrite(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, job *rewriteJob) error {
	bw := newBufferWriter(w, int(h.MaxBody), job.guard)
	defer bw.release()
	before := w.Header().Clone()
	if err := serveAbortable(next, bw, r); err != nil {
		if !bw.sent() {
			// The upstream's headers describe a body that will not be sent.
			clear(w.Header())
			maps.Copy(w.Header(), before)
		}
		return err
	}
	if err := bw.finish(); err != nil {
		return err
	}
	if bw.tooLarge {
		return h.unsafeAnswer(bw, errors.New("encoded answer over max_body"))
	}
	if !bw.buffered() {
		if job.plan != nil && job.plan.HasCart() {
			if bw.overflowed {
				metrics.rewrites.WithLabelValues(outcomeTooLarge).Inc()
			} else {
				metrics.rewrites.WithLabelValues(outcomePassthrough).Inc()
			}
		}
		return nil
	}
	body, done, err := h.heldBody(bw)
	if done {
		return err
	}
	lead, body, tail := splitEnvelope(body)
	start := time.Now()
	outcome := ""
	if job.plan != nil {
		body, outcome = h.processCarts(job, body)
	}
	switch {
	case job.cutOnly:
		body = sanitizeBytes(body, job.guard)
	case job.gate != nil:
		body = h.scrub(job.gate.rules, body)
	}
	body = joinEnvelope(lead, body, tail, job.guard)
	elapsed := time.Since(start)
	if outcome != "" {
		h.record(job, outcome, elapsed)
	}
	if outcome == outcomeRewritten {
		if *h.ServerTiming {
			w.Header().Add("Server-Timing", "audiences;dur="+strconv.FormatFloat(float64(elapsed.Microseconds())/1000, 'f', 3, 64))
		}
		if job.preview {
			w.Header().Set(PreviewResponseHeader, job.at.Format(time.RFC3339))
		}
	}
	return sendAccepted(bw, body, job.acceptEncoding)
}

// processCarts runs the gate's sync and the rewrite on a held-back GraphQL answer.
func (h *Handler) processCarts(job *rewriteJob, body []byte) ([]byte, string) {
	h.checkPins(job, body)
	if job.gate != nil && job.plan.HasCart() {
		synced, err := h.syncResponse(job, body)
		if err != nil {
			h.logger.Warn("gate: answering with the cart as the backend first returned it", zap.Error(err))
		} else {
			body = synced
		}
	}
	outcome := ""
	if job.plan.HasCart() {
		body, outcome = h.rewrite(job, body)
	}
	if job.gate != nil && job.plan.PlacesOrder() {
		h.notePoolRefusal(job, body)
	}
	return body, outcome
}

// record counts a rewrite in the metrics and logs it at debug level.
func (h *Handler) record(job *rewriteJob, outcome string, elapsed time.Duration) {
	metrics.rewrites.WithLabelValues(outcome).Inc()
	metrics.rewriteDuration.Observe(elapsed.Seconds())
	if outcome != outcomeRewritten {
		return
	}
	var applied []string
	for _, ev := range job.results {
		res := ev.result
		if res == nil {
			continue
		}
		for _, d := range res.Applied { // once per rule, shipping-only shares included
			metrics.ruleApplications.WithLabelValues(d.RuleID).Inc()
			applied = append(applied, d.RuleID)
		}
		if f, ok := res.TotalDiscount.Float64(); ok && f > 0 {
			metrics.discountAmount.WithLabelValues(currencyLabel(ev.currency)).Add(f)
		}
	}
	if ce := h.logger.Check(zapcore.DebugLevel, "cart response rewritten"); ce != nil {
		ce.Write(zap.Strings("rules", applied), zap.Duration("duration", elapsed), zap.Int("carts", len(job.results)))
	}
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

// checkPins prices a cart only for the ECID first seen with it: when any cart of the answer
// belongs to another shopper's identity, this request gets no audience.
func (h *Handler) checkPins(job *rewriteJob, body []byte) {
	if h.trust == nil || job.ecid == "" || !job.plan.HasCart() {
		return
	}
	snaps, err := job.plan.Snapshots(body, cartql.RewriteOptions{Store: job.store})
	if err != nil {
		return
	}
	for _, snap := range snaps {
		if !h.trust.pinned(snap.CartID, job.ecid) {
			metrics.signatureRejections.WithLabelValues("cart_pin").Inc()
			job.setShopper(nil)
			return
		}
	}
}
