package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The portal sync's hot path in few round trips. A dossier's sync used to make one round trip per
// fact it read or wrote (lock, sync state, sent steps, attempt count, summary, last state, day
// index, version, backlog, timeline): on a two-core machine the syscalls of those round trips were
// a third of the handler's CPU. The reads at the start are one script (every key under the
// dossier's hash tag, so one slot), and the writes after a successful call one pipeline each, in
// the same order as before: what must precede what still does, since one connection carries a
// pipeline's commands in order.

// beginSync: KEYS 1 lock, 2 dossier sync hash, 3 sent steps. ARGV 1 lock token, 2 lease (ms),
// 3 step member ("" when the event carries no step). Returns {0} when another consumer holds the
// lock, else {1, synced_version (-1 when none), step already sent (0/1)}.
var beginSync = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
local v = redis.call('HGET', KEYS[2], 'synced_version') or '-1'
local sent = 0
if ARGV[3] ~= '' then sent = redis.call('SISMEMBER', KEYS[3], ARGV[3]) end
return {1, v, sent}
`)

// SyncStart is what a dossier's sync needs to know once it holds the dossier's lock.
type SyncStart struct {
	// SyncedVersion is the last version synced, -1 when none.
	SyncedVersion int64
	// StepSent: the step of the version asked about is already at the portal.
	StepSent bool
	// Release gives the lock back if it is still ours.
	Release func(context.Context)
}

// BeginSync takes dossier code's lock for lease (ErrLockHeld when another consumer holds it) and
// reads its last synced version and whether the step of stepVersion (0: none) was sent, in one
// round trip.
func (s *Store) BeginSync(ctx context.Context, code, token string, lease time.Duration, stepVersion int64) (SyncStart, error) {
	step := ""
	if stepVersion != 0 {
		step = strconv.FormatInt(stepVersion, 10)
	}
	lock := s.Keys.DossierLock(code)
	res, err := beginSync.Run(ctx, s.Client, []string{lock, s.Keys.Dossier(code), s.Keys.DossierSteps(code)},
		token, lease.Milliseconds(), step).Slice()
	if err != nil {
		return SyncStart{}, fmt.Errorf("starting dossier sync: %w", err)
	}
	if len(res) == 0 || res[0] != int64(1) {
		return SyncStart{}, ErrLockHeld
	}
	if len(res) != 3 {
		return SyncStart{}, errors.New("starting dossier sync: unexpected script answer")
	}
	version, _ := res[1].(string)
	v, err := strconv.ParseInt(version, 10, 64)
	if err != nil {
		return SyncStart{}, fmt.Errorf("starting dossier sync: synced_version %q: %w", version, err)
	}
	return SyncStart{
		SyncedVersion: v,
		StepSent:      res[2] == int64(1),
		Release:       func(ctx context.Context) { _ = unlock.Run(ctx, s.Client, []string{lock}, token).Err() },
	}, nil
}

// SyncDone is a successful portal sync of one version, as recorded by CommitSync.
type SyncDone struct {
	Code    string
	Summary SyncedSummary // At is the time of the sync
	// Event is the whole event sent (personal data: Redis only).
	Event []byte
	// Timeline is the entry that tells of the sync.
	Timeline TimelineEntry
}

// CommitSync records a successful sync in one pipeline, in this order: the attempt, what was sent
// (RecordSynced), the synced version raised (only upwards), the dossier out of the portal backlog
// (MarkSynced) and the timeline entry. An error of the first three is returned (the sync then
// runs again); the last two are measures and history, and their failure is ignored as before.
func (s *Store) CommitSync(ctx context.Context, d SyncDone) error {
	var must []redis.Cmder
	_, err := s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		must = append(must, p.HIncrBy(ctx, s.Keys.Dossier(d.Code), "attempts", 1))
		must = append(must, s.queueRecordSynced(ctx, p, d.Code, d.Summary, d.Event)...)
		must = append(must, raiseVersion.Eval(ctx, p, []string{s.Keys.Dossier(d.Code)}, d.Summary.Version, d.Summary.At.UnixMilli()))
		markSynced.Eval(ctx, p, s.unsyncedKeys(), d.Code, d.Summary.Version)
		p.XAdd(ctx, s.timelineArgs(d.Code, d.Timeline))
		return nil
	})
	// Pipelined's error is the first failed command's, maybe one of the ignored two.
	_ = err
	for _, c := range must {
		if cerr := c.Err(); cerr != nil {
			return fmt.Errorf("recording synced state: %w", cerr)
		}
	}
	return nil
}

// StepDone records that the step of version reached the portal, and its timeline entry, in one
// round trip. Only the step's record counts: a lost timeline entry is ignored.
func (s *Store) StepDone(ctx context.Context, code string, version int64, e TimelineEntry) error {
	var add *redis.IntCmd
	_, _ = s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		add = p.SAdd(ctx, s.Keys.DossierSteps(code), strconv.FormatInt(version, 10))
		p.XAdd(ctx, s.timelineArgs(code, e))
		return nil
	})
	if err := add.Err(); err != nil {
		return fmt.Errorf("recording sent step: %w", err)
	}
	return nil
}
