package observability

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PendingAgeBuckets are the age buckets of gateway_payments_pending, against each provider's
// payment TTL and the expiry grace.
var PendingAgeBuckets = []string{"within_ttl", "in_grace", "overdue"}

// PendingCounts is one provider's pending payments per bucket of PendingAgeBuckets, and the age
// of the oldest.
type PendingCounts struct {
	ByAge  [3]int64
	Oldest time.Duration
}

// PendingPaymentsCollector reports pending payments by provider and age bucket, read from the
// store at scrape time through Read (a few counts on an index, one round trip). A failed read
// reports nothing for that scrape rather than failing the whole scrape.
type PendingPaymentsCollector struct {
	Read    func(ctx context.Context) (map[string]PendingCounts, error)
	Timeout time.Duration
	pending *prometheus.Desc
	oldest  *prometheus.Desc
}

// NewPendingPaymentsCollector builds the collector over read.
func NewPendingPaymentsCollector(read func(ctx context.Context) (map[string]PendingCounts, error)) *PendingPaymentsCollector {
	return &PendingPaymentsCollector{
		Read: read, Timeout: 2 * time.Second,
		pending: prometheus.NewDesc("gateway_payments_pending",
			"Pending payments by provider and age: within_ttl (may still be paid), in_grace (past the TTL, a late payment is "+
				"still waited for), overdue (past TTL and grace: should have been settled or expired). Read at scrape time.",
			[]string{"provider", "age"}, nil),
		oldest: prometheus.NewDesc("gateway_payments_pending_oldest_age_seconds",
			"Age of the oldest pending payment by provider, 0 when there is none. Read at scrape time.",
			[]string{"provider"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *PendingPaymentsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.oldest
}

// Collect implements prometheus.Collector.
func (c *PendingPaymentsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	counts, err := c.Read(ctx)
	if err != nil {
		return
	}
	for provider, pc := range counts {
		for i, age := range PendingAgeBuckets {
			ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(pc.ByAge[i]), provider, age)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, pc.Oldest.Seconds(), provider)
	}
}
