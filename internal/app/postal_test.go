package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/connectors/postal/myvnpost"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/partnerhttp"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/routing"
)

// deliveryRequest builds a vn.gov.delivery.requested CloudEvent.
func deliveryRequest(id, code, kind, commune string) map[string]any {
	return map[string]any{
		"specversion": "1.0", "id": id, "source": "/onestop/langson", "type": "vn.gov.delivery.requested", "subject": code,
		"data": map[string]any{"dossier_code": code, "kind": kind, "service": "CTN001", "cod_amount": 25000, "weight_grams": 300,
			"recipient": map[string]any{"name": "Nguyen Van A", "phone": "0987654321", "address": "12 Tran Dang Ninh",
				"province_code": "20", "commune_code": commune}},
	}
}

// postalConfig is the test configuration with fast tracking polls.
func postalConfig(t *testing.T, s apptest.Store) config.Config {
	cfg := apptest.Config(t, s)
	cfg.Postal.PollInterval = 100 * time.Millisecond
	cfg.Postal.PollTimeout = 3 * time.Second
	return cfg
}

// deliveryStatuses are the statuses of delivery.status_changed notifications for an order that
// the one-stop sandbox accepted, once each (duplicates by webhook-id left out), in arrival order.
func deliveryStatuses(gw *apptest.Gateway, number string) []int {
	var out []int
	for _, r := range gw.Sandboxes.Onestop.Unique(onestop.TypeDeliveryStatusChanged) {
		var d routing.DeliveryNotice
		if json.Unmarshal(r.Data, &d) == nil && d.OrderNumber == number {
			out = append(out, d.Status)
		}
	}
	return out
}

func advance(t *testing.T, gw *apptest.Gateway, number, body string) {
	t.Helper()
	code, out := apptest.Do(t, http.MethodPost, gw.API+"/sandbox/vnpost/orders/"+number+"/advance", "", "application/json", body)
	if code != http.StatusOK {
		t.Fatalf("advancing %s: %d %s", number, code, out)
	}
}

