package routing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/vntime"
)

// resultToPortal marks a dossier returned at the portal (TrangThaiHoSo 10, NgayTra the delivery
// time) once the post has delivered its result.
//
// The portal takes the dossier's whole state (DongBoHoSoMC), and only the one-stop system owns that
// state. The gateway keeps the whole event of the last version it synced (store.LastSynced, kept by
// the portal sync before it raises the synced version); this handler takes that state, sets the
// status to 10 and NgayTra, and sends it, under the dossier's sync lock, so it can neither
// interleave with a sync of another version nor overwrite a newer one: it always starts from the
// newest version synced. The returned state is then recorded as the last synced state of that
// version, so re-syncs and the drift check see what the portal holds. The synced version itself is
// not raised (the gateway invents no versions): the one-stop system, told of the delivery by
// delivery.status_changed, remains the authority, and its next version replaces the state as any
// newer version does.
//
// A dossier with no kept state (never synced through the gateway, or its first sync still waiting
// for the portal) cannot be sent whole: the message waits in the portal's retry schedule for its
// state to be synced, and if none comes before the schedule ends it is dead-lettered and the
// one-stop system told (dossier.sync_failed), since only it can then move the dossier to 10.
type resultToPortal struct {
	store   *store.Store
	portal  portal.Portal
	metrics *observability.Metrics
	lease   time.Duration
	log     *slog.Logger
}

// errNoSyncedState: the dossier's state has not reached the portal through the gateway yet.
var errNoSyncedState = errors.New("no dossier state synced to the portal yet to mark returned")

func (h *resultToPortal) Handle(msg *message.Message) ([]*message.Message, error) {
	ctx := msg.Context()
	var rd ResultDelivered
	if err := json.Unmarshal(msg.Payload, &rd); err != nil || rd.DossierCode == "" || !events.IsCode(rd.DossierCode) || rd.DeliveredAt.IsZero() {
		return nil, failure.Permanentf("reading delivered result: malformed body")
	}
	code := rd.DossierCode
	release, err := h.store.Lock(ctx, h.store.Keys.DossierLock(code), msg.UUID, h.lease)
	if errors.Is(err, store.ErrLockHeld) {
		return nil, errDossierBusy
	}
	if err != nil {
		return nil, err
	}
	defer release(context.WithoutCancel(ctx))

	raw, found, err := h.store.LastSynced(ctx, code)
	if err != nil {
		return nil, err
	}
	if !found {
		h.timeline(ctx, code, "return_waiting", rd.OrderNumber+": "+errNoSyncedState.Error())
		return nil, fmt.Errorf("marking dossier returned after order %s: %w", rd.OrderNumber, errNoSyncedState)
	}
	last, err := events.Parse(raw, "")
	if err != nil || last.StatusChanged == nil {
		return nil, failure.Permanentf("reading the last synced state of the dossier: unreadable")
	}
	if last.StatusChanged.Dossier.Status == portal.StatusResultReturned {
		h.timeline(ctx, code, "return_skipped", rd.OrderNumber+": the portal holds the dossier as returned already")
		return nil, nil
	}
	returned, err := returnedEvent(raw, rd.DeliveredAt)
	if err != nil {
		return nil, failure.MarkPermanent(err)
	}
	ev, err := events.Parse(returned, "")
	if err != nil || ev.StatusChanged == nil {
		return nil, failure.Permanentf("building the returned state of the dossier: %v", err)
	}
	sc := ev.StatusChanged
	if err := h.portal.UpsertDossier(ctx, sc.Dossier); err != nil {
		h.timeline(ctx, code, "return_failed", rd.OrderNumber+": "+failure.Classify(err).String())
		return nil, fmt.Errorf("syncing dossier version %d as returned: %w", sc.Version, err)
	}
	c := portal.ComparableOf(sc.Dossier)
	if err := h.store.RecordSynced(context.WithoutCancel(ctx), code, store.SyncedSummary{
		Version: sc.Version, At: nowFunc(), Status: int(c.Status), FeeTotal: c.FeeTotal, Fees: c.Fees, DueAt: c.DueAt, ReturnedAt: c.ReturnedAt,
	}, returned); err != nil {
		return nil, err
	}
	h.metrics.PortalSyncs.WithLabelValues("synced").Inc()
	_ = h.store.AddTimeline(context.WithoutCancel(ctx), code, store.TimelineEntry{
		Kind: "returned", Version: sc.Version, Status: int(portal.StatusResultReturned),
		Detail: "result delivered by post (" + rd.OrderNumber + "); portal holds the dossier as returned", EventID: ev.ID,
	})
	h.log.Info("dossier marked returned at the portal", "dossier_code", code, "order_number", rd.OrderNumber, "version", sc.Version)
	return nil, nil
}

func (h *resultToPortal) timeline(ctx context.Context, code, kind, detail string) {
	_ = h.store.AddTimeline(context.WithoutCancel(ctx), code, store.TimelineEntry{Kind: kind, Detail: detail})
}

// returnedEvent is the status change event raw with the dossier at status 10, returned at at.
func returnedEvent(raw []byte, at time.Time) ([]byte, error) {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("reading the last synced event: %w", err)
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(ev["data"], &data); err != nil {
		return nil, fmt.Errorf("reading the last synced event's data: %w", err)
	}
	var dossier map[string]any
	dec := json.NewDecoder(bytes.NewReader(data["dossier"]))
	dec.UseNumber() // amounts and codes pass through exactly
	if err := dec.Decode(&dossier); err != nil {
		return nil, fmt.Errorf("reading the last synced dossier: %w", err)
	}
	dossier["TrangThaiHoSo"] = int(portal.StatusResultReturned)
	dossier["NgayTra"] = at.In(vntime.Zone).Format(time.RFC3339)
	// The step belonged to the one-stop system's version; it is not sent again.
	delete(data, "step")
	var err error
	if data["dossier"], err = json.Marshal(dossier); err != nil {
		return nil, err
	}
	if ev["data"], err = json.Marshal(data); err != nil {
		return nil, err
	}
	return json.Marshal(ev)
}
