package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
)

const dossierCode = "000.00.37.H37-251126-0001"

// statusEvent builds a dossier.status_changed CloudEvent of version v with status st and a step.
func statusEvent(id string, v, st int) map[string]any {
	return map[string]any{
		"specversion": "1.0", "id": id, "source": "/onestop/langson", "type": "vn.gov.dossier.status_changed",
		"subject": dossierCode,
		"data": map[string]any{
			"version": v,
			"dossier": map[string]any{
				"MaHoSo": dossierCode, "MaTTHC": "1.011442", "TenTTHC": "Cap giay phep xay dung",
				"ChuHoSo": "Nguyen Van A", "LoaiDoiTuong": 1, "TrangThaiHoSo": st,
				"NgayTiepNhan": "20251126083000", "NgayHenTra": "20251210170000",
				"DanhSachLePhi": []map[string]any{{"TenPhiLePhi": "Le phi", "MaPhiLePhi": "LP01", "Gia": 50000}},
			},
			"step": map[string]any{
				"NguoiXuLy": "Tran Thi B", "ThoiDiemXuLy": fmt.Sprintf("202511261%05d", v), "NoiDungXuLy": fmt.Sprintf("buoc %d", v),
				"TrangThai": st,
			},
		},
	}
}

func post(t *testing.T, gw *apptest.Gateway, ev any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(ev)
	ct := "application/cloudevents+json"
	if _, ok := ev.([]any); ok {
		ct = "application/cloudevents-batch+json"
	}
	code, body := apptest.Do(t, http.MethodPost, gw.API+"/v1/events", config.DemoClientToken, ct, string(b))
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return code, out
}

type portalRecord struct {
	Dossier map[string]any   `json:"dossier"`
	Steps   []map[string]any `json:"steps"`
	Upserts int              `json:"upserts"`
	Creates int              `json:"creates"`
}

func portalState(t *testing.T, gw *apptest.Gateway) (portalRecord, bool) {
	t.Helper()
	code, body := apptest.Do(t, http.MethodGet, gw.API+"/sandbox/dvcqg/dossiers/"+dossierCode, "", "", "")
	if code != http.StatusOK {
		return portalRecord{}, false
	}
	var r portalRecord
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("reading sandbox record: %v", err)
	}
	return r, true
}

func syncedVersion(t *testing.T, gw *apptest.Gateway) float64 {
	t.Helper()
	code, body := apptest.Do(t, http.MethodGet, gw.API+"/v1/dossiers/"+dossierCode, config.DemoClientToken, "", "")
	if code != http.StatusOK {
		return -1
	}
	var v struct {
		Sync struct {
			Last *float64 `json:"last_version_synced"`
		} `json:"sync"`
	}
	_ = json.Unmarshal(body, &v)
	if v.Sync.Last == nil {
		return -1
	}
	return *v.Sync.Last
}

// TestDossierLifecycle drives one dossier through statuses 1 → 2 → 4 → 9 → 10 with versions
// delivered out of order and duplicated, on the embedded store and on a real Redis. The portal
// must end with the version-10 state and every step exactly once, and must never have received
// an older state after a newer one.
func TestDossierLifecycle(t *testing.T) {
	for _, store := range apptest.Stores {
		t.Run(store.String(), func(t *testing.T) {
			t.Parallel()
			gw := apptest.Start(t, apptest.Config(t, store))
			wait := func(v float64) {
				apptest.Eventually(t, 15*time.Second, fmt.Sprintf("version %v synced", v), func() bool { return syncedVersion(t, gw) == v })
			}
			// Phase 1: 4 before 1, as one batch, with 4 repeated inside the batch.
			code, out := post(t, gw, []any{statusEvent("e4", 4, 4), statusEvent("e1", 1, 1), statusEvent("e4", 4, 4)})
			if code != http.StatusAccepted {
				t.Fatalf("batch: %d %v", code, out)
			}
			results := out["results"].([]any)
			if got := results[2].(map[string]any)["status"]; got != "duplicate" {
				t.Fatalf("repeated event inside a batch: status %v, want duplicate", got)
			}
			wait(4)
			r, _ := portalState(t, gw)
			upsertsAfter4 := r.Upserts
			if r.Dossier["TrangThaiHoSo"] != "4" {
				t.Fatalf("after phase 1 portal holds status %v, want 4", r.Dossier["TrangThaiHoSo"])
			}
			// Phase 2: the newest version, then repeats of old ones.
			for _, ev := range []map[string]any{statusEvent("e10", 10, 10), statusEvent("e4", 4, 4)} {
				post(t, gw, ev)
			}
			wait(10)
			r, _ = portalState(t, gw)
			upsertsAfter10 := r.Upserts
			if upsertsAfter10 != upsertsAfter4+1 {
				t.Fatalf("upserts went %d → %d, want exactly one more (version 10)", upsertsAfter4, upsertsAfter10)
			}
			// Phase 3: versions older than what the portal holds, and a repeat of 10.
			for _, ev := range []map[string]any{statusEvent("e9", 9, 9), statusEvent("e2", 2, 2), statusEvent("e10", 10, 10)} {
				code, out := post(t, gw, ev)
				if ev["id"] == "e10" && (code != http.StatusOK || out["status"] != "duplicate") {
					t.Fatalf("repeat of e10: %d %v, want 200 duplicate", code, out)
				}
			}
			apptest.Eventually(t, 15*time.Second, "five steps at the portal", func() bool {
				r, _ := portalState(t, gw)
				return len(r.Steps) >= 5
			})
			time.Sleep(300 * time.Millisecond) // anything still in flight would land now
			r, _ = portalState(t, gw)
			if r.Dossier["TrangThaiHoSo"] != "10" {
				t.Fatalf("portal ends with status %v, want 10", r.Dossier["TrangThaiHoSo"])
			}
			if r.Upserts != upsertsAfter10 {
				t.Fatalf("older versions reached the portal after version 10: upserts %d → %d", upsertsAfter10, r.Upserts)
			}
			if r.Creates != 1 {
				t.Fatalf("dossier created %d times at the portal, want 1", r.Creates)
			}
			seen := map[string]int{}
			for _, s := range r.Steps {
				seen[fmt.Sprint(s["TrangThai"])]++
			}
			for _, st := range []string{"1", "2", "4", "9", "10"} {
				if seen[st] != 1 {
					t.Fatalf("step with status %s reached the portal %d times, want once (steps: %v)", st, seen[st], seen)
				}
			}
			if len(r.Steps) != 5 {
				t.Fatalf("portal holds %d steps, want 5", len(r.Steps))
			}
		})
	}
}

// TestTimelineHasNoPersonalData checks the dossier view never shows the citizen's name.
func TestTimelineHasNoPersonalData(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	post(t, gw, statusEvent("p1", 1, 1))
	apptest.Eventually(t, 10*time.Second, "synced", func() bool { return syncedVersion(t, gw) == 1 })
	for _, url := range []string{gw.API + "/v1/dossiers/" + dossierCode, gw.Admin + "/admin/v1/dossiers/" + dossierCode} {
		token := config.DemoClientToken
		if strings.HasPrefix(url, gw.Admin) {
			token = config.DemoAdminToken
		}
		code, body := apptest.Do(t, http.MethodGet, url, token, "", "")
		if code != http.StatusOK {
			t.Fatalf("%s: %d", url, code)
		}
		for _, pii := range []string{"Nguyen Van A", "Tran Thi B"} {
			if strings.Contains(string(body), pii) {
				t.Fatalf("%s shows personal data %q", url, pii)
			}
		}
	}
}
