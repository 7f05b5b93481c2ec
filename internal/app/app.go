// Package app is the composition root: it builds the store, the partner clients and dialects, the
// router and the two listeners from the configuration, and runs them until the context ends.
// main only loads the configuration and calls Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/onestop/webhook"
	"github.com/egov-vn/gateway/connectors/portal/dvcqg"
	"github.com/egov-vn/gateway/internal/catalog"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/evidence"
	"github.com/egov-vn/gateway/internal/httpapi"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/partnerhttp"
	"github.com/egov-vn/gateway/internal/payments"
	"github.com/egov-vn/gateway/internal/portalsync"
	"github.com/egov-vn/gateway/internal/reconcile"
	"github.com/egov-vn/gateway/internal/sandboxes"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/submissions"
	"github.com/egov-vn/gateway/routing"
)

// App is a built gateway.
type App struct {
	cfg       config.Config
	log       *slog.Logger
	Store     *store.Store
	Metrics   *observability.Metrics
	Router    *routing.Router
	Pauses    *routing.Pauses
	Sandboxes *sandboxes.Set
	Clients   map[string]*partnerhttp.Client
	// Payments is the fee payment state machine; PaymentMetrics its metrics.
	Payments       *payments.Service
	PaymentMetrics *observability.PaymentMetrics
	// Reconciler compares the providers' days with the payments (daily, and on demand).
	Reconciler *reconcile.Reconciler
	// Evidence is the hash-chained log of every payment callback received; EvidenceMetrics counts
	// the callbacks it kept and those it lost.
	Evidence        *evidence.Log
	EvidenceMetrics *observability.EvidenceMetrics
	// DeliveryMetrics are the postal delivery metrics; Tracker polls the postal partner for
	// tracking records (nil when postal delivery is off).
	DeliveryMetrics *observability.DeliveryMetrics
	Tracker         *routing.Tracker
	// Drift compares the portal's dossiers with what was synced (daily, and on demand); Resync
	// re-sends the last synced state of many dossiers.
	Drift  *portalsync.Verifier
	Resync *portalsync.Replayer
	// Catalog caches the national catalogues and keeps the procedure code mapping; Submissions
	// brings the dossiers submitted on the national portal to the one-stop system (national.go).
	Catalog         *catalog.Service
	Submissions     *submissions.Poller
	NationalMetrics *observability.NationalMetrics

	// apiLn and api are nil in a worker (config.RoleWorker), which serves no API listener.
	apiLn, adminLn net.Listener
	api, admin     *http.Server
	// ready is closed once the parts of this process's role run (Ready).
	ready chan struct{}
}

