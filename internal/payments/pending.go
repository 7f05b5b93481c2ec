package payments

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// PendingAge is one provider's pending payments by age, measured against the provider's payment
// TTL and the expiry grace: a payment older than both is overdue, because the sweeper should have
// settled or expired it by then (its status query keeps failing, or a callback was lost).
type PendingAge struct {
	WithinTTL int64 // younger than the TTL: the citizen may still pay
	InGrace   int64 // past the TTL, within the grace a late payment is waited for
	Overdue   int64 // past TTL plus grace and still pending
	// Oldest is the age of the oldest pending payment, 0 when there is none.
	Oldest time.Duration
}

// PendingByAge counts each configured provider's pending payments by age, from the per-provider
// index of pending payments by creation time: one round trip of a few ZCOUNTs, cheap enough for
// every scrape. Payments created before the index existed are not in it.
func (s *Service) PendingByAge(ctx context.Context) (map[string]PendingAge, error) {
	now := s.now().UnixMilli()
	type cmds struct {
		within, grace, overdue *redis.IntCmd
		oldest                 *redis.ZSliceCmd
	}
	providers := make([]string, 0, len(s.providers))
	for p := range s.providers {
		providers = append(providers, p)
	}
	slices.Sort(providers)
	got := make([]cmds, len(providers))
	_, err := s.store.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range providers {
			key := s.keys.pending(name)
			ttl := s.ttl(name).Milliseconds()
			grace := s.cfg.ExpireGrace.Milliseconds()
			// Created after now-ttl: within the TTL; after now-ttl-grace: in grace; else overdue.
			got[i].within = p.ZCount(ctx, key, "("+strconv.FormatInt(now-ttl, 10), "+inf")
			got[i].grace = p.ZCount(ctx, key, "("+strconv.FormatInt(now-ttl-grace, 10), strconv.FormatInt(now-ttl, 10))
			got[i].overdue = p.ZCount(ctx, key, "-inf", strconv.FormatInt(now-ttl-grace, 10))
			got[i].oldest = p.ZRangeWithScores(ctx, key, 0, 0)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading pending payments: %w", err)
	}
	out := make(map[string]PendingAge, len(providers))
	for i, name := range providers {
		a := PendingAge{WithinTTL: got[i].within.Val(), InGrace: got[i].grace.Val(), Overdue: got[i].overdue.Val()}
		if z := got[i].oldest.Val(); len(z) == 1 {
			a.Oldest = max(time.Duration(now-int64(z[0].Score))*time.Millisecond, 0)
		}
		out[name] = a
	}
	return out, nil
}

// ttl is how long a provider's payments can be paid.
func (s *Service) ttl(provider string) time.Duration {
	if d, ok := s.cfg.TTL[provider]; ok && d > 0 {
		return d
	}
	return s.cfg.DefaultTTL
}
