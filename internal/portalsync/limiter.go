package portalsync

import (
	"context"
	"sync"
	"time"
)

// Limiter spaces the bulk calls to one partner (the reconciliation's look-ups and the re-sync's
// sends share the portal's), so bulk work never floods it. Wait blocks until the next call may
// start, or ctx ends.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Rate lets through at most perSecond calls a second, evenly spaced (no burst). It is the
// limiter of one partner within one process; the reconciliation and a re-sync job each run on
// one replica at a time, under their locks.
type Rate struct {
	interval time.Duration

	mu   sync.Mutex
	next time.Time
}

// NewRate builds a limiter of perSecond calls a second; perSecond must be positive.
func NewRate(perSecond float64) *Rate {
	return &Rate{interval: time.Duration(float64(time.Second) / perSecond)}
}

// Wait reserves the next slot and sleeps until it comes.
func (r *Rate) Wait(ctx context.Context) error {
	r.mu.Lock()
	now := time.Now()
	slot := r.next
	if slot.Before(now) {
		slot = now
	}
	r.next = slot.Add(r.interval)
	r.mu.Unlock()
	d := time.Until(slot)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
