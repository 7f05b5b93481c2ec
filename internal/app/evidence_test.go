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

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/evidence"
	"github.com/egov-vn/gateway/internal/vntime"
)

// TestCallbacksAreKeptAsEvidence pays through the VNPay sandbox, then forges an IPN and repeats
// the genuine one: all three are in the day's evidence with the answers given, the chain holds,
// and no credential was kept.
func TestCallbacksAreKeptAsEvidence(t *testing.T) {
	for _, store := range apptest.Stores {
		t.Run(store.String(), func(t *testing.T) {
			gw := apptest.Start(t, apptest.Config(t, store))
			today := time.Now().In(vntime.Zone).Format(time.DateOnly)
			p := paid(t, gw, "evidence-"+store.String(), bank.ProviderVNPay, 30000)
			ref := p["reference"].(string)

			const bearer = "forged-bearer-token-0001"
			header := map[string]string{"Authorization": "Bearer " + bearer, "Cookie": "session=forged-cookie-0001"}
			code, out, _ := doJSON(t, http.MethodGet, gw.API+"/v1/callbacks/vnpay/ipn?"+signedIPN(ref, 30000, "00", "not-the-secret"), "", header, "")
			if code != http.StatusOK || out["RspCode"] != "97" {
				t.Fatalf("forged IPN: %d %v", code, out)
			}
			code, out, _ = doJSON(t, http.MethodGet, gw.API+"/v1/callbacks/vnpay/ipn?"+signedIPN(ref, 30000, "00", config.DemoVNPaySecret), "", nil, "")
			if code != http.StatusOK || out["RspCode"] != "02" {
				t.Fatalf("repeated IPN: %d %v", code, out)
			}

			type page struct {
				Date  string            `json:"date"`
				Items []evidence.Record `json:"items"`
			}
			// The answer reaches the partner before its record is appended.
			list := func() (page, []string) {
				pg, _ := adminGet[page](t, gw, "/admin/v1/evidence/"+today, "listing evidence")
				var answers []string
				for _, r := range pg.Items {
					if r.Reference != ref {
						continue
					}
					if r.Endpoint != bank.EndpointVNPayIPN || r.Method != http.MethodGet || !strings.Contains(r.Target, "vnp_SecureHash=") {
						t.Errorf("record %+v", r)
					}
					var reply struct{ RspCode string }
					_ = json.Unmarshal([]byte(r.Verdict.Answer), &reply)
					answers = append(answers, fmt.Sprintf("%d %s", r.Verdict.Status, reply.RspCode))
				}
				return pg, answers
			}
			apptest.Eventually(t, 5*time.Second, "three records of the payment", func() bool {
				_, answers := list()
				return len(answers) >= 3
			})
			// Each record is appended after its answer was sent, so records of callbacks that
			// follow each other closely may be in either order (a repeat answered from memory can
			// overtake the record of the IPN before it): compare them as a set.
			pg, answers := list()
			slices.Sort(answers)
			if want := "200 00,200 02,200 97"; strings.Join(answers, ",") != want {
				t.Fatalf("verdicts of the payment's callbacks %v, want %s in any order", answers, want)
			}

			v, body := adminGet[evidence.Verification](t, gw, "/admin/v1/evidence/"+today+"/verify", "verifying evidence")
			if !v.Valid || v.Records != len(pg.Items) || v.Records < 3 {
				t.Fatalf("verification %s, want a valid chain of the %d records listed", body, len(pg.Items))
			}

			raw, err := gw.Store.Client.XRange(t.Context(), gw.Evidence.Key(today), "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			}
			stored := fmt.Sprint(raw)
			for _, secret := range []string{bearer, "forged-cookie-0001", config.DemoVNPaySecret, config.DemoAdminToken, config.DemoClientToken,
				config.DemoPayGovKey1, config.DemoPayGovKey2, config.DemoBankSecret} {
				if strings.Contains(stored, secret) {
					t.Errorf("the evidence holds a secret or token: %q", secret)
				}
			}
			if got := testutil.ToFloat64(gw.EvidenceMetrics.Records.WithLabelValues(bank.EndpointVNPayIPN, "recorded")); got < 3 {
				t.Errorf("recorded counted %v, want at least 3", got)
			}
		})
	}
}
