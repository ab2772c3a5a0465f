package rules

import (
	"hash/maphash"
	"slices"
)

// candidates is the cached list of rules whose audience matches one segment set.
type candidates struct {
	segs  []string // the set, to tell hash collisions apart
	rules []int32  // indexes into RuleSet.rules, ascending (evaluation order)
}

// candidates returns the rules a shopper with the sorted, de-duplicated segment set can
// match, from the LRU when the set was seen before.
func (rs *RuleSet) candidates(segs []string) []int32 {
	key := rs.hashSegments(segs)
	if c, ok := rs.cache.Get(key); ok && slices.Equal(c.segs, segs) {
		return c.rules
	}
	c := &candidates{segs: slices.Clone(segs), rules: rs.matchAudiences(segs)}
	rs.cache.Add(key, c)
	return c.rules
}

func (rs *RuleSet) hashSegments(segs []string) uint64 {
	var h maphash.Hash
	h.SetSeed(rs.seed)
	for _, s := range segs {
		h.WriteString(s)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// matchAudiences computes the candidate rules through the audience index.
func (rs *RuleSet) matchAudiences(segs []string) []int32 {
	out := make([]int32, 0, len(rs.always))
	for _, i := range rs.always {
		if rs.rules[i].audienceMatch(segs) {
			out = append(out, i)
		}
	}
	for _, s := range segs {
		for _, i := range rs.bySegment[s] {
			if rs.rules[i].audienceMatch(segs) {
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
