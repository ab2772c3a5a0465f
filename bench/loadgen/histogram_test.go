package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestQuantileExactSamples(t *testing.T) {
	// Values under 512 ns have a bucket each, so quantiles are exact.
	h := NewHistogram()
	for v := 500; v >= 1; v-- {
		h.Record(time.Duration(v))
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, 1},
		{0.001, 1},
		{0.5, 250},
		{0.9, 450},
		{0.99, 495},
		{0.999, 500},
		{1, 500},
	}
	for _, tt := range tests {
		if got := h.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %d, want %d", tt.q, got, tt.want)
		}
	}
	if h.Count() != 500 || h.Min() != 1 || h.Max() != 500 || h.Mean() != 250 {
		t.Errorf("count %d min %d max %d mean %d, want 500 1 500 250", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestQuantileSkewed(t *testing.T) {
	// 990 fast requests and 10 slow ones: p99 is still fast, p99.9 is slow.
	h := NewHistogram()
	for range 990 {
		h.Record(100 * time.Nanosecond)
	}
	for range 10 {
		h.Record(400 * time.Nanosecond)
	}
	if got := h.Quantile(0.50); got != 100 {
		t.Errorf("p50 = %d, want 100", got)
	}
	if got := h.Quantile(0.99); got != 100 {
		t.Errorf("p99 = %d, want 100", got)
	}
	if got := h.Quantile(0.991); got != 400 {
		t.Errorf("p99.1 = %d, want 400", got)
	}
	if got := h.Quantile(0.999); got != 400 {
		t.Errorf("p99.9 = %d, want 400", got)
	}
}

// TestQuantileAgainstSortedSample compares the histogram with exact quantiles of a random
// sample of realistic latencies: within the histogram's 1/256 resolution.
func TestQuantileAgainstSortedSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	var sample []time.Duration
	for range 100_000 {
		d := time.Duration(50_000 + rng.ExpFloat64()*2_000_000) // 50 µs + exp(mean 2 ms)
		h.Record(d)
		sample = append(sample, d)
	}
	slices.Sort(sample)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := sample[int(q*float64(len(sample)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/256 {
			t.Errorf("q%v = %v, exact %v: off by more than 1/256", q, got, exact)
		}
	}
	if h.Max() != sample[len(sample)-1] || h.Min() != sample[0] {
		t.Errorf("max/min %v/%v, want %v/%v", h.Max(), h.Min(), sample[len(sample)-1], sample[0])
	}
}

func TestMerge(t *testing.T) {
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for v := 1; v <= 1000; v++ {
		d := time.Duration(v) * time.Microsecond
		all.Record(d)
		if v%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(b)
	for _, q := range []float64{0.5, 0.99, 0.999} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged q%v = %v, want %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != 1000 || a.Min() != time.Microsecond || a.Max() != time.Millisecond {
		t.Errorf("merged count %d min %v max %v", a.Count(), a.Min(), a.Max())
	}
}

func TestEmptyHistogram(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.99) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 {
		t.Error("an empty histogram must report zeros")
	}
}

func TestBucketsCoverEveryValue(t *testing.T) {
	// Every value lands in a bucket whose range holds it, and the ranges do not overlap.
	prevHigh := int64(-1)
	for i := range bucketIndex(maxTrackable) + 1 {
		high := bucketHigh(i)
		if high <= prevHigh {
			t.Fatalf("bucket %d: high %d not above the previous %d", i, high, prevHigh)
		}
		if bucketIndex(prevHigh+1) != i || bucketIndex(high) != i {
			t.Fatalf("bucket %d = [%d, %d], but index(%d)=%d index(%d)=%d", i, prevHigh+1, high, prevHigh+1, bucketIndex(prevHigh+1), high, bucketIndex(high))
		}
		if low := prevHigh + 1; low >= 1<<(subBits+1) && float64(high-low+1)/float64(low) > 1.0/(1<<subBits) {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/%d of its values", i, low, high, 1<<subBits)
		}
		prevHigh = high
	}
	if bucketIndex(1<<62) != bucketIndex(maxTrackable) {
		t.Error("values above maxTrackable must land in the last bucket")
	}
}

func TestParseVmRSS(t *testing.T) {
	status := []byte("Name:\tcaddy\nVmPeak:\t 1234 kB\nVmRSS:\t   61234 kB\nThreads:\t9\n")
	if kb, err := parseVmRSS(status); err != nil || kb != 61234 {
		t.Fatalf("parseVmRSS = %d, %v; want 61234", kb, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tkthreadd\n")); err == nil {
		t.Fatal("a status without VmRSS must be an error")
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name holds a space and a parenthesis; utime 250 + stime 50 ticks = 3 s.
	stat := []byte("4242 (my (caddy) R 1 4242 4242 0 -1 4194304 123 0 0 0 250 50 0 0 20 0 9 0 317712 3133440 408\n")
	if d, err := parseStatCPU(stat); err != nil || d != 3*time.Second {
		t.Fatalf("parseStatCPU = %v, %v; want 3s", d, err)
	}
	if _, err := parseStatCPU([]byte("4242 (x) R 1")); err == nil {
		t.Fatal("a short stat line must be an error")
	}
}
