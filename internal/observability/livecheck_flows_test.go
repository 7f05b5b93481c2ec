package observability_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/routing"
)

// The live check's scenario steps for postal delivery, the national portal's submissions and
// catalogues, the drift report and re-sync, and the evidence log (livecheck_test.go runs them).

// deliveryEvent is a vn.gov.delivery.requested CloudEvent sending code's result home.
func deliveryEvent(id, code string) map[string]any {
	return map[string]any{
		"specversion": "1.0", "id": id, "source": "/onestop/langson", "type": "vn.gov.delivery.requested", "subject": code,
		"data": map[string]any{"dossier_code": code, "kind": string(postal.KindDeliverResult), "service": "CTN001", "cod_amount": 25000,
			"weight_grams": 300, "recipient": map[string]any{"name": "Nguyen Van A", "phone": "0987654321", "address": "12 Tran Dang Ninh",
				"province_code": "20", "commune_code": "05977"}},
	}
}

// vnpostFailing makes every call to the VNPost sandbox answer 503 (the tracking poll fails, the
// breakers open and let a probe through every second).
func vnpostFailing(gw *apptest.Gateway) {
	gw.Sandboxes.VNPost.Faults().Set(faults.Settings{ErrorRate: 1, Status: http.StatusServiceUnavailable})
}

// liveDeliveries: VNPost has been failing since the start (every tracking poll so far failed);
// it recovers, three results are ordered for home delivery, the sandbox walks one to delivered
// (14), one to delivery failed (15) and then returning (18), and one to pickup failed (5); then
// VNPost fails again until the end, so tracking polls keep failing and later delivery requests
// are parked.
func liveDeliveries(t *testing.T, gw *apptest.Gateway) {
	t.Helper()
	gw.Sandboxes.VNPost.Faults().Set(faults.Settings{})
	apptest.Eventually(t, 15*time.Second, "every vnpost breaker closed again", func() bool {
		for _, st := range gw.Clients[routing.PartnerPostal].BreakerStates() {
			if st.String() != "closed" {
				return false
			}
		}
		return true
	})
	codes := []string{dossierCode(20), dossierCode(21), dossierCode(22)}
	// The delivered dossier's state is at the portal first (its result is ready), so its
	// delivery can mark it returned there.
	mustPost(t, gw, statusEvent("live-delivery-sync", codes[0], 1, 9), http.StatusAccepted)
	for i, code := range codes {
		mustPost(t, gw, deliveryEvent(fmt.Sprintf("live-delivery-%d", i), code), http.StatusAccepted)
	}
	waitCounter(t, gw, "gateway_delivery_shipments_created_total", map[string]string{"kind": string(postal.KindDeliverResult)}, 3)
	walk := map[string][]postal.Status{
		codes[0]: {postal.StatusPickingUp, postal.StatusPickedUp, postal.StatusAtPostOffice, postal.StatusInTransit, postal.StatusDelivering, postal.StatusDelivered},
		codes[1]: {postal.StatusDeliveryFailed, postal.StatusReturning},
		codes[2]: {postal.StatusPickupFailed},
	}
	for code, statuses := range walk {
		number := routing.OrderNumber(code, postal.KindDeliverResult)
		for _, st := range statuses {
			if _, err := gw.Sandboxes.VNPost.Advance(number, &st); err != nil {
				t.Fatalf("advancing %s to %d: %v", number, st, err)
			}
		}
	}
	waitCounter(t, gw, "gateway_delivery_status_changes_total", map[string]string{"status": "14"}, 1)
	waitCounter(t, gw, "gateway_delivery_problems_total", map[string]string{"kind": string(postal.KindDeliverResult)}, 3)
	vnpostFailing(gw)
}

