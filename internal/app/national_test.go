package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/routing"
)

const nationalCode = "G22.LS-261126-0042"

func submitOnPortal(t *testing.T, gw *apptest.Gateway, code, agency string) {
	t.Helper()
	body := `{"MaHoSo":"` + code + `","MaTTHC":"1.011442","TenTTHC":"Cap giay phep xay dung","MaLinhVuc":"XD-HDXD",` +
		`"DonViXuLy":"` + agency + `","LoaiDoiTuong":1,"HinhThuc":1,"ChuHoSo":"Tran Thi B","SoDienThoai":"0912345678",` +
		`"TaiLieuNop":[{"MaThanhPhanHoSo":"TP1","TenTepDinhKem":"don-de-nghi.pdf","DuongDanTaiTepTin":"https://dichvucong.gov.vn/f/abc"}],` +
		`"DanhSachLePhi":[{"TenPhiLePhi":"Le phi","MaPhiLePhi":"LP01","HinhThucThu":"1","Gia":150000,"LoaiPhiLePhi":"1"}]}`
	if code, b := apptest.Do(t, http.MethodPost, gw.API+"/sandbox/dvcqg/submissions", "", "application/json", body); code != http.StatusCreated {
		t.Fatalf("submitting on the sandbox portal: %d %s", code, b)
	}
}

func acksOf(gw *apptest.Gateway, code string) (acks, served int) {
	for _, s := range gw.Sandboxes.Portal.National().Submissions() {
		if s.Code == code {
			acks = s.Acks
			served += s.Served
		}
	}
	return acks, served
}

