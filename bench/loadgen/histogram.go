package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power-of-two range of latencies is split into
// 2^subBits equal buckets, so a recorded value is off by less than 1/256 (0.4%), and values
// under 2^(subBits+1) ns are exact.
const subBits = 8

// maxTrackable is the largest latency the histogram tells apart (about 18 minutes); longer
// ones land in the last bucket, while Max stays exact.
const maxTrackable = 1<<40 - 1

// Histogram is a log-linear latency histogram in nanoseconds, in the spirit of HdrHistogram:
// fixed memory (about 66 KiB), constant-time Record, quantiles within 0.4%. It is not safe
// for concurrent use; give every worker its own and Merge them.
type Histogram struct {
	counts []uint64
	n      uint64
	sum    float64
	min    int64
	max    int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, bucketIndex(maxTrackable)+1), min: math.MaxInt64}
}

// bucketIndex maps a value to its bucket: values below 2^(subBits+1) have a bucket of their
// own; above, each power of two is cut into 2^subBits buckets.
func bucketIndex(v int64) int {
	if v < 0 {
		v = 0
	}
	if v > maxTrackable {
		v = maxTrackable
	}
	shift := bits.Len64(uint64(v)) - subBits - 1
	if shift <= 0 {
		return int(v)
	}
	return shift<<subBits + int(v>>shift)
}

// bucketHigh is the largest value that lands in bucket i.
func bucketHigh(i int) int64 {
	if i < 2<<subBits {
		return int64(i)
	}
	shift := i>>subBits - 1
	mantissa := int64(i - shift<<subBits)
	return mantissa<<shift + 1<<shift - 1
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	h.counts[bucketIndex(v)]++
	h.n++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every value recorded in o.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest recorded value, exactly.
func (h *Histogram) Max() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.max)
}

// Min is the smallest recorded value, exactly.
func (h *Histogram) Min() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Mean is the average of the recorded values.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Quantile returns the value at quantile q (0.99 for p99): the smallest recorded value v such
// that at least ceil(q·n) values are ≤ v, reported as the highest value of v's bucket and
// never above Max.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(1, min(rank, h.n))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}
