// Package memo remembers values computed from strings, for work a proxy repeats on the same
// input request after request (a shopper's membership list, a page's query text).
//
// A Table is a fixed array of slots chosen by a hash of the key, each holding one key and
// its value. Reads take no lock, memory is bounded by the number of slots and the longest
// key kept, and a key that lands on a taken slot takes it over: a Table forgets, it never
// grows.
package memo

import (
	"hash/maphash"
	"math/bits"
	"strings"
	"sync/atomic"
)

// Table maps recent keys to their values. Its methods may be called concurrently.
type Table[V any] struct {
	seed   maphash.Seed
	maxKey int
	mask   uint64
	slots  []atomic.Pointer[entry[V]]
}

type entry[V any] struct {
	key   string
	value V
}

// New returns an empty table of at least slots slots (rounded up to a power of two) that
// keeps keys of up to maxKey bytes.
func New[V any](slots, maxKey int) *Table[V] {
	n := 1 << bits.Len(uint(max(slots, 1)-1))
	return &Table[V]{seed: maphash.MakeSeed(), maxKey: maxKey, mask: uint64(n - 1), slots: make([]atomic.Pointer[entry[V]], n)}
}

// Get returns the value kept for key, if any.
func (t *Table[V]) Get(key string) (V, bool) {
	if len(key) <= t.maxKey {
		if e := t.slot(key).Load(); e != nil && e.key == key {
			return e.value, true
		}
	}
	var zero V
	return zero, false
}

// Put keeps value for key (a copy of key: the caller's string may share memory with a
// request). A key over maxKey bytes is not kept.
func (t *Table[V]) Put(key string, value V) {
	if len(key) > t.maxKey {
		return
	}
	t.slot(key).Store(&entry[V]{key: strings.Clone(key), value: value})
}

// Len returns how many slots hold a key.
func (t *Table[V]) Len() int {
	n := 0
	for i := range t.slots {
		if t.slots[i].Load() != nil {
			n++
		}
	}
	return n
}

func (t *Table[V]) slot(key string) *atomic.Pointer[entry[V]] {
	return &t.slots[maphash.String(t.seed, key)&t.mask]
}
