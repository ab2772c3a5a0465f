package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/edge"
	"github.com/caddy-audiences/caddy-audiences/internal/membership"
	"github.com/caddy-audiences/caddy-audiences/internal/signed"
	"github.com/caddy-audiences/caddy-audiences/internal/trust"
)

// Trust modes, the values of the trust option.
const (
	TrustClient = string(trust.Client)
	TrustSigned = string(trust.Signed)
	TrustEdge   = string(trust.Edge)
)

// Defaults of the trusted-membership options.
const (
	DefaultMembershipCookie = "aud_m"
	DefaultMembershipTTL    = 10 * time.Minute
	DefaultCartPins         = 100_000
	onLookupErrorNone       = "none"
	onLookupErrorClient     = "client"
)

// EdgeConfig says how to ask Adobe's Edge Network for a shopper's audiences.
type EdgeConfig struct {
	// DatastreamID is the Experience Platform datastream to ask.
	DatastreamID string `json:"datastream_id,omitempty"`
	// URL is the Edge Network origin. Default: https://edge.adobedc.net.
	URL string `json:"edge_url,omitempty"`
	// ClientID and ClientSecret enable authenticated requests (datastreams whose access type
	// is "authenticated"); use placeholders such as {env.AEP_CLIENT_SECRET}.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// IMSURL is where the IMS token is fetched. Default: Adobe's IMS token endpoint.
	IMSURL string `json:"ims_url,omitempty"`
	// DestinationAlias keeps only segments of activation:pull payloads with this alias.
	DestinationAlias string `json:"destination_alias,omitempty"`
	// LookupTTL is how long an answer is reused per shopper. Default: 60s.
	LookupTTL caddy.Duration `json:"lookup_ttl,omitempty"`
	// LookupTimeout bounds one lookup, retries included. Default: 300ms.
	LookupTimeout caddy.Duration `json:"lookup_timeout,omitempty"`
	// OnLookupError is what a failed lookup means: none (no audience, default) or client
	// (fall back to the membership the browser sent).
	OnLookupError string `json:"on_lookup_error,omitempty"`
}

// provisionTrust fills in the trust defaults and builds the trusted-membership machinery.
// Combinations that cannot work are left for Validate to report.
func (h *Handler) provisionTrust() error {
	if h.Trust == "" {
		h.Trust = TrustClient
	}
	if h.MembershipCookie == "" {
		h.MembershipCookie = DefaultMembershipCookie
	}
	if h.MembershipTTL == 0 {
		h.MembershipTTL = caddy.Duration(DefaultMembershipTTL)
	}
	if h.CartPins == 0 {
		h.CartPins = DefaultCartPins
	}
	if h.Edge != nil && h.Edge.OnLookupError == "" {
		h.Edge.OnLookupError = onLookupErrorNone
	}
	cfg := trust.Config{
		Mode:       trust.Mode(h.Trust),
		OrgID:      h.OrgID,
		Cookie:     h.MembershipCookie,
		TTL:        time.Duration(h.MembershipTTL),
		Membership: h.membership,
		OnReject:   func(reason string) { metrics.signatureRejections.WithLabelValues(reason).Inc() },
		OnLookupError: func(err error) {
			h.logger.Warn("edge network lookup failed", zap.String("outcome", edge.Outcome(err)), zap.Error(err))
		},
	}
	if cfg.Mode == trust.Client || h.validateTrust() != nil {
		h.trust = trust.New(cfg)
		return nil
	}
	repl := caddy.NewReplacer()
	secrets := make([]string, 0, len(h.MembershipKeys))
	for _, k := range h.MembershipKeys {
		secrets = append(secrets, repl.ReplaceAll(k, ""))
	}
	keys, err := signed.ParseKeys(secrets...)
	if err != nil {
		return fmt.Errorf("membership_keys: %w", err)
	}
	cfg.Keys = keys
	if cfg.Mode == trust.Edge {
		if cfg.Resolver, err = h.edgeResolver(repl); err != nil {
			return err
		}
		cfg.FallbackToClient = h.Edge.OnLookupError == onLookupErrorClient
	}
	if h.pins, err = h.state.cartPins(h.CartPins); err != nil {
		return fmt.Errorf("cart_pins: %w", err)
	}
	if h.fleet != nil {
		h.pins = h.pins.Shared(h.fleet, func(err error) {
			h.logger.Warn("cart pin not read or written on the shared storage; the cart is priced for nobody", zap.Error(err))
		})
	}
	h.trust = trust.New(cfg)
	return nil
}

