package fleet

// Local is the lock an instance takes on a cart before the shared one (gate.Locks), so
// requests of one instance queue in memory instead of polling the storage.
type Local interface {
	Lock(cartID string) (unlock func(), err error)
}

// Locker serializes the work on one cart across the fleet: the local lock first, then the
// storage's lock on the cart, waited for at most the store's timeout. It implements
// gate.Locker.
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
	unlock, err := l.store.lock(ctx, l.store.lockName("cart", hashID(cartID)), "cart")
	if err != nil {
		unlockLocal()
		return nil, err
	}
	return func() {
		unlock()
		unlockLocal()
	}, nil
}
