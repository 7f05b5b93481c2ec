package main

import (
	"math"
	"testing"
	"time"
)

func TestBucketsCoverTheRange(t *testing.T) {
	t.Parallel()
	// Bucket boundaries must be contiguous: the value after a bucket's highest opens the next one.
	for i := 0; i < numBuckets-1; i++ {
		hi := bucketHigh(i)
		if got := bucketOf(hi); got != i {
			t.Fatalf("bucketOf(bucketHigh(%d)=%d) = %d", i, hi, got)
		}
		if got := bucketOf(hi + 1); got != i+1 {
			t.Fatalf("bucketOf(%d) = %d, want %d", hi+1, got, i+1)
		}
	}
	if got := bucketOf(math.MaxInt64); got != numBuckets-1 {
		t.Fatalf("bucketOf(MaxInt64) = %d, want the last bucket %d", got, numBuckets-1)
	}
}

func TestQuantiles(t *testing.T) {
	t.Parallel()
	h := newHistogram()
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		name string
		q    float64
		want time.Duration
	}{
		{"p50", 0.50, 5000 * time.Microsecond},
		{"p90", 0.90, 9000 * time.Microsecond},
		{"p99", 0.99, 9900 * time.Microsecond},
		{"p99.9", 0.999, 9990 * time.Microsecond},
		{"max", 1, 10000 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := h.quantile(tt.q)
			if got < tt.want || float64(got) > float64(tt.want)*(1+1.0/halfCount) {
				t.Fatalf("quantile(%v) = %v, want %v within %.1f%% above", tt.q, got, tt.want, 100.0/halfCount)
			}
		})
	}
	other := newHistogram()
	other.record(time.Second)
	h.merge(other)
	if h.quantile(1) != time.Second || h.total != 10001 {
		t.Fatalf("after merge: max %v, total %d", h.quantile(1), h.total)
	}
}
