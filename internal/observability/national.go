package observability

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Submission outcomes (gateway_portal_submissions_total).
const (
	SubmissionFetched        = "fetched"
	SubmissionQueued         = "queued"
	SubmissionDuplicate      = "duplicate"
	SubmissionDelivered      = "delivered"
	SubmissionAcknowledged   = "acknowledged"
	SubmissionAgencyIgnored  = "ignored_agency"
	SubmissionInvalidIgnored = "ignored_invalid"
)

// Catalogue refresh outcomes (gateway_catalog_refreshes_total) and change kinds
// (gateway_catalog_changes_total).
const (
	RefreshChanged    = "changed"
	RefreshUnchanged  = "unchanged"
	RefreshIncomplete = "incomplete"
	RefreshFailed     = "failed"

	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeChanged = "changed"
)

// Catalogues are the national catalogues' names, the closed set of the catalog label.
var Catalogues = []string{"procedures", "agencies", "fields"}

// NationalMetrics count what comes down from the national portal: dossiers submitted there and
// the catalogues.
type NationalMetrics struct {
	Submissions    *prometheus.CounterVec
	Refreshes      *prometheus.CounterVec
	CatalogEntries *prometheus.GaugeVec
	CatalogChanges *prometheus.CounterVec
}

// NewNationalMetrics registers the metrics on reg, every known label set at zero.
func NewNationalMetrics(reg prometheus.Registerer) (*NationalMetrics, error) {
	m := &NationalMetrics{
		Submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_portal_submissions_total",
			Help: "Dossiers submitted on the national portal, by outcome: fetched, queued for the one-stop system, duplicate, delivered to it, acknowledged to the portal, ignored_agency, ignored_invalid.",
		}, []string{"outcome"}),
		Refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_catalog_refreshes_total",
			Help: "Refreshes of the national catalogues, by catalogue and outcome (changed, unchanged, incomplete, failed).",
		}, []string{"catalog", "outcome"}),
		CatalogEntries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_catalog_entries",
			Help: "Entries of each cached national catalogue, as of this replica's last load or refresh.",
		}, []string{"catalog"}),
		CatalogChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_catalog_changes_total",
			Help: "Entries of the national catalogues added, removed or changed by a refresh.",
		}, []string{"catalog", "kind"}),
	}
	for _, c := range []prometheus.Collector{m.Submissions, m.Refreshes, m.CatalogEntries, m.CatalogChanges} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering national portal metrics: %w", err)
		}
	}
	for _, o := range []string{SubmissionFetched, SubmissionQueued, SubmissionDuplicate, SubmissionDelivered, SubmissionAcknowledged,
		SubmissionAgencyIgnored, SubmissionInvalidIgnored} {
		m.Submissions.WithLabelValues(o)
	}
	for _, c := range Catalogues {
		m.CatalogEntries.WithLabelValues(c)
		for _, o := range []string{RefreshChanged, RefreshUnchanged, RefreshIncomplete, RefreshFailed} {
			m.Refreshes.WithLabelValues(c, o)
		}
		for _, k := range []string{ChangeAdded, ChangeRemoved, ChangeChanged} {
			m.CatalogChanges.WithLabelValues(c, k)
		}
	}
	return m, nil
}
