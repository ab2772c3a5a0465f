package cartql

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortEdits: sortEdits orders edits as a stable sort by start, then end, for short
// lists (insertion sort) and long ones, nearly sorted or shuffled, with ties.
func TestSortEdits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 5, 30, 64, 65, 300} {
		for trial := range 20 {
			edits := make([]edit, n)
			for i := range edits {
				start := int32(rng.IntN(n + 1)) // ties are common
				if trial%2 == 0 {
					start = int32(i) // in order, then a few swapped below
				}
				edits[i] = edit{start: start, end: start + int32(rng.IntN(3)), off: int32(i)}
			}
			if trial%2 == 0 && n > 1 {
				for range 3 {
					i, j := rng.IntN(n), rng.IntN(n)
					edits[i], edits[j] = edits[j], edits[i]
				}
			}
			want := slices.Clone(edits)
			slices.SortStableFunc(want, func(a, b edit) int {
				if a.start != b.start {
					return int(a.start - b.start)
				}
				return int(a.end - b.end)
			})
			sortEdits(edits)
			if !slices.Equal(edits, want) {
				t.Fatalf("n=%d trial %d: sortEdits gave %v, want %v", n, trial, edits, want)
			}
		}
	}
}
