// Package reconcile compares each payment provider's list of a day's transactions with the
// gateway's payments of that day and reports every disagreement, by class (bank.MismatchClasses).
//
// A run reads every configured provider's list through its dialect (bank.Provider.Transactions),
// matches each paid transaction to a payment by reference, and stores the report in Redis under
// the day, so the admin API serves it without asking the providers again. The last run's counts
// go to gateway_reconciliation_mismatches, and every run to gateway_reconciliation_runs_total.
//
// Reports hold references, payment ids, provider transaction ids, amounts and states: never a
// payer's name or a transfer's free text.
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/payments"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/vntime"
)

// ErrNoReport: no report is stored for the day.
var ErrNoReport = errors.New("no reconciliation report for the day")

// ErrFutureDay: a day that has not begun cannot be reconciled.
var ErrFutureDay = errors.New("the day has not begun")

// ErrRunning: another run of the same day holds the lock.
var ErrRunning = errors.New("a reconciliation of the day is running")

// Report statuses.
const (
	StatusClean      = "clean"
	StatusMismatches = "mismatches"
	// StatusIncomplete: a provider's list could not be read; its totals say which.
	StatusIncomplete = "incomplete"
)

// Provider list statuses.
const (
	ListOK          = "ok"
	ListUnsupported = "unsupported"
	ListUnavailable = "unavailable"
)

// Report is a day's reconciliation (api/openapi.yaml ReconciliationReport).
type Report struct {
	Date        string     `json:"date"`
	GeneratedAt string     `json:"generated_at"`
	Status      string     `json:"status"`
	Providers   []Totals   `json:"providers"`
	Mismatches  []Mismatch `json:"mismatches"`
}

// Totals are one provider's counts.
type Totals struct {
	Provider string `json:"provider"`
	// List says whether the provider's list was read (ok, unsupported, unavailable).
	List string `json:"list"`
	// Intents are our payments of the provider created or paid on the day; Transactions the
	// provider's listed transactions (paid or failed); Matched the paid ones that agree.
	Intents      int `json:"intents"`
	Transactions int `json:"transactions"`
	Matched      int `json:"matched"`
	Mismatched   int `json:"mismatched"`
}

// Mismatch is one disagreement.
type Mismatch struct {
	Kind                   string   `json:"kind"`
	Provider               string   `json:"provider"`
	PaymentID              string   `json:"payment_id,omitempty"`
	Reference              string   `json:"reference,omitempty"`
	ProviderTransactionID  string   `json:"provider_transaction_id,omitempty"`
	ProviderTransactionIDs []string `json:"provider_transaction_ids,omitempty"`
	GatewayAmount          *int64   `json:"gateway_amount,omitempty"`
	ProviderAmount         *int64   `json:"provider_amount,omitempty"`
	GatewayStatus          string   `json:"gateway_status,omitempty"`
	ProviderStatus         string   `json:"provider_status,omitempty"`
}

// Payments is what reconciliation reads of the state machine (internal/payments.Service).
type Payments interface {
	OfDay(ctx context.Context, day time.Time) ([]payments.Summary, error)
	Summarize(ctx context.Context, ref string) (payments.Summary, error)
}

// Reconciler runs reconciliations and keeps their reports.
type Reconciler struct {
	Payments  Payments
	Providers map[string]bank.Provider
	Store     *store.Store
	Metrics   *observability.PaymentMetrics
	Log       *slog.Logger
	// RetainFor is how long a report is kept (400 days when zero).
	RetainFor time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) key(date string) string { return r.Store.Keys.Prefix + ":reconciliation:" + date }

// ParseDay reads yyyy-mm-dd as a day of Vietnam's calendar.
func ParseDay(s string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, s, vntime.Zone)
	if err != nil || d.Format(time.DateOnly) != s {
		return time.Time{}, fmt.Errorf("parsing day %q: want yyyy-mm-dd", s)
	}
	return d, nil
}

