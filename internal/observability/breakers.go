package observability

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// breakerStateValue maps a breaker state to the gauge's value.
func breakerStateValue(s string) float64 {
	switch strings.ToLower(s) {
	case "open":
		return 2
	case "half-open":
		return 1
	}
	return 0
}

// BreakerCollector reports each breaker's state, read at scrape time (gobreaker moves from open to
// half-open only when read, and its state hook runs under its lock).
type BreakerCollector struct {
	States func() map[string]map[string]string
	desc   *prometheus.Desc
}

// NewBreakerCollector builds the collector over states.
func NewBreakerCollector(states func() map[string]map[string]string) *BreakerCollector {
	return &BreakerCollector{States: states, desc: prometheus.NewDesc("gateway_breaker_state",
		"Circuit breaker state per partner endpoint: 0 closed, 1 half-open, 2 open.", []string{"partner", "operation"}, nil)}
}

// Describe implements prometheus.Collector.
func (b *BreakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect implements prometheus.Collector.
func (b *BreakerCollector) Collect(ch chan<- prometheus.Metric) {
	for partner, ops := range b.States() {
		for op, st := range ops {
			ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, breakerStateValue(st), partner, op)
		}
	}
}
