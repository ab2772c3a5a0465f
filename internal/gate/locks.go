package gate

import (
	"hash/maphash"
	"sync"
)

// Locker serializes the gate's work on one cart: in memory (Locks) for one instance, on a
// storage every instance shares for a fleet. Lock returns an error when the cart's lock
// cannot be had (in time); the work must then not be done.
type Locker interface {
	Lock(cartID string) (unlock func(), err error)
}

// lockStripes bounds the per-cart locks: carts share one of this many mutexes.
const lockStripes = 256

// Locks serializes gate work per cart with a fixed set of mutexes, so memory stays bounded
// however many carts there are.
type Locks struct {
	seed    maphash.Seed
	stripes [lockStripes]sync.Mutex
}

// NewLocks returns a ready set of locks.
func NewLocks() *Locks { return &Locks{seed: maphash.MakeSeed()} }

// Lock locks cartID's stripe and returns its unlock function; it never fails.
func (l *Locks) Lock(cartID string) (func(), error) {
	m := &l.stripes[maphash.String(l.seed, cartID)%lockStripes]
	m.Lock()
	return m.Unlock, nil
}

// Interface guard
var _ Locker = (*Locks)(nil)
