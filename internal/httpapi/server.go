package httpapi

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/egov-vn/gateway/internal/evidence"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
)

// APIRoutes are the routes of the API listener (method and path template), the single list that
// both the server and the OpenAPI conformance test read.
var APIRoutes = []string{
	"POST /v1/events",
	"GET /v1/dossiers/{dossier_code}",
	"POST /v1/payments",
	"GET /v1/payments/{payment_id}",
	"GET /v1/callbacks/vnpay/ipn",
	"POST /v1/callbacks/paygov/confirm",
	"POST /v1/callbacks/paygov/bill",
	"POST /v1/callbacks/bank/{bank}/transactions",
	// Bound by name (Catalog.apiRoutes), not by index.
	RouteCatalogProcedures, RouteCatalogAgencies, RouteCatalogFields,
}

// Callback routes: each is answered by its partner's dialect, in the partner's own format.
const (
	RouteVNPayIPN         = "GET /v1/callbacks/vnpay/ipn"
	RoutePayGovConfirm    = "POST /v1/callbacks/paygov/confirm"
	RoutePayGovBill       = "POST /v1/callbacks/paygov/bill"
	RouteBankTransactions = "POST /v1/callbacks/bank/{bank}/transactions"
)

// AdminRoutes are the routes of the admin listener.
var AdminRoutes = []string{
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
	"GET /admin/v1/dossiers/{dossier_code}",
	"GET /admin/v1/deadletters",
	"GET /admin/v1/deadletters/{id}",
	"DELETE /admin/v1/deadletters/{id}",
	"POST /admin/v1/deadletters/{id}/replay",
	"GET /admin/v1/breakers",
	"POST /admin/v1/partners/{name}/pause",
	"POST /admin/v1/partners/{name}/resume",
	"GET /admin/v1/reconciliation/{date}",
	"POST /admin/v1/reconciliation/{date}",
	"GET /admin/v1/evidence/{date}",
	"GET /admin/v1/evidence/{date}/verify",
	// Bound by name (Catalog.adminRoutes), not by index.
	RouteCatalogMappings, RouteCatalogMappingSet, RouteCatalogMappingDelete, RouteCatalogRefresh,
	// Bound by name (PortalSync.routes), not by index.
	RouteDriftGet, RouteDriftRun, RouteResyncStart, RouteResyncGet,
}

// APIConfig builds the API listener's handler.
type APIConfig struct {
	Clients map[string][]string
	Ingest  *Ingest
	Dossier *DossierView
	Metrics *observability.Metrics
	// Payments serves /v1/payments; Callbacks the partners' callback routes (Route* above), each
	// a handler of its partner's dialect.
	Payments  *Payments
	Callbacks map[string]http.Handler
	// Evidence, when set, records every callback in the evidence log after it is answered.
	Evidence *evidence.Recorder
	// Sandbox, when set, is mounted at /sandbox/ (dev profile).
	Sandbox http.Handler
	// Wrap, when set, wraps each route's handler (the callback allow-lists).
	Wrap func(route string, h http.Handler) http.Handler
	// Catalog serves the national catalogues.
	Catalog *Catalog
}

// NewAPI returns the API listener's handler.
func NewAPI(c APIConfig) http.Handler {
	mux := http.NewServeMux()
	clients := newTokenSet(c.Clients)
	handle := func(route string, h http.Handler) {
		if c.Wrap != nil {
			h = c.Wrap(route, h)
		}
		mux.Handle(route, c.Metrics.Instrument("api", route, h))
	}
	handle(APIRoutes[0], requireToken(clients, c.Ingest))
	handle(APIRoutes[1], requireToken(clients, c.Dossier))
	handle(APIRoutes[2], requireToken(clients, http.HandlerFunc(c.Payments.Create)))
	handle(APIRoutes[3], requireToken(clients, http.HandlerFunc(c.Payments.Get)))
	catalogRoutes := c.Catalog.apiRoutes()
	for _, route := range APIRoutes[4:] {
		if h, ok := catalogRoutes[route]; ok {
			handle(route, requireToken(clients, h))
			continue
		}
		h := c.Callbacks[route]
		if h == nil {
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { notFound(w, r, "Callback") })
		}
		handle(route, c.Evidence.Middleware(CallbackEndpoints[route], h))
	}
	if c.Sandbox != nil {
		mux.Handle("/sandbox/", c.Sandbox)
	}
	mux.Handle("/", c.Metrics.Instrument("api", "unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		notFound(w, r, "Route")
	})))
	return mux
}

// AdminConfig builds the admin listener's handler.
type AdminConfig struct {
	Token string
	// OldTokens are accepted too, during a rotation.
	OldTokens []string
	Store     *store.Store
	Metrics   *observability.Metrics
	// Ready reports whether the router runs; nil when this process runs no router (role api),
	// whose readiness is then its store answering.
	Ready func() bool
	// Role is the process role (config.Role*), reported by /readyz.
	Role    string
	Dossier *DossierView
	Ops     *Ops
	// Reconciliation serves the reconciliation reports.
	Reconciliation *Reconciliation
	// Evidence serves the evidence log of the callbacks.
	Evidence *Evidence
	// Catalog serves the procedure code mapping and the catalogue refresh.
	Catalog *Catalog
	// PortalSync serves the drift reports and the re-sync jobs.
	PortalSync *PortalSync
}

// NewAdmin returns the admin listener's handler.
func NewAdmin(c AdminConfig) http.Handler {
	mux := http.NewServeMux()
	admin := newTokenSet(map[string][]string{"admin": append([]string{c.Token}, c.OldTokens...)})
	handle := func(route string, h http.Handler) {
		mux.Handle(route, c.Metrics.Instrument("admin", route, h))
	}
	handle(AdminRoutes[0], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	handle(AdminRoutes[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checks := map[string]string{"redis": "ok"}
		if c.Ready != nil {
			checks["router"] = "ok"
		}
		ok := true
		ctx, cancel := context.WithTimeout(r.Context(), 2e9)
		defer cancel()
		if err := c.Store.Client.Ping(ctx).Err(); err != nil {
			checks["redis"], ok = "unreachable", false
		}
		if c.Ready != nil && !c.Ready() {
			checks["router"], ok = "not running", false
		}
		status, code := "ready", http.StatusOK
		if !ok {
			status, code = "not ready", http.StatusServiceUnavailable
		}
		body := map[string]any{"status": status, "checks": checks}
		if c.Role != "" {
			body["role"] = c.Role
		}
		writeJSON(w, code, body)
	}))
	mux.Handle(AdminRoutes[2], promhttp.HandlerFor(c.Metrics.Registry, promhttp.HandlerOpts{Registry: c.Metrics.Registry}))
	handle(AdminRoutes[3], requireToken(admin, c.Dossier))
	for i, h := range []http.HandlerFunc{
		c.Ops.listDeadLetters, c.Ops.getDeadLetter, c.Ops.discardDeadLetter, c.Ops.replayDeadLetter,
		c.Ops.breakers, c.Ops.pause, c.Ops.resume,
		c.Reconciliation.get, c.Reconciliation.run,
		c.Evidence.list, c.Evidence.verify,
	} {
		handle(AdminRoutes[4+i], requireToken(admin, h))
	}
	for route, h := range c.PortalSync.routes() {
		handle(route, requireToken(admin, h))
	}
	for route, h := range c.Catalog.adminRoutes() {
		handle(route, requireToken(admin, h))
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { notFound(w, r, "Route") }))
	return mux
}
