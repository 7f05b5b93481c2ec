// Package banktest is the contract every payment provider dialect passes, run against the
// dialect's sandbox over real HTTP: creating a payment gives the citizen what they need, the
// citizen paying (or failing) through the sandbox makes the provider call back, the dialect's
// callback handler verifies the callback and hands exactly what it says to the Settler, a forged
// callback never reaches the Settler, and the status query agrees with what happened.
package banktest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
)

// Recorder is a Settler that records every settlement and answers Applied, or Result when set.
type Recorder struct {
	mu     sync.Mutex
	got    []bank.Settlement
	Result bank.Result
}

// Settle implements bank.Settler.
func (r *Recorder) Settle(_ context.Context, s bank.Settlement) (bank.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
	return r.Result, nil
}

// Settlements returns what was settled so far.
func (r *Recorder) Settlements() []bank.Settlement {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bank.Settlement(nil), r.got...)
}

// Observer counts what a callback handler reports, for tests.
type Observer struct {
	mu       sync.Mutex
	Rejected map[string]int // endpoint/reason
	Accepted map[string]int // endpoint/result
}

// CallbackRejected implements bank.Observer.
func (o *Observer) CallbackRejected(endpoint, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Rejected == nil {
		o.Rejected = map[string]int{}
	}
	o.Rejected[endpoint+"/"+reason]++
}

// CallbackAccepted implements bank.Observer.
func (o *Observer) CallbackAccepted(endpoint string, r bank.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Accepted == nil {
		o.Accepted = map[string]int{}
	}
	o.Accepted[endpoint+"/"+r.String()]++
}

// Count returns how many times key ("endpoint/reason" or "endpoint/result") was seen.
func (o *Observer) Count(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.Rejected[key] + o.Accepted[key]
}

// Harness is one dialect wired to its sandbox.
type Harness struct {
	Provider bank.Provider
	// Pay makes the sandbox's citizen pay what ins asks for (success) or give up, and returns
	// once the sandbox's first callback was answered; it fails the test when the callback got no
	// usable answer.
	Pay func(t *testing.T, p bank.Payment, ins bank.Instructions, success bool)
	// Forge sends a callback for p that is not signed with the partner's secret, and returns
	// whether the dialect's answer refused it.
	Forge func(t *testing.T, p bank.Payment, ins bank.Instructions) (refused bool)
	// Queryable says whether the provider has a status query.
	Queryable bool
	// Reports says whether a failed payment is reported to the merchant (a bank transfer that
	// did not happen is not).
	Reports bool
}

// Factory wires a fresh dialect and sandbox whose callbacks reach settler.
type Factory func(t *testing.T, settler bank.Settler) Harness

var seq struct {
	sync.Mutex
	n int
}

// NewPayment returns a payment with a fresh reference.
func NewPayment(amount int64) bank.Payment {
	seq.Lock()
	seq.n++
	n := seq.n
	seq.Unlock()
	now := time.Now()
	ref := strings.ToUpper("T" + strconv.FormatInt(now.UnixNano()%1_000_000_000, 36))
	ref = (ref + "000000000")[:8] + strconv.Itoa(10+n%90)
	return bank.Payment{
		ID: "pay_test" + ref, Reference: ref, DossierCode: "000.00.20.H37-250101-0001", ProcedureCode: "1.011442",
		AgencyCode: "000.00.00.H37", Amount: amount,
		FeeLines:    []bank.FeeLine{{Code: "LP01", Name: "Lệ phí cấp giấy phép", Kind: bank.FeeKindFee, Amount: amount}},
		Payer:       bank.Payer{Name: "Nguyễn Văn A", IDNumber: "020123456789", Address: "Lạng Sơn"},
		Description: "Thanh toán lệ phí hồ sơ 000.00.20.H37-250101-0001",
		ReturnURL:   "https://motcua.example.invalid/payments/return", ClientIP: "203.0.113.7",
		CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute),
	}
}

