package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/payments"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

const topic = "payment.settled"

// fakeProvider is a provider whose answers the test sets.
type fakeProvider struct {
	name    string
	creates atomic.Int32
	mu      sync.Mutex
	fail    error // Create fails with it while set
	status  bank.Status
	qerr    error
}

func (f *fakeProvider) Name() string { return f.name }

func (f *fakeProvider) Create(_ context.Context, p bank.Payment) (bank.Instructions, error) {
	f.creates.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return bank.Instructions{}, f.fail
	}
	if f.name == bank.ProviderVietQR {
		return bank.Instructions{QRPayload: "QR:" + p.Reference, Account: "970436:0011001234567", ExpiresAt: p.ExpiresAt}, nil
	}
	return bank.Instructions{PaymentURL: "https://pay.example/" + p.Reference + "?amount=" + strconv.FormatInt(p.Amount, 10), ExpiresAt: p.ExpiresAt}, nil
}

func (f *fakeProvider) Query(context.Context, bank.Query) (bank.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.qerr
}

func (f *fakeProvider) Transactions(context.Context, time.Time) ([]bank.Transaction, error) {
	return nil, bank.ErrTransactionsUnsupported
}

func (f *fakeProvider) set(fn func(*fakeProvider)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

type env struct {
	svc     *payments.Service
	store   *store.Store
	metrics *observability.PaymentMetrics
	vnpay   *fakeProvider
	vietqr  *fakeProvider
}

var stores = []string{"embedded", "redis"}

func newEnv(t testing.TB, kind string, cfg payments.Config) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var s *store.Store
	var err error
	if kind == "redis" {
		c := testredis.Client(t)
		s, err = store.Open(context.Background(), store.Options{URL: testredis.URL()}, testredis.Prefix(t, c), log)
	} else {
		s, err = store.Open(context.Background(), store.Options{Embedded: true}, "t", log)
	}
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(s.Close)
	m, err := observability.NewPaymentMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: s, metrics: m, vnpay: &fakeProvider{name: bank.ProviderVNPay}, vietqr: &fakeProvider{name: bank.ProviderVietQR}}
	if cfg.Topic == "" {
		cfg.Topic = topic
	}
	e.svc, err = payments.New(cfg, s, map[string]bank.Provider{bank.ProviderVNPay: e.vnpay, bank.ProviderVietQR: e.vietqr}, m, log)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func request(provider string, amount int64) payments.Request {
	return payments.Request{
		DossierCode: "000.00.20.H37-250101-0001", ProcedureCode: "1.011442", AgencyCode: "000.00.00.H37", Provider: provider,
		Amount: amount, FeeLines: []bank.FeeLine{{Code: "LP01", Name: "Lệ phí", Kind: bank.FeeKindFee, Amount: amount}},
		Payer: bank.Payer{Name: "Nguyễn Văn A", IDNumber: "020123456789"},
	}
}

func (e *env) create(t *testing.T, key string, req payments.Request) payments.Created {
	t.Helper()
	c, _, err := e.svc.Create(t.Context(), "onestop", key, req, "")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return c
}

