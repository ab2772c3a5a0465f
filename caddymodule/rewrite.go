package caddymodule

import (
	"errors"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/holdback"
	"github.com/caddy-audiences/caddy-audiences/internal/magentopath"
	"github.com/caddy-audiences/caddy-audiences/internal/membership"
	"github.com/caddy-audiences/caddy-audiences/internal/trust"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// PreviewResponseHeader marks a response rewritten at a preview time.
const PreviewResponseHeader = "X-Audiences-Preview-Time"

// rewriteJob is one request whose answer is held back: its operation, the shopper it is
// priced for, the gate's session and what must not leave in the answer. It is built once,
// after membership is known.
type rewriteJob struct {
	op       *operation
	store    string
	segments []string
	ecid     string        // the shopper's ECID with trusted membership
	gate     *gate.Session // nil without enforced rules or without a plan
	guard    *holdback.Guard
	// acceptEncoding is what the client accepts; the upstream is asked for identity.
	acceptEncoding string
	results        []evaluation // one per cart evaluated
	// personal is true when merchandising made the answer this shopper's: no shared cache
	// may keep it for another.
	personal bool
	// out receives the rewritten answer; it goes back to outPool once the answer is sent.
	out *[]byte
}

// outPool holds the buffers rewritten answers are written into.
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// evaluation is one cart's rule result with the cart's currency.
type evaluation struct {
	currency string
	result   *rules.Result
}

// newJob prepares the request for the upstream: the augmented query when the operation has
// carts, an identity-encoded answer. Without gates a query that cannot be re-encoded passes
// through (job nil); with gates it is refused (answered).
func (h *Handler) newJob(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, op *operation, m membership.Membership, ecid string) (job *rewriteJob, answered bool) {
	hidden := op.plan != nil && (op.plan.HasCart() || op.merchandises())
	if hidden {
		plan := op.plan
		if err := op.req.Replace(r, plan.Query(), func() string { return h.plans.escaped(plan) }); err != nil {
			if op.gates != nil {
				h.refuse(w, http.StatusBadRequest, "unreadable", gate.MsgUnreadable, err)
				return nil, true
			}
			h.logger.Warn("could not send the augmented operation; passing through", zap.Error(err))
			return nil, false
		}
	}
	job = &rewriteJob{op: op, store: storeCode(r), segments: m.Segments, ecid: ecid, guard: newGuard(hidden, op.gates)}
	job.acceptEncoding = identityUpstream(r)
	switch {
	case op.gates == nil:
	case op.plan != nil:
		job.gate = h.gateSession(job, h.gateUpstream(r, next))
	case op.luma != nil && op.luma.Kind == magentopath.RESTCart:
		job.gate = h.lumaSession(job, r, next, op.luma.Store, op.luma.Mine)
	}
	return job, false
}

// gateSession is the gate's session for the job's shopper, reaching Magento through up.
func (h *Handler) gateSession(job *rewriteJob, up gate.Upstream) *gate.Session {
	return &gate.Session{Rules: job.op.gates, Options: h.gateOptions, Up: up, Segments: job.segments, At: job.op.at}
}

// revokeAudiences prices the rest of the request for a member of nothing.
func (job *rewriteJob) revokeAudiences() {
	job.segments = nil
	if job.gate != nil {
		job.gate.Segments = nil
	}
}

// newGuard says what an answer must be kept free of: hidden fields when the request carried
// them, gate codes when gates are in force; nil for neither.
func newGuard(hidden bool, gates *gate.Rules) *holdback.Guard {
	if !hidden && gates == nil {
		return nil
	}
	g := &holdback.Guard{}
	if hidden {
		g.Hidden = cartql.HiddenPrefix
	}
	if gates != nil {
		g.Secrets = gates.Secrets()
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

// serveHeld runs next with the answer held back, then brings it in line and sends it: the
// gate's sync, the rewrite, the scrub of gate codes. When next fails nothing is written, so
// Caddy's error handling answers as it would without us.
func (h *Handler) serveHeld(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, job *rewriteJob) error {
	bw := holdback.NewWriter(w, int(h.MaxBody), job.guard, func(how string) { metrics.unsafeAnswers.WithLabelValues(how).Inc() })
	defer bw.Release()
	bw.HoldHTML = job.op.luma != nil && job.op.luma.Kind != magentopath.RESTCart
	before := w.Header().Clone()
	if err := serveAbortable(next, bw, r); err != nil {
		if !bw.Sent() {
			// The upstream's headers describe a body that will not be sent.
			clear(w.Header())
			maps.Copy(w.Header(), before)
		}
		return err
	}
	if err := bw.Finish(); err != nil {
		return err
	}
	if bw.TooLarge() {
		h.logger.Warn("backend answer encoded and over max_body; the client gets an error")
		return bw.Unsafe()
	}
	plan := job.op.plan
	if !bw.Buffered() {
		if plan != nil && plan.HasCart() {
			if bw.Overflowed() {
				metrics.rewritesByOutcome.with(outcomeTooLarge).Inc()
			} else {
				metrics.rewritesByOutcome.with(outcomePassthrough).Inc()
			}
		}
		return nil
	}
	body, done, err := bw.Held()
	if done {
		return err
	}
	var lead, tail []byte
	if !bw.HoldHTML {
		if lead, body, tail = holdback.SplitEnvelope(body); lead != nil || tail != nil {
			metrics.unsafeAnswers.WithLabelValues("envelope").Inc()
		}
	}
	start := time.Now()
	outcome := ""
	defer job.releaseOut() // after the answer written into it is sent
	defer job.releaseResults()
	if plan != nil {
		body = h.merchandise(job, r, next, body)
		body, outcome = h.processCarts(job, body)
	}
	// The plan's rewrite leaves no hidden member (cartql's invariant, fuzzed there); what
	// edits the answer after it is searched again.
	clean := outcome == outcomeRewritten || outcome == outcomeUnchanged
	switch {
	case job.op.luma != nil:
		body, clean = h.lumaAnswer(bw, r, next, job, body), false
	case job.op.gates != nil:
		body, clean = job.op.gates.Scrub(body), false
	}
	body = holdback.JoinEnvelope(lead, body, tail, job.guard, clean)
	if job.personal {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	elapsed := time.Since(start)
	if outcome != "" {
		h.record(job, outcome, elapsed)
	}
	if outcome == outcomeRewritten {
		if *h.ServerTiming {
			w.Header().Add("Server-Timing", "audiences;dur="+strconv.FormatFloat(float64(elapsed.Microseconds())/1000, 'f', 3, 64))
		}
		if job.op.preview {
			w.Header().Set(PreviewResponseHeader, job.op.at.Format(time.RFC3339))
		}
	}
	return bw.Send(body, job.acceptEncoding)
}

// processCarts runs the cart pins, the gate's sync and the rewrite on a held-back answer.
func (h *Handler) processCarts(job *rewriteJob, body []byte) ([]byte, string) {
	plan, vars := job.op.plan, job.op.variables
	outcome := ""
	switch {
	case plan.HasCart():
		// The pins and the gate read the carts before the rewrite: the answer is indexed
		// once for all three (an answer that cannot be read fails each as it would alone).
		ix := plan.Index(body)
		defer func() { ix.Release() }()
		h.checkPins(job, ix)
		if job.gate != nil {
			synced, err := job.gate.SyncAnswer(gate.Answer{Plan: plan, Variables: vars, Store: job.store, Body: body, Indexed: ix})
			switch {
			case err != nil:
				h.logger.Warn("gate: answering with the cart as the backend first returned it", zap.Error(err))
			case !sameBytes(synced, body):
				ix.Release() // the sync changed the answer: index the new one
				body, ix = synced, plan.Index(synced)
			}
		}
		body, outcome = h.rewrite(job, body, ix)
	case job.op.merchandises():
		body = h.stripOrSanitize(job, body)
	}
	if job.gate != nil && plan.PlacesOrder() {
		job.gate.OrderAnswered(plan.OrderCartIDs(vars), body)
	}
	return body, outcome
}

// rewrite returns the body to send to the client and its outcome. It fails open: on any
// problem the backend's body is returned without the hidden fields.
func (h *Handler) rewrite(job *rewriteJob, body []byte, ix *cartql.Indexed) (out []byte, outcome string) {
	defer func() {
		// A bug must not cost the shopper the page: answer with the backend's body.
		if rec := recover(); rec != nil {
			h.logger.Error("cart rewrite panicked; failing open", zap.Any("panic", rec), zap.Stack("stack"))
			out, outcome = body, outcomeFailedOpen
		}
	}()
	eval := func(c *rules.Cart) *rules.Result {
		res := job.op.rules.EvaluateWith(c, job.segments, job.op.at, rules.EvalOptions{Trace: rules.TraceOff, Into: resultPool.Get().(*rules.Result)})
		job.results = append(job.results, evaluation{currency: c.Currency, result: res})
		return res
	}
	job.out = outPool.Get().(*[]byte)
	opt := cartql.RewriteOptions{
		Buffer:           (*job.out)[:0],
		Store:            job.store,
		TaxAfterDiscount: *h.TaxAfterDiscount,
		TaxRates:         h.taxRates,
		TaxCalculation:   rules.TaxCalculation(h.TaxCalculation),
	}
	rewritten, result, err := ix.Rewrite(job.op.variables, eval, opt)
	if err == nil {
		if result.Rewritten == 0 {
			return rewritten, outcomeUnchanged
		}
		return rewritten, outcomeRewritten
	}
	h.logger.Warn("cart response not rewritten; failing open", zap.Error(err))
	return h.stripOrSanitize(job, body), outcomeFailedOpen
}

// resultPool holds rule results whose request is done with them.
var resultPool = sync.Pool{New: func() any { return new(rules.Result) }}

// releaseResults returns the job's rule results to the pool, once recorded.
func (job *rewriteJob) releaseResults() {
	for i, ev := range job.results {
		if ev.result != nil {
			resultPool.Put(ev.result)
		}
		job.results[i] = evaluation{}
	}
	job.results = job.results[:0]
}

// releaseOut returns the output buffer to the pool, once the answer written into it is sent.
// Buffers that grew past 1 MiB are left to the garbage collector.
func (job *rewriteJob) releaseOut() {
	if job.out != nil && cap(*job.out) <= 1<<20 {
		outPool.Put(job.out)
	}
	job.out = nil
}

// stripOrSanitize is the fail-open answer: the backend's body without the hidden fields, by
// the plan where it can read the body, by the sanitizer where it cannot.
func (h *Handler) stripOrSanitize(job *rewriteJob, body []byte) []byte {
	stripped, err := job.op.plan.Strip(body)
	if err != nil {
		h.logger.Warn("hidden fields not stripped by the plan; sanitizing the backend body", zap.Error(err))
		return holdback.Sanitize(body, job.guard)
	}
	return stripped
}

// record counts a rewrite in the metrics and logs it at debug level.
func (h *Handler) record(job *rewriteJob, outcome string, elapsed time.Duration) {
	metrics.rewritesByOutcome.with(outcome).Inc()
	metrics.rewriteDuration.Observe(elapsed.Seconds())
	if outcome != outcomeRewritten {
		return
	}
	ce := h.logger.Check(zapcore.DebugLevel, "cart response rewritten")
	var applied []string // for the debug line only
	for _, ev := range job.results {
		res := ev.result
		if res == nil {
			continue
		}
		for _, d := range res.Applied { // once per rule, shipping-only shares included
			metrics.applicationsByRule.with(d.RuleID).Inc()
			if ce != nil {
				applied = append(applied, d.RuleID)
			}
		}
		if f, ok := res.TotalDiscount.Float64(); ok && f > 0 {
			metrics.discountByCurrency.with(currencyLabel(ev.currency)).Add(f)
		}
	}
	if ce != nil {
		ce.Write(zap.Strings("rules", applied), zap.Duration("duration", elapsed), zap.Int("carts", len(job.results)))
	}
}

// serveAbortable runs next. reverse_proxy aborts the connection (panics with
// http.ErrAbortHandler) when the upstream dies mid-body; while the response is still held
// back nothing has reached the client, so it becomes a clean 502 instead.
func serveAbortable(next caddyhttp.Handler, bw *holdback.Writer, r *http.Request) (err error) {
	defer func() {
		rec := recover()
		if rec == nil {
			return
		}
		if rec != http.ErrAbortHandler || !bw.Buffered() {
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

// pinsApply reports whether cart pins are checked for the job: with pins and a trusted ECID.
func (h *Handler) pinsApply(job *rewriteJob) bool { return h.pins != nil && job.ecid != "" }

// sameBytes reports whether a and b are the same slice of memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// checkPins prices a cart only for the ECID first seen with it: when any cart of the answer
// belongs to another shopper's identity, this request gets no audience.
func (h *Handler) checkPins(job *rewriteJob, ix *cartql.Indexed) {
	if !h.pinsApply(job) {
		return
	}
	snaps, err := ix.Snapshots(cartql.RewriteOptions{Store: job.store})
	if err != nil {
		return
	}
	for _, snap := range snaps {
		if !h.pins.Allow(snap.CartID, job.ecid) {
			revokeForPin(job)
			return
		}
	}
}

// revokeForPin counts a cart pinned to another identity and prices the request for nobody.
func revokeForPin(job *rewriteJob) {
	metrics.signatureRejections.WithLabelValues(trust.RejectCartPin).Inc()
	job.revokeAudiences()
}