// New builds the gateway. Listeners are bound here, so the addresses are known (and a port
// conflict reported) before Run.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log, Clients: map[string]*partnerhttp.Client{}, ready: make(chan struct{})}
	var err error
	closeListeners := func() {
		if a.apiLn != nil {
			a.apiLn.Close()
		}
		a.adminLn.Close()
	}
	// A worker binds no API listener: http.addr stays free for an api process on the same host.
	if cfg.ServesAPI() {
		a.apiLn, err = net.Listen("tcp", cfg.HTTP.Addr)
		if err != nil {
			return nil, fmt.Errorf("binding API listener: %w", err)
		}
	}
	a.adminLn, err = net.Listen("tcp", cfg.Admin.Addr)
	if err != nil {
		if a.apiLn != nil {
			a.apiLn.Close()
		}
		return nil, fmt.Errorf("binding admin listener: %w", err)
	}
	if a.apiLn != nil {
		if a.apiLn, err = tlsListener(a.apiLn, cfg.HTTP.Hardening); err != nil {
			a.adminLn.Close()
			return nil, err
		}
	}
	// With port 0 the real address is only known now: the dev sandboxes live on the API listener.
	if a.apiLn != nil && cfg.Profile == config.ProfileDev && cfg.HTTP.Addr != a.apiLn.Addr().String() {
		public := "http://" + a.apiLn.Addr().String()
		if cfg.Portal.BaseURL == cfg.HTTP.PublicURL+"/sandbox/dvcqg" {
			cfg.Portal.BaseURL = public + "/sandbox/dvcqg"
		}
		if cfg.Onestop.URL == cfg.HTTP.PublicURL+"/sandbox/onestop/notifications" {
			cfg.Onestop.URL = public + "/sandbox/onestop/notifications"
		}
		cfg.Payments.RewritePaymentURLs(cfg.HTTP.PublicURL, public)
		cfg.Postal.RewritePostalURL(cfg.HTTP.PublicURL, public)
		cfg.HTTP.PublicURL = public
		a.cfg = cfg
	}
	if cfg.Profile == config.ProfileDev {
		// Payment URLs left empty mean the sandboxes on this listener. (A worker has none:
		// config.Validate refuses a dev worker whose partner URLs point at its own /sandbox/.)
		if cfg.HTTP.PublicURL == "" {
			cfg.HTTP.PublicURL = "http://" + cfg.HTTP.Addr
			if a.apiLn != nil {
				cfg.HTTP.PublicURL = "http://" + a.apiLn.Addr().String()
			}
		}
		config.FillDevPaymentURLs(&cfg.Payments, cfg.HTTP.PublicURL)
		config.FillDevPostalURL(&cfg.Postal, cfg.HTTP.PublicURL)
		a.cfg = cfg
	}
	if err := cfg.CheckRole(); err != nil {
		closeListeners()
		return nil, err
	}
	if err := a.build(ctx); err != nil {
		closeListeners()
		if a.Store != nil {
			a.Store.Close()
		}
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context) error {
	cfg := a.cfg
	var err error
	a.Store, err = store.Open(ctx, store.Options{
		Embedded: cfg.Redis.Embedded, URL: cfg.Redis.URL, Addrs: cfg.Redis.Addrs, MasterName: cfg.Redis.MasterName,
	}, cfg.Redis.KeyPrefix, a.log)
	if err != nil {
		return err
	}
	a.Metrics = observability.NewMetrics(prometheus.NewRegistry())
	windows := map[string][]routing.Window{}
	for name, p := range cfg.Partners {
		for _, w := range p.MaintenanceWindows {
			start, end, _ := config.ParseWindow(w) // validated with the configuration
			windows[name] = append(windows[name], routing.Window{Start: start, End: end})
		}
	}
	a.Pauses = routing.NewPauses(a.Store, windows, a.log)

	portalClient, err := a.partnerClient(routing.PartnerPortal, cfg.Portal.BaseURL, []string{"login", "lookup_dossier", "sync_dossier", "add_progress",
		dvcqg.OpFetchSubmissions, dvcqg.OpAckSubmission, dvcqg.OpFetchCatalog})
	if err != nil {
		return err
	}
	portal, err := dvcqg.New(dvcqg.Config{
		AuthPath: cfg.Portal.AuthPath, IntegrationPath: cfg.Portal.IntegrationPath,
		Username: cfg.Portal.Username, Password: cfg.Portal.Password, DstCode: cfg.Portal.DstCode, MaDonVi: cfg.Portal.MaDonVi,
	}, portalClient)
	if err != nil {
		return fmt.Errorf("building portal dialect: %w", err)
	}
	if err := a.buildPortalSync(portal); err != nil {
		return err
	}
	onestopClient, err := a.partnerClient(routing.PartnerOnestop, cfg.Onestop.URL, []string{"notify"})
	if err != nil {
		return err
	}
	notifier, err := webhook.New(webhook.Config{URL: cfg.Onestop.URL, Secrets: cfg.Onestop.Secrets}, onestopClient)
	if err != nil {
		return fmt.Errorf("building one-stop notifier: %w", err)
	}
	if err := a.buildNational(portal); err != nil {
		return err
	}

	post, delivery, err := a.buildPostal()
	if err != nil {
		return err
	}
	a.Router, err = routing.New(routing.Config{
		Replica:            cfg.Routing.Replica,
		Consumers:          cfg.Routing.ConsumersPerHandler,
		InFlight:           cfg.Routing.InFlightPerConsumer,
		HandlerTimeout:     cfg.Routing.HandlerTimeout,
		ShortRetries:       cfg.Routing.ShortRetries,
		ShortRetryInterval: cfg.Routing.ShortRetryInterval,
		MaxIdleTime:        cfg.Routing.MaxIdleTime,
		ClaimInterval:      cfg.Routing.ClaimInterval,
		IdempotencyTTL:     cfg.Routing.IdempotencyTTL,
		InProgressLease:    cfg.Routing.WorstDelivery() + 10*time.Second,
		PollInterval:       cfg.Retry.PollInterval,
		CloseTimeout:       cfg.Routing.ShutdownGrace,
		StreamRetention:    cfg.Routing.StreamRetention,
		Schedule:           cfg.RetrySchedule,
	}, routing.Deps{Store: a.Store, Log: a.log, Metrics: a.Metrics, Portal: portal, Notifier: a.Submissions.Notifier(notifier), Pauses: a.Pauses,
		Procedures: a.Catalog, Postal: post, Delivery: delivery, DeliveryMetrics: a.DeliveryMetrics})
	if err != nil {
		return err
	}

	if post != nil {
		a.Tracker, err = routing.NewTracker(routing.Tracker{Store: a.Store, Postal: post, Metrics: a.DeliveryMetrics, Log: a.log,
			Interval: cfg.Postal.PollInterval, Timeout: cfg.Postal.PollTimeout})
		if err != nil {
			return err
		}
	}

	a.Metrics.Registry.MustRegister(routing.NewCollector(a.Router), observability.NewBreakerCollector(a.breakerStates),
		a.portalBacklogCollector())

	callbacks, err := a.buildPayments()
	if err != nil {
		return err
	}
	a.EvidenceMetrics, err = observability.NewEvidenceMetrics(a.Metrics.Registry)
	if err != nil {
		return err
	}
	a.Evidence = &evidence.Log{Client: a.Store.Client, Prefix: a.Store.Keys.Prefix}
	dossier := &httpapi.DossierView{Store: a.Store, Payments: a.Payments}
	apiCfg := httpapi.APIConfig{
		Clients: cfg.Clients,
		Ingest: &httpapi.Ingest{Store: a.Store, Metrics: a.Metrics, Log: a.log,
			MaxBodyBytes: cfg.HTTP.MaxBodyBytes, IdempotencyTTL: cfg.Routing.IdempotencyTTL,
			Appender: a.Store.NewGroupAppender(cfg.Routing.IdempotencyTTL, ingestFlushers, ingestMaxEventsPerFlush)},
		Dossier:   dossier,
		Metrics:   a.Metrics,
		Payments:  &httpapi.Payments{Service: a.Payments, Metrics: a.PaymentMetrics, Log: a.log},
		Callbacks: callbacks,
		Evidence: &evidence.Recorder{Log: a.Evidence, Observer: a.EvidenceMetrics, Logger: a.log,
			// The bill look-up answers the payer's name: only its code is kept.
			AnswerFields: map[string][]string{bank.EndpointPayGovBill: {"error_code"}}},
	}
	// The sandboxes live on the API listener: a worker, which serves none, has none.
	if cfg.Profile == config.ProfileDev && cfg.ServesAPI() {
		creds := sandboxes.DevCredentials()
		creds.GatewayURL, creds.PublicURL = cfg.HTTP.PublicURL, cfg.HTTP.PublicURL
		a.Sandboxes = sandboxes.New(creds)
		apiCfg.Sandbox = a.Sandboxes.Handler()
	}
	apiCfg.Catalog = &httpapi.Catalog{Service: a.Catalog}
	guard, err := a.guardAPI(&apiCfg)
	if err != nil {
		return err
	}
	if cfg.ServesAPI() {
		a.api = a.server(guard(httpapi.NewAPI(apiCfg)))
	}
	// Readiness follows the role: a process that runs the router is ready when Redis answers and
	// the router runs; an api process runs no router and is ready when Redis answers (its store
	// is all that taking an event durably needs).
	var ready func() bool
	if cfg.RunsWorkers() {
		ready = a.Router.IsRunning
	}
	a.admin = a.server(httpapi.NewAdmin(httpapi.AdminConfig{
		Token: cfg.Admin.Token, OldTokens: cfg.Admin.OldTokens, Store: a.Store, Metrics: a.Metrics, Ready: ready, Role: cfg.Role, Dossier: dossier,
		Ops: &httpapi.Ops{
			Store:            a.Store,
			DeadLetterStream: a.Store.Keys.Stream(routing.TopicDeadLetter),
			PartnerOf:        a.Router.PartnerOf,
			Breakers:         a.breakerStates,
			Paused:           a.Pauses.State,
			Pause:            a.Pauses.Pause,
			Resume: func(ctx context.Context, partner, actor, reason string) (int, error) {
				if err := a.Pauses.Resume(ctx, partner, actor, reason); err != nil {
					return 0, err
				}
				return a.Router.Release(ctx, partner)
			},
			Partners: a.partnerNames(),
		},
		Reconciliation: &httpapi.Reconciliation{Reconciler: a.Reconciler},
		Evidence:       &httpapi.Evidence{Log: a.Evidence},
		Catalog:        &httpapi.Catalog{Service: a.Catalog},
		PortalSync:     &httpapi.PortalSync{Verifier: a.Drift, Replayer: a.Resync},
	}))
	return nil
}

