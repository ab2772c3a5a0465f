package fleet

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.uber.org/zap"
)

// Local is the lock an instance takes on a cart before the shared one (gate.Locks), so
// requests of one instance queue in memory instead of polling the storage.
type Local interface {
	Lock(cartID string) (unlock func(), err error)
}

// Locker serializes the work on one cart across the fleet: the local lock first, then the
// storage's lock on the cart, waited for at most the store's timeout. It implements
// gate.Locker.
//
// The storage lock's name carries the cart's lock generation, which the holder raises when it
// unlocks, so a name is never taken again once released. File storage needs that: each lock
// it grants is kept fresh by a goroutine of the process that took it, which stops only when
// it finds the lock file gone, up to 5 s after the unlock; a lock taken again under the same
// name within those 5 s would be kept fresh by the releasing process too, and if its new
// holder died it would never grow stale. With generations only the holder keeps a lock
// fresh, and a dead holder's lock expires (file storage: after 10 s).
type Locker struct {
	store *Store
	local Local
}

// Locker returns the fleet's cart locker with local in front.
func (s *Store) Locker(local Local) *Locker { return &Locker{store: s, local: local} }

// Lock takes cartID's lock; an error means another instance holds it past the timeout, or
// the storage failed.
func (l *Locker) Lock(cartID string) (func(), error) {
	unlockLocal, err := l.local.Lock(cartID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := l.store.context()
	defer cancel()
	s, id := l.store, hashID(cartID)
	genKey := s.keys + "/locks/" + id
	for {
		gen, err := s.generation(ctx, genKey)
		if err != nil {
			unlockLocal()
			return nil, err
		}
		unlock, err := s.tryLock(ctx, s.lockName("cart", id+"."+strconv.FormatUint(gen, 10)))
		switch {
		case errors.Is(err, errBusy):
			continue
		case err != nil:
			unlockLocal()
			return nil, s.lockError("cart", err)
		}
		if now, err := s.generation(ctx, genKey); err != nil || now != gen {
			unlock() // the lock of a generation its holder has left: look again
			if err != nil {
				unlockLocal()
				return nil, err
			}
			continue
		}
		return func() {
			l.release(genKey, gen)
			unlock()
			unlockLocal()
		}, nil
	}
}

// release raises the cart's lock generation, before the lock itself is let go.
func (l *Locker) release(genKey string, gen uint64) {
	ctx, cancel := l.store.context()
	defer cancel()
	if err := l.store.storage.Store(ctx, genKey, []byte(strconv.FormatUint(gen+1, 10))); err != nil {
		l.store.log.Warn("cart lock generation not raised; the lock is released all the same",
			zap.String("storage", l.store.String()), zap.Error(err))
	}
}

// generation reads a cart's lock generation, 0 when it was never locked.
func (s *Store) generation(ctx context.Context, key string) (uint64, error) {
	v, ok, err := s.load(ctx, key)
	if err != nil || !ok {
		return 0, err
	}
	gen, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cart lock generation %q in %s: %w", v, s, err)
	}
	return gen, nil
}
