package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

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
