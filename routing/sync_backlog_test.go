package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

// switchPortal fails UpsertDossier while down is set.
type switchPortal struct{ down bool }

func (p *switchPortal) UpsertDossier(context.Context, portal.Dossier) error {
	if p.down {
		return errors.New("portal down")
	}
	return nil
}
func (p *switchPortal) AddProgress(context.Context, portal.Step) error { return nil }

// TestPortalBacklog: a dossier whose newest version fails to reach the portal is in the backlog
// (past due when its NgayHenTra has passed) until that version is synced; syncing an older
// version meanwhile does not take it out.
func TestPortalBacklog(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	p := &switchPortal{}
	h := &dossierSync{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second, stepBudget: time.Millisecond}
	handle := func(code string, version int, due string) error {
		dossier := map[string]any{"MaHoSo": code, "MaTTHC": "1.0", "LoaiDoiTuong": 1, "TrangThaiHoSo": 2}
		if due != "" {
			dossier["NgayHenTra"] = due
		}
		ev, _ := json.Marshal(map[string]any{
			"specversion": "1.0", "id": fmt.Sprintf("%s-%d", code, version), "source": "/t", "type": "vn.gov.dossier.status_changed",
			"subject": code, "data": map[string]any{"version": version, "dossier": dossier},
		})
		msg := message.NewMessage(fmt.Sprintf("m-%s-%d", code, version), ev)
		msg.SetContext(t.Context())
		_, err := h.Handle(msg)
		return err
	}
	backlog := func() store.Backlog {
		t.Helper()
		b, err := st.PortalBacklog(t.Context(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sum := func(b store.Backlog) (n int64) {
		for _, v := range b.ByAge {
			n += v
		}
		return n
	}

	if err := handle("D-OK", 1, "20251210170000"); err != nil {
		t.Fatal(err)
	}
	if b := backlog(); sum(b) != 0 || b.PastDue != 0 {
		t.Fatalf("after a synced dossier: %+v, want an empty backlog", b)
	}

	p.down = true
	if err := handle("D-LATE", 2, "20251210170000"); err == nil {
		t.Fatal("sync with the portal down succeeded")
	}
	if err := handle("D-FUTURE", 1, "20991231170000"); err == nil {
		t.Fatal("sync with the portal down succeeded")
	}
	if err := handle("D-NODATE", 1, ""); err == nil {
		t.Fatal("sync with the portal down succeeded")
	}
	b := backlog()
	if len(b.ByAge) != len(store.UnsyncedAgeBounds)+1 || b.ByAge[0] != 3 || sum(b) != 3 {
		t.Fatalf("with three dossiers failing: %+v, want 3 in the youngest bucket", b)
	}
	if b.PastDue != 1 {
		t.Fatalf("past due: %d, want 1 (only D-LATE's NgayHenTra has passed)", b.PastDue)
	}
	// Read 50 ms on: the oldest wait is at least that (the three may all fit in one millisecond).
	soon, err := st.PortalBacklog(t.Context(), time.Now().Add(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if soon.Oldest < 50*time.Millisecond || soon.Oldest > time.Hour {
		t.Fatalf("oldest wait %v read 50ms on, want between 50ms and an hour", soon.Oldest)
	}
	// Read an hour later, the same dossiers are in the next bucket.
	later, err := st.PortalBacklog(t.Context(), time.Now().Add(time.Hour+time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if later.ByAge[0] != 0 || later.ByAge[2] != 3 || later.PastDue != 1 {
		t.Fatalf("an hour later: %+v, want 3 in the 1h-24h bucket, still 1 past due", later)
	}

	// The portal is back; an older version of D-LATE syncing does not take it out, its newest does.
	p.down = false
	if err := handle("D-LATE", 1, "20251210170000"); err != nil {
		t.Fatal(err)
	}
	if b := backlog(); sum(b) != 3 || b.PastDue != 1 {
		t.Fatalf("after an older version synced: %+v, want D-LATE still waiting", b)
	}
	for _, d := range []struct {
		code    string
		version int
		due     string
	}{{"D-LATE", 2, "20251210170000"}, {"D-FUTURE", 1, "20991231170000"}, {"D-NODATE", 1, ""}} {
		if err := handle(d.code, d.version, d.due); err != nil {
			t.Fatalf("%s: %v", d.code, err)
		}
	}
	if b := backlog(); sum(b) != 0 || b.PastDue != 0 || b.Oldest != 0 {
		t.Fatalf("after every dossier synced: %+v, want an empty backlog", b)
	}
}

// backlogRig is a dossier sync on a portal that can be switched off, with the raw backlog entry of
// a dossier readable.
type backlogRig struct {
	t      *testing.T
	c      redis.UniversalClient
	st     *store.Store
	p      *switchPortal
	h      *dossierSync
	prefix string
}

func newBacklogRig(t *testing.T) *backlogRig {
	c := testredis.Client(t)
	prefix := testredis.Prefix(t, c)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: prefix}}
	p := &switchPortal{}
	return &backlogRig{t: t, c: c, st: st, p: p, prefix: prefix,
		h: &dossierSync{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second, stepBudget: time.Millisecond}}
}

// handle runs the sync of version of code (NgayHenTra due, "" none) as message id.
func (r *backlogRig) handle(id, code string, version int, due string) error {
	dossier := map[string]any{"MaHoSo": code, "MaTTHC": "1.0", "LoaiDoiTuong": 1, "TrangThaiHoSo": 2}
	if due != "" {
		dossier["NgayHenTra"] = due
	}
	ev, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "source": "/t", "type": "vn.gov.dossier.status_changed",
		"subject": code, "data": map[string]any{"version": version, "dossier": dossier},
	})
	msg := message.NewMessage(id, ev)
	msg.SetContext(r.t.Context())
	_, err := r.h.Handle(msg)
	return err
}

// entry is code's backlog entry as "version since due" ("-" for a missing part), "" when none.
func (r *backlogRig) entry(code string) string {
	r.t.Helper()
	ctx := r.t.Context()
	part := func(s string, err error) string {
		if errors.Is(err, redis.Nil) {
			return "-"
		}
		if err != nil {
			r.t.Fatal(err)
		}
		return s
	}
	score := func(key string) string {
		f, err := r.c.ZScore(ctx, key, code).Result()
		return part(fmt.Sprintf("%.0f", f), err)
	}
	v := part(r.c.HGet(ctx, r.prefix+":{portal.unsynced}:version", code).Result())
	since, due := score(r.prefix+":{portal.unsynced}:since"), score(r.prefix+":{portal.unsynced}:due")
	if v == "-" && since == "-" && due == "-" {
		return ""
	}
	return v + " " + since + " " + due
}

// TestBacklogSuperseded: the sync marks a version in the portal backlog before it knows whether
// the portal holds it already; a superseded version leaves the backlog as if it had never been
// marked: out of it when nothing newer waits, the newer version's entry untouched when one does.
func TestBacklogSuperseded(t *testing.T) {
	t.Parallel()
	r := newBacklogRig(t)
	if err := r.handle("s-2", "D-S", 2, "20251210170000"); err != nil {
		t.Fatal(err)
	}
	if err := r.handle("s-1", "D-S", 1, "20991231170000"); err != nil {
		t.Fatal(err)
	}
	if e := r.entry("D-S"); e != "" {
		t.Fatalf("after a superseded version: backlog entry %q, want none", e)
	}

	// Version 3 fails to reach the portal and waits; an old version superseded meanwhile
	// changes nothing of its entry (version, start of the wait, NgayHenTra).
	r.p.down = true
	if err := r.handle("s-3", "D-S", 3, "20251210170000"); err == nil {
		t.Fatal("sync with the portal down succeeded")
	}
	waiting := r.entry("D-S")
	if waiting == "" || waiting[:2] != "3 " {
		t.Fatalf("after version 3 failed: backlog entry %q, want version 3 waiting", waiting)
	}
	r.p.down = false
	if err := r.handle("s-1b", "D-S", 1, ""); err != nil {
		t.Fatal(err)
	}
	if e := r.entry("D-S"); e != waiting {
		t.Fatalf("after a superseded version with version 3 waiting: backlog entry %q, want %q", e, waiting)
	}
	if err := r.handle("s-3b", "D-S", 3, "20251210170000"); err != nil {
		t.Fatal(err)
	}
	if e := r.entry("D-S"); e != "" {
		t.Fatalf("after version 3 synced: backlog entry %q, want none", e)
	}
}

// TestBacklogLockHeld: a version that finds the dossier's lock held by another consumer (the
// message is retried) is marked waiting when it is newer than the synced version, and leaves no
// mark when the portal holds it or a newer one already; a newer version waiting is left as is.
func TestBacklogLockHeld(t *testing.T) {
	t.Parallel()
	r := newBacklogRig(t)
	ctx := t.Context()
	hold := func(code string) {
		t.Helper()
		if err := r.c.Set(ctx, r.st.Keys.DossierLock(code), "another-consumer", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	free := func(code string) {
		t.Helper()
		if err := r.c.Del(ctx, r.st.Keys.DossierLock(code)).Err(); err != nil {
			t.Fatal(err)
		}
	}

	// Synced at version 2; versions 1 and 2 again find the lock held: no mark.
	if err := r.handle("h-2", "D-H", 2, "20251210170000"); err != nil {
		t.Fatal(err)
	}
	hold("D-H")
	for _, v := range []int{1, 2} {
		if err := r.handle(fmt.Sprintf("h-%d-again", v), "D-H", v, "20251210170000"); !errors.Is(err, errDossierBusy) {
			t.Fatalf("version %d with the lock held: %v, want busy", v, err)
		}
		if e := r.entry("D-H"); e != "" {
			t.Fatalf("version %d (synced already) with the lock held: backlog entry %q, want none", v, e)
		}
	}

	// Version 3, newer than the synced one, waits (past due) until it is synced.
	if err := r.handle("h-3", "D-H", 3, "20251210170000"); !errors.Is(err, errDossierBusy) {
		t.Fatalf("version 3 with the lock held: %v, want busy", err)
	}
	waiting := r.entry("D-H")
	if waiting == "" || waiting[:2] != "3 " || waiting[len(waiting)-1] == '-' {
		t.Fatalf("version 3 with the lock held: backlog entry %q, want version 3 waiting with its NgayHenTra", waiting)
	}
	// Older versions finding the lock held change nothing of it.
	if err := r.handle("h-1-third", "D-H", 1, ""); !errors.Is(err, errDossierBusy) {
		t.Fatalf("version 1 with the lock held: %v, want busy", err)
	}
	if e := r.entry("D-H"); e != waiting {
		t.Fatalf("after version 1 found the lock held: backlog entry %q, want %q", e, waiting)
	}
	// The retry, with the lock free, syncs version 3 and takes the dossier out.
	free("D-H")
	if err := r.handle("h-3", "D-H", 3, "20251210170000"); err != nil {
		t.Fatal(err)
	}
	if e := r.entry("D-H"); e != "" {
		t.Fatalf("after version 3 synced: backlog entry %q, want none", e)
	}
	// A dossier never synced: its first version finding the lock held waits.
	hold("D-NEW")
	if err := r.handle("n-1", "D-NEW", 1, ""); !errors.Is(err, errDossierBusy) {
		t.Fatalf("first version with the lock held: %v, want busy", err)
	}
	if e := r.entry("D-NEW"); e == "" || e[:2] != "1 " {
		t.Fatalf("first version of a new dossier with the lock held: backlog entry %q, want version 1 waiting", e)
	}
}
