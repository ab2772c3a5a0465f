package report

import (
	"testing"
	"time"
)

func TestHitsAdd(t *testing.T) {
	h := NewHits()
	known := map[string]bool{"vip": true}
	isKnown := func(id string) bool { return known[id] }
	now := time.Date(2026, 12, 4, 12, 0, 30, 0, time.UTC)
	h.Add([]string{"vip", "made-up"}, isKnown, now)
	h.Add([]string{"vip"}, isKnown, now.Add(time.Minute))
	if got := h.Get("vip", now.Add(time.Minute)); got != (HitCount{Total: 2, LastMinutes: 2}) {
		t.Fatalf("vip: %+v", got)
	}
	if got := h.Get("made-up", now); got != (HitCount{}) {
		t.Fatalf("an unknown audience was counted: %+v", got)
	}
	n := 0
	h.counters.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d counters, want 1: made-up IDs must not grow the map", n)
	}
	// An audience counted once keeps its counter when the rules stop using it.
	delete(known, "vip")
	h.Add([]string{"vip"}, isKnown, now.Add(2*time.Minute))
	if got := h.Get("vip", now.Add(2*time.Minute)); got.Total != 3 {
		t.Fatalf("vip after it left the rules: %+v", got)
	}
	// Five minutes later only the recent minutes count.
	if got := h.Get("vip", now.Add(6*time.Minute)); got != (HitCount{Total: 3, LastMinutes: 1}) {
		t.Fatalf("vip six minutes on: %+v", got)
	}
}
