// Package replay remembers the signed callbacks the gateway has received, in Redis, so that a
// captured callback sent again inside its timestamp window is refused even though its signature
// and timestamp are still valid. Every replica shares the memory; an entry lives as long as the
// callback could still pass the timestamp check (twice the window: the sender's clock may be
// ahead or behind), then expires by itself.
package replay

import (
	"context"
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

// Claim records the callback for ttl and reports whether it is the first time it was seen. It is
// one atomic SET NX, so two replicas receiving the same callback at once cannot both claim it.
func (m *Memory) Claim(ctx context.Context, scope, id string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("claiming callback %s: ttl must be positive", scope)
	}
	ok, err := m.Client.SetNX(ctx, m.Key(scope, id), time.Now().UTC().Format(time.RFC3339), ttl).Result()
	if err != nil {
		return false, fmt.Errorf("claiming callback %s: %w", scope, err)
	}
	return ok, nil
}

// Release forgets a claimed callback, so the sender's retry of a callback that could not be
// processed (the store failed half-way) is not taken for a replay.
func (m *Memory) Release(ctx context.Context, scope, id string) error {
	if err := m.Client.Del(ctx, m.Key(scope, id)).Err(); err != nil {
		return fmt.Errorf("releasing callback %s: %w", scope, err)
	}
	return nil
}