func (e *env) get(t *testing.T, id string) payments.View {
	t.Helper()
	v, err := e.svc.Get(t.Context(), "onestop", id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return v
}

// outbox returns the events written to the outbox stream.
func (e *env) outbox(t *testing.T) []bank.Event {
	t.Helper()
	msgs, err := e.store.Client.XRange(context.Background(), e.svc.OutboxStream(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []bank.Event
	for _, m := range msgs {
		var ev bank.Event
		payload, _ := m.Values["payload"].(string)
		if err := json.Unmarshal([]byte(payload), &ev); err != nil {
			t.Fatalf("outbox entry %s is not an event: %v", m.ID, err)
		}
		if uuid, _ := m.Values["uuid"].(string); uuid != ev.PaymentID+"/"+string(ev.To) {
			t.Errorf("outbox entry uuid %q, want %s/%s", uuid, ev.PaymentID, ev.To)
		}
		out = append(out, ev)
	}
	return out
}

func settlement(ref string, amount int64, outcome bank.Outcome, txn string) bank.Settlement {
	return bank.Settlement{Provider: bank.ProviderVNPay, Reference: ref, Outcome: outcome, Amount: amount, ProviderTransactionID: txn, Reason: "test"}
}

func TestCreateIsIdempotent(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind, payments.Config{})
			first, outcome, err := e.svc.Create(t.Context(), "onestop", "key-1", request(bank.ProviderVNPay, 150000), "")
			if err != nil || outcome != payments.OutcomeCreated {
				t.Fatalf("first: %v %v", outcome, err)
			}
			if first.Status != bank.StatePending || first.PaymentURL == "" || first.QRPayload != "" || len(first.Reference) != payments.ReferenceLen {
				t.Fatalf("first answer %+v", first)
			}
			again, outcome, err := e.svc.Create(t.Context(), "onestop", "key-1", request(bank.ProviderVNPay, 150000), "")
			if err != nil || outcome != payments.OutcomeReplayed || again != first {
				t.Fatalf("repeat: %+v %v %v, want the first answer %+v", again, outcome, err, first)
			}
			if _, _, err := e.svc.Create(t.Context(), "onestop", "key-1", request(bank.ProviderVNPay, 150001), ""); !errors.Is(err, payments.ErrIdempotencyConflict) {
				t.Fatalf("same key, another body: %v, want ErrIdempotencyConflict", err)
			}
			other, _, err := e.svc.Create(t.Context(), "other-client", "key-1", request(bank.ProviderVNPay, 150000), "")
			if err != nil || other.PaymentID == first.PaymentID {
				t.Fatalf("another client's key-1 made %+v, %v; want a payment of its own", other, err)
			}
			if _, err := e.svc.Get(t.Context(), "other-client", first.PaymentID); !errors.Is(err, payments.ErrNotFound) {
				t.Fatalf("another client reads the payment: %v", err)
			}
			if n := e.vnpay.creates.Load(); n != 2 {
				t.Errorf("provider asked %d times, want 2 (a repeat is answered from the store)", n)
			}
			v := e.get(t, first.PaymentID)
			if len(v.History) != 1 || v.History[0].To != bank.StatePending || v.History[0].From != "" {
				t.Errorf("history %+v, want the creation entry only", v.History)
			}
		})
	}
}

func TestConcurrentRepeatsCreateOnePayment(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind, payments.Config{})
			var wg sync.WaitGroup
			ids := make([]string, 16)
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, _, err := e.svc.Create(context.Background(), "onestop", "same-key", request(bank.ProviderVNPay, 70000), "")
					if err != nil {
						t.Errorf("Create: %v", err)
					}
					ids[i] = c.PaymentID
				}()
			}
			wg.Wait()
			for _, id := range ids {
				if id != ids[0] || id == "" {
					t.Fatalf("concurrent repeats answered different payments: %v", ids)
				}
			}
			views, _ := e.svc.ByDossier(t.Context(), "000.00.20.H37-250101-0001")
			if len(views) != 1 {
				t.Fatalf("%d payments stored, want 1", len(views))
			}
		})
	}
}

func TestProviderFailureIsCompletedByARepeat(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind, payments.Config{FirstAnswerWait: 10 * time.Millisecond})
			e.vnpay.set(func(f *fakeProvider) { f.fail = errors.New("provider down") })
			if _, _, err := e.svc.Create(t.Context(), "onestop", "k", request(bank.ProviderVNPay, 1000), ""); err == nil {
				t.Fatal("Create succeeded while the provider is down")
			}
			e.vnpay.set(func(f *fakeProvider) { f.fail = nil })
			c, outcome, err := e.svc.Create(t.Context(), "onestop", "k", request(bank.ProviderVNPay, 1000), "")
			if err != nil || outcome != payments.OutcomeReplayed || c.PaymentURL == "" {
				t.Fatalf("repeat after the outage: %+v %v %v", c, outcome, err)
			}
			views, _ := e.svc.ByDossier(t.Context(), "000.00.20.H37-250101-0001")
			if len(views) != 1 {
				t.Fatalf("%d intents stored, want 1", len(views))
			}
		})
	}
}

