package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	for {
		next := NextRun(r.now(), at)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		day := next.AddDate(0, 0, -1)
		if _, err := r.RunOnce(ctx, day); err != nil && ctx.Err() == nil {
			r.Log.Warn("running the daily reconciliation", "date", day.Format(time.DateOnly), "err", err)
		}
	}
}

// RunOnce runs day unless a replica has taken the day's daily lock before; it reports whether
// this call ran it. A failed run gives the lock back, so another replica or the next start may
// try again.
func (r *Reconciler) RunOnce(ctx context.Context, day time.Time) (bool, error) {
	date := day.In(vntime.Zone).Format(time.DateOnly)
	lock := r.key(date) + ":daily"
	ok, err := r.Store.Client.SetNX(ctx, lock, r.now().Format(time.RFC3339), 48*time.Hour).Result()
	if err != nil {
		return false, fmt.Errorf("locking daily reconciliation of %s: %w", date, err)
	}
	if !ok {
		return false, nil
	}
	if _, err := r.Run(ctx, day); err != nil {
		if !errors.Is(err, ErrRunning) {
			r.Store.Client.Del(context.WithoutCancel(ctx), lock)
		}
		return true, err
	}
	return true, nil
}
