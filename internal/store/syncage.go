package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The portal sync backlog: the dossiers whose latest version seen by the portal sync is not yet
// at the portal. Three keys share one hash tag, so each script below touches one slot:
//
//	<prefix>:{portal.unsynced}:since    dossier code → when its unsynced state began (unix ms; sorted set)
//	<prefix>:{portal.unsynced}:version  dossier code → the newest version waiting (hash)
//	<prefix>:{portal.unsynced}:due      dossier code → that version's NgayHenTra (unix ms; sorted set)
//
// A dossier enters when a version newer than the one synced is about to be sent, and leaves
// when that version (or a newer one) is synced. (The sync marks a version in the round trip that
// takes the dossier's lock, before it knows the synced version; a version that turns out to be
// synced already has its mark removed by the same attempt: see BeginSync.) A dossier synced at
// once spends a few milliseconds in it; one that fails (portal down, dead-lettered) stays until
// it is synced, so the backlog is small and read at scrape time with a few counts.
func (k Keys) unsynced(part string) string { return k.Prefix + ":{portal.unsynced}:" + part }

// markUnsynced: KEYS 1 since, 2 version, 3 due. ARGV 1 code, 2 version, 3 now (ms),
// 4 due (ms, "" none). A version at or below the one already waiting changes nothing; the start
// of the unsynced state is kept from the first version that waited.
var markUnsynced = redis.NewScript(`
local v = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
if tonumber(ARGV[2]) <= v then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], 'NX', tonumber(ARGV[3]), ARGV[1])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], tonumber(ARGV[4]), ARGV[1]) else redis.call('ZREM', KEYS[3], ARGV[1]) end
return 1
`)

// markSynced: KEYS as above. ARGV 1 code, 2 version synced. The dossier leaves the backlog when
// no newer version waits.
var markSynced = redis.NewScript(`
local v = redis.call('HGET', KEYS[2], ARGV[1])
if not v or tonumber(ARGV[2]) < tonumber(v) then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`)

func (s *Store) unsyncedKeys() []string {
	return []string{s.Keys.unsynced("since"), s.Keys.unsynced("version"), s.Keys.unsynced("due")}
}

// MarkUnsynced records that version of dossier code is about to be sent to the portal; due is
// its NgayHenTra (zero when the dossier has none). BeginSync makes the same mark in the portal
// sync's first round trip.
func (s *Store) MarkUnsynced(ctx context.Context, code string, version int64, now, due time.Time) error {
	if err := markUnsynced.Run(ctx, s.Client, s.unsyncedKeys(), s.markUnsyncedArgs(code, version, now, due)...).Err(); err != nil {
		return fmt.Errorf("recording unsynced dossier: %w", err)
	}
	return nil
}

// markUnsyncedArgs is markUnsynced's ARGV.
func (s *Store) markUnsyncedArgs(code string, version int64, now, due time.Time) []any {
	dueArg := ""
	if !due.IsZero() {
		dueArg = strconv.FormatInt(due.UnixMilli(), 10)
	}
	return []any{code, version, now.UnixMilli(), dueArg}
}

// MarkSynced records that version of dossier code reached the portal.
func (s *Store) MarkSynced(ctx context.Context, code string, version int64) error {
	if err := markSynced.Run(ctx, s.Client, s.unsyncedKeys(), code, version).Err(); err != nil {
		return fmt.Errorf("recording synced dossier: %w", err)
	}
	return nil
}

// UnsyncedAgeBounds are the upper bounds of the backlog's age buckets; the last bucket is
// everything older.
var UnsyncedAgeBounds = []time.Duration{5 * time.Minute, time.Hour, 24 * time.Hour}

// Backlog is the portal sync backlog at one moment.
type Backlog struct {
	// ByAge counts the unsynced dossiers by how long they have waited, in the buckets of
	// UnsyncedAgeBounds (len(UnsyncedAgeBounds)+1 counts, youngest first).
	ByAge []int64
	// PastDue counts the unsynced dossiers whose waiting version's NgayHenTra has passed.
	PastDue int64
	// Oldest is how long the longest-waiting dossier has waited; 0 when none waits.
	Oldest time.Duration
}

// PortalBacklog reads the backlog in one round trip.
func (s *Store) PortalBacklog(ctx context.Context, now time.Time) (Backlog, error) {
	since, due := s.Keys.unsynced("since"), s.Keys.unsynced("due")
	ms := now.UnixMilli()
	var counts []*redis.IntCmd
	var pastDue *redis.IntCmd
	var oldest *redis.ZSliceCmd
	_, err := s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		upper := "+inf"
		for _, b := range UnsyncedAgeBounds {
			lower := ms - b.Milliseconds()
			// Waited less than b: began after now-b.
			counts = append(counts, p.ZCount(ctx, since, "("+strconv.FormatInt(lower, 10), upper))
			upper = strconv.FormatInt(lower, 10)
		}
		counts = append(counts, p.ZCount(ctx, since, "-inf", upper))
		pastDue = p.ZCount(ctx, due, "-inf", strconv.FormatInt(ms, 10))
		oldest = p.ZRangeWithScores(ctx, since, 0, 0)
		return nil
	})
	if err != nil {
		return Backlog{}, fmt.Errorf("reading the portal sync backlog: %w", err)
	}
	b := Backlog{ByAge: make([]int64, len(counts)), PastDue: pastDue.Val()}
	for i, c := range counts {
		b.ByAge[i] = c.Val()
	}
	if z := oldest.Val(); len(z) == 1 {
		b.Oldest = max(time.Duration(ms-int64(z[0].Score))*time.Millisecond, 0)
	}
	return b, nil
}

// SyncPending reports whether a version of dossier code waits in the portal sync backlog: its
// sync has been tried and may still land.
func (s *Store) SyncPending(ctx context.Context, code string) (bool, error) {
	ok, err := s.Client.HExists(ctx, s.Keys.unsynced("version"), code).Result()
	if err != nil {
		return false, fmt.Errorf("reading the portal sync backlog: %w", err)
	}
	return ok, nil
}