// The ingest endpoint's group commit: two pipelines in flight (one filling while the other is on
// the wire), at most 1,000 events (two full batches of 500) in one.
const (
	ingestFlushers          = 2
	ingestMaxEventsPerFlush = 1000
)

func (a *App) partnerClient(name, baseURL string, operations []string) (*partnerhttp.Client, error) {
	pc := a.cfg.Partners[name]
	c, err := partnerhttp.New(partnerhttp.Config{
		Partner: name, BaseURL: baseURL, Timeout: pc.Timeout, MaxConnsPerHost: max(pc.MaxConnsPerHost, a.cfg.Routing.ConsumersPerHandler*a.cfg.Routing.InFlightPerConsumer),
		BreakerFailures: pc.BreakerFailures, BreakerOpenFor: pc.BreakerOpenFor,
	}, partnerhttp.WithPauser(a.Pauses), partnerhttp.WithObserver(a.Metrics))
	if err != nil {
		return nil, fmt.Errorf("building %s client: %w", name, err)
	}
	a.Metrics.InitPartner(name, operations, []string{partnerhttp.OutcomeOK, partnerhttp.OutcomeTransient,
		partnerhttp.OutcomePermanent, partnerhttp.OutcomeBreakerOpen, partnerhttp.OutcomePaused, partnerhttp.OutcomeCanceled})
	c.Prepare(operations...)
	a.Clients[name] = c
	return c, nil
}

