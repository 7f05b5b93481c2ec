// Package portalsync keeps the portal's view of the dossiers in step with the gateway's: the
// status reconciliation finds drift (Verifier), and the bulk re-sync repairs it (Replayer).
//
// # Status reconciliation
//
// For a day of Vietnam's calendar, the Verifier reads the dossiers synced that day (the day's
// index kept by the portal sync, store.SyncedOn), and for each compares what the gateway last
// sent (store.LastSyncedSummary: status, fee lines, NgayHenTra, NgayTra) with what the portal
// answers now (portal.Lookup, TraCuuHoSo for DVCQG). Each disagreement is a drift of one class
// (DriftClasses). Look-ups go through the portal's partner client (breaker, pause) and the
// portal's bulk limiter. The report is stored under the day (kept ReportRetention), served by
// the admin API, and counted in gateway_portal_drifts{class} (the last run's counts),
// gateway_portal_drift_runs_total{outcome} and gateway_portal_drift_last_run_timestamp_seconds.
// A daily run checks the previous day at a configured time; every replica schedules it, the
// first to take the day's lock runs it (as internal/reconcile does for payments).
//
// Reports hold dossier codes, versions, statuses, fee codes and amounts and dates: never a
// citizen's personal data.
package portalsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/reconcile"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/vntime"
)

// Drift classes.
const (
	// DriftMissing: the portal does not know a dossier the gateway synced.
	DriftMissing = "missing_at_portal"
	// DriftStatus: the portal holds another status than the last one synced (an older one, when
	// an update was lost).
	DriftStatus = "stale_status"
	// DriftFees: the portal's fee lines (codes or amounts) differ from the last ones synced.
	DriftFees = "fee_mismatch"
	// DriftDates: the portal's NgayHenTra or NgayTra differs from the last one synced.
	DriftDates = "date_mismatch"
)

// DriftClasses is the closed set of drift classes (metric labels).
var DriftClasses = []string{DriftMissing, DriftStatus, DriftFees, DriftDates}

// Run outcomes (metric labels).
const (
	OutcomeClean  = "clean"
	OutcomeDrifts = "drifts"
	OutcomeError  = "error"
)

// RunOutcomes is the closed set of run outcomes.
var RunOutcomes = []string{OutcomeClean, OutcomeDrifts, OutcomeError}

// Report statuses.
const (
	StatusClean  = "clean"
	StatusDrifts = "drifts"
	// StatusIncomplete: some look-ups failed (listed in unchecked); the drifts found are real.
	StatusIncomplete = "incomplete"
)

// ReportRetention is how long a day's report is kept.
const ReportRetention = 400 * 24 * time.Hour

var (
	// ErrNoReport: no report is stored for the day.
	ErrNoReport = errors.New("no drift report for the day")
	// ErrFutureDay: a day that has not begun has nothing synced.
	ErrFutureDay = errors.New("the day has not begun")
	// ErrRunning: another run of the same day holds its lock.
	ErrRunning = errors.New("a drift check of the day is running")
	// ErrTooOld: the day's index of synced dossiers has expired.
	ErrTooOld = errors.New("the day is older than the index of synced dossiers")
)

// Report is a day's status reconciliation (api/openapi.yaml DriftReport).
type Report struct {
	Date        string `json:"date"`
	GeneratedAt string `json:"generated_at"`
	Status      string `json:"status"`
	// Checked counts the dossiers compared with the portal; Unchecked lists those whose look-up
	// failed (the portal unreachable, paused or answering what the dialect cannot read).
	Checked   int            `json:"checked"`
	Unchecked []string       `json:"unchecked"`
	Counts    map[string]int `json:"counts"`
	Drifts    []Drift        `json:"drifts"`
}

