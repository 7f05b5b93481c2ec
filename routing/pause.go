package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/egov-vn/gateway/internal/vntime"
	"log/slog"
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
	paused map[string]pause // ops pauses by partner
}

// pause is an ops pause as kept in Redis.
type pause struct {
	Until  int64  `json:"until,omitempty"` // unix ms; 0: until resumed
	Reason string `json:"reason,omitempty"`
}

func (p pause) end() time.Time {
	if p.Until == 0 {
		return time.Time{}
	}
	return time.UnixMilli(p.Until)
}

// Window is a daily maintenance window of a partner, in Asia/Ho_Chi_Minh time; it may span
// midnight (Start after End).
type Window struct {
	Start, End time.Duration // since local midnight
}

// NewPauses builds the pause switches.
func NewPauses(s *store.Store, windows map[string][]Window, log *slog.Logger) *Pauses {
	return &Pauses{store: s, windows: windows, log: log, paused: map[string]pause{}}
}

// Paused implements partnerhttp.Pauser.
func (p *Pauses) Paused(partner string) bool {
	ok, _ := p.PausedUntil(partner)
	return ok
}

// PausedUntil tells whether partner is paused now and until when messages should wait (for
// parking): the end of the pause or window, or an hour for a pause without an end.
func (p *Pauses) PausedUntil(partner string) (bool, time.Time) {
	paused, end, _ := p.State(partner)
	if paused && end.IsZero() {
		return true, time.Now().Add(indefinitePauseRecheck)
	}
	return paused, end
}

// State tells whether partner is paused now, until when (zero: until resumed) and why.
func (p *Pauses) State(partner string) (bool, time.Time, string) {
	if p == nil {
		return false, time.Time{}, ""
	}
	now := time.Now()
	p.mu.RLock()
	ps, ok := p.paused[partner]
	p.mu.RUnlock()
	if ok && (ps.Until == 0 || now.Before(ps.end())) {
		return true, ps.end(), ps.Reason
	}
	for _, w := range p.windows[partner] {
		if in, end := w.contains(now); in {
			return true, end, "maintenance window"
		}
	}
	return false, time.Time{}, ""
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
	ps := pause{Reason: reason}
	if !end.IsZero() {
		ps.Until = end.UnixMilli()
	}
	raw, _ := json.Marshal(ps)
	if err := p.store.Client.HSet(ctx, p.store.Keys.Paused(), partner, raw).Err(); err != nil {
		return fmt.Errorf("pausing %s: %w", partner, err)
	}
	p.mu.Lock()
	p.paused[partner] = ps
	p.mu.Unlock()
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

// Refresh reads the ops pauses from Redis.
func (p *Pauses) Refresh(ctx context.Context) error {
	h, err := p.store.Client.HGetAll(ctx, p.store.Keys.Paused()).Result()
	if err != nil {
		return fmt.Errorf("reading pauses: %w", err)
	}
	m := make(map[string]pause, len(h))
	for partner, v := range h {
		var ps pause
		if err := json.Unmarshal([]byte(v), &ps); err != nil {
			// Unreadable: keep the partner paused rather than resume it by accident.
			ps = pause{Reason: "unreadable pause record"}
		}
		m[partner] = ps
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
