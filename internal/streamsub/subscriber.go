// Package streamsub is a watermill subscriber on a Redis Streams consumer group that reads and
// acknowledges in batches and keeps several messages in flight.
//
// watermill-redisstream's subscriber reads one entry per XREADGROUP, hands it to the router, waits
// for the handler, sends one XACK and only then reads the next: two round trips per message and one
// message at a time per consumer. On a two-core machine those round trips and the idle time between
// them were most of a consumer's cost (see BENCHMARKS.md). This subscriber keeps the same
// guarantees and the same Redis data (stream, group, pending entries list), so the two can be
// swapped on a live system:
//
//   - at most InFlight messages are delivered and not yet acknowledged; a read waits until half
//     the window is free and asks for as many entries as there are free slots (never more), so
//     nothing waits in memory unhandled while its idle time runs;
//   - an acknowledged message's id goes to one acknowledger, which sends every id waiting at that
//     moment in one XACK (group commit: no delay when idle, larger batches under load). An id whose
//     XACK is lost in a crash stays pending and is claimed and redelivered later, where the
//     idempotent consumer recognises it — the same outcome as a crash between handling and XACK
//     with the one-at-a-time subscriber;
//   - a nacked message is sent again after NackResendSleep, without holding up the others;
//   - entries pending longer than MaxIdleTime (their consumer died) are claimed every
//     ClaimInterval with XPENDING + XCLAIM (MinIdle, so two claimers never both win) and delivered;
//   - consumers idle for ConsumerTimeout with nothing pending are removed from the group;
//   - Close stops reading, cancels the context of the messages in flight (a shutdown is not a
//     failure: handlers that see it leave their message unacknowledged), waits up to CloseTimeout
//     for them to finish, sends the acknowledgements of those that finished, and closes the
//     output channel.
//
// Messages from one read are sent to the router in stream order; with InFlight above 1 the router
// runs them concurrently, like that many consumers would. Order per dossier or shipment is kept by
// the handlers (versions and locks), as it must be with several consumers anyway.
package streamsub

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"
)

// Unmarshaller turns a stream entry's fields into a message (store.Codec).
type Unmarshaller interface {
	Unmarshal(values map[string]any) (*message.Message, error)
}

// Config configures a Subscriber.
type Config struct {
	Client       redis.UniversalClient
	Unmarshaller Unmarshaller
	Group        string
	Consumer     string
	// InFlight is the most messages delivered and not yet acknowledged (and the largest read).
	InFlight int
	// BlockTime is how long one XREADGROUP waits for new entries.
	BlockTime time.Duration
	// NackResendSleep is the pause before a nacked message is delivered again.
	NackResendSleep time.Duration
	// MaxIdleTime: an entry pending this long is claimed from its consumer.
	MaxIdleTime    time.Duration
	ClaimInterval  time.Duration
	ClaimBatchSize int64
	// Consumers idle this long with nothing pending are removed from the group, checked every
	// CheckConsumersInterval.
	ConsumerTimeout        time.Duration
	CheckConsumersInterval time.Duration
	// OldestID is where a new group starts reading ("0": everything the stream holds).
	OldestID string
	// CloseTimeout bounds how long Close waits for the messages in flight.
	CloseTimeout time.Duration
	// OnReadError sees every failed read (e.g. to recreate a lost group); the loop goes on.
	OnReadError func(error)
	Log         *slog.Logger
}

