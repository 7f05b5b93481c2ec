package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/portalsync"
	"github.com/egov-vn/gateway/internal/vntime"
)

// dossierEvent is a status change of code at version v with status st and one fee line.
func dossierEvent(code string, v, st int, fee int64) map[string]any {
	return map[string]any{
		"specversion": "1.0", "id": fmt.Sprintf("%s-v%d", code, v), "source": "/onestop/langson", "type": "vn.gov.dossier.status_changed",
		"subject": code,
		"data": map[string]any{
			"version": v,
			"dossier": map[string]any{
				"MaHoSo": code, "MaTTHC": "1.011442", "TenTTHC": "Cap giay phep xay dung",
				"ChuHoSo": "Nguyen Van A", "LoaiDoiTuong": 1, "TrangThaiHoSo": st,
				"NgayTiepNhan": "20261126083000", "NgayHenTra": "20261210170000",
				"DanhSachLePhi": []map[string]any{{"TenPhiLePhi": "Le phi", "MaPhiLePhi": "LP01", "Gia": fee}},
			},
		},
	}
}

func driftCheck(t *testing.T, gw *apptest.Gateway, day string) portalsync.Report {
	t.Helper()
	return runDayReport[portalsync.Report](t, gw, "/admin/v1/sync/drift/"+day, "running the drift check")
}

func resync(t *testing.T, gw *apptest.Gateway, body string) (int, portalsync.Job, []byte) {
	t.Helper()
	code, raw := apptest.Do(t, http.MethodPost, gw.Admin+"/admin/v1/sync/replay", config.DemoAdminToken, "application/json", body)
	var job portalsync.Job
	_ = json.Unmarshal(raw, &job)
	return code, job, raw
}

func waitJob(t *testing.T, gw *apptest.Gateway, id string) portalsync.Job {
	t.Helper()
	var job portalsync.Job
	apptest.Eventually(t, 20*time.Second, "re-sync job "+id+" done", func() bool {
		code, raw := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/sync/replay/"+id, config.DemoAdminToken, "", "")
		_ = json.Unmarshal(raw, &job)
		return code == http.StatusOK && job.Status == portalsync.JobDone
	})
	return job
}

