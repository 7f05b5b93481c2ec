// Package replay remembers the signed callbacks the gateway has received, and its answers, in
// Redis, so that a callback sent again inside its timestamp window (a captured one, or the
// sender's duplicate) never reaches the state machine again, although its signature and
// timestamp are still valid: it is answered from the record. Every replica shares the memory; an entry lives as long as the
// callback could still pass the timestamp check (twice the window: the sender's clock may be
// ahead or behind), then expires by itself.
package replay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Memory is the Redis-backed memory of received callbacks.
type Memory struct {
	Client redis.UniversalClient
	// Prefix is the gateway's key prefix.
	Prefix string
}

// Key is the key of one received callback: scope names the sender (for example "bank:vietcombank"),
// id the callback (its signature, its event id). The scope is the hash tag, so a sender's entries
// live together on Redis Cluster.
func (m *Memory) Key(scope, id string) string {
	return m.Prefix + ":replay:{" + scope + "}:" + id
}

// Claim records the callback for ttl and reports whether it is the first time it was seen; when
// it is not, it returns the answer Remember recorded for it (empty while the first delivery is
// still being processed). The claim is one atomic SET NX, so two replicas receiving the same
// callback at once cannot both claim it.
func (m *Memory) Claim(ctx context.Context, scope, id string, ttl time.Duration) (bool, []byte, error) {
	if ttl <= 0 {
		return false, nil, fmt.Errorf("claiming callback %s: ttl must be positive", scope)
	}
	key := m.Key(scope, id)
	ok, err := m.Client.SetNX(ctx, key, "", ttl).Result()
	if err != nil {
		return false, nil, fmt.Errorf("claiming callback %s: %w", scope, err)
	}
	if ok {
		return true, nil, nil
	}
	answer, err := m.Client.Get(ctx, key).Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, nil, fmt.Errorf("reading callback %s: %w", scope, err)
	}
	return false, answer, nil
}

// Remember records the answer given to a claimed callback, for its repeats; the entry keeps its
// expiry. A callback no longer claimed (expired, released) is not recorded again.
func (m *Memory) Remember(ctx context.Context, scope, id string, answer []byte) error {
	err := m.Client.SetArgs(ctx, m.Key(scope, id), answer, redis.SetArgs{Mode: "XX", KeepTTL: true}).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("recording the answer to callback %s: %w", scope, err)
	}
	return nil
}

// Release forgets a claimed callback, so the sender's retry of a callback that could not be
// processed (the store failed half-way) is not taken for a replay.
func (m *Memory) Release(ctx context.Context, scope, id string) error {
	if err := m.Client.Del(ctx, m.Key(scope, id)).Err(); err != nil {
		return fmt.Errorf("releasing callback %s: %w", scope, err)
	}
	return nil
}
