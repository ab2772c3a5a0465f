// Package caddymodule is the Caddy glue of caddy-audiences: the http.handlers.audiences
// middleware, its Caddyfile directive, and the command-line tools.
package caddymodule

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-audiences/caddy-audiences/internal/membership"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// DefaultUpstreamHeader is the request header the normalized membership is forwarded in.
const DefaultUpstreamHeader = "X-Audience-Segments"

// Placeholders set on every request for logs and later handlers.
const (
	PlaceholderSegments = "http.audiences.segments"
	PlaceholderCount    = "http.audiences.count"
)

// Handler reads a shopper's Adobe Experience Platform audience membership from the
// aep-segments-membership header or cookie and forwards it to the backend as one normalized
// request header.
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

	membership membership.Config
	logger     *zap.Logger
	overCap    *everyMinute
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
	h.overCap = new(everyMinute)
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
	return nil
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
	if !validHeaderName(h.UpstreamHeader) {
		return fmt.Errorf("upstream_header: %q is not a valid header name", h.UpstreamHeader)
	}
	return nil
}

// ServeHTTP normalizes the membership of r, forwards it upstream and calls next.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	m := h.readMembership(r)
	forwardMembership(r.Header, h.UpstreamHeader, m, h.StripInbound)
	setPlaceholders(r, m)
	return next.ServeHTTP(w, r)
}

// readMembership reads and normalizes the membership of r, logging dropped input.
func (h *Handler) readMembership(r *http.Request) membership.Membership {
	m := membership.Read(r, h.membership)
	if m.Truncated && h.overCap.allow() {
		h.logger.Warn("audience membership over the cap; the rest was ignored",
			zap.Int("max_segments", h.MaxSegments),
			zap.Int("max_bytes", h.MaxBytes),
			zap.String("origin", string(m.Origin)))
	}
	if m.Invalid > 0 {
		if ce := h.logger.Check(zapcore.DebugLevel, "dropped invalid audience ids"); ce != nil {
			ce.Write(zap.Int("invalid", m.Invalid), zap.String("origin", string(m.Origin)))
		}
	}
	return m
}

// forwardMembership replaces every client copy of the upstream header with the normalized
// membership (omitted when empty) and optionally strips the raw inputs.
func forwardMembership(header http.Header, name string, m membership.Membership, stripInbound bool) {
	membership.DeleteHeader(header, name)
	if stripInbound {
		membership.StripInbound(header)
	}
	if len(m.Segments) > 0 {
		header.Set(name, m.Header())
	}
}

func setPlaceholders(r *http.Request, m membership.Membership) {
	repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if !ok {
		return
	}
	repl.Set(PlaceholderSegments, m.Header())
	repl.Set(PlaceholderCount, strconv.Itoa(len(m.Segments)))
}

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
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
