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
// pipeline's commands in order. The portal backlog's mark (its own hash tag) rides in the start's
// pipeline, and the lock's release in the attempt's last pipeline, not in round trips of their own.

// beginSync: KEYS 1 lock, 2 dossier sync hash, 3 sent steps. ARGV 1 lock token, 2 lease (ms),
// 3 step member ("" when the event carries no step). Returns {0, synced_version} when another
// consumer holds the lock, else {1, synced_version, step already sent (0/1)}; synced_version is
// -1 when none.
var beginSync = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, redis.call('HGET', KEYS[2], 'synced_version') or '-1'}
end
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
	// Lock is the dossier's lock, held by this attempt. Pass it to the attempt's last pipeline
	// (CommitSync, StepDone, SyncSuperseded, SyncFailed, EndSync) to give it back there.
	Lock *SyncLock
}

// Release gives the lock back if it is still ours and no pipeline gave it back already: defer it
// right after BeginSync, so that every path (an error before the last pipeline, a panic, a
// folded release that failed) still releases the lock.
func (st SyncStart) Release(ctx context.Context) { st.Lock.Release(ctx) }

// SyncLock is a dossier's sync lock taken by BeginSync. Its release is compare-and-delete (the
// unlock script): a lease that lapsed and was taken by another consumer is never deleted. Not
// safe for concurrent use; one attempt owns it.
type SyncLock struct {
	s          *Store
	key, token string
	released   bool
}

// Release gives the lock back unless that was done already.
func (l *SyncLock) Release(ctx context.Context) {
	if l == nil || l.released {
		return
	}
	l.released = true
	_ = unlock.Run(ctx, l.s.Client, []string{l.key}, l.token).Err()
}

// queueRelease queues the lock's release as the last command of pipeline p (nil l: nothing) and
// returns what to call once p has run. A release that got an answer (1: deleted; 0: the lock was
// no longer ours) is done; one that failed (no answer, NOSCRIPT after a script cache flush) is
// left to Release, which the caller defers.
func (l *SyncLock) queueRelease(ctx context.Context, p redis.Pipeliner) func() {
	if l == nil || l.released {
		return func() {}
	}
	cmd := unlock.EvalSha(ctx, p, []string{l.key}, l.token)
	return func() {
		if cmd.Err() == nil {
			l.released = true
		}
	}
}

// UnsyncedMark is the version a sync is about to send, for the portal backlog (MarkUnsynced):
// Now is when, Due the dossier's NgayHenTra (zero when none).
type UnsyncedMark struct {
	Version  int64
	Now, Due time.Time
}

// BeginSync takes dossier code's lock for lease (ErrLockHeld when another consumer holds it),
// reads its last synced version and whether the step of stepVersion (0: none) was sent, and
// marks mark.Version unsynced in the portal backlog (MarkUnsynced), in one round trip.
//
// The mark used to be a round trip of its own once the lock was held and the version known to be
// newer than the synced one. It now runs in the same pipeline, before the lock's script (the
// backlog has its own hash tag, so it cannot be one script), and so also for the attempts that
// then do not send. Each outcome leaves the backlog as it was meant to be:
//   - lock taken, version newer than the synced one (or re-sent): the mark is the one the sync
//     always made before sending; CommitSync takes the dossier out once the version is synced.
//   - lock taken, version at or below the synced one (superseded): the handler's
//     SyncSuperseded removes what the mark added, in the write it makes anyway.
//   - lock held by another consumer: the script reads the synced version too. A newer version
//     is waiting indeed (the message is retried) and keeps its mark; the holder's CommitSync of
//     that version or a newer one takes it out as before. A version at or below the synced one
//     has its mark removed here, one more round trip on that rare path only. The mark runs
//     before the script, so a sync committed by the holder after the script read the version
//     also ran its MarkSynced after the mark and took it out; on a Redis Cluster, where the
//     two slots' commands run in either order, a mark left by that race is removed by the
//     message's retry (superseded).
//
// An error leaves the mark, if made, to the message's retry, which ends in one of the outcomes
// above.
func (s *Store) BeginSync(ctx context.Context, code, token string, lease time.Duration, stepVersion int64, mark UnsyncedMark) (SyncStart, error) {
	step := ""
	if stepVersion != 0 {
		step = strconv.FormatInt(stepVersion, 10)
	}
	lock := s.Keys.DossierLock(code)
	beginKeys := []string{lock, s.Keys.Dossier(code), s.Keys.DossierSteps(code)}
	beginArgs := []any{token, lease.Milliseconds(), step}
	markArgs := s.markUnsyncedArgs(code, mark.Version, mark.Now, mark.Due)
	var begin, marked *redis.Cmd
	_, _ = s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		marked = markUnsynced.EvalSha(ctx, p, s.unsyncedKeys(), markArgs...)
		begin = beginSync.EvalSha(ctx, p, beginKeys, beginArgs...)
		return nil
	})
	// After a script cache flush (a Redis restart), a script that answered NOSCRIPT did not run:
	// run it again on its own (Run loads it).
	if isNoScript(marked.Err()) {
		marked = markUnsynced.Run(ctx, s.Client, s.unsyncedKeys(), markArgs...)
	}
	if isNoScript(begin.Err()) {
		begin = beginSync.Run(ctx, s.Client, beginKeys, beginArgs...)
	}
	res, err := begin.Slice()
	if err != nil {
		return SyncStart{}, fmt.Errorf("starting dossier sync: %w", err)
	}
	if len(res) < 2 {
		return SyncStart{}, errors.New("starting dossier sync: unexpected script answer")
	}
	version, _ := res[1].(string)
	v, err := strconv.ParseInt(version, 10, 64)
	if err != nil {
		return SyncStart{}, fmt.Errorf("starting dossier sync: synced_version %q: %w", version, err)
	}
	if res[0] != int64(1) {
		// The mark may have added a version already synced; a mark that failed may have too.
		if n, err := marked.Int(); (err != nil || n == 1) && mark.Version <= v {
			_ = s.MarkSynced(context.WithoutCancel(ctx), code, v)
		}
		return SyncStart{}, ErrLockHeld
	}
	if len(res) != 3 {
		return SyncStart{}, errors.New("starting dossier sync: unexpected script answer")
	}
	return SyncStart{
		SyncedVersion: v,
		StepSent:      res[2] == int64(1),
		Lock:          &SyncLock{s: s, key: lock, token: token},
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
	// Release, when set, is given back at the end of the same pipeline: the attempt writes
	// nothing after it (no step to send).
	Release *SyncLock
}

