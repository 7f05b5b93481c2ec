package observability

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/egov-vn/gateway/connectors/postal"
)

// DeliveryMetrics are the business metrics of postal delivery. Every label comes from a closed
// set (kind, status code, reason); every known combination exists at zero from start-up.
type DeliveryMetrics struct {
	// ShipmentsCreated counts orders created at the postal partner, by kind (a retried create that
	// found its order counts once).
	ShipmentsCreated *prometheus.CounterVec
	// StatusChanges counts shipment statuses recorded, by kind and status code.
	StatusChanges *prometheus.CounterVec
	// Problems counts failed or returned deliveries (statuses 5, 15, 18, 22), by kind and status.
	Problems *prometheus.CounterVec
	// TrackingIgnored counts tracking records that changed nothing, by reason.
	TrackingIgnored *prometheus.CounterVec
	// TrackingPolls counts tracking polls by outcome (ok, error, skipped: another replica polls).
	TrackingPolls *prometheus.CounterVec
}

// Tracking ignore reasons: a status already recorded; one that would move a final shipment
// (delivered, completed, cancelled) elsewhere; a record for an order the gateway does not know.
const (
	IgnoredDuplicate    = "duplicate"
	IgnoredAfterFinal   = "after_final"
	IgnoredUnknownOrder = "unknown_order"
	// IgnoredUnknownStatus: a status code outside the known shipment statuses.
	IgnoredUnknownStatus = "unknown_status"
)

// TrackingIgnoreReasons lists the reasons of gateway_delivery_tracking_ignored_total.
var TrackingIgnoreReasons = []string{IgnoredDuplicate, IgnoredAfterFinal, IgnoredUnknownOrder, IgnoredUnknownStatus}

// ShipmentStatuses are the known shipment status codes; a code outside them is labelled "other".
var ShipmentStatuses = []postal.Status{
	postal.StatusDraft, postal.StatusCreated, postal.StatusPickingUp, postal.StatusPickupFailed, postal.StatusPickedUp,
	postal.StatusAtPostOffice, postal.StatusInTransit, postal.StatusDelivering, postal.StatusDelivered,
	postal.StatusDeliveryFailed, postal.StatusReturning, postal.StatusCompleted, postal.StatusDeliveryCanceled,
}

// ProblemStatuses are the statuses of a failed or returned delivery, shown to ops.
var ProblemStatuses = []postal.Status{postal.StatusPickupFailed, postal.StatusDeliveryFailed, postal.StatusReturning, postal.StatusDeliveryCanceled}

// IsProblem reports whether s is a failed or returned delivery.
func IsProblem(s postal.Status) bool {
	for _, p := range ProblemStatuses {
		if p == s {
			return true
		}
	}
	return false
}

// StatusLabel is the metric label of a shipment status: its code, or "other".
func StatusLabel(s postal.Status) string {
	for _, k := range ShipmentStatuses {
		if k == s {
			return strconv.Itoa(int(s))
		}
	}
	return "other"
}

var (
	shipmentKinds = []postal.Kind{postal.KindDeliverResult, postal.KindCollectDossier}
	pollOutcomes  = []string{"ok", "error", "skipped"}
)

// NewDeliveryMetrics registers the delivery metrics on reg.
func NewDeliveryMetrics(reg prometheus.Registerer) (*DeliveryMetrics, error) {
	m := &DeliveryMetrics{
		ShipmentsCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_delivery_shipments_created_total",
			Help: "Postal orders created, by kind (deliver_result, collect_dossier).",
		}, []string{"kind"}),
		StatusChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_delivery_status_changes_total",
			Help: "Shipment statuses recorded (each once per shipment), by kind and status code.",
		}, []string{"kind", "status"}),
		Problems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_delivery_problems_total",
			Help: "Failed or returned deliveries (statuses 5, 15, 18, 22), by kind and status code.",
		}, []string{"kind", "status"}),
		TrackingIgnored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_delivery_tracking_ignored_total",
			Help: "Tracking records that changed nothing, by reason (duplicate, after_final, unknown_order, unknown_status).",
		}, []string{"reason"}),
		TrackingPolls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_delivery_tracking_polls_total",
			Help: "Tracking polls of the postal partner by outcome (ok, error, skipped: another replica holds the poll).",
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.ShipmentsCreated, m.StatusChanges, m.Problems, m.TrackingIgnored, m.TrackingPolls} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering delivery metrics: %w", err)
		}
	}
	for _, k := range shipmentKinds {
		m.ShipmentsCreated.WithLabelValues(string(k))
		for _, s := range ShipmentStatuses {
			m.StatusChanges.WithLabelValues(string(k), StatusLabel(s))
		}
		m.StatusChanges.WithLabelValues(string(k), "other")
		for _, s := range ProblemStatuses {
			m.Problems.WithLabelValues(string(k), StatusLabel(s))
		}
	}
	for _, r := range TrackingIgnoreReasons {
		m.TrackingIgnored.WithLabelValues(r)
	}
	for _, o := range pollOutcomes {
		m.TrackingPolls.WithLabelValues(o)
	}
	return m, nil
}
