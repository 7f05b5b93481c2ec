package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// TimelineLength caps each dossier's timeline (approximate trimming).
const TimelineLength = 500

// TimelineEntry is one thing that happened to a dossier. Detail never holds personal data.
type TimelineEntry struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Version int64     `json:"version,omitempty"`
	Status  int       `json:"status,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	EventID string    `json:"event_id,omitempty"`
}

// AddTimeline appends an entry to a dossier's timeline.
func (s *Store) AddTimeline(ctx context.Context, code string, e TimelineEntry) error {
	if err := s.Client.XAdd(ctx, s.timelineArgs(code, e)).Err(); err != nil {
		return fmt.Errorf("adding to timeline: %w", err)
	}
	return nil
}

// AddTimelines appends entries to a dossier's timeline, in order, in one round trip.
func (s *Store) AddTimelines(ctx context.Context, code string, entries ...TimelineEntry) error {
	if len(entries) == 1 {
		return s.AddTimeline(ctx, code, entries[0])
	}
	if _, err := s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range entries {
			p.XAdd(ctx, s.timelineArgs(code, e))
		}
		return nil
	}); err != nil {
		return fmt.Errorf("adding to timeline: %w", err)
	}
	return nil
}

// timelineArgs is the XADD of entry e to code's timeline (At defaults to now).
func (s *Store) timelineArgs(code string, e TimelineEntry) *redis.XAddArgs {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	values := map[string]any{"at": e.At.UnixMilli(), "kind": e.Kind}
	if e.Version != 0 {
		values["version"] = e.Version
	}
	if e.Status != 0 {
		values["status"] = e.Status
	}
	if e.Detail != "" {
		values["detail"] = e.Detail
	}
	if e.EventID != "" {
		values["event_id"] = e.EventID
	}
	return &redis.XAddArgs{Stream: s.Keys.Timeline(code), MaxLen: TimelineLength, Approx: true, Values: values}
}

// Timeline returns a dossier's timeline, oldest first.
func (s *Store) Timeline(ctx context.Context, code string) ([]TimelineEntry, error) {
	msgs, err := s.Client.XRange(ctx, s.Keys.Timeline(code), "-", "+").Result()
	if err != nil {
		return nil, fmt.Errorf("reading timeline: %w", err)
	}
	out := make([]TimelineEntry, 0, len(msgs))
	for _, m := range msgs {
		var e TimelineEntry
		if ms, err := strconv.ParseInt(str(m.Values["at"]), 10, 64); err == nil {
			e.At = time.UnixMilli(ms).UTC()
		}
		e.Kind = str(m.Values["kind"])
		e.Version, _ = strconv.ParseInt(str(m.Values["version"]), 10, 64)
		st, _ := strconv.Atoi(str(m.Values["status"]))
		e.Status = st
		e.Detail = str(m.Values["detail"])
		e.EventID = str(m.Values["event_id"])
		out = append(out, e)
	}
	return out, nil
}

// SyncState is what the gateway knows of a dossier's sync to the portal.
type SyncState struct {
	SyncedVersion int64     `json:"synced_version"`
	SyncedAt      time.Time `json:"synced_at,omitzero"`
	Attempts      int64     `json:"attempts"`
	Failures      int64     `json:"failures"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorAt   time.Time `json:"last_error_at,omitzero"`
	Known         bool      `json:"-"`
}

// DossierSyncState reads a dossier's sync state.
func (s *Store) DossierSyncState(ctx context.Context, code string) (SyncState, error) {
	h, err := s.Client.HGetAll(ctx, s.Keys.Dossier(code)).Result()
	if err != nil {
		return SyncState{}, fmt.Errorf("reading sync state: %w", err)
	}
	st := SyncState{SyncedVersion: -1, Known: len(h) > 0}
	if v, ok := h["synced_version"]; ok {
		st.SyncedVersion, _ = strconv.ParseInt(v, 10, 64)
	}
	if v, err := strconv.ParseInt(h["synced_at"], 10, 64); err == nil {
		st.SyncedAt = time.UnixMilli(v).UTC()
	}
	st.Attempts, _ = strconv.ParseInt(h["attempts"], 10, 64)
	st.Failures, _ = strconv.ParseInt(h["failures"], 10, 64)
	st.LastError = h["last_error"]
	if v, err := strconv.ParseInt(h["last_error_at"], 10, 64); err == nil {
		st.LastErrorAt = time.UnixMilli(v).UTC()
	}
	return st, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Audit records an ops action (who, what, on which object, why) in the audit stream.
func (s *Store) Audit(ctx context.Context, actor, action, object, reason string) error {
	err := s.Client.XAdd(ctx, &redis.XAddArgs{
		Stream: s.Keys.Audit(), MaxLen: 100000, Approx: true,
		Values: map[string]any{"at": time.Now().UnixMilli(), "actor": actor, "action": action, "object": object, "reason": reason},
	}).Err()
	if err != nil {
		return fmt.Errorf("writing audit record: %w", err)
	}
	return nil
}
