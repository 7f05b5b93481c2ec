package portalsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
	"github.com/egov-vn/gateway/routing"
)

// gate is a limiter that lets a call through only for a token the test gives, and says when a
// call is waiting: the test counts calls, never time.
type gate struct {
	tokens  chan struct{}
	waiting chan int
	mu      sync.Mutex
	calls   int
}

func newGate() *gate { return &gate{tokens: make(chan struct{}, 100), waiting: make(chan int, 100)} }

func (g *gate) Wait(ctx context.Context) error {
	g.mu.Lock()
	g.calls++
	n := g.calls
	g.mu.Unlock()
	g.waiting <- n
	select {
	case <-g.tokens:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// open is a limiter that never waits.
type open struct{}

func (open) Wait(ctx context.Context) error { return ctx.Err() }

func testStore(t *testing.T) *store.Store {
	t.Helper()
	c := testredis.Client(t)
	return &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
}

// synced records a dossier as synced, as the portal sync does.
func synced(t *testing.T, st *store.Store, code string, version, status int) {
	t.Helper()
	syncedAt(t, st, code, version, status, time.Now())
}

func syncedAt(t *testing.T, st *store.Store, code string, version, status int, at time.Time) {
	t.Helper()
	ev, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": fmt.Sprintf("%s-v%d", code, version), "source": "/onestop/t", "type": "vn.gov.dossier.status_changed",
		"subject": code,
		"data": map[string]any{"version": version,
			"dossier": map[string]any{"MaHoSo": code, "MaTTHC": "1.011442", "LoaiDoiTuong": 1, "TrangThaiHoSo": status, "ChuHoSo": "Nguyen Van A"}},
	})
	err := st.RecordSynced(t.Context(), code, store.SyncedSummary{Version: int64(version), At: at, Status: status}, ev)
	if err != nil {
		t.Fatal(err)
	}
}

