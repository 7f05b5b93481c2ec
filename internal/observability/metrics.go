// Package observability holds the gateway's Prometheus metrics (on a registry passed in, never the
// global one) and the logging helpers. Metric names follow gateway_<subsystem>_<name>_<unit>;
// labels come from closed sets only (route template, partner, operation, outcome, handler) and
// never carry ids, dossier codes or error text. Known label combinations are created at zero at
// start-up so dashboards and alerts see series on a healthy system.
package observability

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sony/gobreaker/v2"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/internal/events"
)

// Metrics are the gateway's own metrics (watermill's handler metrics are registered beside them).
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests *prometheus.CounterVec
	HTTPDuration *prometheus.HistogramVec

	EventsIngested *prometheus.CounterVec

	PartnerCalls       *prometheus.CounterVec
	PartnerDuration    *prometheus.HistogramVec
	BreakerTransitions *prometheus.CounterVec

	HandlerOutcomes *prometheus.CounterVec
	Retries         *prometheus.CounterVec
	DeadLetters     *prometheus.CounterVec

	PortalSyncs   *prometheus.CounterVec
	Notifications *prometheus.CounterVec
}

// NewMetrics registers the gateway's metrics and the Go and process collectors on reg.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total",
			Help: "Inbound HTTP requests by listener, route template, method and status code.",
		}, []string{"listener", "route", "method", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_http_request_duration_seconds",
			Help:    "Inbound HTTP request latency by listener and route template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"listener", "route", "method"}),
		EventsIngested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_ingest_events_total",
			Help: "CloudEvents received on /v1/events by type and result (accepted, duplicate, rejected).",
		}, []string{"type", "result"}),
		PartnerCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_partner_calls_total",
			Help: "Calls to partners by partner, operation and outcome.",
		}, []string{"partner", "operation", "outcome"}),
		PartnerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_partner_call_duration_seconds",
			Help:    "Latency of calls to partners.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"partner", "operation"}),
		BreakerTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_breaker_transitions_total",
			Help: "Circuit breaker state transitions by partner, operation and new state.",
		}, []string{"partner", "operation", "to"}),
		HandlerOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_handler_outcomes_total",
			Help: "Messages finished by each handler, by outcome (ok, duplicate, parked, dead_lettered, returned).",
		}, []string{"handler", "outcome"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_handler_retries_total",
			Help: "In-process short retries by handler.",
		}, []string{"handler"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_deadletters_published_total",
			Help: "Messages published to the dead-letter stream by handler and reason class.",
		}, []string{"handler", "reason"}),
		PortalSyncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_portal_syncs_total",
			Help: "Dossier state updates handled by the portal sync, by result (synced, superseded, step_sent).",
		}, []string{"result"}),
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_notifications_total",
			Help: "Notifications to the one-stop system by type and result.",
		}, []string{"type", "result"}),
	}
	reg.MustRegister(m.HTTPRequests, m.HTTPDuration, m.EventsIngested, m.PartnerCalls, m.PartnerDuration,
		m.BreakerTransitions, m.HandlerOutcomes, m.Retries, m.DeadLetters, m.PortalSyncs, m.Notifications)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.initKnown()
	return m
}

// initKnown creates the series of the closed label sets known at start-up at zero, so rates,
// ratios and alerts see a series on a system where nothing has happened yet.
func (m *Metrics) initKnown() {
	for _, typ := range []string{events.TypeDossierStatusChanged, events.TypeDeliveryRequested} {
		for _, result := range []string{"accepted", "duplicate", "unavailable"} {
			m.EventsIngested.WithLabelValues(typ, result)
		}
	}
	// A rejected event has no trusted type.
	m.EventsIngested.WithLabelValues("unknown", "rejected")
	for _, result := range []string{"synced", "superseded", "step_sent"} {
		m.PortalSyncs.WithLabelValues(result)
	}
	for _, typ := range []string{onestop.TypePaymentSucceeded, onestop.TypePaymentFailed, onestop.TypePaymentExpired,
		onestop.TypeDeliveryStatusChanged, onestop.TypeDossierSyncFailed, onestop.TypeDossierSubmittedNational} {
		for _, result := range []string{"delivered", "transient", "permanent", "shutdown"} {
			m.Notifications.WithLabelValues(typ, result)
		}
	}
}

// InitPartner creates a partner's known series at zero.
func (m *Metrics) InitPartner(partner string, operations []string, outcomes []string) {
	for _, op := range operations {
		m.PartnerDuration.WithLabelValues(partner, op)
		for _, o := range outcomes {
			m.PartnerCalls.WithLabelValues(partner, op, o)
		}
		for _, to := range []string{"closed", "half-open", "open"} {
			m.BreakerTransitions.WithLabelValues(partner, op, to)
		}
	}
}

// InitHandler creates a handler's known series at zero.
func (m *Metrics) InitHandler(handler string) {
	for _, o := range []string{"ok", "duplicate", "parked", "dead_lettered", "returned"} {
		m.HandlerOutcomes.WithLabelValues(handler, o)
	}
	m.Retries.WithLabelValues(handler)
	for _, r := range []string{"permanent", "exhausted", "unreadable"} {
		m.DeadLetters.WithLabelValues(handler, r)
	}
}

// ObserveCall implements partnerhttp.Observer.
func (m *Metrics) ObserveCall(partner, operation, outcome string, d time.Duration) {
	m.PartnerCalls.WithLabelValues(partner, operation, outcome).Inc()
	if d > 0 {
		m.PartnerDuration.WithLabelValues(partner, operation).Observe(d.Seconds())
	}
}

// ObserveBreakerTransition implements partnerhttp.Observer. It runs under the breaker's lock and
// only counts.
func (m *Metrics) ObserveBreakerTransition(partner, operation string, _, to gobreaker.State) {
	m.BreakerTransitions.WithLabelValues(partner, operation, to.String()).Inc()
}

// Instrument wraps a handler registered under a route template with RED metrics.
func (m *Metrics) Instrument(listener, route string, h http.Handler) http.Handler {
	method, path := splitPattern(route)
	// A route without a method (the catch-all) is timed under "any"; its requests are counted
	// under the request's method.
	timedAs := method
	if timedAs == "" {
		timedAs = "any"
	}
	dur := m.HTTPDuration.WithLabelValues(listener, path, timedAs)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		dur.Observe(time.Since(start).Seconds())
		m.HTTPRequests.WithLabelValues(listener, path, methodOr(method, r.Method), strconv.Itoa(sw.code)).Inc()
	})
}

// methodOr returns the route's method, else the request's when it is a standard one, else
// "other": a client must not be able to mint label values.
func methodOr(m, fallback string) string {
	if m != "" {
		return m
	}
	switch fallback {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return fallback
	}
	return "other"
}

func splitPattern(p string) (method, path string) {
	for i := 0; i < len(p); i++ {
		if p[i] == ' ' {
			return p[:i], p[i+1:]
		}
	}
	return "", p
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
