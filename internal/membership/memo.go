package membership

import (
	"strings"
	"sync/atomic"

	"github.com/caddy-audiences/caddy-audiences/internal/memo"
)

// Sizes of a Memo: how many inputs it holds, and the longest raw input it keeps.
const (
	memoSlots  = 512
	memoMaxRaw = 512
)

// A Memo remembers the memberships of recent raw inputs, so that a shopper's every request
// does not decode, validate, sort and join the same list again (a memo.Table: no lock,
// bounded memory, inputs over 512 bytes not kept).
//
// A Memo serves one Config (set as its Memo field). What Config.Allow keeps may change, so
// the Memo starts afresh whenever generation, given to NewMemo, returns a different value.
// The Segments of a remembered membership are shared by every request that reads it: they
// must not be modified.
type Memo struct {
	generation func() any
	current    atomic.Pointer[memoGeneration]
}

type memoGeneration struct {
	generation any
	table      *memo.Table[Membership]
}

// NewMemo returns an empty Memo. generation, when not nil, names the state of the allow-list
// (such as the audience catalog in force) and must return comparable values.
func NewMemo(generation func() any) *Memo {
	return &Memo{generation: generation}
}

// normalize is Normalize(cfg, raw) with the given origin, from the memo when it holds raw
// read from the same origin.
func (mm *Memo) normalize(cfg Config, origin Origin, raw string) Membership {
	var generation any
	if mm.generation != nil {
		generation = mm.generation()
	}
	g := mm.current.Load()
	if g == nil || g.generation != generation {
		g = &memoGeneration{generation: generation, table: memo.New[Membership](memoSlots, memoMaxRaw)}
		mm.current.Store(g)
	}
	if m, ok := g.table.Get(raw); ok && m.Origin == origin {
		return m
	}
	m := normalizeFrom(cfg, origin, raw)
	m.header = strings.Join(m.Segments, ",")
	g.table.Put(raw, m)
	return m
}