// TestSettleVerdicts walks one payment through every verdict in VNPay's order and checks that
// only the one transition changed anything: state, history and outbox.
func TestSettleVerdicts(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind, payments.Config{})
			c := e.create(t, "k", request(bank.ProviderVNPay, 150000))
			other := e.create(t, "k2", request(bank.ProviderVietQR, 150000))
			steps := []struct {
				name string
				s    bank.Settlement
				want bank.Result
			}{
				{"unknown reference", settlement("ZZZZZZZZZZ", 150000, bank.OutcomePaid, "1"), bank.NotFound},
				{"reference of another provider", settlement(other.Reference, 150000, bank.OutcomePaid, "1"), bank.NotFound},
				{"1 VND less", settlement(c.Reference, 149999, bank.OutcomePaid, "1"), bank.AmountMismatch},
				{"1 VND more", settlement(c.Reference, 150001, bank.OutcomePaid, "1"), bank.AmountMismatch},
				{"reference with a space", settlement(c.Reference+" ", 150000, bank.OutcomePaid, "1"), bank.NotFound},
				{"paid", settlement(c.Reference, 150000, bank.OutcomePaid, "14226112"), bank.Applied},
				{"the same callback again", settlement(c.Reference, 150000, bank.OutcomePaid, "14226112"), bank.AlreadySettled},
				{"failed after paid", settlement(c.Reference, 150000, bank.OutcomeFailed, "14226112"), bank.Conflict},
				{"paid again by another transaction", settlement(c.Reference, 150000, bank.OutcomePaid, "99999999"), bank.Conflict},
				{"wrong amount after paid", settlement(c.Reference, 1, bank.OutcomePaid, "14226112"), bank.AmountMismatch},
			}
			for _, st := range steps {
				got, err := e.svc.Settle(t.Context(), st.s)
				if err != nil || got != st.want {
					t.Fatalf("%s: %v %v, want %v", st.name, got, err, st.want)
				}
				if st.want != bank.Applied {
					continue
				}
			}
			v := e.get(t, c.PaymentID)
			if v.Status != bank.StatePaid || v.ProviderTransactionID != "14226112" || v.PaidAt == "" {
				t.Fatalf("payment %+v", v)
			}
			if len(v.History) != 2 || v.History[1].From != bank.StatePending || v.History[1].To != bank.StatePaid {
				t.Fatalf("history %+v, want created then paid", v.History)
			}
			events := e.outbox(t)
			if len(events) != 1 {
				t.Fatalf("%d outbox events, want exactly 1: %+v", len(events), events)
			}
			ev := events[0]
			if ev.PaymentID != c.PaymentID || ev.To != bank.StatePaid || ev.From != bank.StatePending || ev.Amount != 150000 ||
				ev.DossierCode != "000.00.20.H37-250101-0001" || ev.ProviderTransactionID != "14226112" || ev.Provider != bank.ProviderVNPay || ev.PaidAt == "" {
				t.Errorf("event %+v", ev)
			}
			if got := testutil.ToFloat64(e.metrics.PaidVND.WithLabelValues(bank.ProviderVNPay)); got != 150000 {
				t.Errorf("paid VND metric %v, want 150000", got)
			}
			if ov := e.get(t, other.PaymentID); ov.Status != bank.StatePending {
				t.Errorf("the other provider's payment became %s", ov.Status)
			}
		})
	}
}