// TestPortalSubmissionReachesOnestopOnce: a dossier submitted on the portal (and served twice by
// it) reaches the one-stop system once, signed, with its national codes and document links and no
// personal data; while the one-stop system is down it is not acknowledged; once accepted it is
// acknowledged once; a submission for an agency not served is neither delivered nor
// acknowledged; and the dossier's later status change reaches the portal.
func TestPortalSubmissionReachesOnestopOnce(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t, apptest.Embedded)
	cfg.Portal.Submissions.Interval = 100 * time.Millisecond
	cfg.Portal.Agencies = config.DevAgencies
	// Steps of a second for a minute: the outage below ends well before the schedule does, and
	// the retry after it comes within a second.
	cfg.Retry.Schedule = []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}
	for range 60 {
		cfg.Retry.Schedule = append(cfg.Retry.Schedule, time.Second)
	}
	gw := apptest.Start(t, cfg)
	gw.Sandboxes.Onestop.Faults().Set(faults.Settings{Down: true})

	submitOnPortal(t, gw, nationalCode, "000.00.15.H37")
	submitOnPortal(t, gw, nationalCode, "000.00.15.H37") // the portal serves the same dossier twice
	submitOnPortal(t, gw, "G22.XX-261126-0001", "000.00.99.H99")

	transient := gw.Metrics.Notifications.WithLabelValues(onestop.TypeDossierSubmittedNational, "transient")
	apptest.Eventually(t, 10*time.Second, "a failed delivery while the one-stop system is down", func() bool {
		return testutil.ToFloat64(transient) > 0
	})
	apptest.Eventually(t, 10*time.Second, "both entries read from the portal", func() bool {
		_, served := acksOf(gw, nationalCode)
		return served >= 2
	})
	if acks, _ := acksOf(gw, nationalCode); acks != 0 {
		t.Fatalf("acknowledged %d times before the one-stop system accepted it", acks)
	}
	if pending, _ := gw.Submissions.Pending(context.Background()); len(pending) != 0 {
		t.Fatalf("awaiting acknowledgement before any delivery: %v", pending)
	}

	gw.Sandboxes.Onestop.Faults().Set(faults.Settings{})
	apptest.Eventually(t, 20*time.Second, "the acknowledgement at the portal", func() bool {
		acks, _ := acksOf(gw, nationalCode)
		return acks >= 1
	})
	var accepted []sandboxRecord
	for _, r := range gw.Sandboxes.Onestop.Received() {
		if r.Type == onestop.TypeDossierSubmittedNational && r.Accepted() {
			accepted = append(accepted, sandboxRecord{r.WebhookID, r.Data, r.SignatureValid, r.Duplicate})
		}
	}
	if len(accepted) != 1 || !accepted[0].valid || accepted[0].duplicate {
		t.Fatalf("the one-stop system accepted %d dossier.submitted_national webhooks (%+v), want exactly one, signed", len(accepted), accepted)
	}
	var data struct {
		DossierCode   string `json:"dossier_code"`
		ProcedureCode string `json:"procedure_code"`
		AgencyCode    string `json:"agency_code"`
		SubmittedAt   string `json:"submitted_at"`
		Documents     []struct{ URL string }
		Fees          []struct{ Amount int64 }
	}
	if err := json.Unmarshal(accepted[0].data, &data); err != nil {
		t.Fatal(err)
	}
	if data.DossierCode != nationalCode || data.ProcedureCode != "1.011442" || data.AgencyCode != "000.00.15.H37" ||
		len(data.Documents) != 1 || data.Documents[0].URL != "https://dichvucong.gov.vn/f/abc" || len(data.Fees) != 1 || data.Fees[0].Amount != 150000 ||
		!strings.HasSuffix(data.SubmittedAt, "+07:00") {
		t.Fatalf("notification data %s", accepted[0].data)
	}
	if s := string(accepted[0].data); strings.Contains(s, "Tran Thi B") || strings.Contains(s, "0912345678") {
		t.Fatalf("personal data in the notification: %s", s)
	}
	if acks, _ := acksOf(gw, nationalCode); acks != 1 {
		t.Fatalf("acknowledged %d times, want once", acks)
	}
	for outcome, want := range map[string]float64{"queued": 1, "duplicate": 1, "delivered": 1, "acknowledged": 1, "ignored_agency": 1} {
		if got := testutil.ToFloat64(gw.NationalMetrics.Submissions.WithLabelValues(outcome)); got != want {
			t.Errorf("submissions %s = %v, want %v", outcome, got, want)
		}
	}

	// The dossier for an agency not served: not delivered, not acknowledged, visible to ops.
	if acks, served := acksOf(gw, "G22.XX-261126-0001"); acks != 0 || served == 0 {
		t.Fatalf("unserved agency: %d acknowledgements, served %d times", acks, served)
	}
	code, body := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/dossiers/G22.XX-261126-0001", config.DemoAdminToken, "", "")
	if code != http.StatusOK || !strings.Contains(string(body), "submission_ignored") || !strings.Contains(string(body), "000.00.99.H99") {
		t.Fatalf("ops view of the ignored submission: %d %s", code, body)
	}

	// From now on the one-stop system owns the dossier: its status change reaches the portal.
	ev := `{"specversion":"1.0","id":"nat-1","source":"/onestop/langson","type":"vn.gov.dossier.status_changed","subject":"` + nationalCode + `",` +
		`"data":{"version":1,"dossier":{"MaHoSo":"` + nationalCode + `","MaTTHC":"1.011442","LoaiDoiTuong":1,"TrangThaiHoSo":2,"DonViXuLy":"000.00.15.H37"}}}`
	if code, b := apptest.Do(t, http.MethodPost, gw.API+"/v1/events", config.DemoClientToken, "application/cloudevents+json", ev); code != http.StatusAccepted {
		t.Fatalf("status event: %d %s", code, b)
	}
	apptest.Eventually(t, 10*time.Second, "the status at the portal", func() bool {
		rec, ok := gw.Sandboxes.Portal.Dossier(nationalCode)
		st, _ := rec.DossierField("TrangThaiHoSo")
		return ok && st == "2"
	})
}

type sandboxRecord struct {
	id        string
	data      json.RawMessage
	valid     bool
	duplicate bool
}