func (c *Config) setDefaults() {
	if c.InFlight < 1 {
		c.InFlight = 1
	}
	if c.BlockTime <= 0 {
		c.BlockTime = time.Second
	}
	if c.NackResendSleep < 0 {
		c.NackResendSleep = 0
	}
	if c.MaxIdleTime <= 0 {
		c.MaxIdleTime = time.Minute
	}
	if c.ClaimInterval <= 0 {
		c.ClaimInterval = 5 * time.Second
	}
	if c.ClaimBatchSize <= 0 {
		c.ClaimBatchSize = 100
	}
	if c.ConsumerTimeout <= 0 {
		c.ConsumerTimeout = 10 * time.Minute
	}
	if c.CheckConsumersInterval <= 0 {
		c.CheckConsumersInterval = 5 * time.Minute
	}
	if c.OldestID == "" {
		c.OldestID = "0"
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = 30 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// maxAckBatch bounds the ids of one XACK.
const maxAckBatch = 1024

// Subscriber reads one consumer group as one consumer. It implements message.Subscriber.
type Subscriber struct {
	cfg     Config
	closing chan struct{}
	// stopped is closed when Close has waited CloseTimeout: deliveries give up waiting.
	stopped   chan struct{}
	closeOnce sync.Once
	subs      sync.WaitGroup
}

// New returns a subscriber; nothing is read before Subscribe.
func New(cfg Config) (*Subscriber, error) {
	if cfg.Client == nil || cfg.Unmarshaller == nil {
		return nil, errors.New("streamsub: a client and an unmarshaller are required")
	}
	if cfg.Group == "" || cfg.Consumer == "" {
		return nil, errors.New("streamsub: a group and a consumer name are required")
	}
	cfg.setDefaults()
	return &Subscriber{cfg: cfg, closing: make(chan struct{}), stopped: make(chan struct{})}, nil
}

// Subscribe creates the group when missing and starts reading stream.
func (s *Subscriber) Subscribe(ctx context.Context, stream string) (<-chan *message.Message, error) {
	select {
	case <-s.closing:
		return nil, errors.New("streamsub: subscriber closed")
	default:
	}
	err := s.cfg.Client.XGroupCreateMkStream(ctx, stream, s.cfg.Group, s.cfg.OldestID).Err()
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return nil, err
	}
	msgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sub := &subscription{
		Subscriber: s, stream: stream, out: make(chan *message.Message),
		slots: make(chan struct{}, s.cfg.InFlight), acks: make(chan string, s.cfg.InFlight),
		msgCtx: msgCtx, log: s.cfg.Log.With("stream", stream, "group", s.cfg.Group, "consumer", s.cfg.Consumer),
	}
	for range s.cfg.InFlight {
		sub.slots <- struct{}{}
	}
	s.subs.Add(1)
	go sub.run(ctx, cancel)
	return sub.out, nil
}

// Close stops every subscription: see the package documentation.
func (s *Subscriber) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		done := make(chan struct{})
		go func() { s.subs.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(s.cfg.CloseTimeout):
			close(s.stopped)
			<-done
		}
	})
	return nil
}

type subscription struct {
	*Subscriber
	stream string
	out    chan *message.Message
	// slots holds one token per message that may still be delivered.
	slots chan struct{}
	acks  chan string
	// msgCtx is every delivered message's context, cancelled by Close.
	msgCtx     context.Context
	deliveries sync.WaitGroup
	log        *slog.Logger
}

func (sub *subscription) run(ctx context.Context, cancelMessages context.CancelFunc) {
	defer sub.subs.Done()
	loopCtx, stopLoops := context.WithCancel(ctx)
	go func() {
		select {
		case <-sub.closing:
		case <-loopCtx.Done():
		}
		stopLoops()
		cancelMessages()
	}()
	ackerDone := make(chan struct{})
	go func() { defer close(ackerDone); sub.acker() }()

	var loops sync.WaitGroup
	loops.Add(3)
	go func() { defer loops.Done(); sub.claimLoop(loopCtx) }()
	go func() { defer loops.Done(); sub.checkConsumers(loopCtx) }()
	go func() { defer loops.Done(); sub.readLoop(loopCtx) }()
	loops.Wait()
	stopLoops()
	// Every delivery ends with an ack, a nack seen while closing, a cancelled context or Close's
	// timeout; then the acknowledger sends what it holds and the router sees the channel close.
	sub.deliveries.Wait()
	close(sub.acks)
	<-ackerDone
	close(sub.out)
}

