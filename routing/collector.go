package routing

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Collector reads the state of the streams, consumer groups and retry schedules at scrape time:
// stream length, group lag and pending, the age of the oldest pending message, parked messages
// and dead-letter depth. Reading at scrape time (instead of counting on the way) keeps the
// figures right across replicas and restarts.
type Collector struct {
	router *Router

	streamLen, groupLag, groupPending, oldestPending, parked, nextDue, deadLetters *prometheus.Desc
}

// NewCollector builds the collector of r's streams.
func NewCollector(r *Router) *Collector {
	return &Collector{
		router: r,
		streamLen: prometheus.NewDesc("gateway_stream_length", "Entries in a topic's stream (XLEN).",
			[]string{"topic"}, nil),
		groupLag: prometheus.NewDesc("gateway_stream_group_lag", "Entries of the stream not yet delivered to the handler's consumer group.",
			[]string{"topic", "handler"}, nil),
		groupPending: prometheus.NewDesc("gateway_stream_group_pending", "Entries delivered to the handler's group and not yet acknowledged.",
			[]string{"topic", "handler"}, nil),
		oldestPending: prometheus.NewDesc("gateway_stream_oldest_pending_age_seconds", "Idle time of the oldest unacknowledged entry of the group (0 when none).",
			[]string{"topic", "handler"}, nil),
		parked: prometheus.NewDesc("gateway_retry_parked_messages", "Messages parked in the handler's delayed-retry schedule.",
			[]string{"handler", "partner"}, nil),
		nextDue: prometheus.NewDesc("gateway_retry_oldest_due_timestamp_seconds", "Due time of the earliest parked message (0 when none).",
			[]string{"handler", "partner"}, nil),
		deadLetters: prometheus.NewDesc("gateway_deadletter_depth", "Messages in the dead-letter stream.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.streamLen, c.groupLag, c.groupPending, c.oldestPending, c.parked, c.nextDue, c.deadLetters} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A Redis that does not answer yields no samples (the
// scrape shows the gap) rather than zeros that would look healthy.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	client := c.router.deps.Store.Client
	keys := c.router.deps.Store.Keys
	topics := map[string]bool{}
	for name, s := range c.router.schedules {
		topics[s.topic] = true
		if n, due, err := s.Len(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(c.parked, prometheus.GaugeValue, float64(n), name, s.partner)
			ts := 0.0
			if !due.IsZero() {
				ts = float64(due.UnixMilli()) / 1000
			}
			ch <- prometheus.MustNewConstMetric(c.nextDue, prometheus.GaugeValue, ts, name, s.partner)
		}
	}
	for topic := range topics {
		stream := keys.Stream(topic)
		n, err := client.XLen(ctx, stream).Result()
		if err != nil {
			continue
		}
		if topic == TopicDeadLetter {
			ch <- prometheus.MustNewConstMetric(c.deadLetters, prometheus.GaugeValue, float64(n))
		}
		ch <- prometheus.MustNewConstMetric(c.streamLen, prometheus.GaugeValue, float64(n), topic)
		groups, err := client.XInfoGroups(ctx, stream).Result()
		if err != nil {
			continue
		}
		for _, g := range groups {
			ch <- prometheus.MustNewConstMetric(c.groupLag, prometheus.GaugeValue, float64(max(g.Lag, 0)), topic, g.Name)
			ch <- prometheus.MustNewConstMetric(c.groupPending, prometheus.GaugeValue, float64(g.Pending), topic, g.Name)
			age := 0.0
			if g.Pending > 0 {
				if p, err := client.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: stream, Group: g.Name, Start: "-", End: "+", Count: 1}).Result(); err == nil && len(p) > 0 {
					age = p[0].Idle.Seconds()
				}
			}
			ch <- prometheus.MustNewConstMetric(c.oldestPending, prometheus.GaugeValue, age, topic, g.Name)
		}
	}
}