// Stored returns the stored report of day, or ErrNoReport.
func (r *Reconciler) Stored(ctx context.Context, day time.Time) (Report, error) {
	date := day.In(vntime.Zone).Format(time.DateOnly)
	raw, err := r.Store.Client.Get(ctx, r.key(date)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Report{}, ErrNoReport
	}
	if err != nil {
		return Report{}, fmt.Errorf("reading reconciliation report of %s: %w", date, err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return Report{}, fmt.Errorf("decoding reconciliation report of %s: %w", date, err)
	}
	return rep, nil
}

// releaseLock deletes a lock only while it holds the token it was taken with.
var releaseLock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Run reconciles day now and stores the report in place of any earlier one. Runs of the same day
// exclude each other (ErrRunning); a day that has not begun is refused (ErrFutureDay).
func (r *Reconciler) Run(ctx context.Context, day time.Time) (Report, error) {
	day = day.In(vntime.Zone)
	date := day.Format(time.DateOnly)
	if !r.now().In(vntime.Zone).After(day) {
		return Report{}, ErrFutureDay
	}
	token := fmt.Sprintf("%d", r.now().UnixNano())
	lock := r.key(date) + ":running"
	ok, err := r.Store.Client.SetNX(ctx, lock, token, 10*time.Minute).Result()
	if err != nil {
		r.Metrics.Reconciliations.WithLabelValues("error").Inc()
		return Report{}, fmt.Errorf("locking reconciliation of %s: %w", date, err)
	}
	if !ok {
		return Report{}, ErrRunning
	}
	defer releaseLock.Run(context.WithoutCancel(ctx), r.Store.Client, []string{lock}, token)

	rep, err := r.compute(ctx, day)
	if err != nil {
		r.Metrics.Reconciliations.WithLabelValues("error").Inc()
		return Report{}, err
	}
	raw, err := json.Marshal(rep)
	if err != nil {
		return Report{}, fmt.Errorf("encoding reconciliation report of %s: %w", date, err)
	}
	retain := r.RetainFor
	if retain == 0 {
		retain = 400 * 24 * time.Hour
	}
	if err := r.Store.Client.Set(ctx, r.key(date), raw, retain).Err(); err != nil {
		r.Metrics.Reconciliations.WithLabelValues("error").Inc()
		return Report{}, fmt.Errorf("storing reconciliation report of %s: %w", date, err)
	}
	r.observe(rep)
	r.Log.Info("reconciliation done", "date", date, "status", rep.Status, "mismatches", len(rep.Mismatches))
	return rep, nil
}

func (r *Reconciler) observe(rep Report) {
	outcome := map[string]string{StatusClean: "clean", StatusMismatches: "mismatches", StatusIncomplete: "error"}[rep.Status]
	r.Metrics.Reconciliations.WithLabelValues(outcome).Inc()
	for _, t := range rep.Providers {
		if t.List != ListOK {
			continue
		}
		for _, c := range bank.MismatchClasses {
			n := 0
			for _, m := range rep.Mismatches {
				if m.Provider == t.Provider && m.Kind == c {
					n++
				}
			}
			r.Metrics.Mismatches.WithLabelValues(t.Provider, c).Set(float64(n))
		}
	}
}

func (r *Reconciler) compute(ctx context.Context, day time.Time) (Report, error) {
	ours, err := r.Payments.OfDay(ctx, day)
	if err != nil {
		return Report{}, err
	}
	byRef := map[string]payments.Summary{}
	for _, p := range ours {
		byRef[p.Reference] = p
	}
	lookup := func(ref string) (payments.Summary, bool, error) {
		if p, ok := byRef[ref]; ok {
			return p, true, nil
		}
		p, err := r.Payments.Summarize(ctx, ref)
		if errors.Is(err, payments.ErrNotFound) {
			return payments.Summary{}, false, nil
		}
		if err != nil {
			return payments.Summary{}, false, err
		}
		byRef[ref] = p
		return p, true, nil
	}

	rep := Report{Date: day.Format(time.DateOnly), GeneratedAt: r.now().In(vntime.Zone).Format(time.RFC3339),
		Status: StatusClean, Providers: []Totals{}, Mismatches: []Mismatch{}}
	names := make([]string, 0, len(r.Providers))
	for name := range r.Providers {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return slices.Index(bank.Providers, a) - slices.Index(bank.Providers, b) })
	for _, name := range names {
		t := Totals{Provider: name, List: ListOK}
		for _, p := range ours {
			if p.Provider == name {
				t.Intents++
			}
		}
		txns, err := r.Providers[name].Transactions(ctx, day)
		switch {
		case errors.Is(err, bank.ErrTransactionsUnsupported):
			t.List = ListUnsupported
			rep.Providers = append(rep.Providers, t)
			continue
		case err != nil:
			if ctx.Err() != nil {
				return Report{}, fmt.Errorf("reconciling %s: %w", name, ctx.Err())
			}
			r.Log.Warn("reading a provider's transactions", "partner", name, "date", rep.Date, "err", err)
			t.List = ListUnavailable
			rep.Status = StatusIncomplete
			rep.Providers = append(rep.Providers, t)
			continue
		}
		t.Transactions = len(txns)
		found, err := r.match(name, rep.Date, txns, ours, lookup)
		if err != nil {
			return Report{}, fmt.Errorf("reconciling %s: %w", name, err)
		}
		t.Matched = found.matched
		t.Mismatched = len(found.mismatches)
		rep.Mismatches = append(rep.Mismatches, found.mismatches...)
		rep.Providers = append(rep.Providers, t)
	}
	if rep.Status == StatusClean && len(rep.Mismatches) > 0 {
		rep.Status = StatusMismatches
	}
	return rep, nil
}