// liveDriftAndResync: the portal drops one dossier's update (it answers as if stored); today's
// drift report finds it (stale_status), and a re-sync sends the dossier again.
func liveDriftAndResync(t *testing.T, gw *apptest.Gateway, day string) {
	t.Helper()
	code := dossierCode(30)
	synced := func(version int64) {
		t.Helper()
		apptest.Eventually(t, 15*time.Second, fmt.Sprintf("%s synced at version %d", code, version), func() bool {
			s, err := gw.Store.DossierSyncState(context.Background(), code)
			return err == nil && s.SyncedVersion == version
		})
	}
	mustPost(t, gw, statusEvent("live-drift-1", code, 1, 2), http.StatusAccepted)
	synced(1)
	gw.Sandboxes.Portal.SetDrops(sandbox.DropSettings{Dossiers: []string{code}})
	mustPost(t, gw, statusEvent("live-drift-2", code, 2, 4), http.StatusAccepted)
	synced(2)
	gw.Sandboxes.Portal.SetDrops(sandbox.DropSettings{})
	if code, raw := apptest.Do(t, http.MethodPost, gw.Admin+"/admin/v1/sync/drift/"+day, config.DemoAdminToken, "", ""); code != http.StatusOK {
		t.Fatalf("running today's drift report: %d %s", code, raw)
	}
	waitCounter(t, gw, "gateway_portal_drift_runs_total", map[string]string{"outcome": "drifts"}, 1)
	body := fmt.Sprintf(`{"dossiers":[%q]}`, code)
	if code, raw := apptest.Do(t, http.MethodPost, gw.Admin+"/admin/v1/sync/replay", config.DemoAdminToken, "application/json", body); code != http.StatusAccepted && code != http.StatusOK {
		t.Fatalf("re-syncing the drifted dossier: %d %s", code, raw)
	}
	waitCounter(t, gw, "gateway_portal_resync_dossiers_total", map[string]string{"result": "sent"}, 1)
}

// liveCatalogRefresh: the portal answers a truncated procedures catalogue; the refresh keeps
// nothing of it (incomplete) and takes the agencies and fields.
func liveCatalogRefresh(t *testing.T, gw *apptest.Gateway) {
	t.Helper()
	gw.Sandboxes.Portal.National().BreakCatalog(sandbox.CatalogProcedures, sandbox.BreakTruncated)
	code, raw := apptest.Do(t, http.MethodPost, gw.Admin+"/admin/v1/catalog/refresh", config.DemoAdminToken, "", "")
	if code != http.StatusOK || !strings.Contains(string(raw), `"catalog":"procedures","outcome":"incomplete"`) {
		t.Fatalf("refreshing the catalogues: %d %s", code, raw)
	}
	waitCounter(t, gw, "gateway_catalog_refreshes_total", map[string]string{"catalog": "procedures", "outcome": "incomplete"}, 1)
}

// liveSubmission: a dossier submitted on the national portal while the one-stop system is down:
// queued, its notification parked (the one-stop retry schedule of the live check outlasts it),
// so it is neither delivered nor acknowledged.
func liveSubmission(t *testing.T, gw *apptest.Gateway) {
	t.Helper()
	gw.Sandboxes.Onestop.Faults().Set(faults.Settings{Down: true})
	body := `{"MaHoSo":"G22.LS-261126-0777","MaTTHC":"1.011442","TenTTHC":"Cap giay phep xay dung","MaLinhVuc":"XD-HDXD",` +
		`"DonViXuLy":"000.00.15.H37","LoaiDoiTuong":1,"HinhThuc":1,"ChuHoSo":"Tran Thi B","SoDienThoai":"0912345678",` +
		`"DanhSachLePhi":[{"TenPhiLePhi":"Le phi","MaPhiLePhi":"LP01","HinhThucThu":"1","Gia":150000,"LoaiPhiLePhi":"1"}]}`
	if code, raw := apptest.Do(t, http.MethodPost, gw.API+"/sandbox/dvcqg/submissions", "", "application/json", body); code != http.StatusCreated {
		t.Fatalf("submitting on the sandbox portal: %d %s", code, raw)
	}
	waitCounter(t, gw, "gateway_portal_submissions_total", map[string]string{"outcome": "queued"}, 1)
	waitCounter(t, gw, "gateway_notifications_total", map[string]string{"type": onestop.TypeDossierSubmittedNational, "result": "transient"}, 1)
	apptest.Eventually(t, 15*time.Second, "the submission's notification parked", func() bool {
		n, _, _ := gw.Router.Schedules()[routing.HandlerNotificationToOnestop].Len(context.Background())
		return n > 0
	})
	gw.Sandboxes.Onestop.Faults().Set(faults.Settings{})
}

// liveEvidenceLost sends a callback while Redis is unreachable: it is answered, and its evidence
// record is lost and counted.
func liveEvidenceLost(t *testing.T, gw *apptest.Gateway) {
	t.Helper()
	failed := gw.EvidenceMetrics.Records.WithLabelValues(bank.EndpointVNPayIPN, "failed")
	before := testutil.ToFloat64(failed)
	sendForgedIPN(context.Background(), http.DefaultClient, gw)
	apptest.Eventually(t, 15*time.Second, "an evidence record lost while Redis is unreachable", func() bool {
		return testutil.ToFloat64(failed) > before
	})
}
