package rules

import (
	"fmt"
	"hash/maphash"
	"slices"

	lru "github.com/hashicorp/golang-lru/v2"
)

// audience is a rule's compiled audience: who it is for.
type audience struct {
	mode audMode
	ids  []string // sorted, de-duplicated
}

func compileAudience(a Audiences) audience {
	switch a.Mode {
	case "any":
		return audience{mode: audAny, ids: a.IDs}
	case "all":
		return audience{mode: audAll, ids: a.IDs}
	case "none":
		return audience{mode: audNone, ids: a.IDs}
	}
	return audience{mode: audEveryone}
}

// match reports whether a shopper in the sorted segment set is in the audience.
func (a *audience) match(segs []string) bool {
	switch a.mode {
	case audAny:
		for _, id := range a.ids {
			if _, ok := slices.BinarySearch(segs, id); ok {
				return true
			}
		}
		return false
	case audAll:
		for _, id := range a.ids {
			if _, ok := slices.BinarySearch(segs, id); !ok {
				return false
			}
		}
		return true
	case audNone:
		for _, id := range a.ids {
			if _, ok := slices.BinarySearch(segs, id); ok {
				return false
			}
		}
		return true
	}
	return true
}

// audienceIndex finds the rules (of one list, in evaluation order) whose audience matches a
// segment set, touching only the rules without audiences or with "none" and those naming one
// of the shopper's segments; each set's answer is kept in an LRU.
type audienceIndex struct {
	auds      []audience         // per rule, in evaluation order
	always    []int32            // rules without audiences or with "none"
	bySegment map[string][]int32 // segment → rules that can only match shoppers in it
	cache     *lru.Cache[uint64, *candidates]
	seed      maphash.Seed
}

func newAudienceIndex(auds []audience, cacheSize int) (*audienceIndex, error) {
	cache, err := lru.New[uint64, *candidates](cacheSize)
	if err != nil {
		return nil, fmt.Errorf("candidate cache: %w", err)
	}
	x := &audienceIndex{auds: auds, bySegment: make(map[string][]int32), cache: cache, seed: maphash.MakeSeed()}
	for i, a := range auds {
		idx := int32(i)
		switch a.mode {
		case audAny:
			for _, id := range a.ids {
				x.bySegment[id] = append(x.bySegment[id], idx)
			}
		case audAll:
			// A shopper must be in every segment, so indexing by one of them is enough.
			x.bySegment[a.ids[0]] = append(x.bySegment[a.ids[0]], idx)
		default:
			x.always = append(x.always, idx)
		}
	}
	return x, nil
}

// candidates is the cached list of rules whose audience matches one segment set.
type candidates struct {
	segs  []string // the set, to tell hash collisions apart
	rules []int32  // indexes into the rule list, ascending (evaluation order)
}

// candidates returns the rules a shopper with the sorted, de-duplicated segment set can
// match, from the LRU when the set was seen before.
func (x *audienceIndex) candidates(segs []string) []int32 {
	key := x.hashSegments(segs)
	if c, ok := x.cache.Get(key); ok && slices.Equal(c.segs, segs) {
		return c.rules
	}
	c := &candidates{segs: slices.Clone(segs), rules: x.matchAudiences(segs)}
	x.cache.Add(key, c)
	return c.rules
}

func (x *audienceIndex) hashSegments(segs []string) uint64 {
	var h maphash.Hash
	h.SetSeed(x.seed)
	for _, s := range segs {
		h.WriteString(s)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// matchAudiences computes the candidate rules through the audience index.
func (x *audienceIndex) matchAudiences(segs []string) []int32 {
	out := make([]int32, 0, len(x.always))
	for _, i := range x.always {
		if x.auds[i].match(segs) {
			out = append(out, i)
		}
	}
	for _, s := range segs {
		for _, i := range x.bySegment[s] {
			if x.auds[i].match(segs) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return slices.Clip(slices.Compact(out))
}

// normalizeSegments returns segs sorted and de-duplicated, copying only when needed.
func normalizeSegments(segs []string) []string {
	for i := 1; i < len(segs); i++ {
		if segs[i-1] >= segs[i] {
			out := slices.Clone(segs)
			slices.Sort(out)
			return slices.Compact(out)
		}
	}
	return segs
}