// Drift is one disagreement. Gateway and Portal are the compared values (a status code, a fee
// list "code=amount;...", a date yyyyMMddHHmmss); both are empty for missing_at_portal.
type Drift struct {
	DossierCode   string `json:"dossier_code"`
	Class         string `json:"class"`
	SyncedVersion int64  `json:"synced_version"`
	SyncedAt      string `json:"synced_at"`
	Field         string `json:"field,omitempty"`
	Gateway       string `json:"gateway,omitempty"`
	Portal        string `json:"portal,omitempty"`
}

// Verifier runs status reconciliations and keeps their reports.
type Verifier struct {
	Store   *store.Store
	Portal  portal.Lookup
	Limiter Limiter
	Metrics *observability.PortalSyncMetrics
	Log     *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) key(date string) string {
	return v.Store.Keys.Prefix + ":portal-drift:{" + date + "}"
}

// ParseDay reads yyyy-mm-dd as a day of Vietnam's calendar.
func ParseDay(s string) (time.Time, error) { return reconcile.ParseDay(s) }

// Stored returns the stored report of a day, or ErrNoReport.
func (v *Verifier) Stored(ctx context.Context, day time.Time) (Report, error) {
	date := day.In(vntime.Zone).Format(time.DateOnly)
	raw, err := v.Store.Client.Get(ctx, v.key(date)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Report{}, ErrNoReport
	}
	if err != nil {
		return Report{}, fmt.Errorf("reading drift report of %s: %w", date, err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return Report{}, fmt.Errorf("decoding drift report of %s: %w", date, err)
	}
	return rep, nil
}

// Run checks the dossiers synced on day against the portal now, stores the report (replacing
// the day's previous one) and counts it.
func (v *Verifier) Run(ctx context.Context, day time.Time) (Report, error) {
	now := v.now()
	day = day.In(vntime.Zone)
	date := day.Format(time.DateOnly)
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, vntime.Zone)
	if start.After(now) {
		return Report{}, ErrFutureDay
	}
	if now.Sub(start) > store.SyncedDayTTL {
		return Report{}, ErrTooOld
	}
	running := v.key(date) + ":running"
	ok, err := v.Store.Client.SetNX(ctx, running, now.Format(time.RFC3339), time.Hour).Result()
	if err != nil {
		return Report{}, fmt.Errorf("locking drift check of %s: %w", date, err)
	}
	if !ok {
		return Report{}, ErrRunning
	}
	defer v.Store.Client.Del(context.WithoutCancel(ctx), running)

	rep, err := v.check(ctx, date, running)
	if err != nil {
		v.count(OutcomeError, nil)
		return Report{}, err
	}
	rep.GeneratedAt = v.now().In(vntime.Zone).Format(time.RFC3339)
	raw, err := json.Marshal(rep)
	if err != nil {
		return Report{}, fmt.Errorf("encoding drift report: %w", err)
	}
	if err := v.Store.Client.Set(ctx, v.key(date), raw, ReportRetention).Err(); err != nil {
		v.count(OutcomeError, nil)
		return Report{}, fmt.Errorf("storing drift report of %s: %w", date, err)
	}
	outcome := OutcomeClean
	switch rep.Status {
	case StatusDrifts:
		outcome = OutcomeDrifts
	case StatusIncomplete:
		outcome = OutcomeError
	}
	v.count(outcome, rep.Counts)
	if v.Log != nil {
		v.Log.Info("portal drift check", "date", date, "status", rep.Status, "checked", rep.Checked,
			"unchecked", len(rep.Unchecked), "drifts", len(rep.Drifts))
	}
	return rep, nil
}

func (v *Verifier) count(outcome string, counts map[string]int) {
	if v.Metrics == nil {
		return
	}
	v.Metrics.Runs.WithLabelValues(outcome).Inc()
	v.Metrics.LastRun.WithLabelValues(outcome).Set(float64(v.now().Unix()))
	if counts != nil {
		for _, c := range DriftClasses {
			v.Metrics.Drifts.WithLabelValues(c).Set(float64(counts[c]))
		}
	}
}

