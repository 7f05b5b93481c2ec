package routing

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

// countingPortal records the calls it gets.
type countingPortal struct{ upserts, steps int }

func (p *countingPortal) UpsertDossier(context.Context, portal.Dossier) error {
	p.upserts++
	return nil
}
func (p *countingPortal) AddProgress(context.Context, portal.Step) error { p.steps++; return nil }

// TestStepWaitsForABudget: with too little of the attempt left, the step is not started (a call
// cut off by the deadline may still be applied and would be sent again); the next attempt, with
// the state already synced, sends it once.
func TestStepWaitsForABudget(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	p := &countingPortal{}
	h := &dossierSync{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second, stepBudget: 400 * time.Millisecond}
	ev, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": "e1", "source": "/t", "type": "vn.gov.dossier.status_changed", "subject": "D-1",
		"data": map[string]any{"version": 1,
			"dossier": map[string]any{"MaHoSo": "D-1", "MaTTHC": "1.0", "LoaiDoiTuong": 1, "TrangThaiHoSo": 2},
			"step":    map[string]any{"ThoiDiemXuLy": "20251126080000", "TrangThai": 2}},
	})
	attempt := func(left time.Duration) error {
		msg := message.NewMessage("m1", ev)
		ctx, cancel := context.WithTimeout(t.Context(), left)
		defer cancel()
		msg.SetContext(ctx)
		_, err := h.Handle(msg)
		return err
	}
	if err := attempt(100 * time.Millisecond); !errors.Is(err, errStepDeferred) {
		t.Fatalf("short attempt: %v, want the step deferred", err)
	}
	if p.upserts != 1 || p.steps != 0 {
		t.Fatalf("after the short attempt: %d upserts, %d steps; want the state synced and no step started", p.upserts, p.steps)
	}
	if err := attempt(time.Second); err != nil {
		t.Fatalf("full attempt: %v", err)
	}
	if err := attempt(time.Second); err != nil {
		t.Fatalf("repeat: %v", err)
	}
	if p.upserts != 1 || p.steps != 1 {
		t.Fatalf("in the end %d upserts, %d steps; want one of each", p.upserts, p.steps)
	}
}

// updatingPortal is a portal with the Updater fast path; it records which call each version took.
type updatingPortal struct{ calls []string }

func (p *updatingPortal) UpsertDossier(_ context.Context, d portal.Dossier) error {
	p.calls = append(p.calls, "upsert "+d.Summary)
	return nil
}
func (p *updatingPortal) UpdateDossier(_ context.Context, d portal.Dossier) error {
	p.calls = append(p.calls, "update "+d.Summary)
	return nil
}
func (p *updatingPortal) AddProgress(context.Context, portal.Step) error { return nil }

// TestKnownDossierIsUpdatedWithoutLookUp: the first version of a dossier is upserted (the portal
// may or may not hold it); later versions, which the portal holds since the gateway synced it, are
// updates without the look-up; a bulk re-sync upserts again, because it repairs a portal that may
// have lost the dossier.
func TestKnownDossierIsUpdatedWithoutLookUp(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	p := &updatingPortal{}
	h := &dossierSync{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second}
	send := func(id string, version int, resync bool) {
		t.Helper()
		ev, _ := json.Marshal(map[string]any{
			"specversion": "1.0", "id": id, "source": "/t", "type": "vn.gov.dossier.status_changed", "subject": "D-2",
			"data": map[string]any{"version": version,
				"dossier": map[string]any{"MaHoSo": "D-2", "MaTTHC": "1.0", "LoaiDoiTuong": 1, "TrangThaiHoSo": 2,
					"TrichYeuHoSo": id}},
		})
		msg := message.NewMessage(id, ev)
		if resync {
			msg.Metadata.Set(MetaResync, "job-1")
		}
		msg.SetContext(t.Context())
		if _, err := h.Handle(msg); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	send("v1", 1, false)
	send("v2", 2, false)
	send("v3", 3, false)
	send("r3", 3, true)
	want := []string{"upsert v1", "update v2", "update v3", "upsert r3"}
	if len(p.calls) != len(want) {
		t.Fatalf("calls %v, want %v", p.calls, want)
	}
	for i := range want {
		if p.calls[i] != want[i] {
			t.Fatalf("calls %v, want %v", p.calls, want)
		}
	}
}
