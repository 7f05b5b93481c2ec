package payments_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/payments"
)

// TestPendingByAge checks the index of pending payments: a created payment is counted for its
// provider, a paid or cancelled one leaves it, and the age buckets follow the reading service's
// TTL and grace (the same payments read with other settings land in other buckets).
func TestPendingByAge(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, payments.Config{DefaultTTL: time.Hour, ExpireGrace: time.Hour})
			paid := e.create(t, "k-paid", request(bank.ProviderVNPay, 50000))
			cancelled := e.create(t, "k-cancel", request(bank.ProviderVNPay, 60000))
			e.create(t, "k-open-1", request(bank.ProviderVNPay, 70000))
			e.create(t, "k-open-2", request(bank.ProviderVNPay, 80000))
			e.create(t, "k-qr", request(bank.ProviderVietQR, 90000))

			got, err := e.svc.PendingByAge(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if a := got[bank.ProviderVNPay]; a.WithinTTL != 4 || a.InGrace != 0 || a.Overdue != 0 {
				t.Fatalf("vnpay before settling: %+v, want 4 within the TTL", a)
			}
			if a := got[bank.ProviderVietQR]; a.WithinTTL != 1 || a.InGrace+a.Overdue != 0 {
				t.Fatalf("vietqr: %+v, want 1 within the TTL", a)
			}
			if _, ok := got[bank.ProviderPayGov]; ok {
				t.Fatalf("paygov is not configured, yet reported: %v", got)
			}

			if r, err := e.svc.Settle(t.Context(), settlement(paid.Reference, 50000, bank.OutcomePaid, "t1")); err != nil || r != bank.Applied {
				t.Fatalf("Settle: %v %v", r, err)
			}
			if r, err := e.svc.Cancel(t.Context(), "onestop", cancelled.PaymentID, "test"); err != nil || r != bank.Applied {
				t.Fatalf("Cancel: %v %v", r, err)
			}
			// A refused callback (wrong amount) leaves the payment pending and counted.
			if r, _ := e.svc.Settle(t.Context(), settlement(e.create(t, "k-open-1", request(bank.ProviderVNPay, 70000)).Reference, 1, bank.OutcomePaid, "t2")); r != bank.AmountMismatch {
				t.Fatalf("Settle with a wrong amount: %v", r)
			}
			got, err = e.svc.PendingByAge(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if a := got[bank.ProviderVNPay]; a.WithinTTL != 2 || a.Oldest < 0 || a.Oldest > time.Hour {
				t.Fatalf("vnpay after one paid and one cancelled: %+v, want 2 within the TTL", a)
			}

			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			providers := map[string]bank.Provider{bank.ProviderVNPay: e.vnpay, bank.ProviderVietQR: e.vietqr}
			// Read with a TTL of 1 ns: every pending payment is past it, within an hour's grace.
			inGrace, err := payments.New(payments.Config{Topic: topic, TTL: map[string]time.Duration{bank.ProviderVNPay: time.Nanosecond},
				DefaultTTL: time.Hour, ExpireGrace: time.Hour}, e.store, providers, e.metrics, log)
			if err != nil {
				t.Fatal(err)
			}
			got, err = inGrace.PendingByAge(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if a := got[bank.ProviderVNPay]; a.WithinTTL != 0 || a.InGrace != 2 || a.Overdue != 0 {
				t.Fatalf("vnpay read with a 1 ns TTL: %+v, want 2 in grace", a)
			}
			if a := got[bank.ProviderVietQR]; a.WithinTTL != 1 {
				t.Fatalf("vietqr keeps its own (default) TTL: %+v, want 1 within", a)
			}
			// Read with a TTL and a grace of 1 ns: overdue.
			overdue, err := payments.New(payments.Config{Topic: topic, TTL: map[string]time.Duration{bank.ProviderVNPay: time.Nanosecond},
				DefaultTTL: time.Hour, ExpireGrace: time.Nanosecond}, e.store, providers, e.metrics, log)
			if err != nil {
				t.Fatal(err)
			}
			got, err = overdue.PendingByAge(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if a := got[bank.ProviderVNPay]; a.WithinTTL+a.InGrace != 0 || a.Overdue != 2 {
				t.Fatalf("vnpay read with a 1 ns TTL and grace: %+v, want 2 overdue", a)
			}
		})
	}
}
