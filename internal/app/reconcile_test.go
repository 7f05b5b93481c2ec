package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/bank"
	banksandbox "github.com/egov-vn/gateway/connectors/bank/sandbox"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/reconcile"
	"github.com/egov-vn/gateway/internal/vntime"
)

// reconcileNow runs today's reconciliation through the admin API and checks the stored report
// is the one answered.
func reconcileNow(t *testing.T, gw *apptest.Gateway) reconcile.Report {
	t.Helper()
	day := time.Now().In(vntime.Zone).Format(time.DateOnly)
	return runDayReport[reconcile.Report](t, gw, "/admin/v1/reconciliation/"+day, "running the reconciliation")
}

// TestReconciliation pays with every provider and checks a clean day reports nothing; then it
// plants each mismatch class in the providers' lists (the sandboxes' test hooks, and a transfer
// naming no payment) and checks the report finds each one, and nothing else.
func TestReconciliation(t *testing.T) {
	for _, store := range apptest.Stores {
		t.Run(store.String(), func(t *testing.T) {
			t.Parallel()
			gw := apptest.Start(t, apptest.Config(t, store))
			day := time.Now().In(vntime.Zone).Format(time.DateOnly)
			if code, _ := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/reconciliation/"+day, config.DemoAdminToken, "", ""); code != http.StatusNotFound {
				t.Fatalf("a day never reconciled answered %d, want 404", code)
			}

			paid := map[string]map[string]any{} // by name
			pay := func(name, provider string, amount int64, success bool) map[string]any {
				p := createPayment(t, gw, "rec-"+store.String()+"-"+name, provider, amount)
				citizenPays(t, gw, p, success)
				want := "paid"
				if !success {
					want = "failed"
				}
				waitStatus(t, gw, p["payment_id"].(string), want)
				paid[name] = p
				return p
			}
			pay("vnpay", bank.ProviderVNPay, 120000, true)
			pay("paygov", bank.ProviderPayGov, 130000, true)
			pay("vietqr", bank.ProviderVietQR, 140000, true)
			pay("gave up", bank.ProviderVNPay, 50000, false)

			rep := reconcileNow(t, gw)
			if rep.Status != reconcile.StatusClean || len(rep.Mismatches) != 0 {
				t.Fatalf("a clean day reported %s: %+v", rep.Status, rep.Mismatches)
			}
			for _, tot := range rep.Providers {
				if tot.List != reconcile.ListOK || tot.Matched != 1 || tot.Mismatched != 0 {
					t.Fatalf("clean day, %s: %+v", tot.Provider, tot)
				}
			}
			if len(rep.Providers) != 3 {
				t.Fatalf("providers %+v, want the three", rep.Providers)
			}

			// Plant one of each class.
			vn := gw.Sandboxes.VNPay
			now := time.Now()
			// status_mismatch: VNPay completed a payment whose IPN never came.
			pending := createPayment(t, gw, "rec-"+store.String()+"-pending", bank.ProviderVNPay, 70000)
			if _, err := http.Get(pending["payment_url"].(string)); err != nil {
				t.Fatal(err)
			}
			if !vn.Amend(pending["reference"].(string), func(tx *banksandbox.VNPayTransaction) {
				tx.Status, tx.TransactionNo, tx.PaidAt = "paid", "99000001", now
			}) {
				t.Fatal("the VNPay sandbox has not opened the pending payment")
			}
			// missing_in_gateway: VNPay lists a payment of a reference the gateway never made.
			vn.Plant(banksandbox.VNPayTransaction{TxnRef: "QNOSUCHREF", Amount: 10000, Status: "paid", PaidAt: now})
			// amount_mismatch: VNPay says 1 VND less than the paid payment's amount.
			vn.Amend(paid["vnpay"]["reference"].(string), func(tx *banksandbox.VNPayTransaction) { tx.Amount = 119999 })
			// missing_at_provider: a payment paid here that VNPay now lists as failed.
			atProvider := pay("failed at vnpay", bank.ProviderVNPay, 80000, true)
			vn.Amend(atProvider["reference"].(string), func(tx *banksandbox.VNPayTransaction) { tx.Status = "failed" })
			// duplicate_transaction: the same reference paid a second time.
			dup := pay("paid twice", bank.ProviderVNPay, 90000, true)
			vn.Plant(banksandbox.VNPayTransaction{TxnRef: dup["reference"].(string), Amount: 90000, Status: "paid", PaidAt: now})
			// missing_in_gateway at the bank: a transfer that names no payment.
			if _, err := gw.Sandboxes.Banks.Transfer(config.DemoBank, banksandbox.TransferAction{Reference: "QUNKNOWN42", Amount: 25000}); err != nil {
				t.Fatal(err)
			}

			rep = reconcileNow(t, gw)
			if rep.Status != reconcile.StatusMismatches {
				t.Fatalf("status %s, want mismatches", rep.Status)
			}
			type found struct{ kind, provider, ref string }
			var got []found
			for _, m := range rep.Mismatches {
				got = append(got, found{m.Kind, m.Provider, m.Reference})
			}
			want := []found{
				{bank.MismatchStatus, bank.ProviderVNPay, pending["reference"].(string)},
				{bank.MismatchMissingInGateway, bank.ProviderVNPay, "QNOSUCHREF"},
				{bank.MismatchAmount, bank.ProviderVNPay, paid["vnpay"]["reference"].(string)},
				{bank.MismatchMissingAtProvider, bank.ProviderVNPay, atProvider["reference"].(string)},
				{bank.MismatchDuplicate, bank.ProviderVNPay, dup["reference"].(string)},
				{bank.MismatchMissingInGateway, bank.ProviderVietQR, ""},
			}
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("the report misses %+v", w)
				}
			}
			if len(got) != len(want) {
				t.Errorf("the report has %d mismatches, want %d: %+v", len(got), len(want), got)
			}
			for _, m := range rep.Mismatches {
				switch m.Kind {
				case bank.MismatchAmount:
					if *m.GatewayAmount != 120000 || *m.ProviderAmount != 119999 || m.PaymentID != paid["vnpay"]["payment_id"] {
						t.Errorf("amount mismatch %+v", m)
					}
				case bank.MismatchDuplicate:
					if len(m.ProviderTransactionIDs) != 2 || m.ProviderTransactionIDs[0] == m.ProviderTransactionIDs[1] {
						t.Errorf("duplicate %+v", m)
					}
				case bank.MismatchStatus:
					if m.GatewayStatus != "pending" || m.ProviderStatus != "paid" {
						t.Errorf("status mismatch %+v", m)
					}
				}
			}
			raw, _ := json.Marshal(rep)
			for _, s := range []string{"Nguyễn", "020123456789", "chuyen tien"} {
				if strings.Contains(string(raw), s) {
					t.Errorf("the report carries personal data or transfer text %q: %s", s, raw)
				}
			}
			m := gw.PaymentMetrics
			for _, c := range []struct {
				provider, class string
				want            float64
			}{
				{"vnpay", bank.MismatchStatus, 1}, {"vnpay", bank.MismatchMissingInGateway, 1}, {"vnpay", bank.MismatchAmount, 1},
				{"vnpay", bank.MismatchMissingAtProvider, 1}, {"vnpay", bank.MismatchDuplicate, 1},
				{"vietqr", bank.MismatchMissingInGateway, 1}, {"paygov", bank.MismatchStatus, 0},
			} {
				if got := testutil.ToFloat64(m.Mismatches.WithLabelValues(c.provider, c.class)); got != c.want {
					t.Errorf("gateway_reconciliation_mismatches{%s,%s} = %v, want %v", c.provider, c.class, got, c.want)
				}
			}
			if c, mm := testutil.ToFloat64(m.Reconciliations.WithLabelValues("clean")), testutil.ToFloat64(m.Reconciliations.WithLabelValues("mismatches")); c != 1 || mm != 1 {
				t.Errorf("runs: clean %v, mismatches %v; want 1 and 1", c, mm)
			}
		})
	}
}

