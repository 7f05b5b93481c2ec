package routing

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
	"github.com/egov-vn/gateway/internal/vntime"
)

// TestSyncKeepsLastStateAndResends: a successful sync keeps the compared fields, the whole
// event and the day's index; the same version again is superseded unless marked as a re-sync,
// and a re-sync never sends an older version.
func TestSyncKeepsLastStateAndResends(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	p := &countingPortal{}
	h := &dossierSync{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second}
	event := func(version, status int, fee int64) []byte {
		ev, _ := json.Marshal(map[string]any{
			"specversion": "1.0", "id": "e" + string(rune('0'+version)), "source": "/t", "type": "vn.gov.dossier.status_changed", "subject": "D-2",
			"data": map[string]any{"version": version,
				"dossier": map[string]any{"MaHoSo": "D-2", "MaTTHC": "1.0", "LoaiDoiTuong": 1, "TrangThaiHoSo": status,
					"ChuHoSo": "Nguyen Van A", "NgayHenTra": "20261130170000",
					"DanhSachLePhi": []map[string]any{{"MaPhiLePhi": "LP01", "TenPhiLePhi": "Le phi", "Gia": fee}}}},
		})
		return ev
	}
	handle := func(uuid string, payload []byte, resync string) {
		t.Helper()
		msg := message.NewMessage(uuid, payload)
		if resync != "" {
			msg.Metadata.Set(MetaResync, resync)
		}
		msg.SetContext(t.Context())
		if _, err := h.Handle(msg); err != nil {
			t.Fatalf("handling %s: %v", uuid, err)
		}
	}
	v1, v2 := event(1, 2, 100000), event(2, 4, 150000)
	handle("m1", v1, "")
	handle("m2", v2, "")
	sum, found, err := st.LastSyncedSummary(t.Context(), "D-2")
	if err != nil || !found {
		t.Fatalf("summary: %v, found %v", err, found)
	}
	if sum.Version != 2 || sum.Status != 4 || sum.FeeTotal != 150000 || sum.Fees != "LP01=150000" || sum.DueAt != "20261130170000" {
		t.Fatalf("summary %+v, want version 2, status 4, fees LP01=150000, due 20261130170000", sum)
	}
	last, found, err := st.LastSynced(t.Context(), "D-2")
	if err != nil || !found || string(last) != string(v2) {
		t.Fatalf("last synced event: %v %v %s; want version 2's event as received", err, found, last)
	}
	today := time.Now().In(vntime.Zone).Format(time.DateOnly)
	codes, err := st.SyncedOn(t.Context(), today)
	if err != nil || len(codes) != 1 || codes[0] != "D-2" {
		t.Fatalf("synced today: %v %v, want [D-2]", codes, err)
	}
	if ttl := c.TTL(t.Context(), st.Keys.SyncedDay(today)).Val(); ttl <= 0 || ttl > store.SyncedDayTTL {
		t.Fatalf("day index TTL %v, want within (0, %v]", ttl, store.SyncedDayTTL)
	}

	handle("m2-again", v2, "") // not a re-sync: superseded
	if p.upserts != 2 {
		t.Fatalf("%d upserts after a plain repeat, want 2", p.upserts)
	}
	handle("m2-resync", v2, "job1") // re-sync of the last version: sent
	if p.upserts != 3 {
		t.Fatalf("%d upserts after a re-sync, want 3", p.upserts)
	}
	handle("m1-resync", v1, "job1") // re-sync of an older version: never sent
	if p.upserts != 3 {
		t.Fatalf("%d upserts after re-syncing an older version, want 3", p.upserts)
	}
	if sum, _, _ := st.LastSyncedSummary(t.Context(), "D-2"); sum.Version != 2 {
		t.Fatalf("an older re-sync changed the summary: %+v", sum)
	}
	if _, found, _ := st.LastSynced(t.Context(), "D-unknown"); found {
		t.Fatal("an unknown dossier has a last synced state")
	}
}
