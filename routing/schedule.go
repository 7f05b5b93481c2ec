package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/store"
)

// Schedule is the delayed-retry schedule of one handler (one partner, one topic): a Redis sorted
// set of parked messages scored by the time they are due. A message is parked, and only then
// acknowledged on its stream, so a crash in between at worst delivers it twice (the idempotent
// consumer absorbs that) and never loses it. A mover returns due messages to the stream in one
// script (remove + append), so a message is never in both places or in neither.
//
// Each partner has its own set and its own mover: a partner that is down for hours delays only its
// own messages, and the mover polls at a fixed interval, so an outage costs no CPU.
type Schedule struct {
	store   *store.Store
	topic   string
	partner string
	delays  []time.Duration
	log     *slog.Logger
}

type parked struct {
	UUID     string `json:"uuid"`
	Payload  string `json:"payload"`
	Metadata string `json:"metadata"`
	Nonce    string `json:"nonce"`
}

// NewSchedule builds the schedule of a partner's messages on topic.
func NewSchedule(s *store.Store, topic, partner string, delays []time.Duration, log *slog.Logger) *Schedule {
	return &Schedule{store: s, topic: topic, partner: partner, delays: delays, log: log}
}

// Key is the sorted set's key.
func (s *Schedule) Key() string { return s.store.Keys.RetrySchedule(s.topic, s.partner) }

// Attempts is how many delayed retries the schedule allows.
func (s *Schedule) Attempts() int { return len(s.delays) }

// Delay is the wait before delayed retry n (1-based).
func (s *Schedule) Delay(n int) time.Duration {
	if len(s.delays) == 0 {
		return 0
	}
	if n < 1 {
		n = 1
	}
	if n > len(s.delays) {
		return s.delays[len(s.delays)-1]
	}
	return s.delays[n-1]
}

// Park stores msg to come back at due, with its metadata as given.
func (s *Schedule) Park(ctx context.Context, msg *message.Message, due time.Time) error {
	md, err := json.Marshal(msg.Metadata)
	if err != nil {
		return fmt.Errorf("encoding parked metadata: %w", err)
	}
	member, err := json.Marshal(parked{
		UUID: msg.UUID, Payload: string(msg.Payload), Metadata: string(md),
		Nonce: strconv.FormatInt(time.Now().UnixNano(), 36),
	})
	if err != nil {
		return fmt.Errorf("encoding parked message: %w", err)
	}
	if err := s.store.Client.ZAdd(ctx, s.Key(), redis.Z{Score: float64(due.UnixMilli()), Member: member}).Err(); err != nil {
		return fmt.Errorf("parking message: %w", err)
	}
	return nil
}

// moveDue returns due messages to the stream: KEYS[1] schedule, KEYS[2] stream; ARGV[1] now in
// ms, ARGV[2] at most this many. Returns how many moved.
var moveDue = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  local p = cjson.decode(m)
  redis.call('XADD', KEYS[2], '*', 'uuid', p.uuid, 'payload', p.payload, 'metadata', p.metadata)
  redis.call('ZREM', KEYS[1], m)
end
return #due
`)

// rescheduleAll makes every parked message due at ARGV[1] (used on resume).
var rescheduleAll = redis.NewScript(`
local all = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(all) do redis.call('ZADD', KEYS[1], tonumber(ARGV[1]), m) end
return #all
`)

// MoveDue moves up to limit due messages back to the stream.
func (s *Schedule) MoveDue(ctx context.Context, now time.Time, limit int) (int, error) {
	n, err := moveDue.Run(ctx, s.store.Client, []string{s.Key(), s.store.Keys.Stream(s.topic)}, now.UnixMilli(), limit).Int()
	if err != nil {
		return 0, fmt.Errorf("moving due messages of %s: %w", s.partner, err)
	}
	return n, nil
}

// DueNow makes every parked message due now (a resumed partner).
func (s *Schedule) DueNow(ctx context.Context) (int, error) {
	n, err := rescheduleAll.Run(ctx, s.store.Client, []string{s.Key()}, time.Now().UnixMilli()).Int()
	if err != nil {
		return 0, fmt.Errorf("rescheduling %s: %w", s.partner, err)
	}
	return n, nil
}

// Len is how many messages are parked; Oldest is the earliest due time (zero when none).
func (s *Schedule) Len(ctx context.Context) (int64, time.Time, error) {
	n, err := s.store.Client.ZCard(ctx, s.Key()).Result()
	if err != nil || n == 0 {
		return n, time.Time{}, err
	}
	first, err := s.store.Client.ZRangeWithScores(ctx, s.Key(), 0, 0).Result()
	if err != nil || len(first) == 0 {
		return n, time.Time{}, err
	}
	return n, time.UnixMilli(int64(first[0].Score)), nil
}

// Run moves due messages back every interval until ctx ends.
func (s *Schedule) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := s.MoveDue(ctx, time.Now(), 200)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("moving due retries", "partner", s.partner, "topic", s.topic, "err", err)
				}
				break
			}
			if n < 200 {
				break
			}
		}
	}
}
