package routing

import (
	"context"
	"fmt"
	"github.com/egov-vn/gateway/internal/vntime"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/egov-vn/gateway/internal/store"
)

// indefinitePauseRecheck is when messages parked during a pause without an end come back to see
// whether the pause is still on (a resume brings them back at once).
const indefinitePauseRecheck = time.Hour

// Pauses knows which partners are paused: by ops (shared by every replica through Redis) or by a
// configured maintenance window. It refreshes from Redis every second, so a pause or resume on
// one replica reaches the others within that.
type Pauses struct {
	store   *store.Store
	windows map[string][]Window
	log     *slog.Logger

	mu     sync.RWMutex
	paused map[string]time.Time // partner → end of pause (zero: until resumed)
}

// Window is a daily maintenance window of a partner, in Asia/Ho_Chi_Minh time; it may span
// midnight (Start after End).
type Window struct {
	Start, End time.Duration // since local midnight
}

// NewPauses builds the pause switches.
func NewPauses(s *store.Store, windows map[string][]Window, log *slog.Logger) *Pauses {
	return &Pauses{store: s, windows: windows, log: log, paused: map[string]time.Time{}}
}

// Paused implements partnerhttp.Pauser.
func (p *Pauses) Paused(partner string) bool {
	ok, _ := p.PausedUntil(partner)
	return ok
}

// PausedUntil tells whether partner is paused now and until when (for parking).
func (p *Pauses) PausedUntil(partner string) (bool, time.Time) {
	if p == nil {
		return false, time.Time{}
	}
	now := time.Now()
	p.mu.RLock()
	end, ok := p.paused[partner]
	p.mu.RUnlock()
	if ok && (end.IsZero() || now.Before(end)) {
		if end.IsZero() {
			return true, now.Add(indefinitePauseRecheck)
		}
		return true, end
	}
	for _, w := range p.windows[partner] {
		if in, end := w.contains(now); in {
			return true, end
		}
	}
	return false, time.Time{}
}

func (w Window) contains(now time.Time) (bool, time.Time) {
	local := now.In(vntime.Zone)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, vntime.Zone)
	since := local.Sub(midnight)
	switch {
	case w.Start <= w.End && since >= w.Start && since < w.End:
		return true, midnight.Add(w.End)
	case w.Start > w.End && since >= w.Start:
		return true, midnight.Add(24*time.Hour + w.End)
	case w.Start > w.End && since < w.End:
		return true, midnight.Add(w.End)
	}
	return false, time.Time{}
}

// Pause pauses partner until end (zero: until resumed) and records who and why in the audit
// stream.
func (p *Pauses) Pause(ctx context.Context, partner string, end time.Time, actor, reason string) error {
	v := "0"
	if !end.IsZero() {
		v = strconv.FormatInt(end.UnixMilli(), 10)
	}
	if err := p.store.Client.HSet(ctx, p.store.Keys.Paused(), partner, v).Err(); err != nil {
		return fmt.Errorf("pausing %s: %w", partner, err)
	}
	p.set(partner, end)
	return p.store.Audit(ctx, actor, "pause", partner, reason)
}

// Resume lifts an ops pause.
func (p *Pauses) Resume(ctx context.Context, partner, actor, reason string) error {
	if err := p.store.Client.HDel(ctx, p.store.Keys.Paused(), partner).Err(); err != nil {
		return fmt.Errorf("resuming %s: %w", partner, err)
	}
	p.mu.Lock()
	delete(p.paused, partner)
	p.mu.Unlock()
	return p.store.Audit(ctx, actor, "resume", partner, reason)
}

func (p *Pauses) set(partner string, end time.Time) {
	p.mu.Lock()
	p.paused[partner] = end
	p.mu.Unlock()
}

// Refresh reads the ops pauses from Redis.
func (p *Pauses) Refresh(ctx context.Context) error {
	h, err := p.store.Client.HGetAll(ctx, p.store.Keys.Paused()).Result()
	if err != nil {
		return fmt.Errorf("reading pauses: %w", err)
	}
	m := make(map[string]time.Time, len(h))
	for partner, v := range h {
		ms, _ := strconv.ParseInt(v, 10, 64)
		if ms == 0 {
			m[partner] = time.Time{}
		} else {
			m[partner] = time.UnixMilli(ms)
		}
	}
	p.mu.Lock()
	p.paused = m
	p.mu.Unlock()
	return nil
}

// Run refreshes every second until ctx ends.
func (p *Pauses) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if err := p.Refresh(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("refreshing partner pauses", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
