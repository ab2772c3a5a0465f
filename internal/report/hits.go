package report

import (
	"sync"
	"sync/atomic"
	"time"
)

// hitWindow is how far back recent hits are counted.
const (
	hitWindow  = 5 * time.Minute
	hitBuckets = 6 // one per minute, one more than the window so a full window is always kept
)

// Hits counts requests per audience since start and over the last five minutes. Only
// audiences the handler knows (from its rules or catalog) are counted, so clients cannot grow
// it with made-up IDs.
type Hits struct {
	counters sync.Map // audience id → *audienceHits
}

type audienceHits struct {
	total   atomic.Int64
	buckets [hitBuckets]struct {
		minute atomic.Int64
		count  atomic.Int64
	}
}

// HitCount is the number of requests seen with one audience.
type HitCount struct {
	Total       int64 `json:"total"`
	LastMinutes int64 `json:"last_5m"`
}

// NewHits returns an empty counter.
func NewHits() *Hits { return &Hits{} }

// Add counts one request for each of segments that known accepts. An audience is checked
// against known once, when first seen: one that has a counter keeps counting.
func (c *Hits) Add(segments []string, known func(string) bool, now time.Time) {
	minute := now.Unix() / 60
	for _, id := range segments {
		v, ok := c.counters.Load(id)
		if !ok {
			if !known(id) {
				continue
			}
			v, _ = c.counters.LoadOrStore(id, new(audienceHits))
		}
		v.(*audienceHits).add(minute)
	}
}

func (h *audienceHits) add(minute int64) {
	h.total.Add(1)
	b := &h.buckets[minute%hitBuckets]
	if old := b.minute.Load(); old != minute && b.minute.CompareAndSwap(old, minute) {
		b.count.Store(0)
	}
	b.count.Add(1)
}

// Get returns the counts of one audience.
func (c *Hits) Get(id string, now time.Time) HitCount {
	v, ok := c.counters.Load(id)
	if !ok {
		return HitCount{}
	}
	h := v.(*audienceHits)
	minute := now.Unix() / 60
	oldest := minute - int64(hitWindow/time.Minute) + 1
	var recent int64
	for i := range h.buckets {
		if m := h.buckets[i].minute.Load(); m >= oldest && m <= minute {
			recent += h.buckets[i].count.Load()
		}
	}
	return HitCount{Total: h.total.Load(), LastMinutes: recent}
}