// TestDailyReconciliationRunsOncePerDay calls the daily run of one day from several replicas at
// once: exactly one runs it and stores the report; later calls skip the day.
func TestDailyReconciliationRunsOncePerDay(t *testing.T) {
	for _, store := range apptest.Stores {
		t.Run(store.String(), func(t *testing.T) {
			t.Parallel()
			gw := apptest.Start(t, apptest.Config(t, store))
			day := time.Now().In(vntime.Zone).AddDate(0, 0, -1)
			ran := make(chan bool, 4)
			for range 4 {
				go func() {
					r, err := gw.Reconciler.RunOnce(t.Context(), day)
					if err != nil {
						t.Errorf("daily run: %v", err)
					}
					ran <- r
				}()
			}
			n := 0
			for range 4 {
				if <-ran {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d replicas ran the day, want 1", n)
			}
			if _, err := gw.Reconciler.Stored(t.Context(), day); err != nil {
				t.Fatalf("no stored report after the daily run: %v", err)
			}
			if r, err := gw.Reconciler.RunOnce(t.Context(), day); r || err != nil {
				t.Fatalf("a second daily run of the day: ran %v, %v", r, err)
			}
		})
	}
}

// TestReconciliationWithAnUnreadableList pauses VNPay (its list cannot be read): the report says
// so and is incomplete, the run counts as an error, and VNPay's gauges keep the last full run's
// values.
func TestReconciliationWithAnUnreadableList(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	gw.Sandboxes.VNPay.Plant(banksandbox.VNPayTransaction{TxnRef: "QNOSUCHREF", Amount: 10000, Status: "paid", PaidAt: time.Now()})
	if rep := reconcileNow(t, gw); rep.Status != reconcile.StatusMismatches || len(rep.Mismatches) != 1 {
		t.Fatalf("first run: %s %+v", rep.Status, rep.Mismatches)
	}
	if code, raw := apptest.Do(t, http.MethodPost, gw.Admin+"/admin/v1/partners/vnpay/pause", config.DemoAdminToken,
		"application/json", `{"reason":"test"}`); code != http.StatusOK {
		t.Fatalf("pausing vnpay: %d %s", code, raw)
	}
	rep := reconcileNow(t, gw)
	if rep.Status != reconcile.StatusIncomplete || len(rep.Mismatches) != 0 {
		t.Fatalf("with vnpay paused: %s %+v", rep.Status, rep.Mismatches)
	}
	for _, tot := range rep.Providers {
		want := reconcile.ListOK
		if tot.Provider == bank.ProviderVNPay {
			want = reconcile.ListUnavailable
		}
		if tot.List != want {
			t.Errorf("%s list %q, want %q", tot.Provider, tot.List, want)
		}
	}
	m := gw.PaymentMetrics
	if got := testutil.ToFloat64(m.Reconciliations.WithLabelValues("error")); got != 1 {
		t.Errorf("error runs %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.Mismatches.WithLabelValues(bank.ProviderVNPay, bank.MismatchMissingInGateway)); got != 1 {
		t.Errorf("vnpay's gauge %v after an unreadable list, want the last full run's 1", got)
	}
}
