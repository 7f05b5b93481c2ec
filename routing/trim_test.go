package routing

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

// TestTrimKeepsUnacknowledged: trimming removes only entries every group has acknowledged and that
// are older than the retention; pending and undelivered entries stay, on a real Redis.
func TestTrimKeepsUnacknowledged(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	s := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	ctx := context.Background()
	stream := s.Keys.Stream("trim.test")
	add := func(n int) {
		for i := 0; i < n; i++ {
			if err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: map[string]any{"i": i}}).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	tr := &Trimmer{Store: s, Topics: []string{"trim.test"}, Retention: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	add(3)
	if n, err := tr.TrimOnce(ctx, time.Now().Add(2*time.Hour)); err != nil || n != 0 {
		t.Fatalf("a stream without groups was trimmed: %d %v", n, err)
	}
	for _, g := range []string{"fast", "slow"} {
		if err := c.XGroupCreate(ctx, stream, g, "0").Err(); err != nil {
			t.Fatal(err)
		}
	}
	add(7) // 10 entries
	read := func(group string, n int64, ack bool) {
		res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "c", Streams: []string{stream, ">"}, Count: n}).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ack {
			for _, m := range res[0].Messages {
				c.XAck(ctx, stream, group, m.ID)
			}
		}
	}
	read("fast", 10, true) // fast has handled everything
	read("slow", 4, true)  // slow acked 4,
	read("slow", 2, false) // holds 2 pending, and 4 are undelivered to it

	if n, _ := tr.TrimOnce(ctx, time.Now()); n != 0 {
		t.Fatalf("entries younger than the retention were trimmed: %d", n)
	}
	n, err := tr.TrimOnce(ctx, time.Now().Add(2*time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("trimmed %d (%v), want the 4 entries both groups acknowledged", n, err)
	}
	pending, _ := c.XPending(ctx, stream, "slow").Result()
	left, _ := c.XRange(ctx, stream, "-", "+").Result()
	if len(left) != 6 || left[0].ID != pending.Lower {
		t.Fatalf("left %d entries starting at %v, want 6 starting at the oldest pending %s", len(left), left[0].ID, pending.Lower)
	}
}
