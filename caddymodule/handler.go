// Package caddymodule is the Caddy glue of caddy-audiences: the http.handlers.audiences
// middleware (the request pipeline, its response writer and the adapters that let the coupon
// gate reach the backend through the handler chain), its Caddyfile directive, the
// admin.api.audiences module and dashboard, the metrics and the `caddy audiences` commands.
// The work itself lives in internal/: membership, trust, gate, cartql, sanitize, rules.
package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/govalues/decimal"

	"github.com/caddy-audiences/caddy-audiences/internal/fleet"
	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/membership"
	"github.com/caddy-audiences/caddy-audiences/internal/sources"
	"github.com/caddy-audiences/caddy-audiences/internal/trust"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Defaults of the handler's options.
const (
	// DefaultUpstreamHeader is the request header the normalized membership is forwarded in.
	DefaultUpstreamHeader = "X-Audience-Segments"
	DefaultGraphQLPath    = "/graphql"
	DefaultMaxBody        = 4 << 20
	// DefaultPlanCacheSize bounds the distinct GraphQL operations whose analysis is kept; a
	// storefront sends a few dozen distinct cart operations.
	DefaultPlanCacheSize = 128
	// DefaultStoreCode is the store view assumed when a request has no Store header.
	DefaultStoreCode = "default"
	// DefaultName is the handler name when none is configured.
	DefaultName = "default"
)

// Placeholders set on every request for logs and later handlers.
const (
	PlaceholderSegments = "http.audiences.segments"
	PlaceholderCount    = "http.audiences.count"
)

