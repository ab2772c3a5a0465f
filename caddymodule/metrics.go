package caddymodule

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/caddy-audiences/caddy-audiences/internal/membership"
)

// metrics are created once and registered into Caddy's registry on every Provision, so they
// keep counting across config reloads. Labels are low-cardinality: rule ids come from the
// operator's rule file, currencies are checked to be ISO codes.
var metrics metricsSet

// metricsSet holds the collectors.
type metricsSet struct {
	once                sync.Once
	requests            *prometheus.CounterVec
	rewrites            *prometheus.CounterVec
	ruleApplications    *prometheus.CounterVec
	discountAmount      *prometheus.CounterVec
	rewriteDuration     prometheus.Histogram
	rulesLoaded         *prometheus.GaugeVec
	reloadErrors        *prometheus.CounterVec
	invalidSegments     prometheus.Counter
	truncatedRequests   prometheus.Counter
	gate                *prometheus.CounterVec
	edgeLookups         *prometheus.CounterVec
	edgeLatency         prometheus.Histogram
	signatureRejections *prometheus.CounterVec
	refusals            *prometheus.CounterVec
	unsafeAnswers       *prometheus.CounterVec
	merchandised        *prometheus.CounterVec
	merchFailures       prometheus.Counter
	collectorsInternal  []prometheus.Collector
	// The per-request counters, resolved once per label value.
	requestsByOrigin, rewritesByOutcome, applicationsByRule, discountByCurrency children
}

// requestsBy returns the request counter of one membership origin.
func (m *metricsSet) requestsBy(origin membership.Origin) prometheus.Counter {
	return m.requestsByOrigin.with(string(origin))
}

// children resolves the children of a one-label CounterVec once per label value, so that
// counting a request takes no lock: the vec's own lookup hashes the value and takes a read
// lock every request shares. The values are the vec's own, bounded as its labels are.
type children struct {
	vec *prometheus.CounterVec
	m   sync.Map // label value → prometheus.Counter
}

func (c *children) with(value string) prometheus.Counter {
	if v, ok := c.m.Load(value); ok {
		return v.(prometheus.Counter)
	}
	v, _ := c.m.LoadOrStore(value, c.vec.WithLabelValues(value))
	return v.(prometheus.Counter)
}

// Rewrite outcomes, the values of the outcome label.
const (
	outcomeRewritten   = "rewritten"
	outcomeUnchanged   = "unchanged"
	outcomePassthrough = "passthrough"
	outcomeTooLarge    = "too_large"
	outcomeFailedOpen  = "failed_open"
)

func initMetrics() {
	const ns, sub = "caddy", "audiences"
	metrics.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "requests_total",
		Help: "Requests seen by the audiences handler, by where membership came from.",
	}, []string{"membership"})
	metrics.rewrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "rewrites_total",
		Help: "Cart responses handled, by outcome.",
	}, []string{"outcome"})
	metrics.ruleApplications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "rule_applications_total",
		Help: "Carts an audience rule gave a discount to.",
	}, []string{"rule"})
	metrics.discountAmount = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "discount_amount_total",
		Help: "Audience discount written into cart responses, in currency units.",
	}, []string{"currency"})
	metrics.requestsByOrigin.vec, metrics.rewritesByOutcome.vec = metrics.requests, metrics.rewrites
	metrics.applicationsByRule.vec, metrics.discountByCurrency.vec = metrics.ruleApplications, metrics.discountAmount
	metrics.rewriteDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Subsystem: sub, Name: "rewrite_duration_seconds",
		Help:    "Time spent evaluating rules and rewriting one cart response.",
		Buckets: []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05},
	})
	metrics.rulesLoaded = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "rules_loaded",
		Help: "Rules in the rule set in force, per handler.",
	}, []string{"handler"})
	metrics.reloadErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "reload_errors_total",
		Help: "Failed loads of rules or audiences (each distinct error once), per handler.",
	}, []string{"handler"})
	metrics.invalidSegments = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "invalid_segments_total",
		Help: "Segment IDs dropped because they did not match the ID pattern.",
	})
	metrics.truncatedRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "truncated_membership_total",
		Help: "Requests whose membership was over the caps.",
	})
	metrics.gate = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "gate_total",
		Help: "Coupon gate actions: applied, removed, failed, refused_order, refused_code.",
	}, []string{"action"})
	metrics.edgeLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "edge_lookups_total",
		Help: "Edge Network audience lookups, by outcome (hit, miss, coalesced, error kinds).",
	}, []string{"outcome"})
	metrics.edgeLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Subsystem: sub, Name: "edge_lookup_duration_seconds",
		Help:    "Time to answer an Edge Network audience lookup, cache hits included.",
		Buckets: []float64{0.00001, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1},
	})
	metrics.signatureRejections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "membership_rejections_total",
		Help: "Signed membership cookies ignored, and carts refused to another identity, by reason.",
	}, []string{"reason"})
	metrics.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "refused_requests_total",
		Help: "Requests the coupon gate refused without forwarding them, by reason.",
	}, []string{"reason"})
	metrics.unsafeAnswers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "sanitized_answers_total",
		Help: "Backend answers made safe outside the rewrite (streamed, decoded, or with text around the JSON), and those that could not be (unsafe).",
	}, []string{"how"})
	metrics.merchandised = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "merchandised_answers_total",
		Help: "Answers whose product lists or blocks a merchandising rule changed, by rule.",
	}, []string{"rule"})
	metrics.merchFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "merchandising_failures_total",
		Help: "Answers sent with the backend's lists and blocks because merchandising failed.",
	})
	metrics.collectorsInternal = []prometheus.Collector{
		metrics.merchandised, metrics.merchFailures,
		metrics.refusals, metrics.unsafeAnswers,
		metrics.edgeLookups, metrics.edgeLatency, metrics.signatureRejections,
		metrics.gate,
		metrics.requests, metrics.rewrites, metrics.ruleApplications, metrics.discountAmount,
		metrics.rewriteDuration, metrics.rulesLoaded, metrics.reloadErrors,
		metrics.invalidSegments, metrics.truncatedRequests,
	}
}

// registerMetrics creates the collectors once and registers them into registry.
func registerMetrics(registry prometheus.Registerer) error {
	metrics.once.Do(initMetrics)
	if registry == nil {
		return nil
	}
	for _, c := range metrics.collectorsInternal {
		if err := registry.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}

// currencyLabel keeps the currency label to ISO-4217-shaped codes.
func currencyLabel(code string) string {
	if len(code) != 3 {
		return "other"
	}
	for i := 0; i < 3; i++ {
		if code[i] < 'A' || code[i] > 'Z' {
			return "other"
		}
	}
	return code
}