func streamLen(t *testing.T, st *store.Store) int64 {
	t.Helper()
	n, err := st.Client.XLen(context.Background(), st.Keys.Stream(routing.TopicDossierStatusChanged)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReplayIsRateLimitedAndResumesWithoutSendingTwice: each message waits for the limiter (the
// k+1-th call to Wait comes only after k messages were written); an interrupted job resumes from
// its cursor, a write whose cursor move was lost is not sent again, and the job ends with one
// message per dossier.
func TestReplayIsRateLimitedAndResumesWithoutSendingTwice(t *testing.T) {
	t.Parallel()
	st := testStore(t)
	codes := []string{"RS-1", "RS-2", "RS-3", "RS-4", "RS-5"}
	for i, c := range codes {
		synced(t, st, c, i+1, 2)
	}
	g := newGate()
	r := &Replayer{Store: st, Limiter: g}
	job, created, err := r.Create(t.Context(), Request{Dossiers: []string{"RS-3", "RS-1", "RS-2", "RS-5", "RS-4", "RS-1"}}, "ops")
	if err != nil || !created || job.Total != 5 || job.Status != JobRunning {
		t.Fatalf("create: %+v %v %v; want a new running job of 5 dossiers", job, created, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, job.ID) }()
	for k := 1; k <= 3; k++ {
		if n := <-g.waiting; n != k {
			t.Fatalf("call %d to the limiter, want %d", n, k)
		}
		// The k-th call waits: k-1 messages are written, no more.
		if got := streamLen(t, st); got != int64(k-1) {
			t.Fatalf("%d messages written while call %d waits, want %d", got, k, k-1)
		}
		if k < 3 {
			g.tokens <- struct{}{}
		}
	}
	cancel() // interrupted while the third dossier waits for the limiter
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	got, _ := r.Get(t.Context(), job.ID)
	if got.Done != 2 || got.Sent != 2 || got.Status != JobRunning {
		t.Fatalf("after the interruption %+v, want 2 done and sent, still running", got)
	}

	// The same request again answers the unfinished job.
	again, created, err := r.Create(t.Context(), Request{Dossiers: []string{"RS-1", "RS-2", "RS-3", "RS-4", "RS-5"}}, "ops")
	if err != nil || created || again.ID != job.ID {
		t.Fatalf("repeated request: %+v %v %v; want the same job", again, created, err)
	}
	// As if the process died between the second write and its cursor move.
	st.Client.HSet(t.Context(), r.jobKey(job.ID), "cursor", 1)

	r2 := &Replayer{Store: st, Limiter: open{}}
	if err := r2.Run(t.Context(), job.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = r2.Get(t.Context(), job.ID)
	if got.Status != JobDone || got.Done != 5 || got.Sent != 5 || got.Duplicates != 1 || got.FinishedAt == "" {
		t.Fatalf("finished job %+v, want done, 5 sent, 1 duplicate", got)
	}
	if n := streamLen(t, st); n != 5 {
		t.Fatalf("%d messages on the portal sync's topic, want one per dossier (5)", n)
	}
	msgs, _ := st.Client.XRange(t.Context(), st.Keys.Stream(routing.TopicDossierStatusChanged), "-", "+").Result()
	seen := map[string]bool{}
	for _, m := range msgs {
		var md map[string]string
		_ = json.Unmarshal([]byte(m.Values[store.FieldMetadata].(string)), &md)
		if md[routing.MetaResync] != job.ID || seen[md[routing.MetaSubject]] {
			t.Fatalf("message metadata %v: want marked with the job, each dossier once", md)
		}
		seen[md[routing.MetaSubject]] = true
	}
	if active, _ := st.Client.SMembers(t.Context(), r.activeKey()).Result(); len(active) != 0 {
		t.Fatalf("unfinished jobs after the end: %v", active)
	}
	// A finished job is not run again; the same request now makes a new job.
	if err := r2.Run(t.Context(), job.ID); err != nil || streamLen(t, st) != 5 {
		t.Fatalf("running a finished job: %v, %d messages", err, streamLen(t, st))
	}
	next, created, err := r2.Create(t.Context(), Request{Dossiers: codes}, "ops")
	if err != nil || !created || next.ID == job.ID {
		t.Fatalf("the request after the job finished: %+v %v %v; want a new job", next, created, err)
	}
}

// TestReplayRefusesBadRequests: unknown dossiers are listed and nothing is created or sent; bad
// codes, both selectors, neither, and a since out of range are refused.
func TestReplayRefusesBadRequests(t *testing.T) {
	t.Parallel()
	st := testStore(t)
	syncedAt(t, st, "RK-1", 1, 2, time.Now().Add(-3*time.Hour))
	r := &Replayer{Store: st, Limiter: open{}}
	_, _, err := r.Create(t.Context(), Request{Dossiers: []string{"RK-1", "RK-404", "RK-405"}}, "ops")
	var re *RequestError
	if !errors.As(err, &re) || fmt.Sprint(re.Unknown) != "[RK-404 RK-405]" {
		t.Fatalf("unknown dossiers: %v, want them listed", err)
	}
	if n, _ := st.Client.Exists(t.Context(), r.activeKey()).Result(); n != 0 || streamLen(t, st) != 0 {
		t.Fatal("a refused request created a job or sent something")
	}
	for name, req := range map[string]Request{
		"bad code":      {Dossiers: []string{"RK-1", "RK 2"}},
		"both":          {Since: "2026-11-01", Dossiers: []string{"RK-1"}},
		"neither":       {},
		"bad since":     {Since: "yesterday"},
		"future":        {Since: time.Now().Add(48 * time.Hour).Format(time.RFC3339)},
		"too old":       {Since: time.Now().AddDate(0, 0, -40).Format("2006-01-02")},
		"nothing since": {Since: time.Now().Add(-time.Hour).Format(time.RFC3339)},
	} {
		if _, _, err := r.Create(t.Context(), req, "ops"); !errors.As(err, &re) || len(re.Unknown) != 0 {
			t.Errorf("%s: %v, want a request error", name, err)
		}
	}
	synced(t, st, "RK-2", 1, 2)
	job, created, err := r.Create(t.Context(), Request{Since: time.Now().Add(-time.Hour).Format(time.RFC3339)}, "ops")
	if err != nil || !created || job.Total != 1 {
		t.Fatalf("since an hour ago: %+v %v %v; want the one dossier synced since", job, created, err)
	}
	job, _, err = r.Create(t.Context(), Request{Since: time.Now().Add(-26 * time.Hour).Format(time.RFC3339)}, "ops")
	if err != nil || job.Total != 2 {
		t.Fatalf("since 26 hours ago: %+v %v; want both dossiers", job, err)
	}
}
