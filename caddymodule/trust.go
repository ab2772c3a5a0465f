package caddymodule

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/edge"
	"github.com/caddy-audiences/caddy-audiences/internal/membership"
	"github.com/caddy-audiences/caddy-audiences/internal/signed"
)

// Trust modes: where membership may come from.
const (
	// TrustClient takes membership from the browser's aep-segments-membership (default).
	TrustClient = "client"
	// TrustSigned takes membership only from the sidecar's own signed cookie.
	TrustSigned = "signed"
	// TrustEdge asks Adobe's Edge Network for the shopper's audiences and signs the answer.
	TrustEdge = "edge"
)

// Defaults of the trusted-membership options.
const (
	DefaultMembershipCookie = "aud_m"
	DefaultMembershipTTL    = 10 * time.Minute
	DefaultCartPins         = 100_000
	onLookupErrorNone       = "none"
	onLookupErrorClient     = "client"
)

// Origins of trusted membership, for the requests_total label.
const (
	originSigned membership.Origin = "signed"
	originEdge   membership.Origin = "edge"
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

// trust is a handler's trusted-membership machinery, built at provisioning.
type trust struct {
	mode     string
	orgID    string
	cookie   string
	ttl      time.Duration
	keys     *signed.Keys
	resolver *edge.Resolver // edge mode only
	fallback string
	pins     *lru.Cache[string, string] // cart id → ECID first seen with it
}

// provisionTrust checks and prepares the trust options.
func (h *Handler) provisionTrust(ctx caddy.Context) error {
	if h.Trust == "" {
		h.Trust = TrustClient
	}
	if h.Trust == TrustClient {
		return nil
	}
	if h.Trust != TrustSigned && h.Trust != TrustEdge {
		return fmt.Errorf("trust: unknown value %q (want client, signed or edge)", h.Trust)
	}
	if h.OrgID == "" {
		return errors.New("org_id: required with trust signed or edge (it names the identity cookie)")
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
	repl := caddy.NewReplacer()
	secrets := make([]string, 0, len(h.MembershipKeys))
	for _, k := range h.MembershipKeys {
		secrets = append(secrets, repl.ReplaceAll(k, ""))
	}
	keys, err := signed.ParseKeys(secrets...)
	if err != nil {
		return fmt.Errorf("membership_keys: %w", err)
	}
	t := &trust{mode: h.Trust, orgID: h.OrgID, cookie: h.MembershipCookie, ttl: time.Duration(h.MembershipTTL), keys: keys}
	if t.pins, err = lru.New[string, string](h.CartPins); err != nil {
		return fmt.Errorf("cart_pins: %w", err)
	}
	if h.Trust == TrustEdge {
		if err := h.provisionEdge(t, repl); err != nil {
			return err
		}
	}
	h.trust = t
	return nil
}

// provisionEdge builds (or reuses, across config reloads) the Edge Network resolver.
func (h *Handler) provisionEdge(t *trust, repl *caddy.Replacer) error {
	e := h.Edge
	if e == nil || e.DatastreamID == "" {
		return errors.New("edge.datastream_id: required with trust edge")
	}
	switch e.OnLookupError {
	case "":
		e.OnLookupError = onLookupErrorNone
	case onLookupErrorNone, onLookupErrorClient:
	default:
		return fmt.Errorf("edge.on_lookup_error: unknown value %q (want none or client)", e.OnLookupError)
	}
	t.fallback = e.OnLookupError
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
		return fmt.Errorf("edge: %w", err)
	}
	t.resolver = resolver
	return nil
}

// resolveMembership returns the shopper's membership as the trust mode allows. pricing says
// whether the request prices a cart or places an order, the only requests worth an Edge
// Network lookup. It may add the signed membership cookie to w.
func (h *Handler) resolveMembership(w http.ResponseWriter, r *http.Request, pricing bool) (membership.Membership, string) {
	t := h.trust
	if t == nil {
		return h.readMembership(r), ""
	}
	if h.membership.HonorDNT && membership.DoNotTrack(r) {
		return membership.Membership{Origin: membership.OriginDNT}, ""
	}
	ecid := t.identity(r)
	if m, ok := h.signedMembership(r, ecid); ok {
		return m, ecid
	}
	if t.mode != TrustEdge || !pricing || ecid == "" {
		return membership.Membership{Origin: membership.OriginNone}, ecid
	}
	segments, err := t.resolver.Segments(r.Context(), edge.Identity{
		ECID:         ecid,
		Cluster:      cookieValue(r, edge.ClusterCookieName(t.orgID)),
		StateEntries: t.stateEntries(r),
		Domain:       hostOnly(r.Host),
	})
	if err != nil {
		h.logger.Warn("edge network lookup failed", zap.String("outcome", edge.Outcome(err)), zap.Error(err))
		if t.fallback == onLookupErrorClient {
			return h.readMembership(r), ecid
		}
		return membership.Membership{Origin: membership.OriginNone}, ecid
	}
	m := membership.Normalize(h.membership, strings.Join(segments, ","))
	m.Origin = originEdge
	h.setMembershipCookie(w, m.Segments, ecid)
	return m, ecid
}

// signedMembership reads the sidecar's own cookie; a tampered, expired or foreign one is
// ignored and counted.
func (h *Handler) signedMembership(r *http.Request, ecid string) (membership.Membership, bool) {
	t := h.trust
	value := cookieValue(r, t.cookie)
	if value == "" {
		return membership.Membership{}, false
	}
	sm, err := t.keys.Decode(value, time.Now(), ecid)
	if err != nil {
		metrics.signatureRejections.WithLabelValues(rejectionReason(err)).Inc()
		return membership.Membership{}, false
	}
	m := membership.Normalize(h.membership, strings.Join(sm.Segments, ","))
	m.Origin = originSigned
	return m, true
}

// setMembershipCookie signs what was resolved so later requests need no lookup.
func (h *Handler) setMembershipCookie(w http.ResponseWriter, segments []string, ecid string) {
	t := h.trust
	value, err := t.keys.Encode(signed.Membership{Segments: segments, ECID: ecid, Expires: time.Now().Add(t.ttl)})
	if err != nil {
		h.logger.Warn("membership cookie not set", zap.Error(err))
		return
	}
	w.Header().Add("Set-Cookie", signed.Cookie(t.cookie, value, t.ttl).String())
}

// identity returns the ECID of the request's Web SDK identity cookie, or "".
func (t *trust) identity(r *http.Request) string {
	raw := cookieValue(r, edge.IdentityCookieName(t.orgID))
	if raw == "" {
		return ""
	}
	ecid, err := edge.DecodeECID(raw)
	if err != nil {
		metrics.signatureRejections.WithLabelValues("identity").Inc()
		return ""
	}
	return ecid
}

// stateEntries are the browser's kndctr_* cookies, forwarded to the Edge Network.
func (t *trust) stateEntries(r *http.Request) []edge.StateEntry {
	var out []edge.StateEntry
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, "kndctr_") {
			out = append(out, edge.StateEntry{Key: c.Name, Value: c.Value})
		}
	}
	return out
}

// pinned reports whether cartID may be priced for ecid: the first ECID seen with a cart
// owns it, so a copied identity cookie cannot move audiences onto another shopper's cart.
func (t *trust) pinned(cartID, ecid string) bool {
	if cartID == "" {
		return true
	}
	if owner, ok := t.pins.Get(cartID); ok {
		return owner == ecid
	}
	t.pins.Add(cartID, ecid)
	return true
}

func rejectionReason(err error) string {
	switch {
	case errors.Is(err, signed.ErrExpired):
		return "expired"
	case errors.Is(err, signed.ErrOtherECID):
		return "other_ecid"
	case errors.Is(err, signed.ErrBadSignature):
		return "bad_signature"
	}
	return "malformed"
}

// cookieValue returns the first cookie called name, or "".
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

func hostOnly(hostport string) string {
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return hostport
}
