package observability

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PortalBacklogAges are the age buckets of gateway_portal_unsynced_dossiers, youngest first;
// they match store.UnsyncedAgeBounds (5 minutes, an hour, a day).
var PortalBacklogAges = []string{"lt_5m", "5m_1h", "1h_24h", "ge_24h"}

// PortalBacklog is the portal sync backlog as the collector reports it.
type PortalBacklog struct {
	ByAge   []int64 // one count per PortalBacklogAges bucket
	PastDue int64
	Oldest  time.Duration
}

// PortalBacklogCollector reports the dossiers whose newest version has not reached the portal,
// by how long they have waited and how many are past their processing deadline (NgayHenTra),
// read from the store at scrape time through Read (one round trip on a small index). A failed
// read reports nothing for that scrape.
type PortalBacklogCollector struct {
	Read    func(ctx context.Context) (PortalBacklog, error)
	Timeout time.Duration
	byAge   *prometheus.Desc
	pastDue *prometheus.Desc
	oldest  *prometheus.Desc
}

// NewPortalBacklogCollector builds the collector over read.
func NewPortalBacklogCollector(read func(ctx context.Context) (PortalBacklog, error)) *PortalBacklogCollector {
	return &PortalBacklogCollector{
		Read: read, Timeout: 2 * time.Second,
		byAge: prometheus.NewDesc("gateway_portal_unsynced_dossiers",
			"Dossiers whose newest version has not reached the portal, by how long they have waited (lt_5m, 5m_1h, 1h_24h, ge_24h). Read at scrape time.",
			[]string{"age"}, nil),
		pastDue: prometheus.NewDesc("gateway_portal_unsynced_past_due_dossiers",
			"Dossiers whose newest version has not reached the portal although its processing deadline (NgayHenTra) has passed. Read at scrape time.",
			nil, nil),
		oldest: prometheus.NewDesc("gateway_portal_unsynced_oldest_age_seconds",
			"How long the longest-waiting unsynced dossier has waited, 0 when none waits. Read at scrape time.",
			nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *PortalBacklogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byAge
	ch <- c.pastDue
	ch <- c.oldest
}

// Collect implements prometheus.Collector.
func (c *PortalBacklogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	b, err := c.Read(ctx)
	if err != nil || len(b.ByAge) != len(PortalBacklogAges) {
		return
	}
	for i, age := range PortalBacklogAges {
		ch <- prometheus.MustNewConstMetric(c.byAge, prometheus.GaugeValue, float64(b.ByAge[i]), age)
	}
	ch <- prometheus.MustNewConstMetric(c.pastDue, prometheus.GaugeValue, float64(b.PastDue))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, b.Oldest.Seconds())
}
