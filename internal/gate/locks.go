package gate

import (
	"hash/maphash"
	"sync"
)

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

// Lock locks cartID's stripe and returns its unlock function.
func (l *Locks) Lock(cartID string) func() {
	m := &l.stripes[maphash.String(l.seed, cartID)%lockStripes]
	m.Lock()
	return m.Unlock
}