// Handler reads a shopper's Adobe Experience Platform audience membership (the
// aep-segments-membership header or cookie, or trusted sources), forwards it to the backend
// as one normalized request header, rewrites Magento GraphQL cart answers so audience rules
// show as discounts, and — for enforced rules — keeps a secret Magento coupon on qualifying
// carts (the coupon gate), refusing every request it could read differently from Magento.
type Handler struct {
	// Source says where membership is read from: header_then_cookie (default: the header
	// wins when both are present), header, cookie, or union.
	Source string `json:"source,omitempty"`

	// HonorDNT treats a shopper with Magento's mg_dnt cookie as a member of nothing and
	// forwards no membership. Default: true.
	HonorDNT *bool `json:"honor_dnt,omitempty"`

	// UpstreamHeader is the request header that carries the normalized, comma-separated,
	// sorted segment IDs to the backend. Any copy sent by the client is always removed.
	// Default: X-Audience-Segments.
	UpstreamHeader string `json:"upstream_header,omitempty"`

	// StripInbound also removes the raw aep-segments-membership header and cookie before
	// the request is proxied.
	StripInbound bool `json:"strip_inbound,omitempty"`

	// MaxSegments caps how many segment IDs are read per request; the rest is ignored.
	// Default: 256.
	MaxSegments int `json:"max_segments,omitempty"`

	// MaxBytes caps how many raw bytes of each membership value are read; the rest is
	// ignored. Default: 8192.
	MaxBytes int `json:"max_bytes,omitempty"`

	// Name identifies this handler in the admin API, logs and metrics; give each website's
	// handler its own. Default: "default".
	Name string `json:"name,omitempty"`

	// Rules is the audience cart price rule file (see rules.schema.json): a file path,
	// re-read when it changes, or an http(s) URL, polled with If-None-Match. Without rules,
	// responses are never rewritten.
	Rules string `json:"rules,omitempty"`

	// RulesJSON is the rule file inline, for JSON configs; used when Rules is empty.
	RulesJSON json.RawMessage `json:"rules_json,omitempty"`

	// Audiences is the audience catalog ({"audiences": [...]}), a file path or URL like
	// Rules. With a catalog, membership IDs not in it are dropped.
	Audiences string `json:"audiences,omitempty"`

	// AudiencesJSON is the catalog inline; used when Audiences is empty.
	AudiencesJSON json.RawMessage `json:"audiences_json,omitempty"`

	// AudiencesAEP reads the catalog from Adobe Experience Platform instead: the audiences
	// activated to the store's destination dataflows. Until the first sync succeeds (the
	// Platform may be down when Caddy starts) no membership ID is dropped for being unknown.
	AudiencesAEP *AEPConfig `json:"audiences_aep,omitempty"`

	// AllowUnknownAudiences keeps membership IDs that are not in the catalog.
	AllowUnknownAudiences bool `json:"allow_unknown_audiences,omitempty"`

	// ReloadInterval is how often rule and catalog sources are checked. Default: 5s.
	ReloadInterval caddy.Duration `json:"reload_interval,omitempty"`

	// PlanCacheSize is how many distinct GraphQL operations keep their analysis cached.
	// Default: 128.
	PlanCacheSize int `json:"plan_cache_size,omitempty"`

	// CandidateCacheSize is how many distinct segment sets keep their candidate rule list
	// cached. Default: 4096.
	CandidateCacheSize int `json:"candidate_cache_size,omitempty"`

	// PreviewTimeHeader names a request header whose RFC 3339 time rules are evaluated at,
	// so a merchandiser can click through next week's promotion. Staging only: anyone who
	// can send the header sees future prices. Off by default; the header is always removed
	// before proxying.
	PreviewTimeHeader string `json:"preview_time_header,omitempty"`

	// GatePolicy decides, in a single-coupon store, whether a shopper's own coupon
	// (shopper_wins, the default) or the audience's gate coupon (audience_wins) holds the slot.
	GatePolicy string `json:"gate_policy,omitempty"`

	// MultiCoupon uses Adobe Commerce's applyCouponsToCart/removeCouponsFromCart, so gate
	// coupons and the shopper's own coexist (the store must allow several coupons per order).
	MultiCoupon bool `json:"multi_coupon,omitempty"`

	// Trust says where membership may come from: client (the browser's
	// aep-segments-membership, default), signed (only the sidecar's own signed cookie) or edge
	// (the sidecar asks Adobe's Edge Network, then signs the answer into that cookie).
	Trust string `json:"trust,omitempty"`

	// OrgID is the Adobe IMS organization (such as 53A16ACB5CC1D3760A495C99@AdobeOrg); it
	// names the Web SDK identity cookie. Required with trust signed or edge.
	OrgID string `json:"org_id,omitempty"`

	// MembershipCookie is the sidecar's signed membership cookie. Default: aud_m.
	MembershipCookie string `json:"membership_cookie,omitempty"`

	// MembershipKeys sign and verify that cookie (base64 or hex, at least 32 bytes each; use
	// placeholders such as {env.AUD_KEY}). The first signs; all verify, for rotation.
	MembershipKeys []string `json:"membership_keys,omitempty"`

	// MembershipTTL is how long a signed membership is trusted. Default: 10m.
	MembershipTTL caddy.Duration `json:"membership_ttl,omitempty"`

	// Edge configures Edge Network lookups for trust edge.
	Edge *EdgeConfig `json:"edge,omitempty"`

	// CartPins bounds how many carts remember the ECID first seen with them. Default: 100000.
	// With shared_state the pins live in the storage and this bounds the local cache only.
	CartPins int `json:"cart_pins,omitempty"`

	// SharedState keeps what a fleet of sidecars behind one load balancer must agree on —
	// per-cart locks, pool code claims and assignments, cart pins — in the storage Caddy is
	// configured with (the storage global option; the file system by default), so that the
	// instances act as one. Off (default): in this process's memory.
	SharedState bool `json:"shared_state,omitempty"`

	// LockTimeout bounds how long a request waits for a cart's lock, or any other operation
	// on the shared storage, with shared_state; past it the cart is not brought in line (an
	// order is refused, a cart read answered with Magento's own price). Default: 5s.
	LockTimeout caddy.Duration `json:"lock_timeout,omitempty"`

	// ServerTiming adds "Server-Timing: audiences;dur=<ms>" to rewritten responses.
	// Default: true.
	ServerTiming *bool `json:"server_timing,omitempty"`

	// GraphQLPath is the request path of the store's GraphQL endpoint. Default: /graphql.
	GraphQLPath string `json:"graphql_path,omitempty"`

	// MaxBody is the largest GraphQL request or response body, in bytes, that is read for
	// rewriting; larger ones pass through untouched. Default: 4 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	// TaxAfterDiscount recomputes applied_taxes on the discounted amounts, as a store that
	// applies tax after discount does. Default: true.
	TaxAfterDiscount *bool `json:"tax_after_discount,omitempty"`

	// TaxRates are the store's tax rates in percent by applied_taxes label (for example
	// "US-CA-*-Rate 1": "8.25"), used to recompute tax exactly; a rate not listed is derived
	// from the backend's own tax and taxable amount.
	TaxRates map[string]string `json:"tax_rates,omitempty"`

	// TaxCalculation is the store's tax calculation method (Magento's Tax Calculation Method
	// Based On, tax/calculation/algorithm), used to recompute tax to the cent: total, row or
	// unit. Default: total, Magento's default.
	TaxCalculation string `json:"tax_calculation,omitempty"`

	// CartFields are extra fields that return a Cart, beyond Magento's own: "Query.x" or
	// "Mutation.x" for a root field returning a Cart, "Mutation.x.cart" for a mutation whose
	// output has a cart field.
	CartFields []string `json:"cart_fields,omitempty"`

	membership  membership.Config
	upstreamKey string // UpstreamHeader in canonical form, the key it is set under
	logger      *zap.Logger
	overCap     *logThrottle
	merchWarn   *logThrottle
	plans       *planCache
	state       *handlerState
	stateKey    stateKey
	taxRates    map[string]decimal.Decimal
	trust       *trust.Trust
	pins        *trust.Pins // nil with trust client
	gateOptions *gate.Options
	storage     certmagic.Storage // the shared storage with shared_state; tests set it
	fleet       *fleet.Store      // nil without shared_state
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.audiences",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision fills in defaults and prepares the handler.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.overCap = new(logThrottle)
	h.merchWarn = new(logThrottle)
	if h.Source == "" {
		h.Source = string(membership.SourceHeaderThenCookie)
	}
	if h.HonorDNT == nil {
		on := true
		h.HonorDNT = &on
	}
	if h.UpstreamHeader == "" {
		h.UpstreamHeader = DefaultUpstreamHeader
	}
	h.upstreamKey = http.CanonicalHeaderKey(h.UpstreamHeader)
	if h.MaxSegments == 0 {
		h.MaxSegments = membership.DefaultMaxSegments
	}
	if h.MaxBytes == 0 {
		h.MaxBytes = membership.DefaultMaxBytes
	}
	h.membership = membership.Config{
		Source:      membership.Source(h.Source),
		HonorDNT:    *h.HonorDNT,
		MaxSegments: h.MaxSegments,
		MaxBytes:    h.MaxBytes,
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := h.provisionRewrite(); err != nil {
		return err
	}
	if err := h.provisionStorage(ctx); err != nil {
		return err
	}
	if err := h.provisionState(); err != nil {
		return err
	}
	h.provisionFleet()
	h.gateOptions = h.newGateOptions()
	return h.provisionTrust()
}

// provisionState loads rules and catalog, or reuses them from before a config reload.
func (h *Handler) provisionState() error {
	if h.Name == "" {
		h.Name = DefaultName
	}
	if h.ReloadInterval == 0 {
		h.ReloadInterval = caddy.Duration(sources.DefaultInterval)
	}
	if h.CandidateCacheSize == 0 {
		h.CandidateCacheSize = rules.DefaultCacheSize
	}
	if h.ServerTiming == nil {
		on := true
		h.ServerTiming = &on
	}
	if h.GatePolicy == "" {
		h.GatePolicy = string(gate.ShopperWins)
	}
	cfg := stateConfig{
		name:           h.Name,
		rules:          h.Rules,
		rulesInline:    h.RulesJSON,
		audiences:      h.Audiences,
		audInline:      h.AudiencesJSON,
		aep:            h.AudiencesAEP,
		interval:       time.Duration(h.ReloadInterval),
		candidateCache: h.CandidateCacheSize,
		cartFields:     h.CartFields,
		planCacheSize:  h.PlanCacheSize,
		shared:         h.storageID(),
		logger:         h.logger,
	}
	state, err := loadState(cfg)
	if err != nil {
		return err
	}
	h.state, h.stateKey, h.plans = state, cfg.key(), state.plans
	var generation func() any
	if state.catalog != nil && !h.AllowUnknownAudiences {
		h.membership.Allow = func(id string) bool {
			cat := state.audienceCatalog()
			return cat == nil || cat.Has(id) // nil: a Platform catalog not read yet
		}
		generation = func() any { return state.audienceCatalog() }
	}
	// A shopper sends the same membership with every request: read each list once.
	h.membership.Memo = membership.NewMemo(generation)
	return nil
}

// Cleanup releases this config's hold on the shared state.
func (h *Handler) Cleanup() error {
	if h.state == nil {
		return nil
	}
	_, err := statePool.Delete(h.stateKey)
	return err
}

// provisionRewrite loads the rules and prepares the GraphQL planner.
func (h *Handler) provisionRewrite() error {
	if h.GraphQLPath == "" {
		h.GraphQLPath = DefaultGraphQLPath
	}
	if h.MaxBody == 0 {
		h.MaxBody = DefaultMaxBody
	}
	if h.TaxAfterDiscount == nil {
		on := true
		h.TaxAfterDiscount = &on
	}
	if h.TaxCalculation == "" {
		h.TaxCalculation = string(rules.TaxTotalBase)
	}
	rates, err := parseTaxRates(h.TaxRates)
	if err != nil {
		return err
	}
	h.taxRates = rates
	if h.PlanCacheSize == 0 {
		h.PlanCacheSize = DefaultPlanCacheSize
	}
	return nil
}

// ruleSet returns the rule set in force, or nil. A request loads it once and keeps it.
func (h *Handler) ruleSet() *rules.RuleSet {
	return h.state.ruleSet()
}

// parseTaxRates reads label → percent pairs.
func parseTaxRates(in map[string]string) (map[string]decimal.Decimal, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]decimal.Decimal, len(in))
	for label, v := range in {
		d, err := decimal.Parse(v)
		if err != nil || d.Sign() < 0 || d.Cmp(decimal.Hundred) > 0 {
			return nil, fmt.Errorf("tax_rates %q: want a percent between 0 and 100, got %q", label, v)
		}
		out[label] = d
	}
	return out, nil
}

