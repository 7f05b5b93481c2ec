package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

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

// roundTrips counts the round trips a client makes: each command sent alone and each pipeline.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// funcPortal answers with its functions (nil: success).
type funcPortal struct{ upsert, step func() error }

func (p *funcPortal) UpsertDossier(context.Context, portal.Dossier) error {
	if p.upsert != nil {
		return p.upsert()
	}
	return nil
}
func (p *funcPortal) AddProgress(context.Context, portal.Step) error {
	if p.step != nil {
		return p.step()
	}
	return nil
}

// syncMessage is the status change to version of code, with a processing step when step is set.
func syncMessage(t *testing.T, id, code string, version int, step bool) *message.Message {
	data := map[string]any{"version": version,
		"dossier": map[string]any{"MaHoSo": code, "MaTTHC": "1.0", "LoaiDoiTuong": 1, "TrangThaiHoSo": 2}}
	if step {
		data["step"] = map[string]any{"ThoiDiemXuLy": "20251126080000", "TrangThai": 2}
	}
	ev, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": "/t",
		"type": "vn.gov.dossier.status_changed", "subject": code, "data": data})
	msg := message.NewMessage(id, ev)
	msg.SetContext(t.Context())
	return msg
}

// TestSyncRoundTrips: the lock, the synced version, the sent step and the backlog mark are one
// round trip; the lock is given back in the attempt's last pipeline, not in a round trip of its
// own; and on every path the lock is free once the handler returns.
func TestSyncRoundTrips(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	p := &funcPortal{}
	h := &dossierSync{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second, stepBudget: time.Millisecond}
	// Load the scripts (after a script cache flush the first attempt takes a few more).
	if _, err := h.Handle(syncMessage(t, "warm", "D-WARM", 1, true)); err != nil {
		t.Fatal(err)
	}
	rt := &roundTrips{}
	c.AddHook(rt)
	failing := errors.New("portal down")
	for _, tc := range []struct {
		name          string
		id            string
		version       int
		step          bool
		upsert, added error
		held          bool
		want          int
		wantErr       bool
	}{
		{name: "new dossier with a step", id: "a", version: 2, step: true, want: 3},
		{name: "status change without a step", id: "b", version: 3, want: 2},
		{name: "superseded, no step", id: "c", version: 1, want: 2},
		{name: "superseded, its step not sent yet", id: "d", version: 1, step: true, want: 3},
		{name: "superseded, its step sent", id: "e", version: 1, step: true, want: 2},
		{name: "sync failed", id: "f", version: 4, upsert: failing, want: 2, wantErr: true},
		{name: "step failed", id: "g", version: 5, step: true, added: failing, want: 3, wantErr: true},
		{name: "lock held", id: "h", version: 6, held: true, want: 1, wantErr: true},
	} {
		p.upsert = func() error { return tc.upsert }
		p.step = func() error { return tc.added }
		if tc.held {
			if err := c.Set(t.Context(), st.Keys.DossierLock("D-RT"), "another-consumer", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
		}
		before := rt.n.Load()
		_, err := h.Handle(syncMessage(t, tc.id, "D-RT", tc.version, tc.step))
		if got := rt.n.Load() - before; got != int64(tc.want) {
			t.Errorf("%s: %d round trips, want %d", tc.name, got, tc.want)
		}
		if (err != nil) != tc.wantErr {
			t.Fatalf("%s: error %v", tc.name, err)
		}
		lock, err := c.Get(t.Context(), st.Keys.DossierLock("D-RT")).Result()
		if tc.held {
			if lock != "another-consumer" {
				t.Fatalf("%s: lock %q, want the other consumer's untouched", tc.name, lock)
			}
			c.Del(t.Context(), st.Keys.DossierLock("D-RT"))
		} else if !errors.Is(err, redis.Nil) {
			t.Fatalf("%s: lock still held (%q, %v) after the handler returned", tc.name, lock, err)
		}
	}
}

// TestFoldedReleaseOnlyReleasesOurLock: a lock whose lease lapsed and was taken by another
// consumer while the portal answered is not deleted by the release folded into the last
// pipeline (compare-and-delete of our token), whichever pipeline that is.
func TestFoldedReleaseOnlyReleasesOurLock(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	p := &funcPortal{}
	h := &dossierSync{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second, stepBudget: time.Millisecond}
	for i, tc := range []struct {
		name      string
		step      bool
		takeInAdd bool
	}{
		{name: "released by CommitSync", step: false},
		{name: "released by StepDone", step: true, takeInAdd: true},
	} {
		code := fmt.Sprintf("D-TAKEN-%d", i)
		takeOver := func() error {
			return c.Set(t.Context(), st.Keys.DossierLock(code), "next-holder", time.Minute).Err()
		}
		p.upsert, p.step = nil, nil
		if tc.takeInAdd {
			p.step = takeOver
		} else {
			p.upsert = takeOver
		}
		if _, err := h.Handle(syncMessage(t, "m-"+code, code, 1, tc.step)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if lock, _ := c.Get(t.Context(), st.Keys.DossierLock(code)).Result(); lock != "next-holder" {
			t.Fatalf("%s: lock %q, want the next holder's kept", tc.name, lock)
		}
	}
}

// TestLockReleasedAfterPanic: when the attempt never reaches its last pipeline (a panic in the
// portal call), the deferred release still gives the lock back.
func TestLockReleasedAfterPanic(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	p := &funcPortal{step: func() error { panic("portal client bug") }}
	h := &dossierSync{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second, stepBudget: time.Millisecond}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the handler did not panic")
			}
		}()
		_, _ = h.Handle(syncMessage(t, "m-panic", "D-PANIC", 1, true))
	}()
	if n, err := c.Exists(t.Context(), st.Keys.DossierLock("D-PANIC")).Result(); err != nil || n != 0 {
		t.Fatalf("lock still held after a panic (%d, %v)", n, err)
	}
}
