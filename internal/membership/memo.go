package membership

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// Sizes of a Memo: how many inputs it holds, and the longest raw input it keeps.
const (
	memoSlots  = 1024 // a power of two
	memoMaxRaw = 1024
)

// A Memo remembers the memberships of recent raw inputs, so that a shopper's every request
// does not decode, validate, sort and join the same list again. It is a fixed array of
// slots, each holding one input and its result, chosen by a hash of the input: reads take
// no lock, memory is bounded (inputs over 1 KiB are not kept) and a slot another input
// lands on is overwritten.
//
// A Memo serves one Config (set as its Memo field). What Config.Allow keeps may change, so
// the Memo starts afresh whenever generation, given to NewMemo, returns a different value.
// The Segments of a remembered membership are shared by every request that reads it: they
// must not be modified.
type Memo struct {
	seed       maphash.Seed
	generation func() any
	table      atomic.Pointer[memoTable]
}

type memoTable struct {
	generation any
	slots      [memoSlots]atomic.Pointer[memoEntry]
}

type memoEntry struct {
	origin Origin
	raw    string
	m      Membership
}

// NewMemo returns an empty Memo. generation, when not nil, names the state of the allow-list
// (such as the audience catalog in force) and must return comparable values.
func NewMemo(generation func() any) *Memo {
	return &Memo{seed: maphash.MakeSeed(), generation: generation}
}

// normalize is Normalize(cfg, raw) with the given origin, from the memo when it holds raw.
func (mm *Memo) normalize(cfg Config, origin Origin, raw string) Membership {
	if len(raw) > memoMaxRaw {
		m := Normalize(cfg, raw)
		m.Origin = origin
		return m
	}
	var generation any
	if mm.generation != nil {
		generation = mm.generation()
	}
	t := mm.table.Load()
	if t == nil || t.generation != generation {
		t = &memoTable{generation: generation}
		mm.table.Store(t)
	}
	slot := &t.slots[maphash.String(mm.seed, raw)&(memoSlots-1)]
	if e := slot.Load(); e != nil && e.raw == raw && e.origin == origin {
		return e.m
	}
	m := Normalize(cfg, raw)
	m.Origin = origin
	m.header = strings.Join(m.Segments, ",")
	slot.Store(&memoEntry{origin: origin, raw: raw, m: m})
	return m
}
