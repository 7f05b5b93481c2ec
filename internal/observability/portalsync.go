package observability

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// PortalSyncMetrics are the metrics of the status reconciliation with the portal and of the bulk
// re-sync (internal/portalsync). Every label comes from a closed set given at registration, and
// every value exists at zero from start-up.
type PortalSyncMetrics struct {
	// Drifts is the last reconciliation run's count of drifts by class.
	Drifts *prometheus.GaugeVec
	// Runs counts reconciliation runs by outcome (clean, drifts, error).
	Runs *prometheus.CounterVec
	// LastRun is when a run last ended with each outcome (Unix seconds; 0 never).
	LastRun *prometheus.GaugeVec
	// Resyncs counts the dossiers a bulk re-sync handled, by result.
	Resyncs *prometheus.CounterVec
}

// NewPortalSyncMetrics registers the metrics on reg with the given closed label sets.
func NewPortalSyncMetrics(reg prometheus.Registerer, classes, outcomes, resyncResults []string) (*PortalSyncMetrics, error) {
	m := &PortalSyncMetrics{
		Drifts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_portal_drifts",
			Help: "Drifts between the last state synced and the portal's, found by the last status reconciliation run, by class.",
		}, []string{"class"}),
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_portal_drift_runs_total",
			Help: "Status reconciliation runs by outcome (clean, drifts, error).",
		}, []string{"outcome"}),
		LastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_portal_drift_last_run_timestamp_seconds",
			Help: "When a status reconciliation run last ended with each outcome (Unix seconds, 0 when never).",
		}, []string{"outcome"}),
		Resyncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_portal_resync_dossiers_total",
			Help: "Dossiers handled by bulk re-sync jobs, by result (sent, duplicate, unavailable).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.Drifts, m.Runs, m.LastRun, m.Resyncs} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering portal sync metrics: %w", err)
		}
	}
	for _, c := range classes {
		m.Drifts.WithLabelValues(c)
	}
	for _, o := range outcomes {
		m.Runs.WithLabelValues(o)
		m.LastRun.WithLabelValues(o)
	}
	for _, r := range resyncResults {
		m.Resyncs.WithLabelValues(r)
	}
	return m, nil
}
