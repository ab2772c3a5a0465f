// Package trust decides where a shopper's audience membership may come from: the browser's
// aep-segments-membership (client), only the sidecar's own signed cookie (signed), or Adobe's
// Edge Network, asked on the shopper's behalf and signed into that cookie (edge). It also
// pins carts to the identity first seen with them.
package trust

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/caddy-audiences/caddy-audiences/internal/edge"
	"github.com/caddy-audiences/caddy-audiences/internal/membership"
	"github.com/caddy-audiences/caddy-audiences/internal/signed"
)

// Mode says where membership may come from.
type Mode string

// The trust modes.
const (
	// Client takes membership from the browser's aep-segments-membership (default).
	Client Mode = "client"
	// Signed takes membership only from the sidecar's own signed cookie.
	Signed Mode = "signed"
	// Edge asks Adobe's Edge Network for the shopper's audiences and signs the answer.
	Edge Mode = "edge"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == Client || m == Signed || m == Edge }

// Origins of trusted membership, for metrics.
const (
	OriginSigned membership.Origin = "signed"
	OriginEdge   membership.Origin = "edge"
)

// Reasons a signed cookie, an identity or a cart was not trusted, for metrics.
const (
	RejectExpired      = "expired"
	RejectOtherECID    = "other_ecid"
	RejectBadSignature = "bad_signature"
	RejectMalformed    = "malformed"
	RejectIdentity     = "identity"
	RejectCartPin      = "cart_pin"
)

// Config configures a Trust.
type Config struct {
	Mode Mode
	// OrgID is the Adobe IMS organization; it names the Web SDK identity cookie.
	OrgID string
	// Cookie is the name of the sidecar's signed membership cookie; TTL how long it holds.
	Cookie string
	TTL    time.Duration
	Keys   *signed.Keys
	// Resolver asks the Edge Network (mode Edge); FallbackToClient uses the browser's claim
	// when a lookup fails, instead of no audience.
	Resolver         *edge.Resolver
	FallbackToClient bool
	// Membership normalizes whatever membership is read.
	Membership membership.Config
	// OnReject is told why a cookie or identity was not trusted (the Reject constants).
	OnReject func(reason string)
	// OnLookupError is told of a failed Edge Network lookup.
	OnLookupError func(err error)
}

// Trust resolves membership as its mode allows. It is safe for concurrent use.
type Trust struct {
	cfg Config
	// identityCookie and clusterCookie are the Web SDK's cookies of cfg.OrgID.
	identityCookie, clusterCookie string
}

// New returns a Trust for cfg.
func New(cfg Config) *Trust {
	return &Trust{cfg: cfg, identityCookie: edge.IdentityCookieName(cfg.OrgID), clusterCookie: edge.ClusterCookieName(cfg.OrgID)}
}

// Result is a shopper's membership as the trust mode allows it.
type Result struct {
	Membership membership.Membership
	// ECID is the shopper's Experience Cloud ID with signed and edge trust.
	ECID string
	// Cookie, when set, is the signed membership cookie to send the shopper, so later
	// requests need no lookup.
	Cookie *http.Cookie
}

// Resolve returns the membership of r. pricing says whether r prices a cart or places an
// order, the only requests worth an Edge Network lookup.
func (t *Trust) Resolve(r *http.Request, pricing bool) Result {
	if t.cfg.Mode == Client || t.cfg.Mode == "" {
		return Result{Membership: membership.Read(r, t.cfg.Membership)}
	}
	if t.cfg.Membership.HonorDNT && membership.DoNotTrack(r) {
		return Result{Membership: membership.Membership{Origin: membership.OriginDNT}}
	}
	ecid := t.identity(r)
	if m, ok := t.signedMembership(r, ecid); ok {
		return Result{Membership: m, ECID: ecid}
	}
	none := Result{Membership: membership.Membership{Origin: membership.OriginNone}, ECID: ecid}
	if t.cfg.Mode != Edge || !pricing || ecid == "" {
		return none
	}
	segments, err := t.cfg.Resolver.Segments(r.Context(), edge.Identity{
		ECID:         ecid,
		Cluster:      cookieValue(r, t.clusterCookie),
		StateEntries: stateEntries(r),
		Domain:       hostOnly(r.Host),
	})
	if err != nil {
		if t.cfg.OnLookupError != nil {
			t.cfg.OnLookupError(err)
		}
		if t.cfg.FallbackToClient {
			return Result{Membership: membership.Read(r, t.cfg.Membership), ECID: ecid}
		}
		return none
	}
	m := membership.Normalize(t.cfg.Membership, strings.Join(segments, ","))
	m.Origin = OriginEdge
	return Result{Membership: m, ECID: ecid, Cookie: t.cookie(m.Segments, ecid)}
}