func (a *App) server(h http.Handler) *http.Server {
	c := a.cfg.HTTP
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
}

// breakerStates reads every partner endpoint's breaker now.
func (a *App) breakerStates() map[string]map[string]string {
	out := map[string]map[string]string{}
	for name, c := range a.Clients {
		states := map[string]string{}
		for op, st := range c.BreakerStates() {
			states[op] = st.String()
		}
		out[name] = states
	}
	return out
}

// APIAddr is the bound address of the API listener; "" in a worker, which serves none.
func (a *App) APIAddr() string {
	if a.apiLn == nil {
		return ""
	}
	return a.apiLn.Addr().String()
}

// AdminAddr is the bound address of the admin listener.
func (a *App) AdminAddr() string { return a.adminLn.Addr().String() }

// Config is the configuration in force (addresses resolved).
func (a *App) Config() config.Config { return a.cfg }

// Role is the process role (config.RoleAll, RoleAPI or RoleWorker).
func (a *App) Role() string { return a.cfg.Role }

// Ready is closed once Run has started what this process's role runs: the router's handlers
// (roles all and worker; Router.Running), and the listeners, which are bound in New and served
// from the start of Run. Wait on it rather than on Router.Running, which never closes in an api
// process because it runs no router.
func (a *App) Ready() <-chan struct{} { return a.ready }