// CommitSync records a successful sync in one pipeline, in this order: the attempt, what was sent
// (RecordSynced), the synced version raised (only upwards), the dossier out of the portal backlog
// (MarkSynced), the timeline entry and, when d.Release is set, the lock's release. An error of the
// first three is returned (the sync then runs again); the last ones are measures and history, and
// their failure is ignored as before (a release that failed is left to the deferred Release).
//
// The release is queued after the version's raise, on the same connection and in the same slot
// (the lock and the dossier share its hash tag), so the next holder of the lock reads the raised
// version, as when the release was a round trip of its own after this pipeline.
func (s *Store) CommitSync(ctx context.Context, d SyncDone) error {
	var must []redis.Cmder
	var released func()
	_, err := s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		must = append(must, p.HIncrBy(ctx, s.Keys.Dossier(d.Code), "attempts", 1))
		must = append(must, s.queueRecordSynced(ctx, p, d.Code, d.Summary, d.Event)...)
		must = append(must, raiseVersion.Eval(ctx, p, []string{s.Keys.Dossier(d.Code)}, d.Summary.Version, d.Summary.At.UnixMilli()))
		markSynced.Eval(ctx, p, s.unsyncedKeys(), d.Code, d.Summary.Version)
		p.XAdd(ctx, s.timelineArgs(d.Code, d.Timeline))
		released = d.Release.queueRelease(ctx, p)
		return nil
	})
	released()
	// Pipelined's error is the first failed command's, maybe one of the ignored ones.
	_ = err
	for _, c := range must {
		if cerr := c.Err(); cerr != nil {
			return fmt.Errorf("recording synced state: %w", cerr)
		}
	}
	return nil
}

// StepDone records that the step of version reached the portal, and its timeline entry, and gives
// release back (nil: kept), in one round trip. Only the step's record counts: a lost timeline
// entry is ignored, and a release that failed is left to the deferred Release. The release comes
// after the step's record, so the next holder of the lock sees the step as sent.
func (s *Store) StepDone(ctx context.Context, code string, version int64, e TimelineEntry, release *SyncLock) error {
	var add *redis.IntCmd
	var released func()
	_, _ = s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		add = p.SAdd(ctx, s.Keys.DossierSteps(code), strconv.FormatInt(version, 10))
		p.XAdd(ctx, s.timelineArgs(code, e))
		released = release.queueRelease(ctx, p)
		return nil
	})
	released()
	if err := add.Err(); err != nil {
		return fmt.Errorf("recording sent step: %w", err)
	}
	return nil
}

// SyncSuperseded records that a version at or below the synced one was not sent: the timeline
// entry e, and the dossier out of the portal backlog unless a version newer than synced waits
// there (MarkSynced of synced), which removes the mark BeginSync made for this version; then
// release (nil: kept). One round trip; failures are ignored (history and measures).
//
// Without a newer version waiting, the dossier has nothing left to send: it is out of the backlog,
// as it was when superseded versions were never marked. A newer version waiting (marked by its own
// attempt) stays.
func (s *Store) SyncSuperseded(ctx context.Context, code string, synced int64, e TimelineEntry, release *SyncLock) {
	var released func()
	_, _ = s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		markSynced.Eval(ctx, p, s.unsyncedKeys(), code, synced)
		p.XAdd(ctx, s.timelineArgs(code, e))
		released = release.queueRelease(ctx, p)
		return nil
	})
	released()
}

// SyncFailed records a failed sync attempt (the attempt counted and, when failed, the error class,
// never a partner body) and its timeline entry e, then gives release back (nil: kept), in one
// round trip. Failures are ignored, as those of AddTimeline are.
func (s *Store) SyncFailed(ctx context.Context, code string, failed error, e TimelineEntry, release *SyncLock) {
	key := s.Keys.Dossier(code)
	var released func()
	_, _ = s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, key, "attempts", 1)
		if failed != nil {
			p.HIncrBy(ctx, key, "failures", 1)
			p.HSet(ctx, key, "last_error", failed.Error(), "last_error_at", time.Now().UnixMilli())
		}
		p.XAdd(ctx, s.timelineArgs(code, e))
		released = release.queueRelease(ctx, p)
		return nil
	})
	released()
}

// EndSync adds timeline entry e and gives release back, in one round trip (AddTimeline, then the
// release). Failures are ignored.
func (s *Store) EndSync(ctx context.Context, code string, e TimelineEntry, release *SyncLock) {
	var released func()
	_, _ = s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, s.timelineArgs(code, e))
		released = release.queueRelease(ctx, p)
		return nil
	})
	released()
}
