package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/routing"
)

func admin(t *testing.T, gw *apptest.Gateway, method, path, body string) (int, map[string]any) {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	code, raw := apptest.Do(t, method, gw.Admin+path, config.DemoAdminToken, ct, body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return code, out
}

// TestDeadLetterInspectReplayDiscard: ops list a dead letter by partner and dossier, inspect it
// with personal data masked, replay it once the partner is fixed (it syncs, and a second replay
// finds nothing), and discard another only with a reason; both actions are audited.
func TestDeadLetterInspectReplayDiscard(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	dlq := gw.Store.Keys.Stream(routing.TopicDeadLetter)
	gw.Sandboxes.Portal.Faults().Set(faults.Settings{ErrorRate: 1, Status: http.StatusUnprocessableEntity})
	post(t, gw, statusEvent("d1", 1, 1))
	apptest.Eventually(t, 10*time.Second, "a dead letter", func() bool {
		return gw.Store.Client.XLen(context.Background(), dlq).Val() == 1
	})

	code, list := admin(t, gw, http.MethodGet, "/admin/v1/deadletters?partner=dvcqg&dossier_code="+dossierCode, "")
	items, _ := list["items"].([]any)
	if code != http.StatusOK || len(items) != 1 {
		t.Fatalf("list: %d %v", code, list)
	}
	item := items[0].(map[string]any)
	if item["handler"] != routing.HandlerDossierToPortal || item["topic"] != routing.TopicDossierStatusChanged || item["partner"] != "dvcqg" {
		t.Fatalf("dead letter misdescribed: %v", item)
	}
	if _, list := admin(t, gw, http.MethodGet, "/admin/v1/deadletters?partner=onestop", ""); len(list["items"].([]any)) != 0 {
		t.Fatalf("partner filter let through: %v", list)
	}
	id := item["id"].(string)

	code, raw := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/deadletters/"+id, config.DemoAdminToken, "", "")
	if code != http.StatusOK || strings.Contains(string(raw), "Nguyen Van A") || strings.Contains(string(raw), "Tran Thi B") {
		t.Fatalf("inspect must show the payload with personal data masked: %d %s", code, raw)
	}
	if !strings.Contains(string(raw), dossierCode) {
		t.Fatalf("inspect hides the dossier code: %s", raw)
	}
	if code, _ := admin(t, gw, http.MethodGet, "/admin/v1/deadletters/not-an-id", ""); code != http.StatusBadRequest {
		t.Fatalf("bad id: %d", code)
	}

	gw.Sandboxes.Portal.Faults().Set(faults.Settings{})
	code, out := admin(t, gw, http.MethodPost, "/admin/v1/deadletters/"+id+"/replay", `{"reason":"portal fixed","actor":"ops-test"}`)
	if code != http.StatusAccepted || out["status"] != "replayed" {
		t.Fatalf("replay: %d %v", code, out)
	}
	apptest.Eventually(t, 10*time.Second, "replayed dossier synced", func() bool { return syncedVersion(t, gw) == 1 })
	if n := gw.Store.Client.XLen(context.Background(), dlq).Val(); n != 0 {
		t.Fatalf("replayed dead letter still listed (%d)", n)
	}
	if code, _ := admin(t, gw, http.MethodPost, "/admin/v1/deadletters/"+id+"/replay", ""); code != http.StatusNotFound {
		t.Fatalf("second replay of the same dead letter: %d, want 404", code)
	}

	// A second dead letter, discarded.
	gw.Sandboxes.Portal.Faults().Set(faults.Settings{ErrorRate: 1, Status: http.StatusUnprocessableEntity})
	post(t, gw, statusEvent("d2", 2, 2))
	apptest.Eventually(t, 10*time.Second, "a second dead letter", func() bool {
		return gw.Store.Client.XLen(context.Background(), dlq).Val() == 1
	})
	_, list = admin(t, gw, http.MethodGet, "/admin/v1/deadletters", "")
	id2 := list["items"].([]any)[0].(map[string]any)["id"].(string)
	if code, _ := admin(t, gw, http.MethodDelete, "/admin/v1/deadletters/"+id2, ""); code != http.StatusBadRequest {
		t.Fatalf("discard without a reason: %d, want 400", code)
	}
	if code, _ := admin(t, gw, http.MethodDelete, "/admin/v1/deadletters/"+id2+"?reason=test+data", ""); code != http.StatusNoContent {
		t.Fatalf("discard: %d", code)
	}
	if n := gw.Store.Client.XLen(context.Background(), dlq).Val(); n != 0 {
		t.Fatalf("discarded dead letter still there (%d)", n)
	}
	audit, err := gw.Store.Client.XRange(context.Background(), gw.Store.Keys.Audit(), "-", "+").Result()
	if err != nil || len(audit) != 2 || audit[0].Values["action"] != "deadletter.replay" || audit[0].Values["actor"] != "ops-test" ||
		audit[1].Values["action"] != "deadletter.discard" || audit[1].Values["reason"] != "test data" {
		t.Fatalf("audit stream: %v %v", audit, err)
	}
	if code, _ := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/deadletters", "", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("dead letters without the admin token: %d", code)
	}
}

// TestPauseParksThenResumeReleases: while a partner is paused its messages wait in the schedule
// without calling it or tripping its breaker; resume releases them at once.
func TestPauseParksThenResumeReleases(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	code, out := admin(t, gw, http.MethodPost, "/admin/v1/partners/dvcqg/pause", `{"reason":"portal maintenance"}`)
	if code != http.StatusOK || out["paused"] != true || out["reason"] != "portal maintenance" {
		t.Fatalf("pause: %d %v", code, out)
	}
	post(t, gw, statusEvent("p1", 1, 1))
	sched := gw.Router.Schedules()[routing.HandlerDossierToPortal]
	apptest.Eventually(t, 10*time.Second, "the message parked", func() bool {
		n, _, _ := sched.Len(context.Background())
		return n == 1
	})
	if _, seen := portalState(t, gw); seen {
		t.Fatal("a paused partner was called")
	}
	_, br := admin(t, gw, http.MethodGet, "/admin/v1/breakers", "")
	for _, b := range br["breakers"].([]any) {
		row := b.(map[string]any)
		if row["partner"] == "dvcqg" && (row["state"] != "closed" || row["paused"] != true) {
			t.Fatalf("paused partner's breaker: %v", row)
		}
	}
	if dlq := gw.Store.Client.XLen(context.Background(), gw.Store.Keys.Stream(routing.TopicDeadLetter)).Val(); dlq != 0 {
		t.Fatalf("a pause dead-lettered %d messages", dlq)
	}
	code, out = admin(t, gw, http.MethodPost, "/admin/v1/partners/dvcqg/resume", "")
	if code != http.StatusOK || out["paused"] != false || out["released"] != float64(1) {
		t.Fatalf("resume: %d %v", code, out)
	}
	apptest.Eventually(t, 5*time.Second, "synced after resume", func() bool { return syncedVersion(t, gw) == 1 })
	if code, _ := admin(t, gw, http.MethodPost, "/admin/v1/partners/nobody/pause", ""); code != http.StatusNotFound {
		t.Fatalf("unknown partner: %d", code)
	}
	if code, _ := admin(t, gw, http.MethodPost, "/admin/v1/partners/dvcqg/pause", `{"until":"2001-01-01T00:00:00Z"}`); code != http.StatusBadRequest {
		t.Fatalf("pause until the past: %d", code)
	}
}