// RunContract runs the contract against the dialect factory builds.
func RunContract(t *testing.T, factory Factory) {
	t.Run("create tells the citizen how to pay", func(t *testing.T) {
		h := factory(t, &Recorder{})
		p := NewPayment(150000)
		ins, err := h.Provider.Create(t.Context(), p)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if (ins.PaymentURL == "") == (ins.QRPayload == "") {
			t.Fatalf("want exactly one of payment URL and QR payload, got %+v", ins)
		}
		if !ins.ExpiresAt.Equal(p.ExpiresAt) {
			t.Errorf("expires at %v, want the payment's %v", ins.ExpiresAt, p.ExpiresAt)
		}
		if !bankNameKnown(h.Provider.Name()) {
			t.Errorf("provider name %q is not one of bank.Providers", h.Provider.Name())
		}
	})

	t.Run("paying makes the provider call back with what was paid", func(t *testing.T) {
		rec := &Recorder{}
		h := factory(t, rec)
		p := NewPayment(215000)
		ins := create(t, h, p)
		h.Pay(t, p, ins, true)
		got := waitSettlements(t, rec, 1)
		s := got[0]
		if s.Provider != h.Provider.Name() || s.Reference != p.Reference || s.Outcome != bank.OutcomePaid || s.Amount != p.Amount {
			t.Fatalf("settlement %+v, want provider %s, reference %s, paid, amount %d", s, h.Provider.Name(), p.Reference, p.Amount)
		}
		if s.ProviderTransactionID == "" {
			t.Error("the settlement carries no provider transaction id")
		}
		if h.Queryable {
			st, err := h.Provider.Query(t.Context(), bank.Query{Reference: p.Reference, Amount: p.Amount, CreatedAt: p.CreatedAt})
			if err != nil {
				t.Fatalf("Query after paying: %v", err)
			}
			if st.Outcome != bank.OutcomePaid || st.Amount != p.Amount || st.ProviderTransactionID != s.ProviderTransactionID {
				t.Errorf("Query says %+v, want paid %d with transaction %s", st, p.Amount, s.ProviderTransactionID)
			}
		}
	})

	t.Run("giving up is reported as a failure", func(t *testing.T) {
		rec := &Recorder{}
		h := factory(t, rec)
		if !h.Reports {
			t.Skip("this provider reports only money that arrived")
		}
		p := NewPayment(50000)
		ins := create(t, h, p)
		h.Pay(t, p, ins, false)
		got := waitSettlements(t, rec, 1)
		if got[0].Outcome != bank.OutcomeFailed || got[0].Reference != p.Reference {
			t.Fatalf("settlement %+v, want a failure of %s", got[0], p.Reference)
		}
		if h.Queryable {
			st, err := h.Provider.Query(t.Context(), bank.Query{Reference: p.Reference, Amount: p.Amount, CreatedAt: p.CreatedAt})
			if err != nil || st.Outcome != bank.OutcomeFailed {
				t.Errorf("Query after giving up: %+v, %v; want failed", st, err)
			}
		}
	})

	t.Run("a forged callback never reaches the state machine", func(t *testing.T) {
		rec := &Recorder{}
		h := factory(t, rec)
		p := NewPayment(99000)
		ins := create(t, h, p)
		if !h.Forge(t, p, ins) {
			t.Error("the dialect's answer did not refuse the forged callback")
		}
		if got := rec.Settlements(); len(got) != 0 {
			t.Fatalf("a forged callback was settled: %+v", got)
		}
	})

	t.Run("the status query", func(t *testing.T) {
		h := factory(t, &Recorder{})
		p := NewPayment(10000)
		_, err := h.Provider.Query(t.Context(), bank.Query{Reference: p.Reference, Amount: p.Amount, CreatedAt: p.CreatedAt})
		switch {
		case !h.Queryable:
			if !errors.Is(err, bank.ErrQueryUnsupported) {
				t.Fatalf("Query of a provider without a query: %v, want ErrQueryUnsupported", err)
			}
		case !errors.Is(err, bank.ErrNotFound):
			t.Fatalf("Query of a payment the provider never saw: %v, want ErrNotFound", err)
		}
		if h.Queryable {
			create(t, h, p)
			st, err := h.Provider.Query(t.Context(), bank.Query{Reference: p.Reference, Amount: p.Amount, CreatedAt: p.CreatedAt})
			if err == nil && st.Outcome != bank.OutcomePending {
				t.Fatalf("Query of a payment nobody paid yet: %+v, want pending (or not found)", st)
			}
			if err != nil && !errors.Is(err, bank.ErrNotFound) {
				t.Fatalf("Query of a payment nobody paid yet: %v", err)
			}
		}
	})

	t.Run("the day's list holds what was paid, once, with its amount", func(t *testing.T) {
		rec := &Recorder{}
		h := factory(t, rec)
		paid, gaveUp, open := NewPayment(123000), NewPayment(45000), NewPayment(67000)
		h.Pay(t, paid, create(t, h, paid), true)
		h.Pay(t, gaveUp, create(t, h, gaveUp), false)
		create(t, h, open)
		txns, err := h.Provider.Transactions(t.Context(), time.Now())
		if err != nil {
			t.Fatalf("Transactions: %v", err)
		}
		refOf := func(tx bank.Transaction) string {
			if tx.Reference != "" {
				return tx.Reference
			}
			for _, c := range tx.Candidates {
				if c == paid.Reference || c == gaveUp.Reference || c == open.Reference {
					return c
				}
			}
			return ""
		}
		var got []string
		for _, tx := range txns {
			got = append(got, refOf(tx)+"/"+string(tx.Outcome))
			if refOf(tx) == paid.Reference && (tx.Amount != paid.Amount || tx.ProviderTransactionID == "") {
				t.Errorf("the paid transaction is listed as %+v, want amount %d and the provider's id", tx, paid.Amount)
			}
		}
		want := []string{paid.Reference + "/paid"}
		if h.Reports {
			want = append(want, gaveUp.Reference+"/failed")
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("today's list %v, want %v (nothing for the payment still open)", got, want)
		}
		if txns, err := h.Provider.Transactions(t.Context(), time.Now().AddDate(0, 0, -1)); err != nil || len(txns) != 0 {
			t.Fatalf("yesterday's list: %v, %v; want empty", txns, err)
		}
	})
}

func create(t *testing.T, h Harness, p bank.Payment) bank.Instructions {
	t.Helper()
	ins, err := h.Provider.Create(t.Context(), p)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return ins
}

func waitSettlements(t *testing.T, rec *Recorder, n int) []bank.Settlement {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := rec.Settlements(); len(got) >= n {
			time.Sleep(50 * time.Millisecond) // a late duplicate would show now
			got = rec.Settlements()
			if len(got) != n {
				t.Fatalf("%d settlements, want %d: %+v", len(got), n, got)
			}
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no settlement within 5s")
	return nil
}

func bankNameKnown(name string) bool {
	for _, p := range bank.Providers {
		if p == name {
			return true
		}
	}
	return false
}
