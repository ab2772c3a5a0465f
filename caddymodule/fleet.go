package caddymodule

import (
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"

	"github.com/caddy-audiences/caddy-audiences/internal/fleet"
	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/trust"
)

// DefaultLockTimeout bounds a wait for a cart's lock on the shared storage.
const DefaultLockTimeout = fleet.DefaultTimeout

// provisionStorage finds the storage Caddy is configured with when shared_state is on.
func (h *Handler) provisionStorage(ctx caddy.Context) error {
	if !h.SharedState {
		return nil
	}
	if h.LockTimeout == 0 {
		h.LockTimeout = caddy.Duration(DefaultLockTimeout)
	}
	if h.storage != nil {
		return nil
	}
	s, err := contextStorage(ctx)
	if err != nil {
		return fmt.Errorf("shared_state: %w", err)
	}
	h.storage = s
	return nil
}

// contextStorage returns the storage of ctx; a context made outside a Caddy config has none.
func contextStorage(ctx caddy.Context) (s certmagic.Storage, err error) {
	defer func() {
		if recover() != nil {
			s, err = nil, errors.New("this Caddy context has no storage")
		}
	}()
	if s = ctx.Storage(); s == nil {
		return nil, errors.New("no storage is configured")
	}
	return s, nil
}

// storageID names the shared storage for the state key: a handler that switches storage, or
// shared_state on or off, gets fresh state, since its pools' and pins' caches describe the
// old one.
func (h *Handler) storageID() string {
	if h.storage == nil {
		return ""
	}
	if s, ok := h.storage.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", h.storage)
}

// provisionFleet builds this config's view of the shared storage. It holds no cache (those
// are in the state, kept across reloads) and uses this config's storage, which Caddy may
// close when the config is unloaded.
func (h *Handler) provisionFleet() {
	if h.storage == nil {
		return
	}
	h.fleet = fleet.New(h.storage, h.Name, time.Duration(h.LockTimeout), h.logger)
}

// validateShared checks the shared-state options.
func (h *Handler) validateShared() error {
	switch {
	case h.LockTimeout < 0:
		return fmt.Errorf("lock_timeout: must be positive, got %s", time.Duration(h.LockTimeout))
	case h.LockTimeout != 0 && !h.SharedState:
		return errors.New("lock_timeout: only with shared_state")
	}
	return nil
}

// Interface guards
var (
	_ gate.Locker    = (*fleet.Locker)(nil)
	_ gate.Ledger    = (*fleet.Ledger)(nil)
	_ trust.PinStore = (*fleet.Store)(nil)
)