func TestConcurrentCallbacksApplyOnce(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind, payments.Config{})
			c := e.create(t, "k", request(bank.ProviderVNPay, 50000))
			var applied, already atomic.Int32
			var wg sync.WaitGroup
			for i := 0; i < 24; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := e.svc.Settle(context.Background(), settlement(c.Reference, 50000, bank.OutcomePaid, "777"))
					switch {
					case err != nil:
						t.Errorf("Settle: %v", err)
					case r == bank.Applied:
						applied.Add(1)
					case r == bank.AlreadySettled:
						already.Add(1)
					}
				}()
			}
			wg.Wait()
			if applied.Load() != 1 || already.Load() != 23 {
				t.Fatalf("applied %d, already settled %d; want 1 and 23", applied.Load(), already.Load())
			}
			if n := len(e.outbox(t)); n != 1 {
				t.Fatalf("%d outbox events, want 1", n)
			}
		})
	}
}

func TestClosedPaymentsRefuseCallbacks(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind, payments.Config{})
			c := e.create(t, "k", request(bank.ProviderVNPay, 20000))
			if r, err := e.svc.Cancel(t.Context(), "onestop", c.PaymentID, "dossier withdrawn"); err != nil || r != bank.Applied {
				t.Fatalf("Cancel: %v %v", r, err)
			}
			if r, _ := e.svc.Settle(t.Context(), settlement(c.Reference, 20000, bank.OutcomePaid, "1")); r != bank.Closed {
				t.Fatalf("paid after cancel: %v, want Closed", r)
			}
			if r, _ := e.svc.Cancel(t.Context(), "onestop", c.PaymentID, "again"); r != bank.AlreadySettled {
				t.Fatalf("cancelling twice: %v, want AlreadySettled", r)
			}
			v := e.get(t, c.PaymentID)
			if v.Status != bank.StateCancelled || len(v.History) != 2 {
				t.Fatalf("payment %+v", v)
			}
			if ev := e.outbox(t); len(ev) != 1 || ev[0].To != bank.StateCancelled {
				t.Fatalf("outbox %+v", ev)
			}
		})
	}
}

// TestSweeper drives the status checks: a provider that says paid settles the payment, one that
// does not know it lets it expire after expiry plus grace, one that cannot be reached keeps it
// pending, and a provider without a query expires it by time.
func TestSweeper(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind, payments.Config{DefaultTTL: 300 * time.Millisecond, QueryAfter: 50 * time.Millisecond,
				QueryInterval: 50 * time.Millisecond, ExpireGrace: 100 * time.Millisecond, ClaimLease: time.Second})
			paid := e.create(t, "paid", request(bank.ProviderVNPay, 10000))
			e.vnpay.set(func(f *fakeProvider) {
				f.status = bank.Status{Outcome: bank.OutcomePaid, Amount: 10000, ProviderTransactionID: "Q1", Code: "vnp_TransactionStatus 00"}
			})
			sweepUntil(t, e, func() bool { return e.get(t, paid.PaymentID).Status == bank.StatePaid })
			if v := e.get(t, paid.PaymentID); v.ProviderTransactionID != "Q1" || v.History[1].Reason != "vnpay status query: vnp_TransactionStatus 00" {
				t.Errorf("paid by query: %+v", v)
			}

			e.vnpay.set(func(f *fakeProvider) { f.status, f.qerr = bank.Status{}, bank.ErrNotFound })
			// Taken before the create: the payment's expiry counts from its creation, which the
			// create's own latency would otherwise hide (times are stored to the millisecond).
			start := time.Now().Truncate(time.Millisecond)
			unpaid := e.create(t, "unpaid", request(bank.ProviderVNPay, 10000))
			sweepUntil(t, e, func() bool { return e.get(t, unpaid.PaymentID).Status == bank.StateExpired })
			if d := time.Since(start); d < 400*time.Millisecond {
				t.Errorf("expired after %s, before expiry plus grace (400ms)", d)
			}

			e.vnpay.set(func(f *fakeProvider) { f.qerr = errors.New("provider unreachable") })
			unknown := e.create(t, "unknown", request(bank.ProviderVNPay, 10000))
			deadline := time.Now().Add(700 * time.Millisecond)
			for time.Now().Before(deadline) {
				if _, err := e.svc.Sweep(t.Context()); err != nil {
					t.Fatal(err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if v := e.get(t, unknown.PaymentID); v.Status != bank.StatePending {
				t.Fatalf("a payment the provider could not be asked about became %s", v.Status)
			}

			qr := e.create(t, "qr", request(bank.ProviderVietQR, 10000))
			e.vietqr.set(func(f *fakeProvider) { f.qerr = bank.ErrQueryUnsupported })
			sweepUntil(t, e, func() bool { return e.get(t, qr.PaymentID).Status == bank.StateExpired })

			events := e.outbox(t)
			if len(events) != 3 {
				t.Fatalf("%d outbox events, want 3 (paid, expired, expired): %+v", len(events), events)
			}
		})
	}
}