// TestPostalDeliveryEndToEnd: a delivery request becomes one sandbox order; walking it to
// delivered notifies the one-stop system of each status once, in order (a status repeated by the
// partner is ignored), and the portal ends with the dossier returned (status 10); the dossier view
// shows the shipment without personal data.
func TestPostalDeliveryEndToEnd(t *testing.T) {
	for _, s := range apptest.Stores {
		t.Run(s.String(), func(t *testing.T) {
			t.Parallel()
			gw := apptest.Start(t, postalConfig(t, s))
			// The dossier reaches the portal at status 9 first (its result is ready).
			if code, out := post(t, gw, statusEvent("pd-9", 9, 9)); code != http.StatusAccepted {
				t.Fatalf("status event: %d %v", code, out)
			}
			apptest.Eventually(t, 15*time.Second, "version 9 synced", func() bool { return syncedVersion(t, gw) == 9 })
			if code, out := post(t, gw, deliveryRequest("pd-req", dossierCode, "deliver_result", "05977")); code != http.StatusAccepted {
				t.Fatalf("delivery request: %d %v", code, out)
			}
			number := routing.OrderNumber(dossierCode, postal.KindDeliverResult)
			apptest.Eventually(t, 15*time.Second, "the order at the postal sandbox", func() bool {
				_, ok := gw.Sandboxes.VNPost.Order(number)
				return ok
			})
			o, _ := gw.Sandboxes.VNPost.Order(number)
			if o.CODAmount != 25000 || o.Weight != 300 || o.Receiver.Name != "Nguyen Van A" || o.Sender.Name != gw.Config().Postal.Agency.Name {
				t.Fatalf("sandbox order: %+v", o)
			}
			apptest.Eventually(t, 15*time.Second, "the created status notified", func() bool { return len(deliveryStatuses(gw, number)) == 1 })
			// 4, 6, then 4 again (a regression: ignored), then 7 and on to delivered.
			for _, body := range []string{"", "", `{"status":4}`, `{"status":7}`, "", "", ""} {
				advance(t, gw, number, body)
			}
			apptest.Eventually(t, 15*time.Second, "every status notified", func() bool { return len(deliveryStatuses(gw, number)) >= 7 })
			apptest.Eventually(t, 15*time.Second, "the dossier returned at the portal", func() bool {
				r, _ := portalState(t, gw)
				return r.Dossier["TrangThaiHoSo"] == "10"
			})
			time.Sleep(500 * time.Millisecond) // a late duplicate would land now
			if got := fmt.Sprint(deliveryStatuses(gw, number)); got != "[1 4 6 7 10 12 14]" {
				t.Fatalf("one-stop received statuses %s, want [1 4 6 7 10 12 14]", got)
			}
			if n := len(gw.Sandboxes.VNPost.Orders()); n != 1 {
				t.Fatalf("%d orders at the postal sandbox, want 1", n)
			}
			r, _ := portalState(t, gw)
			if r.Dossier["NgayTra"] == nil || r.Dossier["NgayTra"] == "" {
				t.Fatalf("portal dossier without NgayTra: %v", r.Dossier)
			}
			if got := testutil.ToFloat64(gw.DeliveryMetrics.TrackingIgnored.WithLabelValues("duplicate")); got < 1 {
				t.Fatalf("ignored duplicates = %v, want the repeated status 4 counted", got)
			}
			code, body := apptest.Do(t, http.MethodGet, gw.API+"/v1/dossiers/"+dossierCode, config.DemoClientToken, "", "")
			if code != http.StatusOK {
				t.Fatalf("dossier view: %d %s", code, body)
			}
			var view struct {
				Shipments []store.Shipment `json:"shipments"`
			}
			if err := json.Unmarshal(body, &view); err != nil || len(view.Shipments) != 1 {
				t.Fatalf("dossier view shipments: %s (%v)", body, err)
			}
			if sh := view.Shipments[0]; sh.Number != number || sh.Status != 14 || len(sh.History) != 7 || sh.DeliveredAt.IsZero() {
				t.Fatalf("shipment in the view: %+v", sh)
			}
			for _, pii := range []string{"Nguyen Van A", "0987654321", "Tran Dang Ninh"} {
				if strings.Contains(string(body), pii) {
					t.Fatalf("the dossier view shows personal data %q", pii)
				}
			}
		})
	}
}

// TestPostalOutage: with the postal partner down for a while, the delivery request waits in the
// retry schedule; once the partner is back the order exists exactly once and nothing was
// dead-lettered.
func TestPostalOutage(t *testing.T) {
	t.Parallel()
	cfg := postalConfig(t, apptest.Embedded)
	sched := make([]time.Duration, 30)
	for i := range sched {
		sched[i] = 200 * time.Millisecond
	}
	cfg.Partners = map[string]config.PartnerConfig{routing.PartnerPostal: {RetrySchedule: sched, BreakerFailures: 3, BreakerOpenFor: 300 * time.Millisecond}}
	gw := apptest.Start(t, cfg)
	if code, _ := apptest.Do(t, http.MethodPut, gw.API+"/sandbox/vnpost/faults", "", "application/json", `{"down":true}`); code/100 != 2 {
		t.Fatalf("setting the outage: %d", code)
	}
	const code = "000.00.37.H37-251126-0300"
	if c, out := post(t, gw, deliveryRequest("po-1", code, "collect_dossier", "06001")); c != http.StatusAccepted {
		t.Fatalf("delivery request: %d %v", c, out)
	}
	apptest.Eventually(t, 15*time.Second, "the request parked", func() bool {
		return testutil.ToFloat64(gw.Metrics.HandlerOutcomes.WithLabelValues(routing.HandlerDeliveryToPostal, "parked")) >= 2
	})
	time.Sleep(2 * time.Second) // the outage goes on
	if c, _ := apptest.Do(t, http.MethodPut, gw.API+"/sandbox/vnpost/faults", "", "application/json", `{}`); c/100 != 2 {
		t.Fatalf("ending the outage: %d", c)
	}
	number := routing.OrderNumber(code, postal.KindCollectDossier)
	apptest.Eventually(t, 20*time.Second, "the order created after the outage", func() bool {
		return len(deliveryStatuses(gw, number)) == 1
	})
	n := 0
	for _, o := range gw.Sandboxes.VNPost.Orders() {
		if o.Number == number {
			n++
		}
	}
	if n != 1 || gw.Sandboxes.VNPost.DuplicateCreates() != 0 {
		t.Fatalf("%d orders %s at the sandbox and %d creates refused as duplicates, want 1 and 0", n, number, gw.Sandboxes.VNPost.DuplicateCreates())
	}
	if dl, _ := gw.Store.Client.XLen(t.Context(), gw.Store.Keys.Stream(routing.TopicDeadLetter)).Result(); dl != 0 {
		t.Fatalf("%d dead letters after the outage, want none", dl)
	}
}