type matched struct {
	matched    int
	mismatches []Mismatch
}

func (r *Reconciler) match(provider, date string, txns []bank.Transaction, ours []payments.Summary,
	lookup func(string) (payments.Summary, bool, error)) (matched, error) {
	var out matched
	// The provider's paid transactions by reference, in list order.
	paid := map[string][]bank.Transaction{}
	var refs []string
	for _, t := range txns {
		if t.Outcome != bank.OutcomePaid {
			continue
		}
		ref := t.Reference
		if ref == "" {
			for _, c := range t.Candidates {
				if _, ok, err := lookup(c); err != nil {
					return out, err
				} else if ok {
					ref = c
					break
				}
			}
		}
		if ref == "" {
			// A credit that names no payment: money received for nothing we know.
			out.mismatches = append(out.mismatches, Mismatch{Kind: bank.MismatchMissingInGateway, Provider: provider,
				ProviderTransactionID: t.ProviderTransactionID, ProviderAmount: amount(t.Amount), ProviderStatus: string(t.Outcome)})
			continue
		}
		if _, seen := paid[ref]; !seen {
			refs = append(refs, ref)
		}
		paid[ref] = append(paid[ref], t)
	}
	for _, ref := range refs {
		ts := paid[ref]
		p, ok, err := lookup(ref)
		if err != nil {
			return out, err
		}
		if !ok || p.Provider != provider {
			for _, t := range ts {
				out.mismatches = append(out.mismatches, Mismatch{Kind: bank.MismatchMissingInGateway, Provider: provider, Reference: ref,
					ProviderTransactionID: t.ProviderTransactionID, ProviderAmount: amount(t.Amount), ProviderStatus: string(t.Outcome)})
			}
			continue
		}
		base := Mismatch{Provider: provider, PaymentID: p.PaymentID, Reference: ref, ProviderTransactionID: ts[0].ProviderTransactionID,
			GatewayAmount: amount(p.Amount), ProviderAmount: amount(ts[0].Amount), GatewayStatus: string(p.Status),
			ProviderStatus: string(bank.OutcomePaid)}
		clean := true
		if len(ts) > 1 {
			m := base
			m.Kind = bank.MismatchDuplicate
			m.ProviderTransactionID = ""
			for _, t := range ts {
				m.ProviderTransactionIDs = append(m.ProviderTransactionIDs, t.ProviderTransactionID)
			}
			out.mismatches = append(out.mismatches, m)
			clean = false
		}
		if i := slices.IndexFunc(ts, func(t bank.Transaction) bool { return t.Amount != p.Amount }); i >= 0 {
			m := base
			m.Kind = bank.MismatchAmount
			m.ProviderTransactionID, m.ProviderAmount = ts[i].ProviderTransactionID, amount(ts[i].Amount)
			out.mismatches = append(out.mismatches, m)
			clean = false
		} else if p.Status != bank.StatePaid {
			m := base
			m.Kind = bank.MismatchStatus
			out.mismatches = append(out.mismatches, m)
			clean = false
		}
		if clean {
			out.matched++
		}
	}
	for _, p := range ours {
		if p.Provider != provider || p.Status != bank.StatePaid || p.PaidAt.IsZero() {
			continue
		}
		if p.PaidAt.In(vntime.Zone).Format(time.DateOnly) != date {
			continue // paid on another day: that day's list holds it
		}
		if _, ok := paid[p.Reference]; !ok {
			out.mismatches = append(out.mismatches, Mismatch{Kind: bank.MismatchMissingAtProvider, Provider: provider, PaymentID: p.PaymentID,
				Reference: p.Reference, ProviderTransactionID: p.ProviderTransactionID, GatewayAmount: amount(p.Amount),
				GatewayStatus: string(p.Status)})
		}
	}
	return out, nil
}

func amount(v int64) *int64 { return &v }
