package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/faults"
)

func gauge(t *testing.T, gw *apptest.Gateway, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := gw.Metrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s%v series", name, labels)
	return 0
}

// TestScrapeTimeMetrics: stream, group, schedule and breaker figures are read from Redis and the
// breakers when scraped, on a real Redis, and the registry passes the Prometheus linter.
func TestScrapeTimeMetrics(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t, apptest.RealRedis)
	cfg.Retry.Schedule = []time.Duration{time.Minute}
	gw := apptest.Start(t, cfg)
	h := map[string]string{"handler": "dossier_status_to_portal", "topic": "dossier.status_changed"}
	post(t, gw, statusEvent("m1", 1, 1))
	apptest.Eventually(t, 10*time.Second, "synced", func() bool { return syncedVersion(t, gw) == 1 })
	if v := gauge(t, gw, "gateway_stream_length", map[string]string{"topic": "dossier.status_changed"}); v != 1 {
		t.Fatalf("stream length %v, want 1", v)
	}
	apptest.Eventually(t, 5*time.Second, "lag and pending 0", func() bool {
		return gauge(t, gw, "gateway_stream_group_lag", h) == 0 && gauge(t, gw, "gateway_stream_group_pending", h) == 0
	})

	gw.Sandboxes.Portal.Faults().Set(faults.Settings{Down: true})
	post(t, gw, statusEvent("m2", 2, 2))
	sched := map[string]string{"handler": "dossier_status_to_portal", "partner": "dvcqg"}
	apptest.Eventually(t, 10*time.Second, "one parked message", func() bool {
		return gauge(t, gw, "gateway_retry_parked_messages", sched) == 1
	})
	due := gauge(t, gw, "gateway_retry_oldest_due_timestamp_seconds", sched)
	if now := float64(time.Now().Unix()); due < now+30 || due > now+61 {
		t.Fatalf("oldest due %v, want about a minute from now (%v)", due, now)
	}
	if v := gauge(t, gw, "gateway_breaker_state", map[string]string{"partner": "dvcqg", "operation": "lookup_dossier"}); v != 0 && v != 2 {
		t.Fatalf("breaker state %v is not a known value", v)
	}
	problems, err := testutil.GatherAndLint(gw.Metrics.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "gateway_") {
			t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
		}
	}
}
