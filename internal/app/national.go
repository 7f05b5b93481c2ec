package app

import (
	"context"
	"sync"
	"time"

	"github.com/egov-vn/gateway/connectors/portal/dvcqg"
	"github.com/egov-vn/gateway/internal/catalog"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/submissions"
)

// nationalLockLease bounds one catalogue refresh and one submissions poll (each runs under a
// Redis lock so that one replica at a time does it).
const nationalLockLease = 2 * time.Minute

// buildNational builds what comes down from the national portal: the catalogues (and the
// procedure code mapping) and the poller of dossiers submitted there.
func (a *App) buildNational(p *dvcqg.Client) error {
	m, err := observability.NewNationalMetrics(a.Metrics.Registry)
	if err != nil {
		return err
	}
	a.NationalMetrics = m
	cfg := a.cfg.Portal
	a.Catalog = &catalog.Service{Store: a.Store, Source: p, Metrics: m, Log: a.log.With("component", "catalog"),
		Interval: cfg.Catalog.Interval, LockLease: nationalLockLease, Replica: a.cfg.Routing.Replica}
	a.Submissions = &submissions.Poller{Inbox: p, Store: a.Store, Metrics: m, Log: a.log.With("component", "submissions"),
		Agencies: cfg.Agencies, Interval: cfg.Submissions.Interval, Batch: cfg.Submissions.Batch, MaxPages: cfg.Submissions.MaxPages,
		DedupTTL: cfg.Submissions.DedupTTL, LockLease: nationalLockLease, Replica: a.cfg.Routing.Replica}
	return nil
}

// runNational starts the catalogue refresh and, when the gateway serves agencies, the
// submissions poller; both stop when ctx ends.
func (a *App) runNational(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Catalog.Run(ctx, a.cfg.Portal.Catalog.OnStart)
	}()
	if len(a.cfg.Portal.Agencies) == 0 {
		a.log.Info("no portal.agencies configured: dossiers submitted on the national portal are not polled")
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Submissions.Run(ctx)
	}()
}