// acquire waits until atLeast slots are free and takes them, then takes as many more as are free
// up to want; it returns how many it took (0 when ctx ended).
func (sub *subscription) acquire(ctx context.Context, atLeast, want int) int {
	n := 0
	for n < atLeast {
		select {
		case <-sub.slots:
			n++
		case <-ctx.Done():
			sub.release(n)
			return 0
		}
	}
	for n < want {
		select {
		case <-sub.slots:
			n++
		default:
			return n
		}
	}
	return n
}

func (sub *subscription) release(n int) {
	for range n {
		sub.slots <- struct{}{}
	}
}

func (sub *subscription) readLoop(ctx context.Context) {
	for ctx.Err() == nil {
		// Read when half the window is free (at least one slot): acknowledgements come one by
		// one, and reading at the first free slot would read one entry at a time under load.
		n := sub.acquire(ctx, (sub.cfg.InFlight+1)/2, sub.cfg.InFlight)
		if n == 0 {
			return
		}
		res, err := sub.cfg.Client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: sub.cfg.Group, Consumer: sub.cfg.Consumer, Streams: []string{sub.stream, ">"},
			Count: int64(n), Block: sub.cfg.BlockTime,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			sub.release(n)
			if ctx.Err() != nil {
				return
			}
			if sub.cfg.OnReadError != nil {
				sub.cfg.OnReadError(err)
			}
			sub.log.Error("reading stream", "err", err)
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		used := 0
		for _, xs := range res {
			for i := range xs.Messages {
				if used == n {
					break // cannot happen (COUNT n), but a slot is never overdrawn
				}
				used++
				if !sub.deliver(ctx, xs.Messages[i]) {
					sub.release(n - used)
					return
				}
			}
		}
		sub.release(n - used)
	}
}

// deliver sends one entry to the router and follows it to its ack or nack in the background;
// its slot is given back then. It returns false when the subscription is closing (the entry
// stays pending for a later delivery or claim).
func (sub *subscription) deliver(ctx context.Context, xm redis.XMessage) bool {
	msg, err := sub.cfg.Unmarshaller.Unmarshal(xm.Values)
	if err != nil {
		// store.Codec never fails; another unmarshaller's failure leaves the entry pending.
		sub.log.Error("decoding stream entry", "id", xm.ID, "err", err)
		sub.release(1)
		return true
	}
	msg.SetContext(sub.msgCtx)
	select {
	case sub.out <- msg:
	case <-ctx.Done():
		sub.release(1)
		return false
	}
	sub.deliveries.Add(1)
	go sub.follow(ctx, xm.ID, msg)
	return true
}

func (sub *subscription) follow(ctx context.Context, id string, msg *message.Message) {
	defer sub.deliveries.Done()
	defer sub.release(1)
	for {
		select {
		case <-msg.Acked():
			sub.acks <- id
			return
		case <-msg.Nacked():
		case <-sub.stopped:
			return
		}
		if ctx.Err() != nil || !sleep(ctx, sub.cfg.NackResendSleep) {
			return
		}
		msg = msg.Copy()
		msg.SetContext(sub.msgCtx)
		select {
		case sub.out <- msg:
		case <-ctx.Done():
			return
		}
	}
}

// acker sends the waiting acknowledgements in one XACK each time, until acks is closed.
func (sub *subscription) acker() {
	ids := make([]string, 0, maxAckBatch)
	for id := range sub.acks {
		ids = append(ids[:0], id)
	more:
		for len(ids) < maxAckBatch {
			select {
			case id, ok := <-sub.acks:
				if !ok {
					break more
				}
				ids = append(ids, id)
			default:
				break more
			}
		}
		sub.ack(ids)
	}
}