// Run serves until ctx ends, then shuts down gracefully: the router finishes the attempts under
// way (never dead-lettering them), then the listeners stop, and the store closes last.
//
// What runs depends on the role (config.Role*): an api process serves the API and admin
// listeners only; a worker runs the router and the background loops, and the admin listener.
func (a *App) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	// Pause state is read in every role. A worker's consumers and loops park work for a paused
	// partner; an api process calls partners too (creating a PayGov payment, a catalogue refresh
	// or a reconciliation asked by ops), through clients that honour pauses, and its admin
	// listener answers the breakers-and-pauses view from it. It only reads one Redis hash a
	// second and calls no partner.
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Pauses.Run(ctx)
	}()
	routerDone := make(chan struct{})
	if a.cfg.RunsWorkers() {
		a.runWorkers(ctx, &wg, routerDone, errc)
	} else {
		// No consumers, no background loops: what the API stores waits in the streams, the
		// payment schedule and the job lists for a worker.
		close(routerDone)
	}
	serve := func(srv *http.Server, ln net.Listener) {
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving: %w", err)
			}
		}()
	}
	if a.api != nil {
		serve(a.api, a.apiLn)
	}
	serve(a.admin, a.adminLn)
	apiURL := "none"
	if a.apiLn != nil {
		apiURL = "http://" + a.APIAddr()
	}
	started := []any{"role", a.cfg.Role, "profile", a.cfg.Profile, "api", apiURL, "admin", "http://" + a.AdminAddr(), "replica", a.cfg.Routing.Replica}
	if a.cfg.RunsWorkers() { // an api process runs no consumers: the settings would mislead
		started = append(started, "consumers_per_handler", a.cfg.Routing.ConsumersPerHandler,
			"in_flight_per_consumer", a.cfg.Routing.InFlightPerConsumer)
	}
	a.log.Info("gateway started", started...)
	if a.cfg.RunsWorkers() {
		go func() {
			select {
			case <-a.Router.Running():
				close(a.ready)
			case <-ctx.Done():
			}
		}()
	} else {
		close(a.ready)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.log.Info("shutting down")
	shutdownCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.Routing.ShutdownGrace)
	defer stop()
	// The router drains first: the attempts under way finish while the API listener still takes
	// events (stored for after the restart) and partner callbacks, and while the dev profile's
	// sandbox partners, which live on it, still answer.
	cancel()
	if a.cfg.RunsWorkers() {
		_ = a.Router.Close()
	}
	<-routerDone
	if a.api != nil {
		_ = a.api.Shutdown(shutdownCtx)
	}
	_ = a.admin.Shutdown(shutdownCtx)
	// The callbacks answered last have their records queued: append them before the store goes.
	if a.Evidence != nil {
		_ = a.Evidence.Flush(shutdownCtx)
	}
	if a.Sandboxes != nil {
		a.Sandboxes.Close()
	}
	wg.Wait()
	a.Store.Close()
	a.log.Info("stopped")
	return runErr
}

// runWorkers starts what roles all and worker run besides the listeners: the router's consumers
// and retry movers, and the background loops that call partners or move work (catalogue refresh
// and portal submissions, drift check and re-sync jobs, postal tracking, payment status queries
// and expiry, the daily reconciliation). routerDone is closed when the router has stopped.
func (a *App) runWorkers(ctx context.Context, wg *sync.WaitGroup, routerDone chan struct{}, errc chan<- error) {
	a.runNational(ctx, wg)
	wg.Add(4)
	go func() {
		defer wg.Done()
		a.runPortalSync(ctx)
	}()
	go func() {
		defer wg.Done()
		a.runTracking(ctx)
	}()
	go func() {
		defer wg.Done()
		a.Payments.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		at, _ := reconcile.ParseClock(a.cfg.Payments.ReconcileAt) // validated with the configuration
		a.Reconciler.Daily(ctx, at)
	}()
	go func() {
		defer close(routerDone)
		if err := a.Router.Run(ctx); err != nil {
			errc <- fmt.Errorf("running router: %w", err)
		}
	}()
}
