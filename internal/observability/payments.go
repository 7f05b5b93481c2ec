package observability

import (
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/egov-vn/gateway/connectors/bank"
)

// PaymentMetrics are the business metrics of fee payments. Every label comes from a closed set
// (provider, callback endpoint, reason, state, outcome); every known combination exists at zero
// from start-up.
type PaymentMetrics struct {
	// Requests counts POST /v1/payments by provider and result (created, replayed, rejected).
	Requests *prometheus.CounterVec
	// RequestsRejected counts refused POST /v1/payments by reason.
	RequestsRejected *prometheus.CounterVec
	// Callbacks counts provider callbacks that were accepted, by endpoint and result
	// (applied, already_settled).
	Callbacks *prometheus.CounterVec
	// CallbacksRejected counts refused callbacks by endpoint and reason.
	CallbacksRejected *prometheus.CounterVec
	// Transitions counts state changes by provider and new state.
	Transitions *prometheus.CounterVec
	// PaidVND sums the amounts paid, by provider.
	PaidVND *prometheus.CounterVec
	// Queries counts status queries to providers by provider and outcome.
	Queries *prometheus.CounterVec
	// Mismatches is the last reconciliation's count of mismatches by provider and class.
	Mismatches *prometheus.GaugeVec
	// Reconciliations counts reconciliation runs by outcome (clean, mismatches, error).
	Reconciliations *prometheus.CounterVec
}

// ReconcileOutcomes are the outcomes of a reconciliation run.
var ReconcileOutcomes = []string{"clean", "mismatches", "error"}

// Status query outcomes.
var queryOutcomes = []string{"paid", "failed", "pending", "not_found", "error", "unsupported"}

// NewPaymentMetrics registers the payment metrics on reg.
func NewPaymentMetrics(reg prometheus.Registerer) (*PaymentMetrics, error) {
	m := &PaymentMetrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_payment_requests_total",
			Help: "POST /v1/payments by provider and result (created, replayed, rejected).",
		}, []string{"provider", "result"}),
		RequestsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_payment_requests_rejected_total",
			Help: "Refused POST /v1/payments by reason.",
		}, []string{"reason"}),
		Callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_payment_callbacks_total",
			Help: "Provider callbacks accepted, by endpoint and result (applied, already_settled).",
		}, []string{"endpoint", "result"}),
		CallbacksRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_payment_callbacks_rejected_total",
			Help: "Provider callbacks refused, by endpoint and reason; the payment is left as it was.",
		}, []string{"endpoint", "reason"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_payment_transitions_total",
			Help: "Payment state changes by provider and new state.",
		}, []string{"provider", "to"}),
		PaidVND: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_payment_paid_vnd_total",
			Help: "Sum of the amounts of payments that became paid, whole VND, by provider.",
		}, []string{"provider"}),
		Queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_payment_status_queries_total",
			Help: "Status queries to providers for payments without a callback, by provider and outcome.",
		}, []string{"provider", "outcome"}),
		Mismatches: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_reconciliation_mismatches",
			Help: "Mismatches found by the last reconciliation run, by provider and class.",
		}, []string{"provider", "class"}),
		Reconciliations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_reconciliation_runs_total",
			Help: "Reconciliation runs by outcome (clean, mismatches, error).",
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.Requests, m.RequestsRejected, m.Callbacks, m.CallbacksRejected, m.Transitions, m.PaidVND, m.Queries,
		m.Mismatches, m.Reconciliations} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering payment metrics: %w", err)
		}
	}
	for _, p := range append([]string{"unknown"}, bank.Providers...) {
		for _, r := range []string{"created", "replayed", "rejected"} {
			m.Requests.WithLabelValues(p, r)
		}
	}
	for _, p := range bank.Providers {
		for _, s := range []bank.State{bank.StatePaid, bank.StateFailed, bank.StateExpired, bank.StateCancelled} {
			m.Transitions.WithLabelValues(p, string(s))
		}
		m.PaidVND.WithLabelValues(p)
		for _, o := range queryOutcomes {
			m.Queries.WithLabelValues(p, o)
		}
		for _, c := range bank.MismatchClasses {
			m.Mismatches.WithLabelValues(p, c)
		}
	}
	for _, o := range ReconcileOutcomes {
		m.Reconciliations.WithLabelValues(o)
	}
	for _, r := range bank.RequestReasons {
		m.RequestsRejected.WithLabelValues(r)
	}
	for _, e := range bank.Endpoints {
		for _, r := range []bank.Result{bank.Applied, bank.AlreadySettled} {
			m.Callbacks.WithLabelValues(e, r.String())
		}
		for _, r := range bank.CallbackReasons {
			m.CallbacksRejected.WithLabelValues(e, r)
		}
	}
	return m, nil
}

// CallbackRejected implements bank.Observer.
func (m *PaymentMetrics) CallbackRejected(endpoint, reason string) {
	m.CallbacksRejected.WithLabelValues(endpoint, reason).Inc()
}

// CallbackAccepted implements bank.Observer.
func (m *PaymentMetrics) CallbackAccepted(endpoint string, r bank.Result) {
	m.Callbacks.WithLabelValues(endpoint, r.String()).Inc()
}

// RequestRejected counts a refused payment request; a provider outside the closed set is
// counted as "unknown".
func (m *PaymentMetrics) RequestRejected(provider, reason string) {
	if !slices.Contains(bank.Providers, provider) {
		provider = "unknown"
	}
	m.Requests.WithLabelValues(provider, "rejected").Inc()
	m.RequestsRejected.WithLabelValues(reason).Inc()
}

// QueryOutcome counts one status query.
func (m *PaymentMetrics) QueryOutcome(provider, outcome string) {
	m.Queries.WithLabelValues(provider, outcome).Inc()
}