// TestDriftFoundAndRepaired plants one drift of every class at the sandbox portal (its drop
// switch loses updates; a change made on the portal itself moves a date), checks the day's
// report finds each one and nothing else, then re-syncs the dossiers and checks the report finds
// none; a re-sync naming unknown dossiers is refused, listing them, and sends nothing.
func TestDriftFoundAndRepaired(t *testing.T) {
	for _, st := range apptest.Stores {
		t.Run(st.String(), func(t *testing.T) {
			t.Parallel()
			gw := apptest.Start(t, apptest.Config(t, st))
			sb := gw.Sandboxes.Portal
			day := time.Now().In(vntime.Zone).Format(time.DateOnly)
			if code, _ := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/sync/drift/"+day, config.DemoAdminToken, "", ""); code != http.StatusNotFound {
				t.Fatalf("a day never checked answered %d, want 404", code)
			}
			p := "DR" + st.String()[:1] + "-"
			clean, stale, missing, fees, dates := p+"CLEAN", p+"STALE", p+"MISSING", p+"FEES", p+"DATES"
			synced := func(code string, version int64) {
				t.Helper()
				apptest.Eventually(t, 10*time.Second, code+" synced", func() bool {
					s, err := gw.Store.DossierSyncState(t.Context(), code)
					return err == nil && s.SyncedVersion == version
				})
			}
			send := func(code string, v, status int, fee int64) {
				t.Helper()
				if c, out := post(t, gw, dossierEvent(code, v, status, fee)); c != http.StatusAccepted {
					t.Fatalf("posting %s v%d: %d %v", code, v, c, out)
				}
				synced(code, int64(v))
			}
			for _, code := range []string{clean, stale, fees, dates} {
				send(code, 1, 2, 50000)
			}
			sb.SetDrops(sandbox.DropSettings{Dossiers: []string{stale, missing}})
			send(stale, 2, 4, 50000) // the portal keeps status 2
			send(missing, 1, 2, 50000)
			sb.SetDrops(sandbox.DropSettings{Next: 1})
			send(fees, 2, 2, 80000) // the portal keeps the fee of 50000
			sb.SetDrops(sandbox.DropSettings{})
			if !sb.SetDossierField(dates, "NgayHenTra", "20261231170000") {
				t.Fatal("moving the due date at the portal")
			}
			if got := sb.Dropped(); !slices.Equal(got, []string{stale, missing, fees}) {
				t.Fatalf("the sandbox dropped %v", got)
			}

			rep := driftCheck(t, gw, day)
			if rep.Status != portalsync.StatusDrifts || rep.Checked != 5 || len(rep.Unchecked) != 0 {
				t.Fatalf("report %+v, want drifts over 5 dossiers checked", rep)
			}
			want := map[string]string{missing: portalsync.DriftMissing, stale: portalsync.DriftStatus, fees: portalsync.DriftFees, dates: portalsync.DriftDates}
			if len(rep.Drifts) != len(want) {
				t.Fatalf("drifts %+v, want exactly %v", rep.Drifts, want)
			}
			for _, d := range rep.Drifts {
				if want[d.DossierCode] != d.Class {
					t.Errorf("drift %+v, want class %q for %s", d, want[d.DossierCode], d.DossierCode)
				}
			}
			for _, d := range rep.Drifts {
				switch d.Class {
				case portalsync.DriftStatus:
					if d.Gateway != "4" || d.Portal != "2" || d.SyncedVersion != 2 {
						t.Errorf("stale status %+v, want ours 4 at version 2, the portal's 2", d)
					}
				case portalsync.DriftFees:
					if d.Gateway != "LP01=80000" || d.Portal != "LP01=50000" {
						t.Errorf("fee drift %+v", d)
					}
				case portalsync.DriftDates:
					if d.Field != "NgayHenTra" || d.Gateway != "20261210170000" || d.Portal != "20261231170000" {
						t.Errorf("date drift %+v", d)
					}
				}
			}
			for _, class := range portalsync.DriftClasses {
				if rep.Counts[class] != 1 {
					t.Errorf("count of %s: %d, want 1", class, rep.Counts[class])
				}
				if v := testutil.ToFloat64(gw.Drift.Metrics.Drifts.WithLabelValues(class)); v != 1 {
					t.Errorf("gateway_portal_drifts{class=%q} = %v, want 1", class, v)
				}
			}
			if v := testutil.ToFloat64(gw.Drift.Metrics.Runs.WithLabelValues(portalsync.OutcomeDrifts)); v != 1 {
				t.Errorf("runs with drifts: %v, want 1", v)
			}
			if raw, _ := json.Marshal(rep); strings.Contains(string(raw), "Nguyen") {
				t.Fatalf("the report holds personal data: %s", raw)
			}

			// Unknown dossiers: refused, listed, nothing sent.
			before := len(sb.Dossiers())
			code, _, raw := resync(t, gw, `{"dossiers":["`+stale+`","`+p+`NEVER-1","`+p+`NEVER-2"]}`)
			var problem struct {
				Unknown []string `json:"unknown_dossiers"`
			}
			_ = json.Unmarshal(raw, &problem)
			if code != http.StatusUnprocessableEntity || !slices.Equal(problem.Unknown, []string{p + "NEVER-1", p + "NEVER-2"}) {
				t.Fatalf("re-sync of unknown dossiers: %d %s", code, raw)
			}
			if code, _, raw := resync(t, gw, `{"dossiers":["bad code"]}`); code != http.StatusBadRequest {
				t.Fatalf("re-sync of a malformed code: %d %s", code, raw)
			}
			if code, _, raw := resync(t, gw, `{"since":"last week"}`); code != http.StatusBadRequest {
				t.Fatalf("re-sync since a malformed time: %d %s", code, raw)
			}

			// The repair: every dossier listed is re-sent once, through the portal sync.
			code, job, raw := resync(t, gw, `{"dossiers":["`+stale+`","`+missing+`","`+fees+`","`+dates+`"],"actor":"ops-test"}`)
			if code != http.StatusAccepted || job.Total != 4 {
				t.Fatalf("starting the re-sync: %d %s", code, raw)
			}
			job = waitJob(t, gw, job.ID)
			if job.Sent != 4 || job.Duplicates != 0 || job.Actor != "ops-test" {
				t.Fatalf("finished job %+v, want 4 sent", job)
			}
			apptest.Eventually(t, 20*time.Second, "the portal repaired", func() bool {
				r, ok := sb.Dossier(missing)
				s, _ := sb.Dossier(stale)
				f, _ := sb.Dossier(fees)
				d, _ := sb.Dossier(dates)
				st, _ := s.DossierField("TrangThaiHoSo")
				fee, _ := f.DossierField("DanhSachLePhi")
				due, _ := d.DossierField("NgayHenTra")
				return ok && r.Upserts == 1 && st == "4" && strings.Contains(fee, "80000") && due == "20261210170000"
			})
			if n := len(sb.Dossiers()); n != before+1 {
				t.Fatalf("%d dossiers at the portal, want %d (the missing one added, nothing else)", n, before+1)
			}
			if rep := driftCheck(t, gw, day); rep.Status != portalsync.StatusClean || len(rep.Drifts) != 0 || rep.Checked != 5 {
				t.Fatalf("report after the re-sync %+v, want clean", rep)
			}
			for _, class := range portalsync.DriftClasses {
				if v := testutil.ToFloat64(gw.Drift.Metrics.Drifts.WithLabelValues(class)); v != 0 {
					t.Errorf("gateway_portal_drifts{class=%q} = %v after the repair, want 0", class, v)
				}
			}
			if r, _ := sb.Dossier(clean); r.Upserts != 1 {
				t.Fatalf("the clean dossier was sent %d times, want once", r.Upserts)
			}

			// By date: every dossier synced today, each once.
			code, job, raw = resync(t, gw, `{"since":"`+day+`"}`)
			if code != http.StatusAccepted || job.Total != 5 {
				t.Fatalf("re-sync since today: %d %s", code, raw)
			}
			if job = waitJob(t, gw, job.ID); job.Sent != 5 {
				t.Fatalf("re-sync since today %+v, want 5 sent", job)
			}
			apptest.Eventually(t, 20*time.Second, "the clean dossier re-sent", func() bool {
				r, _ := sb.Dossier(clean)
				return r.Upserts == 2
			})
		})
	}
}

