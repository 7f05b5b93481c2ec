package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/internal/vntime"
	"github.com/egov-vn/gateway/routing"
)

func ctl(t *testing.T, gw *apptest.Gateway, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"-admin", gw.Admin, "-token", config.DemoAdminToken}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

func postEvent(t *testing.T, gw *apptest.Gateway, id string, version int) {
	t.Helper()
	ev := map[string]any{"specversion": "1.0", "id": id, "source": "/onestop", "type": "vn.gov.dossier.status_changed",
		"subject": "D-CTL-" + id, "data": map[string]any{"version": version, "dossier": map[string]any{
			"MaHoSo": "D-CTL-" + id, "MaTTHC": "1.011442", "LoaiDoiTuong": 1, "TrangThaiHoSo": 2, "ChuHoSo": "Le Van C"}}}
	b, _ := json.Marshal(ev)
	if code, body := apptest.Do(t, http.MethodPost, gw.API+"/v1/events", config.DemoClientToken, "application/cloudevents+json", string(b)); code != http.StatusAccepted {
		t.Fatalf("posting event: %d %s", code, body)
	}
}

// TestGatewayctlAgainstARunningGateway lists, inspects, replays and discards dead letters, shows
// breakers, and pauses and resumes a partner, as an operator would.
func TestGatewayctlAgainstARunningGateway(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	dlq := gw.Store.Keys.Stream(routing.TopicDeadLetter)
	dlqLen := func() int64 { return gw.Store.Client.XLen(context.Background(), dlq).Val() }

	if code, out := ctl(t, gw, "health"); code != 0 || !strings.Contains(out, `"ready"`) {
		t.Fatalf("health: %d %s", code, out)
	}
	gw.Sandboxes.Portal.Faults().Set(faults.Settings{ErrorRate: 1, Status: http.StatusBadRequest})
	for i, id := range []string{"a", "b", "c"} {
		postEvent(t, gw, id, i+1)
	}
	apptest.Eventually(t, 10*time.Second, "three dead letters", func() bool { return dlqLen() == 3 })

	code, out := ctl(t, gw, "deadletters", "list", "-partner", "dvcqg")
	if code != 0 || strings.Count(out, `"handler": "dossier_status_to_portal"`) != 3 {
		t.Fatalf("list: %d %s", code, out)
	}
	var page struct {
		Items []struct {
			ID          string `json:"id"`
			DossierCode string `json:"dossier_code"`
		} `json:"items"`
	}
	_, raw := ctl(t, gw, "deadletters", "list", "-dossier", "D-CTL-a")
	if err := json.Unmarshal([]byte(raw), &page); err != nil || len(page.Items) != 1 {
		t.Fatalf("filtered list: %v %s", err, raw)
	}
	id := page.Items[0].ID
	if code, out := ctl(t, gw, "deadletters", "show", id); code != 0 || strings.Contains(out, "Le Van C") || !strings.Contains(out, "D-CTL-a") {
		t.Fatalf("show must mask personal data: %d %s", code, out)
	}
	if code, _ := ctl(t, gw, "deadletters", "discard", id); code != 2 {
		t.Fatalf("discard without -reason: exit %d, want 2 (usage)", code)
	}
	if code, out := ctl(t, gw, "deadletters", "discard", id, "-reason", "test dossier"); code != 0 {
		t.Fatalf("discard: %d %s", code, out)
	}
	gw.Sandboxes.Portal.Faults().Set(faults.Settings{})
	if code, out := ctl(t, gw, "deadletters", "replay", "-all", "-partner", "dvcqg", "-reason", "portal fixed"); code != 0 {
		t.Fatalf("replay -all: %d %s", code, out)
	}
	apptest.Eventually(t, 10*time.Second, "replayed dossiers at the portal", func() bool {
		_, okB := gw.Sandboxes.Portal.Dossier("D-CTL-b")
		_, okC := gw.Sandboxes.Portal.Dossier("D-CTL-c")
		return okB && okC
	})
	if n := dlqLen(); n != 0 {
		t.Fatalf("%d dead letters left after replay -all", n)
	}
	if _, ok := gw.Sandboxes.Portal.Dossier("D-CTL-a"); ok {
		t.Fatal("a discarded dead letter reached the portal")
	}

	if code, out := ctl(t, gw, "partner", "pause", "onestop", "-reason", "receiver upgrade"); code != 0 || !strings.Contains(out, `"paused": true`) {
		t.Fatalf("pause: %d %s", code, out)
	}
	if code, out := ctl(t, gw, "breakers"); code != 0 || !strings.Contains(out, `"partner": "dvcqg"`) {
		t.Fatalf("breakers: %d %s", code, out)
	}
	if code, out := ctl(t, gw, "partner", "resume", "onestop"); code != 0 || !strings.Contains(out, `"paused": false`) {
		t.Fatalf("resume: %d %s", code, out)
	}
	if code, _ := ctl(t, gw, "partner", "pause", "nobody"); code != 1 {
		t.Fatalf("unknown partner: exit %d, want 1", code)
	}
	yesterday := time.Now().In(vntime.Zone).AddDate(0, 0, -1).Format(time.DateOnly)
	if code, _ := ctl(t, gw, "reconcile", "-stored"); code != 1 {
		t.Fatalf("reconcile -stored before any run: exit %d, want 1 (no report)", code)
	}
	if code, out := ctl(t, gw, "reconcile"); code != 0 || !strings.Contains(out, `"date": "`+yesterday+`"`) || !strings.Contains(out, `"status": "clean"`) {
		t.Fatalf("reconcile (yesterday by default): %d %s", code, out)
	}
	if code, out := ctl(t, gw, "reconcile", "--date", yesterday, "-stored"); code != 0 || !strings.Contains(out, `"status": "clean"`) {
		t.Fatalf("reconcile -stored: %d %s", code, out)
	}
	if code, _ := ctl(t, gw, "reconcile", "--date", "2025-13-01"); code != 1 {
		t.Fatalf("reconcile of no day: exit %d, want 1", code)
	}
	today := time.Now().In(vntime.Zone).Format(time.DateOnly)
	if code, _ := apptest.Do(t, http.MethodGet, gw.API+"/v1/callbacks/vnpay/ipn?vnp_TxnRef=CTL1&vnp_SecureHash=00", "", "", ""); code != 200 {
		t.Fatalf("forged IPN: %d", code)
	}
	// The record is appended after the answer.
	apptest.Eventually(t, 5*time.Second, "the IPN in the evidence", func() bool {
		code, out := ctl(t, gw, "evidence", "list", "-date", today)
		return code == 0 && strings.Contains(out, `"reference": "CTL1"`)
	})
	if code, out := ctl(t, gw, "evidence", "verify"); code != 0 || !strings.Contains(out, `"valid": true`) {
		t.Fatalf("evidence verify: %d %s", code, out)
	}
	if code, _ := ctl(t, gw, "evidence", "verify", "-date", "2025-13-01"); code != 1 {
		t.Fatalf("evidence of no day: exit %d, want 1", code)
	}
	if code, _ := ctl(t, gw, "frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
}