// TestPostalBadInput: an unknown commune code is dead-lettered with a reason naming it and the
// one-stop system is told; a tracking record of an order the gateway never made is ignored and
// counted.
func TestPostalBadInput(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, postalConfig(t, apptest.Embedded))
	const code = "000.00.37.H37-251126-0400"
	if c, out := post(t, gw, deliveryRequest("pb-1", code, "deliver_result", "99999")); c != http.StatusAccepted {
		t.Fatalf("delivery request: %d %v", c, out)
	}
	apptest.Eventually(t, 15*time.Second, "the sync_failed notification", func() bool {
		return len(gw.Sandboxes.Onestop.Unique(onestop.TypeDossierSyncFailed)) == 1
	})
	var sf routing.SyncFailed
	_ = json.Unmarshal(gw.Sandboxes.Onestop.Unique(onestop.TypeDossierSyncFailed)[0].Data, &sf)
	if sf.DossierCode != code || !strings.Contains(sf.Reason, "99999") {
		t.Fatalf("sync_failed %+v: want the dossier and a reason naming 99999", sf)
	}
	c, body := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/deadletters", config.DemoAdminToken, "", "")
	if c != http.StatusOK || !strings.Contains(string(body), "99999") || !strings.Contains(string(body), routing.HandlerDeliveryToPostal) {
		t.Fatalf("dead letters: %d %s", c, body)
	}
	for _, pii := range []string{"Nguyen Van A", "0987654321", "Tran Dang Ninh"} {
		if strings.Contains(string(body), pii) {
			t.Fatalf("the dead-letter list shows personal data %q", pii)
		}
	}
	if len(gw.Sandboxes.VNPost.Orders()) != 0 {
		t.Fatal("an order was made for an unknown commune")
	}
	// An order made at the partner by someone else: its tracking record is ignored.
	hc, err := partnerhttp.New(partnerhttp.Config{Partner: "vnpost", BaseURL: gw.API + "/sandbox/vnpost/myvnpost", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := address.Default()
	if err != nil {
		t.Fatal(err)
	}
	other, err := myvnpost.New(myvnpost.Config{Username: config.DemoVNPostUser, Password: config.DemoVNPostPassword, Resolver: res}, hc)
	if err != nil {
		t.Fatal(err)
	}
	agency := gw.Config().Postal.Agency
	party := postal.Party{Name: agency.Name, Phone: agency.Phone, Address: agency.Address, ProvinceCode: "20", CommuneCode: "05977"}
	if _, err := other.CreateOrder(t.Context(), postal.Order{Number: "NOT-FROM-GATEWAY-1", DossierCode: "X", Kind: postal.KindDeliverResult,
		Service: postal.ServiceEconomy, Sender: party, Receiver: party, WeightGrams: 100}); err != nil {
		t.Fatal(err)
	}
	advance(t, gw, "NOT-FROM-GATEWAY-1", "")
	apptest.Eventually(t, 15*time.Second, "the unknown order's records ignored", func() bool {
		return testutil.ToFloat64(gw.DeliveryMetrics.TrackingIgnored.WithLabelValues("unknown_order")) >= 2
	})
	if n := len(gw.Sandboxes.Onestop.Unique(onestop.TypeDeliveryStatusChanged)); n != 0 {
		t.Fatalf("%d delivery notifications for an order the gateway did not make", n)
	}
}
