package streamsub

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

// backends runs a test against the real Redis and the embedded one (the dev profile's store).
func backends(t *testing.T, fn func(t *testing.T, c redis.UniversalClient, prefix string)) {
	t.Run("redis", func(t *testing.T) {
		c := testredis.Client(t)
		fn(t, c, testredis.Prefix(t, c))
	})
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { c.Close() })
		fn(t, c, "mini")
	})
}

// commandCounter counts the commands a client sends, by name.
type commandCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (cc *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (cc *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		cc.mu.Lock()
		cc.n[strings.ToLower(cmd.Name())]++
		cc.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (cc *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (cc *commandCounter) get(name string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.n[name]
}

func addEntries(t *testing.T, c redis.UniversalClient, stream string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		fields, err := store.EncodeFields(fmt.Sprintf("m%03d", i), []byte(fmt.Sprintf("payload %d", i)), message.Metadata{"k": "v"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i], err = c.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: fields}).Result()
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func newSub(t *testing.T, c redis.UniversalClient, inFlight int, mod func(*Config)) *Subscriber {
	t.Helper()
	cfg := Config{Client: c, Unmarshaller: store.Codec{}, Group: "g", Consumer: "c1", InFlight: inFlight,
		BlockTime: 50 * time.Millisecond, NackResendSleep: 10 * time.Millisecond, CloseTimeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func pendingCount(t *testing.T, c redis.UniversalClient, stream string) int64 {
	t.Helper()
	p, err := c.XPending(context.Background(), stream, "g").Result()
	if err != nil {
		t.Fatal(err)
	}
	return p.Count
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Every entry is delivered once and acknowledged; up to InFlight are in hand at once, never more;
// reads and acknowledgements are batched (far fewer XREADGROUP and XACK than entries).
func TestDeliversInBatchesWithinTheWindow(t *testing.T) {
	backends(t, func(t *testing.T, c redis.UniversalClient, prefix string) {
		stream := prefix + ":s1"
		const n, window = 200, 8
		addEntries(t, c, stream, n)
		counter := &commandCounter{n: map[string]int{}}
		hooked := c.(*redis.Client)
		hooked.AddHook(counter)
		s := newSub(t, hooked, window, nil)
		msgs, err := s.Subscribe(context.Background(), stream)
		if err != nil {
			t.Fatal(err)
		}
		// The handler side holds what it receives and acknowledges it all at once when it holds a
		// full window, or when nothing more comes for a while.
		seen := map[string]int{}
		var held []*message.Message
		peak := 0
		ackHeld := func() {
			for _, m := range held {
				m.Ack()
			}
			held = held[:0]
		}
		for received := 0; received < n; {
			select {
			case m := <-msgs:
				if len(held) == window {
					t.Fatalf("message %s delivered while %d were unacknowledged (window %d)", m.UUID, window, window)
				}
				seen[m.UUID]++
				held = append(held, m)
				received++
				peak = max(peak, len(held))
				if len(held) == window {
					// Anything beyond the window would come now.
					select {
					case extra := <-msgs:
						t.Fatalf("message %s delivered beyond the window of %d", extra.UUID, window)
					case <-time.After(20 * time.Millisecond):
					}
					ackHeld()
				}
			case <-time.After(30 * time.Millisecond):
				ackHeld()
			}
		}
		ackHeld()
		waitFor(t, "every entry acknowledged", func() bool { return pendingCount(t, c, stream) == 0 })
		if len(seen) != n {
			t.Fatalf("%d distinct messages delivered, want %d", len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Fatalf("message %s delivered %d times", id, k)
			}
		}
		if peak != window {
			t.Fatalf("at most %d messages in hand at once, want the window of %d", peak, window)
		}
		// Acknowledged a window at a time, the reads and acknowledgements come in windows too
		// (one at a time would be 200 and 200).
		reads, acks := counter.get("xreadgroup"), counter.get("xack")
		if reads > n/3 || acks > n/3 {
			t.Fatalf("%d XREADGROUP and %d XACK for %d entries: not batched", reads, acks, n)
		}
		t.Logf("%d entries: %d XREADGROUP, %d XACK, peak in hand %d", n, reads, acks, peak)
	})
}

// With a window of one, messages go one at a time in stream order, each acknowledged before the
// next is delivered.
func TestWindowOfOneKeepsOrder(t *testing.T) {
	backends(t, func(t *testing.T, c redis.UniversalClient, prefix string) {
		stream := prefix + ":s2"
		addEntries(t, c, stream, 20)
		s := newSub(t, c, 1, nil)
		msgs, err := s.Subscribe(context.Background(), stream)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			m := <-msgs
			if want := fmt.Sprintf("m%03d", i); m.UUID != want {
				t.Fatalf("message %d is %s, want %s", i, m.UUID, want)
			}
			select {
			case extra := <-msgs:
				t.Fatalf("%s delivered while %s is unacknowledged", extra.UUID, m.UUID)
			case <-time.After(20 * time.Millisecond):
			}
			m.Ack()
		}
	})
}

// A nacked message comes back (a copy, with the same id) and is only acknowledged once acked;
// the others are not held up meanwhile.
func TestNackedMessageIsDeliveredAgain(t *testing.T) {
	backends(t, func(t *testing.T, c redis.UniversalClient, prefix string) {
		stream := prefix + ":s3"
		addEntries(t, c, stream, 3)
		s := newSub(t, c, 4, nil)
		msgs, err := s.Subscribe(context.Background(), stream)
		if err != nil {
			t.Fatal(err)
		}
		deliveries := map[string]int{}
		for done := 0; done < 3; {
			m := <-msgs
			deliveries[m.UUID]++
			if m.UUID == "m001" && deliveries[m.UUID] < 3 {
				m.Nack()
				continue
			}
			m.Ack()
			done++
		}
		if deliveries["m001"] != 3 || deliveries["m000"] != 1 || deliveries["m002"] != 1 {
			t.Fatalf("deliveries %v, want m001 three times and the others once", deliveries)
		}
		waitFor(t, "every entry acknowledged", func() bool { return pendingCount(t, c, stream) == 0 })
	})
}

// An entry another consumer left pending past MaxIdleTime is claimed and delivered; an entry
// pending for less is left alone.
func TestClaimsEntriesOfADeadConsumer(t *testing.T) {
	backends(t, func(t *testing.T, c redis.UniversalClient, prefix string) {
		ctx := context.Background()
		stream := prefix + ":s4"
		if err := c.XGroupCreateMkStream(ctx, stream, "g", "0").Err(); err != nil {
			t.Fatal(err)
		}
		addEntries(t, c, stream, 1)
		// A consumer that read the entry and died.
		if err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "dead", Streams: []string{stream, ">"}, Count: 1}).Err(); err != nil {
			t.Fatal(err)
		}
		s := newSub(t, c, 2, func(cfg *Config) {
			cfg.MaxIdleTime = 150 * time.Millisecond
			cfg.ClaimInterval = 50 * time.Millisecond
		})
		msgs, err := s.Subscribe(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		select {
		case m := <-msgs:
			if m.UUID != "m000" {
				t.Fatalf("claimed %s", m.UUID)
			}
			if waited := time.Since(start); waited < 100*time.Millisecond {
				t.Fatalf("claimed after %v, before the entry was idle for MaxIdleTime", waited)
			}
			m.Ack()
		case <-time.After(5 * time.Second):
			t.Fatal("the dead consumer's entry was never claimed")
		}
		waitFor(t, "the claimed entry acknowledged", func() bool { return pendingCount(t, c, stream) == 0 })
	})
}

// Close cancels the context of the messages in flight, acknowledges those acked meanwhile, leaves
// the others pending, and closes the channel.
func TestCloseLeavesUnfinishedMessagesPending(t *testing.T) {
	backends(t, func(t *testing.T, c redis.UniversalClient, prefix string) {
		stream := prefix + ":s5"
		addEntries(t, c, stream, 2)
		s := newSub(t, c, 2, nil)
		msgs, err := s.Subscribe(context.Background(), stream)
		if err != nil {
			t.Fatal(err)
		}
		a, b := <-msgs, <-msgs
		closed := make(chan struct{})
		go func() { _ = s.Close(); close(closed) }()
		select {
		case <-a.Context().Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not cancel the context of a message in flight")
		}
		select {
		case <-closed:
			t.Fatal("Close returned while messages were still in their handlers")
		case <-time.After(50 * time.Millisecond):
		}
		a.Ack()  // finished before seeing the shutdown
		b.Nack() // gave up on the shutdown
		<-closed
		if _, ok := <-msgs; ok {
			t.Fatal("the channel delivered after Close")
		}
		p, err := c.XPendingExt(context.Background(), &redis.XPendingExtArgs{Stream: stream, Group: "g", Start: "-", End: "+", Count: 10}).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 1 {
			t.Fatalf("%d entries pending after Close, want 1 (the nacked one)", len(p))
		}
	})
}

// A group lost while reading (a Redis restart without persistence) is reported to OnReadError,
// which recreates it, and reading goes on.
func TestLostGroupIsReported(t *testing.T) {
	backends(t, func(t *testing.T, c redis.UniversalClient, prefix string) {
		ctx := context.Background()
		stream := prefix + ":s6"
		var reported atomic.Int64
		s := newSub(t, c, 2, func(cfg *Config) {
			cfg.OnReadError = func(err error) {
				if redis.HasErrorPrefix(err, "NOGROUP") {
					reported.Add(1)
					_ = c.XGroupCreateMkStream(ctx, stream, "g", "0").Err()
				}
			}
		})
		msgs, err := s.Subscribe(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.XGroupDestroy(ctx, stream, "g").Err(); err != nil {
			t.Fatal(err)
		}
		addEntries(t, c, stream, 1)
		select {
		case m := <-msgs:
			m.Ack()
		case <-time.After(10 * time.Second):
			t.Fatal("nothing delivered after the group was lost")
		}
		if reported.Load() == 0 {
			t.Fatal("the lost group was not reported")
		}
	})
}

// nilClaims makes every XCLAIM answer one nil entry, as Redis 6.2 does for an entry no longer in
// the stream.
type nilClaims struct{}

func (nilClaims) DialHook(next redis.DialHook) redis.DialHook { return next }
func (nilClaims) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if c, ok := cmd.(*redis.XMessageSliceCmd); ok && strings.EqualFold(cmd.Name(), "xclaim") {
			c.SetVal([]redis.XMessage{{}})
			c.SetErr(nil)
			return nil
		}
		return err
	}
}
func (nilClaims) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A claimed entry that is gone from the stream is acknowledged (dropped from the pending list),
// never delivered as an empty message.
func TestClaimOfAnEntryGoneIsAcknowledged(t *testing.T) {
	backends(t, func(t *testing.T, c redis.UniversalClient, prefix string) {
		ctx := context.Background()
		stream := prefix + ":s7"
		if err := c.XGroupCreateMkStream(ctx, stream, "g", "0").Err(); err != nil {
			t.Fatal(err)
		}
		addEntries(t, c, stream, 1)
		if err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "dead", Streams: []string{stream, ">"}, Count: 1}).Err(); err != nil {
			t.Fatal(err)
		}
		opts := *c.(*redis.Client).Options()
		hooked := redis.NewClient(&opts)
		t.Cleanup(func() { hooked.Close() })
		hooked.AddHook(nilClaims{})
		s := newSub(t, hooked, 2, func(cfg *Config) {
			cfg.MaxIdleTime = 100 * time.Millisecond
			cfg.ClaimInterval = 50 * time.Millisecond
		})
		msgs, err := s.Subscribe(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the gone entry acknowledged", func() bool { return pendingCount(t, c, stream) == 0 })
		select {
		case m := <-msgs:
			t.Fatalf("delivered %q (%d bytes) for an entry gone from the stream", m.UUID, len(m.Payload))
		case <-time.After(100 * time.Millisecond):
		}
	})
}
