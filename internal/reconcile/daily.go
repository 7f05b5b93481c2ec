package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/vntime"
)

// ParseClock reads "hh:mm" as minutes after midnight.
func ParseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("parsing time of day %q: want hh:mm", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// NextRun is the first instant after now at the time of day at (Vietnam's clock).
func NextRun(now time.Time, at time.Duration) time.Time {
	n := now.In(vntime.Zone)
	midnight := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, vntime.Zone)
	next := midnight.Add(at)
	if !next.After(n) {
		next = midnight.AddDate(0, 0, 1).Add(at)
	}
	return next
}

// Daily reconciles the previous day at the time of day at (Vietnam's clock) until ctx ends.
// Every replica runs the loop; the first to take the day's lock in Redis runs the day, the others
// skip it.
func (r *Reconciler) Daily(ctx context.Context, at time.Duration) {
	EveryDay(ctx, r.now, at, r.RunOnce, r.Log, "running the daily reconciliation")
}

// RunOnce runs day unless a replica has taken the day's daily lock before; it reports whether
// this call ran it. A failed run gives the lock back, so another replica or the next start may
// try again.
func (r *Reconciler) RunOnce(ctx context.Context, day time.Time) (bool, error) {
	return RunLocked(ctx, r.Store.Client, r.key, r.now(), day, "daily reconciliation", ErrRunning,
		func(ctx context.Context, day time.Time) error {
			_, err := r.Run(ctx, day)
			return err
		})
}

// EveryDay calls runOnce for the previous day at the time of day at (Vietnam's clock) until ctx
// ends; a failure is logged (when log is set) under msg.
func EveryDay(ctx context.Context, now func() time.Time, at time.Duration,
	runOnce func(context.Context, time.Time) (bool, error), log *slog.Logger, msg string) {
	for {
		next := NextRun(now(), at)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		day := next.AddDate(0, 0, -1)
		if _, err := runOnce(ctx, day); err != nil && ctx.Err() == nil && log != nil {
			log.Warn(msg, "date", day.Format(time.DateOnly), "err", err)
		}
	}
}

// RunLocked runs day unless a replica has taken the day's daily lock (key(date) + ":daily", kept
// 48 hours) before; it reports whether this call ran it. A failed run gives the lock back, so
// another replica or the next start may try again, except when it failed with busy (a run of the
// day already under way). what names the job in errors.
func RunLocked(ctx context.Context, rdb redis.UniversalClient, key func(date string) string, now, day time.Time,
	what string, busy error, run func(context.Context, time.Time) error) (bool, error) {
	date := day.In(vntime.Zone).Format(time.DateOnly)
	lock := key(date) + ":daily"
	ok, err := rdb.SetNX(ctx, lock, now.Format(time.RFC3339), 48*time.Hour).Result()
	if err != nil {
		return false, fmt.Errorf("locking %s of %s: %w", what, date, err)
	}
	if !ok {
		return false, nil
	}
	if err := run(ctx, day); err != nil {
		if !errors.Is(err, busy) {
			rdb.Del(context.WithoutCancel(ctx), lock)
		}
		return true, err
	}
	return true, nil
}