// TestResyncResumesAfterRestart stops the gateway in the middle of a re-sync job and starts
// another on the same Redis: the new one resumes the job from its cursor, and in the end the
// portal received each dossier once from the job.
func TestResyncResumesAfterRestart(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t, apptest.RealRedis)
	cfg.PortalSync.RatePerSecond = 4
	gw := apptest.Start(t, cfg)
	codes := []string{"RSR-1", "RSR-2", "RSR-3", "RSR-4", "RSR-5", "RSR-6", "RSR-7", "RSR-8"}
	for _, c := range codes {
		if code, out := post(t, gw, dossierEvent(c, 1, 2, 10000)); code != http.StatusAccepted {
			t.Fatalf("posting %s: %d %v", c, code, out)
		}
	}
	apptest.Eventually(t, 10*time.Second, "all synced", func() bool {
		for _, c := range codes {
			if s, _ := gw.Store.DossierSyncState(t.Context(), c); s.SyncedVersion != 1 {
				return false
			}
		}
		return true
	})
	body, _ := json.Marshal(map[string]any{"dossiers": codes})
	code, job, raw := resync(t, gw, string(body))
	if code != http.StatusAccepted {
		t.Fatalf("starting the re-sync: %d %s", code, raw)
	}
	apptest.Eventually(t, 10*time.Second, "the job under way", func() bool {
		j, err := gw.Resync.Get(t.Context(), job.ID)
		return err == nil && j.Done >= 2
	})
	if err := gw.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped, _ := gw.Resync.Get(t.Context(), job.ID)
	if stopped.Status == portalsync.JobDone {
		t.Fatalf("the job finished before the stop (%+v): the test proves nothing", stopped)
	}

	// The new gateway has a new sandbox portal: count what reaches it.
	gw2 := apptest.Start(t, cfg)
	done := waitJob(t, gw2, job.ID)
	if done.Total != 8 || done.Sent+done.Duplicates != 8 || done.Sent < stopped.Sent {
		t.Fatalf("resumed job %+v (stopped at %+v), want all 8 handled", done, stopped)
	}
	// Each dossier reached the portals twice in all: its sync, and one re-send (by the first
	// gateway, or by the second one after the restart).
	upserts := func(c string) int {
		a, _ := gw.Sandboxes.Portal.Dossier(c)
		b, _ := gw2.Sandboxes.Portal.Dossier(c)
		return a.Upserts + b.Upserts
	}
	apptest.Eventually(t, 20*time.Second, "every dossier re-sent", func() bool {
		for _, c := range codes {
			if upserts(c) < 2 {
				return false
			}
		}
		return true
	})
	for _, c := range codes {
		if n := upserts(c); n != 2 {
			t.Fatalf("%s reached the portals %d times, want 2 (its sync and one re-send)", c, n)
		}
	}
	if len(gw2.Sandboxes.Portal.Dossiers()) == 0 {
		t.Fatal("nothing was re-sent after the restart")
	}
}
