package observability

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/egov-vn/gateway/connectors/bank"
)

// EvidenceMetrics count the callbacks kept in the evidence log and those that could not be.
type EvidenceMetrics struct {
	// Records counts callbacks by endpoint and result (recorded, failed).
	Records *prometheus.CounterVec
}

// NewEvidenceMetrics registers the evidence metrics on reg, every endpoint and result at zero.
func NewEvidenceMetrics(reg prometheus.Registerer) (*EvidenceMetrics, error) {
	m := &EvidenceMetrics{
		Records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_evidence_records_total",
			Help: "Provider callbacks appended to the evidence log (recorded) or lost to a store failure (failed), by endpoint.",
		}, []string{"endpoint", "result"}),
	}
	if err := reg.Register(m.Records); err != nil {
		return nil, fmt.Errorf("registering evidence metrics: %w", err)
	}
	for _, e := range bank.Endpoints {
		for _, r := range []string{"recorded", "failed"} {
			m.Records.WithLabelValues(e, r)
		}
	}
	return m, nil
}

// EvidenceRecorded counts a callback kept in the evidence log.
func (m *EvidenceMetrics) EvidenceRecorded(endpoint string) {
	m.Records.WithLabelValues(endpoint, "recorded").Inc()
}

// EvidenceFailed counts a callback the evidence log could not keep.
func (m *EvidenceMetrics) EvidenceFailed(endpoint string) {
	m.Records.WithLabelValues(endpoint, "failed").Inc()
}