// validateTrust checks the trust options that only work together.
func (h *Handler) validateTrust() error {
	if !trust.Mode(h.Trust).Valid() {
		return fmt.Errorf("trust: unknown value %q (want client, signed or edge)", h.Trust)
	}
	if h.Trust == TrustClient {
		return nil
	}
	if h.OrgID == "" {
		return errors.New("org_id: required with trust signed or edge (it names the identity cookie)")
	}
	if len(h.MembershipKeys) == 0 {
		return errors.New("membership_keys: required with trust signed or edge")
	}
	if h.CartPins < 0 {
		return fmt.Errorf("cart_pins: must be positive, got %d", h.CartPins)
	}
	if h.Trust != TrustEdge {
		return nil
	}
	if h.Edge == nil || h.Edge.DatastreamID == "" {
		return errors.New("edge.datastream_id: required with trust edge")
	}
	switch h.Edge.OnLookupError {
	case "", onLookupErrorNone, onLookupErrorClient:
		return nil
	}
	return fmt.Errorf("edge.on_lookup_error: unknown value %q (want none or client)", h.Edge.OnLookupError)
}

// edgeResolver builds (or reuses, across config reloads) the Edge Network resolver.
func (h *Handler) edgeResolver(repl *caddy.Replacer) (*edge.Resolver, error) {
	e := h.Edge
	opts := edge.Options{BaseURL: e.URL, DatastreamID: e.DatastreamID, OrgID: h.OrgID, DestinationAlias: e.DestinationAlias}
	if e.ClientID != "" {
		opts.Auth = &edge.AuthConfig{ClientID: repl.ReplaceAll(e.ClientID, ""), ClientSecret: repl.ReplaceAll(e.ClientSecret, ""), IMSURL: e.IMSURL}
	}
	resolver, err := h.state.edgeResolver(opts, edge.ResolverOptions{
		TTL:     time.Duration(e.LookupTTL),
		Timeout: time.Duration(e.LookupTimeout),
		OnLookup: func(outcome string, d time.Duration) {
			metrics.edgeLookups.WithLabelValues(outcome).Inc()
			metrics.edgeLatency.Observe(d.Seconds())
		},
	})
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	return resolver, nil
}

// resolveMembership returns the shopper's membership as the trust mode allows, logging and
// counting dropped input; it may add the signed membership cookie to w.
func (h *Handler) resolveMembership(w http.ResponseWriter, r *http.Request, pricing bool) (membership.Membership, string) {
	res := h.trust.Resolve(r, pricing)
	if res.Cookie != nil {
		w.Header().Add("Set-Cookie", res.Cookie.String())
	}
	h.noteDropped(res.Membership)
	return res.Membership, res.ECID
}

// noteDropped logs and counts membership input that was over the caps or invalid.
func (h *Handler) noteDropped(m membership.Membership) {
	if m.Truncated {
		metrics.truncatedRequests.Inc()
		if h.overCap.allow() {
			h.logger.Warn("audience membership over the cap; the rest was ignored",
				zap.Int("max_segments", h.MaxSegments),
				zap.Int("max_bytes", h.MaxBytes),
				zap.String("origin", string(m.Origin)))
		}
	}
	if m.Invalid > 0 {
		metrics.invalidSegments.Add(float64(m.Invalid))
		h.debug("dropped invalid audience ids", zap.Int("invalid", m.Invalid), zap.String("origin", string(m.Origin)))
	}
}