// signedMembership reads the sidecar's own cookie; a tampered, expired or foreign one is
// ignored and reported.
func (t *Trust) signedMembership(r *http.Request, ecid string) (membership.Membership, bool) {
	value := cookieValue(r, t.cfg.Cookie)
	if value == "" {
		return membership.Membership{}, false
	}
	sm, err := t.cfg.Keys.Decode(value, time.Now(), ecid)
	if err != nil {
		t.reject(rejectionReason(err))
		return membership.Membership{}, false
	}
	m := membership.Normalize(t.cfg.Membership, strings.Join(sm.Segments, ","))
	m.Origin = OriginSigned
	return m, true
}

// cookie signs what was resolved, or returns nil when it cannot.
func (t *Trust) cookie(segments []string, ecid string) *http.Cookie {
	value, err := t.cfg.Keys.Encode(signed.Membership{Segments: segments, ECID: ecid, Expires: time.Now().Add(t.cfg.TTL)})
	if err != nil {
		return nil
	}
	return signed.Cookie(t.cfg.Cookie, value, t.cfg.TTL)
}

// identity returns the ECID of the request's Web SDK identity cookie, or "".
func (t *Trust) identity(r *http.Request) string {
	raw := cookieValue(r, t.identityCookie)
	if raw == "" {
		return ""
	}
	ecid, err := edge.DecodeECID(raw)
	if err != nil {
		t.reject(RejectIdentity)
		return ""
	}
	return ecid
}

func (t *Trust) reject(reason string) {
	if t.cfg.OnReject != nil {
		t.cfg.OnReject(reason)
	}
}

// stateEntries are the browser's kndctr_* cookies, forwarded to the Edge Network.
func stateEntries(r *http.Request) []edge.StateEntry {
	var out []edge.StateEntry
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, "kndctr_") {
			out = append(out, edge.StateEntry{Key: c.Name, Value: c.Value})
		}
	}
	return out
}

func rejectionReason(err error) string {
	switch {
	case errors.Is(err, signed.ErrExpired):
		return RejectExpired
	case errors.Is(err, signed.ErrOtherECID):
		return RejectOtherECID
	case errors.Is(err, signed.ErrBadSignature):
		return RejectBadSignature
	}
	return RejectMalformed
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

// Pins remembers, for a bounded number of carts, the ECID first seen with each: a cart is
// priced only for that identity, so a copied identity cookie cannot move audiences onto
// another shopper's cart. In memory the bound is the whole memory: a pin pushed out is
// forgotten. Shared (see Shared) the pins live in a store every instance uses, and the
// bounded cache only spares lookups. It is safe for concurrent use.
type Pins struct {
	carts   *lru.Cache[string, string] // cart id → ECID
	store   PinStore                   // nil: in memory
	onError func(error)
}

// PinStore keeps the pins of a fleet: the first ECID stored for a cart owns it for good.
type PinStore interface {
	// PinFirst pins cartID to ecid unless it is pinned already, and returns the owner: ecid
	// when it is, anything else when another identity is.
	PinFirst(cartID, ecid string) (owner string, err error)
}

// NewPins returns pins for at most size carts.
func NewPins(size int) (*Pins, error) {
	c, err := lru.New[string, string](size)
	if err != nil {
		return nil, err
	}
	return &Pins{carts: c}, nil
}

// Shared returns pins kept in store, with p's cache in front (pins never change once set,
// so a cached pin is never stale). A cart whose pin cannot be read or written is priced for
// nobody, and onError is told why.
func (p *Pins) Shared(store PinStore, onError func(error)) *Pins {
	return &Pins{carts: p.carts, store: store, onError: onError}
}

// Resize bounds the pins to size carts, dropping the oldest.
func (p *Pins) Resize(size int) { p.carts.Resize(size) }

// Allow reports whether cartID may be priced for ecid, pinning it to ecid the first time.
func (p *Pins) Allow(cartID, ecid string) bool {
	if cartID == "" {
		return true
	}
	if p.store != nil {
		return p.allowShared(cartID, ecid)
	}
	owner, pinned, _ := p.carts.PeekOrAdd(cartID, ecid)
	if !pinned {
		return true
	}
	p.carts.Get(cartID) // keep a cart in use among the recent ones
	return owner == ecid
}

// allowShared is Allow against the store. Only owners are cached (the store names another
// owner by a token that is no ECID), so the store is asked about carts whose owner this
// instance has not seen, and for every other identity until it has.
func (p *Pins) allowShared(cartID, ecid string) bool {
	if owner, ok := p.carts.Get(cartID); ok {
		return owner == ecid
	}
	owner, err := p.store.PinFirst(cartID, ecid)
	if err != nil {
		if p.onError != nil {
			p.onError(err)
		}
		return false
	}
	if owner != ecid {
		return false
	}
	p.carts.Add(cartID, owner)
	return true
}