// ack sends one XACK, retrying while Redis fails (an unacknowledged entry would be handled again);
// it gives up only when Close has timed out.
func (sub *subscription) ack(ids []string) {
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := sub.cfg.Client.XAck(ctx, sub.stream, sub.cfg.Group, ids...).Err()
		cancel()
		if err == nil {
			return
		}
		sub.log.Error("acknowledging messages", "count", len(ids), "attempt", attempt+1, "err", err)
		select {
		case <-sub.stopped:
			return
		case <-time.After(min(100*time.Millisecond<<min(attempt, 5), 3*time.Second)):
		}
	}
}

// claimLoop claims entries other consumers left pending for MaxIdleTime: at once, then every
// ClaimInterval.
func (sub *subscription) claimLoop(ctx context.Context) {
	t := time.NewTicker(sub.cfg.ClaimInterval)
	defer t.Stop()
	for {
		if !sub.claim(ctx) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// claim claims and delivers one round of idle entries; false when the subscription is closing.
func (sub *subscription) claim(ctx context.Context) bool {
	for ctx.Err() == nil {
		pending, err := sub.cfg.Client.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: sub.stream, Group: sub.cfg.Group, Idle: sub.cfg.MaxIdleTime,
			Start: "-", End: "+", Count: sub.cfg.ClaimBatchSize,
		}).Result()
		if err != nil {
			if ctx.Err() == nil {
				sub.log.Error("listing pending entries", "err", err)
			}
			return ctx.Err() == nil
		}
		for _, p := range pending {
			if p.Idle < sub.cfg.MaxIdleTime {
				continue
			}
			if sub.acquire(ctx, 1, 1) == 0 {
				return false
			}
			msgs, err := sub.cfg.Client.XClaim(ctx, &redis.XClaimArgs{
				Stream: sub.stream, Group: sub.cfg.Group, Consumer: sub.cfg.Consumer,
				MinIdle: sub.cfg.MaxIdleTime, Messages: []string{p.ID},
			}).Result()
			switch {
			case err != nil && !errors.Is(err, redis.Nil):
				sub.release(1)
				if ctx.Err() == nil {
					sub.log.Error("claiming pending entry", "id", p.ID, "err", err)
				}
				return ctx.Err() == nil
			case len(msgs) == 0 || msgs[0].ID == "":
				// Another consumer claimed it first (nothing returned), or the entry is gone from
				// the stream: Redis 7 drops it from the pending list itself, Redis 6.2 answers a nil
				// entry and keeps it there; nothing can deliver it, so acknowledge it.
				sub.release(1)
				if errors.Is(err, redis.Nil) || len(msgs) > 0 {
					_ = sub.cfg.Client.XAck(ctx, sub.stream, sub.cfg.Group, p.ID).Err()
				}
			default:
				if !sub.deliver(ctx, msgs[0]) {
					return false
				}
			}
		}
		if int64(len(pending)) < sub.cfg.ClaimBatchSize {
			return true
		}
	}
	return false
}

// checkConsumers removes consumers of the group idle for ConsumerTimeout with nothing pending
// (replicas that went away), every CheckConsumersInterval.
func (sub *subscription) checkConsumers(ctx context.Context) {
	t := time.NewTicker(sub.cfg.CheckConsumersInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		consumers, err := sub.cfg.Client.XInfoConsumers(ctx, sub.stream, sub.cfg.Group).Result()
		if err != nil {
			if ctx.Err() == nil {
				sub.log.Error("listing consumers", "err", err)
			}
			continue
		}
		for _, c := range consumers {
			if c.Idle >= sub.cfg.ConsumerTimeout && c.Pending == 0 && c.Name != sub.cfg.Consumer {
				if err := sub.cfg.Client.XGroupDelConsumer(ctx, sub.stream, sub.cfg.Group, c.Name).Err(); err != nil {
					sub.log.Error("removing idle consumer", "name", c.Name, "err", err)
				}
			}
		}
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