// check compares the day's dossiers; it keeps the run's lock (running) while it goes.
func (v *Verifier) check(ctx context.Context, date, running string) (Report, error) {
	codes, err := v.Store.SyncedOn(ctx, date)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Date: date, Unchecked: []string{}, Drifts: []Drift{}, Counts: map[string]int{}}
	for _, c := range DriftClasses {
		rep.Counts[c] = 0
	}
	for i, code := range codes {
		if i%100 == 99 {
			v.Store.Client.Expire(ctx, running, time.Hour)
		}
		sum, found, err := v.Store.LastSyncedSummary(ctx, code)
		if err != nil {
			return Report{}, err
		}
		if !found {
			continue
		}
		if err := v.Limiter.Wait(ctx); err != nil {
			return Report{}, err
		}
		theirs, known, err := v.Portal.LookupDossier(ctx, code)
		if err != nil {
			if ctx.Err() != nil {
				return Report{}, ctx.Err()
			}
			rep.Unchecked = append(rep.Unchecked, code)
			continue
		}
		drifts := compare(code, sum, theirs, known)
		if len(drifts) > 0 {
			// A sync that landed while we looked is not a drift: compare with what it sent.
			again, _, err := v.Store.LastSyncedSummary(ctx, code)
			if err != nil {
				return Report{}, err
			}
			if again.Version != sum.Version {
				drifts = compare(code, again, theirs, known)
			}
		}
		rep.Checked++
		for _, d := range drifts {
			rep.Counts[d.Class]++
		}
		rep.Drifts = append(rep.Drifts, drifts...)
	}
	switch {
	case len(rep.Unchecked) > 0:
		rep.Status = StatusIncomplete
	case len(rep.Drifts) > 0:
		rep.Status = StatusDrifts
	default:
		rep.Status = StatusClean
	}
	return rep, nil
}

// compare lists the drifts between what was synced and what the portal holds.
func compare(code string, ours store.SyncedSummary, theirs portal.Dossier, known bool) []Drift {
	base := Drift{DossierCode: code, SyncedVersion: ours.Version, SyncedAt: ours.At.In(vntime.Zone).Format(time.RFC3339)}
	if !known {
		d := base
		d.Class = DriftMissing
		return []Drift{d}
	}
	c := portal.ComparableOf(theirs)
	var out []Drift
	add := func(class, field, gw, p string) {
		d := base
		d.Class, d.Field, d.Gateway, d.Portal = class, field, gw, p
		out = append(out, d)
	}
	if int(c.Status) != ours.Status {
		add(DriftStatus, "TrangThaiHoSo", strconv.Itoa(ours.Status), strconv.Itoa(int(c.Status)))
	}
	if c.Fees != ours.Fees || c.FeeTotal != ours.FeeTotal {
		add(DriftFees, "DanhSachLePhi", ours.Fees, c.Fees)
	}
	if c.DueAt != ours.DueAt {
		add(DriftDates, "NgayHenTra", ours.DueAt, c.DueAt)
	}
	if c.ReturnedAt != ours.ReturnedAt {
		add(DriftDates, "NgayTra", ours.ReturnedAt, c.ReturnedAt)
	}
	return out
}

// Daily checks the previous day at the time of day at (Vietnam's clock) until ctx ends.
func (v *Verifier) Daily(ctx context.Context, at time.Duration) {
	reconcile.EveryDay(ctx, v.now, at, v.RunOnce, v.Log, "running the daily portal drift check")
}

// RunOnce runs day unless a replica has taken the day's daily lock before; it reports whether
// this call ran it. A failed run gives the lock back, so another replica or the next start may
// try again.
func (v *Verifier) RunOnce(ctx context.Context, day time.Time) (bool, error) {
	return reconcile.RunLocked(ctx, v.Store.Client, v.key, v.now(), day, "daily drift check", ErrRunning,
		func(ctx context.Context, day time.Time) error {
			_, err := v.Run(ctx, day)
			return err
		})
}
