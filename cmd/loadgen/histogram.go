package main

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram is log-linear, in the manner of HdrHistogram: values below subCount
// nanoseconds have a bucket each; above that, every power of two is split into halfCount equal
// buckets. A recorded value is therefore reported within 1/halfCount (about 1.6 %) of its true
// value, over the whole range, in a fixed array that merges by addition.
const (
	subBits    = 7
	subCount   = 1 << subBits
	halfCount  = subCount / 2
	numBuckets = subCount + (63-subBits)*halfCount // covers every non-negative int64
)

// histogram records latencies in nanoseconds. It is not safe for concurrent use: each load
// worker has its own, and they are merged when the phase ends.
type histogram struct {
	counts   [numBuckets]uint64
	total    uint64
	min, max int64
	sum      float64
}

func newHistogram() *histogram { return &histogram{min: math.MaxInt64} }

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < subCount {
		return int(u)
	}
	shift := bits.Len64(u) - subBits
	return subCount + (shift-1)*halfCount + int(u>>shift) - halfCount
}

// bucketHigh is the highest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	j := i - subCount
	shift := j/halfCount + 1
	m := uint64(j%halfCount + halfCount)
	return int64((m+1)<<shift - 1)
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// quantile returns the value at quantile q (0..1): the highest value equivalent to the recorded
// value of that rank, never above the largest recorded value.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}
