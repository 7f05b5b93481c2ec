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