func TestQueriedAmountMismatchStaysPending(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "embedded", payments.Config{DefaultTTL: 100 * time.Millisecond, QueryAfter: 10 * time.Millisecond,
		QueryInterval: 10 * time.Millisecond, ExpireGrace: 10 * time.Millisecond})
	c := e.create(t, "k", request(bank.ProviderVNPay, 10000))
	e.vnpay.set(func(f *fakeProvider) { f.status = bank.Status{Outcome: bank.OutcomePaid, Amount: 9999} })
	deadline := time.Now().Add(400 * time.Millisecond)
	for time.Now().Before(deadline) {
		_, _ = e.svc.Sweep(t.Context())
		time.Sleep(10 * time.Millisecond)
	}
	if v := e.get(t, c.PaymentID); v.Status != bank.StatePending {
		t.Fatalf("a payment the provider holds with another amount became %s; it must wait for a person", v.Status)
	}
}

func sweepUntil(t *testing.T, e *env, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := e.svc.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the sweeper did not get there within 5s")
}

func TestPayableBill(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind, payments.Config{})
			if _, st, err := e.svc.PayableBill(t.Context(), bank.ProviderVNPay, "000.00.20.H37-250101-0001"); err != nil || st != bank.BillUnknownDossier {
				t.Fatalf("no payment, unknown dossier: %v %v", st, err)
			}
			c := e.create(t, "k", request(bank.ProviderVNPay, 150000))
			bill, st, err := e.svc.PayableBill(t.Context(), bank.ProviderVNPay, "000.00.20.H37-250101-0001")
			if err != nil || st != bank.BillPayable || bill.Payment.Reference != c.Reference || bill.Payment.Payer.Name != "Nguyễn Văn A" {
				t.Fatalf("pending payment: %+v %v %v", bill, st, err)
			}
			if _, st, _ := e.svc.PayableBill(t.Context(), bank.ProviderVietQR, "000.00.20.H37-250101-0001"); st != bank.BillNothingToPay {
				t.Fatalf("another provider's pending payment: %v, want nothing to pay here", st)
			}
			_, _ = e.svc.Settle(t.Context(), settlement(c.Reference, 150000, bank.OutcomePaid, "1"))
			if _, st, _ := e.svc.PayableBill(t.Context(), bank.ProviderVNPay, "000.00.20.H37-250101-0001"); st != bank.BillNothingToPay {
				t.Fatalf("paid: %v, want nothing to pay", st)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		r := payments.NewReference()
		if len(r) != payments.ReferenceLen || r[0] < 'A' || r[0] > 'Z' {
			t.Fatalf("reference %q: want %d characters starting with a letter", r, payments.ReferenceLen)
		}
		for _, c := range r {
			if c == 'I' || c == 'L' || c == 'O' || c == 'U' || !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Fatalf("reference %q holds %q", r, c)
			}
		}
		if seen[r] {
			t.Fatalf("reference %q drawn twice in 2000", r)
		}
		seen[r] = true
	}
}
