package app

import (
	"context"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/portalsync"
	"github.com/egov-vn/gateway/internal/reconcile"
)

// buildPortalSync builds the status reconciliation and the bulk re-sync on the portal dialect,
// sharing one limiter: bulk work to the portal never exceeds portal_sync.rate_per_second.
func (a *App) buildPortalSync(lookup portal.Lookup) error {
	m, err := observability.NewPortalSyncMetrics(a.Metrics.Registry, portalsync.DriftClasses, portalsync.RunOutcomes, portalsync.ResyncResults)
	if err != nil {
		return err
	}
	limiter := portalsync.NewRate(a.cfg.PortalSync.RatePerSecond)
	a.Drift = &portalsync.Verifier{Store: a.Store, Portal: lookup, Limiter: limiter, Metrics: m, Log: a.log}
	a.Resync = &portalsync.Replayer{Store: a.Store, Limiter: limiter, Metrics: m, Log: a.log}
	return nil
}

// runPortalSync resumes the unfinished re-sync jobs and runs the daily drift check until ctx
// ends, then waits for the jobs to stop.
func (a *App) runPortalSync(ctx context.Context) {
	if ids, err := a.Resync.Resume(ctx); err != nil {
		a.log.Warn("resuming re-sync jobs", "err", err)
	} else if len(ids) > 0 {
		a.log.Info("resuming re-sync jobs", "jobs", ids)
	}
	at, _ := reconcile.ParseClock(a.cfg.PortalSync.VerifyAt) // validated with the configuration
	a.Drift.Daily(ctx, at)
	a.Resync.Wait()
}