// Validate checks the configuration for combinations that cannot work.
func (h *Handler) Validate() error {
	if !membership.Source(h.Source).Valid() {
		return fmt.Errorf("source: unknown value %q (want header_then_cookie, header, cookie or union)", h.Source)
	}
	if h.MaxSegments < 0 {
		return fmt.Errorf("max_segments: must be positive, got %d", h.MaxSegments)
	}
	if h.MaxBytes < 0 {
		return fmt.Errorf("max_bytes: must be positive, got %d", h.MaxBytes)
	}
	if h.Rules != "" && h.RulesJSON != nil {
		return errors.New("rules and rules_json: set one, not both")
	}
	if (h.Audiences != "") && h.AudiencesJSON != nil || (h.Audiences != "" || h.AudiencesJSON != nil) && h.AudiencesAEP != nil {
		return errors.New("audiences, audiences_json and audiences_aep: set one, not several")
	}
	if err := h.AudiencesAEP.validate(); err != nil {
		return err
	}
	if h.GatePolicy != "" && !gate.Policy(h.GatePolicy).Valid() {
		return fmt.Errorf("gate_policy: unknown value %q (want shopper_wins or audience_wins)", h.GatePolicy)
	}
	if h.PreviewTimeHeader != "" && !validHeaderName(h.PreviewTimeHeader) {
		return fmt.Errorf("preview_time_header: %q is not a valid header name", h.PreviewTimeHeader)
	}
	if h.PlanCacheSize < 0 {
		return fmt.Errorf("plan_cache_size: must be positive, got %d", h.PlanCacheSize)
	}
	if h.MaxBody < 0 {
		return fmt.Errorf("max_body: must be positive, got %d", h.MaxBody)
	}
	if !strings.HasPrefix(h.GraphQLPath, "/") {
		return fmt.Errorf("graphql_path: must start with /, got %q", h.GraphQLPath)
	}
	if _, err := rules.ParseTaxCalculation(h.TaxCalculation); err != nil {
		return fmt.Errorf("tax_calculation: %w", err)
	}
	if !validHeaderName(h.UpstreamHeader) {
		return fmt.Errorf("upstream_header: %q is not a valid header name", h.UpstreamHeader)
	}
	if err := h.validateShared(); err != nil {
		return err
	}
	return h.validateTrust()
}

