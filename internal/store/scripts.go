package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// appendOnce writes an event to its stream unless its source+id was seen: one atomic round trip,
// so a concurrent repeat can neither slip in twice nor be answered "duplicate" before the first
// is stored.
//
// KEYS[1] seen key, KEYS[2] stream. ARGV[1] TTL seconds, ARGV[2..] stream field/value pairs.
// Returns {1, entry id} when written, {0, entry id of the first} for a repeat.
var appendOnce = redis.NewScript(`
local prev = redis.call('GET', KEYS[1])
if prev then return {0, prev} end
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
redis.call('SET', KEYS[1], id, 'EX', tonumber(ARGV[1]))
return {1, id}
`)

// Append is one event to write once.
type Append struct {
	Topic, Source, ID string
	Fields            map[string]any
}

// AppendResult says where the event is and whether it was new.
type AppendResult struct {
	EntryID   string
	Duplicate bool
	Err       error
}

// AppendOnce writes every event of a batch in one pipelined round trip, each atomically with its
// idempotency check. Results are in the order of the input.
func (s *Store) AppendOnce(ctx context.Context, ttl time.Duration, events []Append) ([]AppendResult, error) {
	cmds, err := s.appendPipelined(ctx, ttl, events)
	if err != nil && isNoScript(err) {
		// The server lost its script cache (a restart): no EVALSHA ran, so load and send again.
		if err := appendOnce.Load(ctx, s.Client).Err(); err != nil {
			return nil, fmt.Errorf("loading append script: %w", err)
		}
		cmds, err = s.appendPipelined(ctx, ttl, events)
	}
	if err != nil && allFailed(cmds) {
		return nil, fmt.Errorf("appending events: %w", err)
	}
	out := make([]AppendResult, len(events))
	for i, c := range cmds {
		res, err := c.Slice()
		if err != nil {
			out[i].Err = fmt.Errorf("appending event: %w", err)
			continue
		}
		written, _ := res[0].(int64)
		id, _ := res[1].(string)
		out[i] = AppendResult{EntryID: id, Duplicate: written == 0}
	}
	return out, nil
}

func (s *Store) appendPipelined(ctx context.Context, ttl time.Duration, events []Append) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(events))
	_, err := s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range events {
			args := make([]any, 0, 7)
			args = append(args, int64(ttl/time.Second))
			for _, f := range []string{FieldUUID, FieldPayload, FieldMetadata} {
				if v, ok := e.Fields[f]; ok {
					args = append(args, f, v)
				}
			}
			cmds[i] = appendOnce.EvalSha(ctx, p, []string{s.Keys.Seen(e.Topic, e.Source, e.ID), s.Keys.Stream(e.Topic)}, args...)
		}
		return nil
	})
	return cmds, err
}

func isNoScript(err error) bool {
	return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT")
}

func allFailed(cmds []*redis.Cmd) bool {
	for _, c := range cmds {
		if c == nil || c.Err() == nil {
			return false
		}
	}
	return true
}

// ErrLockHeld is returned when another consumer holds a dossier's lock.
var ErrLockHeld = errors.New("lock held by another consumer")

var unlock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Lock takes key for lease with a random token; the returned function releases it only if it is
// still ours.
func (s *Store) Lock(ctx context.Context, key, token string, lease time.Duration) (func(context.Context), error) {
	ok, err := s.Client.SetNX(ctx, key, token, lease).Result()
	if err != nil {
		return nil, fmt.Errorf("taking lock: %w", err)
	}
	if !ok {
		return nil, ErrLockHeld
	}
	return func(ctx context.Context) { _ = unlock.Run(ctx, s.Client, []string{key}, token).Err() }, nil
}

// raiseVersion sets a hash field to ARGV[1] only if that is higher than what it holds, and records
// when. KEYS[1] hash. ARGV[1] version, ARGV[2] unix ms. Returns 1 when raised.
var raiseVersion = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'synced_version') or '-1')
if tonumber(ARGV[1]) <= cur then return 0 end
redis.call('HSET', KEYS[1], 'synced_version', ARGV[1], 'synced_at', ARGV[2])
return 1
`)

// RaiseSyncedVersion records version as a dossier's last synced version unless a higher one is
// already recorded.
func (s *Store) RaiseSyncedVersion(ctx context.Context, code string, version int64, at time.Time) (bool, error) {
	n, err := raiseVersion.Run(ctx, s.Client, []string{s.Keys.Dossier(code)}, version, at.UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("recording synced version: %w", err)
	}
	return n == 1, nil
}