// TestCataloguesAndProcedureMapping: the catalogues are served after the first refresh; a change
// at the portal shows after one refresh; a truncated answer keeps the last good catalogue; a
// mapping to a code the catalogue lacks is refused; a dossier with an unmapped local procedure
// code is dead-lettered with a reason naming it, and a mapped one reaches the portal with the
// national code.
func TestCataloguesAndProcedureMapping(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.RealRedis))
	get := func(path string) (int, string) {
		code, b := apptest.Do(t, http.MethodGet, gw.API+path, config.DemoClientToken, "", "")
		return code, string(b)
	}
	refresh := func() string {
		code, b := apptest.Do(t, http.MethodPost, gw.Admin+"/admin/v1/catalog/refresh", config.DemoAdminToken, "", "")
		if code != http.StatusOK {
			t.Fatalf("refresh: %d %s", code, b)
		}
		return string(b)
	}
	if code, body := get("/v1/catalog/procedures"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not been loaded") {
		t.Fatalf("before the first refresh: %d %s", code, body)
	}
	refresh()
	if code, body := get("/v1/catalog/procedures?agency=000.00.37.H37&limit=1"); code != 200 ||
		!strings.Contains(body, `"1.001612"`) || !strings.Contains(body, `"next_cursor":"1.001612"`) {
		t.Fatalf("filtered page: %d %s", code, body)
	}
	if code, _ := apptest.Do(t, http.MethodGet, gw.API+"/v1/catalog/fields", "", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("catalogue without a token: %d", code)
	}
	if code, body := get("/v1/catalog/fields?limit=0&bogus=1"); code != http.StatusBadRequest || !strings.Contains(body, "bogus") {
		t.Fatalf("bad query: %d %s", code, body)
	}

	nat := gw.Sandboxes.Portal.National()
	nat.SetCatalog(sandbox.CatalogProcedures, []json.RawMessage{
		json.RawMessage(`{"MaTTHC":"1.011442","TenTTHC":"Cap giay phep xay dung","MaLinhVuc":"XD-HDXD","MaCoQuanThucHien":["000.00.15.H37"]}`),
		json.RawMessage(`{"MaTTHC":"1.013001","TenTTHC":"Thu tuc moi","MaLinhVuc":"XD-HDXD"}`),
	})
	if body := refresh(); !strings.Contains(body, `"catalog":"procedures","outcome":"changed"`) {
		t.Fatalf("refresh after a change: %s", body)
	}
	if code, body := get("/v1/catalog/procedures"); code != 200 || !strings.Contains(body, `"1.013001"`) || strings.Contains(body, `"2.000488"`) {
		t.Fatalf("after one refresh: %d %s", code, body)
	}
	nat.BreakCatalog(sandbox.CatalogProcedures, sandbox.BreakTruncated)
	if body := refresh(); !strings.Contains(body, `"catalog":"procedures","outcome":"incomplete"`) {
		t.Fatalf("refresh of a truncated answer: %s", body)
	}
	if code, body := get("/v1/catalog/procedures"); code != 200 || !strings.Contains(body, `"total":2`) {
		t.Fatalf("the last good catalogue was not kept: %d %s", code, body)
	}

	setMapping := func(local, national string) (int, string) {
		code, b := apptest.Do(t, http.MethodPut, gw.Admin+"/admin/v1/catalog/mappings/"+local, config.DemoAdminToken, "application/json",
			`{"national_code":"`+national+`","actor":"ops-test","reason":"test"}`)
		return code, string(b)
	}
	if code, body := setMapping("LS-XD-01", "9.999999"); code != http.StatusBadRequest || !strings.Contains(body, "not in the national procedures catalogue") {
		t.Fatalf("mapping to a code not in the catalogue: %d %s", code, body)
	}
	if code, body := setMapping("LS-XD-01", "1.013001"); code != http.StatusOK {
		t.Fatalf("mapping: %d %s", code, body)
	}

	event := func(id, dossier, procedure string) {
		ev := `{"specversion":"1.0","id":"` + id + `","source":"/onestop/langson","type":"vn.gov.dossier.status_changed","subject":"` + dossier + `",` +
			`"data":{"version":1,"dossier":{"MaHoSo":"` + dossier + `","MaTTHC":"` + procedure + `","LoaiDoiTuong":1,"TrangThaiHoSo":2}}}`
		if code, b := apptest.Do(t, http.MethodPost, gw.API+"/v1/events", config.DemoClientToken, "application/cloudevents+json", ev); code != http.StatusAccepted {
			t.Fatalf("event: %d %s", code, b)
		}
	}
	event("map-1", "000.00.37.H37-261126-0101", "LS-XD-01")
	event("map-2", "000.00.37.H37-261126-0102", "LS-XD-99")
	apptest.Eventually(t, 10*time.Second, "the mapped dossier at the portal", func() bool {
		rec, ok := gw.Sandboxes.Portal.Dossier("000.00.37.H37-261126-0101")
		v, _ := rec.DossierField("MaTTHC")
		return ok && v == "1.013001"
	})
	apptest.Eventually(t, 10*time.Second, "the unmapped dossier dead-lettered", func() bool {
		return gw.Store.Client.XLen(context.Background(), gw.Store.Keys.Stream(routing.TopicDeadLetter)).Val() == 1
	})
	code, body := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/deadletters", config.DemoAdminToken, "", "")
	if code != 200 || !strings.Contains(string(body), `LS-XD-99`) || !strings.Contains(string(body), "no national MaTTHC mapping") {
		t.Fatalf("dead letter reason: %d %s", code, body)
	}
	if _, ok := gw.Sandboxes.Portal.Dossier("000.00.37.H37-261126-0102"); ok {
		t.Fatal("the unmapped dossier reached the portal")
	}
}