// ServeHTTP is the request pipeline: work out the operation (or refuse a request the gate
// cannot read as Magento does) → resolve membership → forward the normalized header → for
// operations whose answer matters: the gate's pre-checks → hold the answer → the gate's sync
// → rewrite → scrub → send.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	op, answered := h.readOperation(w, r)
	if answered {
		return nil // refused
	}
	m, ecid := h.resolveMembership(w, r, op.prices())
	value := m.Header()
	forwardMembership(r.Header, h.upstreamKey, value, h.StripInbound || h.pins != nil)
	setPlaceholders(r, value, len(m.Segments))
	h.count(m)
	if op == nil {
		return next.ServeHTTP(w, r)
	}
	job, answered := h.newJob(w, r, next, op, m, ecid)
	switch {
	case answered:
		return nil
	case job == nil:
		return next.ServeHTTP(w, r)
	case !h.gateBefore(w, r, job):
		return nil // answered by the gate
	}
	return h.serveHeld(w, r, next, job)
}

// count records the request in the metrics and the per-audience hit counters.
func (h *Handler) count(m membership.Membership) {
	metrics.requestsBy(m.Origin).Inc()
	if len(m.Segments) > 0 {
		h.state.hits.Add(m.Segments, h.state.knownAudience, time.Now())
	}
}

// forwardMembership replaces every client copy of the upstream header (key, canonical) with
// the normalized membership (omitted when empty) and optionally strips the raw inputs.
func forwardMembership(header http.Header, key, value string, stripInbound bool) {
	membership.DeleteHeader(header, key)
	if stripInbound {
		membership.StripInbound(header)
	}
	if value != "" {
		header[key] = []string{value}
	}
}

func setPlaceholders(r *http.Request, value string, count int) {
	repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if !ok {
		return
	}
	repl.Set(PlaceholderSegments, value)
	if count < len(countValues) {
		repl.Set(PlaceholderCount, countValues[count])
	} else {
		repl.Set(PlaceholderCount, strconv.Itoa(count))
	}
}

// countValues are the usual segment counts as placeholder values, boxed once: boxing a
// string per request allocates.
var countValues = func() (v [65]any) {
	for i := range v {
		v[i] = strconv.Itoa(i)
	}
	return v
}()

// validHeaderName reports whether name is an HTTP token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f {
			return false
		}
		switch c {
		case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
			return false
		}
	}
	return true
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
