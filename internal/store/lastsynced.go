package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/vntime"
)

// What the gateway keeps of each successful portal sync, for the status reconciliation (compare
// what we sent with what the portal holds) and for re-sending (bulk re-sync, or a partner flow
// that must send a dossier's state again):
//
//   - in the dossier's sync hash (Keys.Dossier), next to synced_version and synced_at, the fields
//     compared with the portal, none of them personal data: last_status, last_fee_total,
//     last_fees (fee codes and amounts), last_due and last_returned (yyyyMMddHHmmss or empty);
//   - the whole event of the last synced version as received (Keys.LastSynced), personal data
//     included: it lives in Redis only, expires after LastStateTTL without a newer sync, and
//     must never be logged;
//   - the dossier's code in the set of the day it was synced (Keys.SyncedDay, a day of Vietnam's
//     calendar), kept SyncedDayTTL. The set is one key per day, so a day's dossiers are read with
//     SSCAN on that key alone (Redis Cluster friendly, no keyspace scan).

// SyncedDayTTL is how long a day's index of synced dossiers is kept: the status reconciliation
// and the bulk re-sync by date reach back this far.
const SyncedDayTTL = 35 * 24 * time.Hour

// LastStateTTL is how long the whole last synced state of a dossier (personal data) is kept after
// its last sync: long enough to repair a quarter, short enough to keep little of it.
const LastStateTTL = 90 * 24 * time.Hour

// LastSynced is the whole event of a dossier's last synced version, as received (CloudEvent JSON).
func (k Keys) LastSynced(code string) string { return k.Prefix + ":dossier:{" + code + "}:last" }

// SyncedDay is the set of dossier codes synced on a day (yyyy-mm-dd, Vietnam's calendar).
func (k Keys) SyncedDay(date string) string { return k.Prefix + ":synced:{" + date + "}" }

// SyncedSummary is what the portal was last sent for a dossier, without personal data.
type SyncedSummary struct {
	Version  int64     `json:"version"`
	At       time.Time `json:"at"`
	Status   int       `json:"status"`
	FeeTotal int64     `json:"fee_total"`
	// Fees lists the fee lines as "code=amount" joined by ";", in the order sent.
	Fees       string `json:"fees"`
	DueAt      string `json:"due_at,omitempty"`      // NgayHenTra, yyyyMMddHHmmss
	ReturnedAt string `json:"returned_at,omitempty"` // NgayTra, yyyyMMddHHmmss
}

// RecordSynced keeps what was just synced: the summary, the whole event and the day's index. It
// runs before the synced version is raised, so a failure here makes the sync run again.
func (s *Store) RecordSynced(ctx context.Context, code string, sum SyncedSummary, event []byte) error {
	if sum.At.IsZero() {
		sum.At = time.Now()
	}
	_, err := s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		s.queueRecordSynced(ctx, p, code, sum, event)
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording synced state: %w", err)
	}
	return nil
}

// queueRecordSynced queues RecordSynced's commands on p (sum.At set) and returns them.
func (s *Store) queueRecordSynced(ctx context.Context, p redis.Pipeliner, code string, sum SyncedSummary, event []byte) []redis.Cmder {
	day := s.Keys.SyncedDay(sum.At.In(vntime.Zone).Format(time.DateOnly))
	return []redis.Cmder{
		p.HSet(ctx, s.Keys.Dossier(code),
			"last_version", sum.Version, "last_at", sum.At.UnixMilli(), "last_status", sum.Status,
			"last_fee_total", sum.FeeTotal, "last_fees", sum.Fees, "last_due", sum.DueAt, "last_returned", sum.ReturnedAt),
		p.Set(ctx, s.Keys.LastSynced(code), event, LastStateTTL),
		p.SAdd(ctx, day, code),
		p.Expire(ctx, day, SyncedDayTTL),
	}
}

// LastSyncedSummary reads what the portal was last sent for a dossier; found is false when no
// sync of it was recorded.
func (s *Store) LastSyncedSummary(ctx context.Context, code string) (SyncedSummary, bool, error) {
	vals, err := s.Client.HMGet(ctx, s.Keys.Dossier(code),
		"last_version", "last_at", "last_status", "last_fee_total", "last_fees", "last_due", "last_returned").Result()
	if err != nil {
		return SyncedSummary{}, false, fmt.Errorf("reading synced state: %w", err)
	}
	if vals[0] == nil {
		return SyncedSummary{}, false, nil
	}
	var sum SyncedSummary
	sum.Version, _ = strconv.ParseInt(str(vals[0]), 10, 64)
	if ms, err := strconv.ParseInt(str(vals[1]), 10, 64); err == nil {
		sum.At = time.UnixMilli(ms).UTC()
	}
	sum.Status, _ = strconv.Atoi(str(vals[2]))
	sum.FeeTotal, _ = strconv.ParseInt(str(vals[3]), 10, 64)
	sum.Fees, sum.DueAt, sum.ReturnedAt = str(vals[4]), str(vals[5]), str(vals[6])
	return sum, true, nil
}

// LastSynced returns the whole event (CloudEvent JSON, as received) of the dossier's last synced
// version; found is false when none is kept (never synced, or expired after LastStateTTL). It
// holds personal data: never log it.
func (s *Store) LastSynced(ctx context.Context, code string) (event []byte, found bool, err error) {
	b, err := s.Client.Get(ctx, s.Keys.LastSynced(code)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading last synced state: %w", err)
	}
	return b, true, nil
}

// SyncedOn returns the codes of the dossiers synced on a day (yyyy-mm-dd, Vietnam's calendar).
func (s *Store) SyncedOn(ctx context.Context, date string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	it := s.Client.SScan(ctx, s.Keys.SyncedDay(date), 0, "", 1000).Iterator()
	for it.Next(ctx) {
		if code := it.Val(); !seen[code] { // SSCAN may return a member twice
			seen[code] = true
			out = append(out, code)
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("reading dossiers synced on %s: %w", date, err)
	}
	slices.Sort(out)
	return out, nil
}
