package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
)

// dossierSync sends dossier state changes to the portal, newest state only.
//
// Per-dossier ordering: the portal receives the whole current state, so an older version must
// never overwrite a newer one, even when events arrive out of order or two consumers (or replicas)
// hold versions of one dossier at once. Each dossier's sync runs under a Redis lock (lease longer
// than the handler timeout, so the call is cancelled before the lease can lapse), and the last
// synced version is raised only upwards. A version at or below it is not sent again ("superseded");
// its processing step, if any, still reaches the portal exactly once, since steps are history,
// not state.
type dossierSync struct {
	store   *store.Store
	portal  portal.Portal
	metrics *observability.Metrics
	lease   time.Duration
	// stepBudget is the least time an attempt must have left to send a step. A step call cut
	// off by the deadline may still be applied by the portal and would be sent again; starting it
	// only with time to finish keeps such ambiguous outcomes to real failures.
	stepBudget time.Duration
	// procedures, when set, turns a local procedure code into its national MaTTHC before the
	// state is sent (procedures.go).
	procedures ProcedureResolver
}

var errDossierBusy = errors.New("dossier is being synced by another consumer")

// errStepDeferred: too little of the attempt is left to send the step safely; the next attempt
// (the state already synced) sends it with its whole budget.
var errStepDeferred = errors.New("step deferred to the next attempt")

func (h *dossierSync) Handle(msg *message.Message) ([]*message.Message, error) {
	ctx := msg.Context()
	ev, err := events.Parse(json.RawMessage(msg.Payload), "")
	if err != nil {
		return nil, failure.MarkPermanent(fmt.Errorf("reading event: %w", err))
	}
	sc := ev.StatusChanged
	if sc == nil {
		return nil, failure.Permanentf("event type %s is not a dossier status change", ev.Type)
	}
	code := sc.Dossier.Code
	if err := h.mapProcedure(ctx, sc); err != nil {
		return nil, err
	}
	var stepVersion int64
	if sc.Step != nil {
		stepVersion = sc.Version
	}
	// One round trip: the lock, the synced version, whether the step was sent, and the version
	// marked in the portal backlog (see store.BeginSync for why the mark made before the version
	// is known leaves the backlog right in every outcome).
	start, err := h.store.BeginSync(ctx, code, msg.UUID, h.lease, stepVersion, h.unsyncedMark(sc))
	if errors.Is(err, store.ErrLockHeld) {
		return nil, errDossierBusy
	}
	if err != nil {
		return nil, err
	}
	// The lock is given back by the attempt's last pipeline (lock below); this deferred release
	// is the fallback for every path that did not get there (an error or a panic before it, a
	// release that failed) and does nothing after a release that went through. Both are the
	// same compare-and-delete of our token.
	defer start.Release(context.WithoutCancel(ctx))
	lock := start.Lock
	sendStep := sc.Step != nil && !start.StepSent
	// lastWrite is the lock to release in a pipeline when nothing is written after it.
	lastWrite := func(last bool) *store.SyncLock {
		if last {
			return lock
		}
		return nil
	}

	if sc.Version > start.SyncedVersion || resending(msg, sc.Version, start.SyncedVersion) {
		err := h.send(ctx, msg, sc, start.SyncedVersion)
		if err != nil {
			// The attempt, its timeline entry and the release in one round trip.
			h.store.SyncFailed(context.WithoutCancel(ctx), code, classified(err),
				h.timelineEntry(ev, sc, "sync_failed", failure.Classify(err).String()), lock)
			return nil, fmt.Errorf("syncing dossier version %d: %w", sc.Version, err)
		}
		kind, detail := "synced", ""
		if job := msg.Metadata.Get(MetaResync); job != "" {
			kind, detail = "resynced", "bulk re-sync "+job
		}
		// One round trip: the attempt, what was sent (kept before the version is raised: if
		// that fails, the sync runs again), the version, the backlog, the timeline and, when no
		// step follows, the lock's release (after the version is raised).
		if err := h.store.CommitSync(context.WithoutCancel(ctx), store.SyncDone{
			Code: code, Summary: h.syncedSummary(sc), Event: msg.Payload,
			Timeline: h.timelineEntry(ev, sc, kind, detail), Release: lastWrite(!sendStep),
		}); err != nil {
			return nil, err
		}
		h.metrics.PortalSyncs.WithLabelValues("synced").Inc()
	} else {
		h.metrics.PortalSyncs.WithLabelValues("superseded").Inc()
		// The timeline entry, the mark BeginSync made taken out of the backlog (the portal holds
		// this version or a newer one) and, when no step follows, the release.
		h.store.SyncSuperseded(context.WithoutCancel(ctx), code, start.SyncedVersion,
			h.timelineEntry(ev, sc, "superseded", "portal already holds version "+strconv.FormatInt(start.SyncedVersion, 10)),
			lastWrite(!sendStep))
	}

	if sendStep {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < h.stepBudget {
			return nil, errStepDeferred
		}
		if err := h.portal.AddProgress(ctx, *sc.Step); err != nil {
			h.store.EndSync(context.WithoutCancel(ctx), code, h.timelineEntry(ev, sc, "step_failed", failure.Classify(err).String()), lock)
			return nil, fmt.Errorf("adding progress step of version %d: %w", sc.Version, err)
		}
		// The step's record before the release: the next holder of the lock sees it sent.
		if err := h.store.StepDone(context.WithoutCancel(ctx), code, sc.Version, h.timelineEntry(ev, sc, "step_sent", ""), lock); err != nil {
			return nil, err
		}
		h.metrics.PortalSyncs.WithLabelValues("step_sent").Inc()
	}
	return nil, nil
}

// send sends the dossier's state: an update without look-up when the gateway synced the dossier
// before (the portal holds it), an upsert otherwise and for a bulk re-sync (the portal may have
// lost it).
func (h *dossierSync) send(ctx context.Context, msg *message.Message, sc *events.StatusChanged, synced int64) error {
	if u, ok := h.portal.(portal.Updater); ok && synced >= 0 && msg.Metadata.Get(MetaResync) == "" {
		return u.UpdateDossier(ctx, sc.Dossier)
	}
	return h.portal.UpsertDossier(ctx, sc.Dossier)
}

func (h *dossierSync) timelineEntry(ev *events.Event, sc *events.StatusChanged, kind, detail string) store.TimelineEntry {
	return store.TimelineEntry{Kind: kind, Version: sc.Version, Status: int(sc.Dossier.Status), Detail: detail, EventID: ev.ID}
}

// classified keeps only the class and the partner/operation of an error for the sync state: the
// error text of a partner call names no personal data, but a bounded summary is all ops need.
func classified(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %s", failure.Classify(err), truncate(err.Error(), 200))
}
