package routing

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
)

const testHandler = "dossier_status_to_portal"

// errPartnerDown is what a handler returns when the partner is unreachable (transient).
var errPartnerDown = &failure.StatusError{Partner: "dvcqg", Operation: "sync_dossier", StatusCode: 503}

func newTestMetrics() *observability.Metrics {
	return observability.NewMetrics(prometheus.NewRegistry())
}

// newDelivery is one delivery of a stream entry: a fresh message, as the subscriber builds it.
func newDelivery(t *testing.T, uuid string) *message.Message {
	t.Helper()
	msg := message.NewMessage(uuid, []byte(`{"MaHoSo":"000.00.00.H00-250101-0001"}`))
	msg.Metadata.Set(MetaCorrelationID, "corr-"+uuid)
	msg.SetContext(t.Context())
	return msg
}

// countingHandler counts its calls and answers with what next returns.
type countingHandler struct {
	calls atomic.Int32
	next  func(msg *message.Message) ([]*message.Message, error)
}

func (c *countingHandler) handle(msg *message.Message) ([]*message.Message, error) {
	c.calls.Add(1)
	if c.next == nil {
		return nil, nil
	}
	return c.next(msg)
}

func failWith(err error) func(*message.Message) ([]*message.Message, error) {
	return func(*message.Message) ([]*message.Message, error) { return nil, err }
}

func handlerOutcome(m *observability.Metrics, name string) float64 {
	return testutil.ToFloat64(m.HandlerOutcomes.WithLabelValues(testHandler, name))
}

func newIdempotent(s *store.Store, m *observability.Metrics) idempotentConsumer {
	return idempotentConsumer{handler: testHandler, store: s, lease: time.Minute, ttl: time.Hour, metrics: m}
}

// TestIdempotentConsumerHandlesOnce: after a success, further deliveries of the same message are
// acknowledged without handling; other messages, and the same message in another handler, are
// still handled.
func TestIdempotentConsumerHandlesOnce(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	m := newTestMetrics()
	emitted := message.NewMessage("out-1", []byte("{}"))
	h := &countingHandler{next: func(*message.Message) ([]*message.Message, error) {
		return []*message.Message{emitted}, nil
	}}
	handle := newIdempotent(s, m).Middleware(h.handle)

	out, err := handle(newDelivery(t, "msg-1"))
	if err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if len(out) != 1 || out[0] != emitted {
		t.Errorf("first delivery returned %v, want the handler's messages", out)
	}
	for i := range 3 {
		out, err := handle(newDelivery(t, "msg-1"))
		if err != nil || out != nil {
			t.Fatalf("repeat delivery %d: %v, %v; want nil, nil (acknowledged)", i+1, out, err)
		}
	}
	if got := h.calls.Load(); got != 1 {
		t.Fatalf("handler called %d times for one message, want 1", got)
	}
	if ttl := s.Client.TTL(t.Context(), s.Keys.Handled(testHandler, "msg-1")).Val(); ttl <= time.Minute || ttl > time.Hour {
		t.Errorf("done mark expires in %v, want the idempotency TTL (1h), not the lease", ttl)
	}
	if got := handlerOutcome(m, "duplicate"); got != 3 {
		t.Errorf("duplicate outcomes %v, want 3", got)
	}
	if got := handlerOutcome(m, "ok"); got != 1 {
		t.Errorf("ok outcomes %v, want 1", got)
	}

	if _, err := handle(newDelivery(t, "msg-2")); err != nil {
		t.Fatalf("another message: %v", err)
	}
	other := idempotentConsumer{handler: "payment_confirmed_to_onestop", store: s, lease: time.Minute, ttl: time.Hour, metrics: m}
	if _, err := other.Middleware(h.handle)(newDelivery(t, "msg-1")); err != nil {
		t.Fatalf("same message in another handler: %v", err)
	}
	if got := h.calls.Load(); got != 3 {
		t.Errorf("handler called %d times, want 3 (msg-1, msg-2, msg-1 in another handler)", got)
	}
}

// TestIdempotentConsumerForgetsFailures: a failed delivery drops its mark and returns the error
// unchanged, so the message is handled again later and a failure never swallows it.
func TestIdempotentConsumerForgetsFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
	}{
		{name: "transient", err: errPartnerDown},
		{name: "permanent", err: failure.Permanentf("dossier %s rejected", "H00-1")},
		{name: "shutdown", err: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t)
			h := &countingHandler{next: failWith(tt.err)}
			handle := newIdempotent(s, newTestMetrics()).Middleware(h.handle)

			if _, err := handle(newDelivery(t, "msg-1")); err != tt.err {
				t.Fatalf("failed delivery returned %v, want the handler's error unchanged", err)
			}
			if n := s.Client.Exists(t.Context(), s.Keys.Handled(testHandler, "msg-1")).Val(); n != 0 {
				t.Errorf("the mark of a failed delivery is still there")
			}
			h.next = nil
			if _, err := handle(newDelivery(t, "msg-1")); err != nil {
				t.Fatalf("later delivery: %v", err)
			}
			if got := h.calls.Load(); got != 2 {
				t.Errorf("handler called %d times, want 2 (the failure and the later delivery)", got)
			}
		})
	}
}

// TestIdempotentConsumerForgetsFailureAfterCancellation: the mark is dropped even when the
// delivery's context was cancelled while handling (a shutdown), or the message would be skipped
// as in progress until the lease ran out.
func TestIdempotentConsumerForgetsFailureAfterCancellation(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	h := &countingHandler{}
	ctx, cancel := context.WithCancel(t.Context())
	h.next = func(*message.Message) ([]*message.Message, error) {
		cancel()
		return nil, context.Canceled
	}
	handle := newIdempotent(s, newTestMetrics()).Middleware(h.handle)
	msg := newDelivery(t, "msg-1")
	msg.SetContext(ctx)
	if _, err := handle(msg); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled delivery: %v, want context.Canceled", err)
	}
	if n := s.Client.Exists(t.Context(), s.Keys.Handled(testHandler, "msg-1")).Val(); n != 0 {
		t.Errorf("the in-progress mark of a cancelled delivery is still there")
	}
}

// TestIdempotentConsumerRefusesConcurrentDelivery: while one delivery is being handled, another
// delivery of the same message (a claim racing a slow handler) is not handled: it gets
// errInProgress, which the park layer treats as transient and parks for later.
func TestIdempotentConsumerRefusesConcurrentDelivery(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	m := newTestMetrics()
	entered := make(chan struct{})
	release := make(chan struct{})
	h := &countingHandler{next: func(*message.Message) ([]*message.Message, error) {
		close(entered)
		<-release
		return nil, nil
	}}
	idem := newIdempotent(s, m)
	handle := idem.Middleware(h.handle)

	first := make(chan error, 1)
	go func() {
		_, err := handle(newDelivery(t, "msg-1"))
		first <- err
	}()
	<-entered

	_, err := handle(newDelivery(t, "msg-1"))
	if !errors.Is(err, errInProgress) {
		t.Fatalf("concurrent delivery: %v, want errInProgress", err)
	}
	if k := failure.Classify(err); k != failure.Transient {
		t.Errorf("errInProgress classified %v, want transient", k)
	}
	if ttl := s.Client.PTTL(t.Context(), s.Keys.Handled(testHandler, "msg-1")).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("in-progress mark expires in %v, want within the lease (1m)", ttl)
	}

	// Through the park layer, as in the router: the concurrent delivery is parked and acknowledged.
	sch := newTestSchedule(t, s)
	parkLayer := parkTransient{handler: testHandler, schedule: sch, metrics: m, log: discardLogger(),
		paused: func() (bool, time.Time) { return false, time.Time{} }}
	out, err := parkLayer.Middleware(handle)(newDelivery(t, "msg-1"))
	if err != nil || out != nil {
		t.Errorf("concurrent delivery through the park layer: %v, %v; want parked (nil, nil)", out, err)
	}
	if n, _, _ := sch.Len(t.Context()); n != 1 {
		t.Errorf("%d parked, want the concurrent delivery parked", n)
	}

	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if got := h.calls.Load(); got != 1 {
		t.Errorf("handler called %d times, want 1: a concurrent delivery was handled", got)
	}
	// Once the first delivery is done, the parked copy coming back is a duplicate.
	if out, err := handle(newDelivery(t, "msg-1")); err != nil || out != nil {
		t.Errorf("delivery after success: %v, %v; want acknowledged as a duplicate", out, err)
	}
	if got := h.calls.Load(); got != 1 {
		t.Errorf("handler called %d times, want 1", got)
	}
}

// TestIdempotentConsumerLeaseExpires: a consumer that died mid-message leaves a mark that expires
// after the lease; the message is then handled by another delivery.
func TestIdempotentConsumerLeaseExpires(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	key := s.Keys.Handled(testHandler, "msg-1")
	if err := s.Client.Set(t.Context(), key, markInProgress, 200*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	h := &countingHandler{}
	handle := newIdempotent(s, newTestMetrics()).Middleware(h.handle)
	if _, err := handle(newDelivery(t, "msg-1")); !errors.Is(err, errInProgress) {
		t.Fatalf("delivery during a dead consumer's lease: %v, want errInProgress", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := handle(newDelivery(t, "msg-1"))
		if err == nil {
			break
		}
		if !errors.Is(err, errInProgress) || time.Now().After(deadline) {
			t.Fatalf("delivery after the lease: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := h.calls.Load(); got != 1 {
		t.Errorf("handler called %d times, want 1", got)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// parkFixture is a park layer over a real schedule whose delays are one and ten minutes.
type parkFixture struct {
	store    *store.Store
	schedule *Schedule
	metrics  *observability.Metrics
	paused   atomic.Pointer[time.Time] // non-nil: paused until then
}

func newParkFixture(t *testing.T) *parkFixture {
	t.Helper()
	s := newTestStore(t)
	return &parkFixture{store: s, schedule: newTestSchedule(t, s, time.Minute, 10*time.Minute), metrics: newTestMetrics()}
}

func (f *parkFixture) middleware(h message.HandlerFunc) message.HandlerFunc {
	return parkTransient{handler: testHandler, schedule: f.schedule, metrics: f.metrics, log: discardLogger(),
		paused: func() (bool, time.Time) {
			if until := f.paused.Load(); until != nil {
				return true, *until
			}
			return false, time.Time{}
		}}.Middleware(h)
}

// parkedMessage returns the one parked message (moved back to the stream to read it) and its due
// time.
func (f *parkFixture) parkedMessage(t *testing.T) (*message.Message, time.Time) {
	t.Helper()
	n, due, err := f.schedule.Len(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("%d parked (%v), want 1", n, err)
	}
	if moved, err := f.schedule.MoveDue(t.Context(), due, 10); err != nil || moved != 1 {
		t.Fatalf("moving the parked message back: %d, %v", moved, err)
	}
	msgs := streamMessages(t, f.store)
	if len(msgs) != 1 {
		t.Fatalf("stream holds %d entries, want 1", len(msgs))
	}
	return msgs[0], due
}

func (f *parkFixture) parkedCount(t *testing.T) int64 {
	t.Helper()
	n, _, err := f.schedule.Len(t.Context())
	if err != nil {
		t.Fatalf("Len: %v", err)
	}
	return n
}

// TestParkTransientParksAndAcknowledges: a transient failure is parked for the next delay of the
// schedule with its attempt counted and the failure noted, and the delivery is acknowledged.
func TestParkTransientParksAndAcknowledges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		attempt     string // metadata of the failing delivery
		err         error
		wantAttempt string
		wantDelay   time.Duration
	}{
		{name: "first failure", attempt: "", err: errPartnerDown, wantAttempt: "1", wantDelay: time.Minute},
		{name: "attempt zero", attempt: "0", err: errPartnerDown, wantAttempt: "1", wantDelay: time.Minute},
		{name: "second delayed retry", attempt: "1", err: errPartnerDown, wantAttempt: "2", wantDelay: 10 * time.Minute},
		{name: "unknown error", attempt: "", err: errors.New("connection reset by peer"), wantAttempt: "1", wantDelay: time.Minute},
		{name: "explicitly transient", attempt: "1", err: failure.MarkTransient(failure.Permanentf("bad data")), wantAttempt: "2", wantDelay: 10 * time.Minute},
		{name: "deadline exceeded", attempt: "", err: context.DeadlineExceeded, wantAttempt: "1", wantDelay: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newParkFixture(t)
			msg := newDelivery(t, "msg-1")
			if tt.attempt != "" {
				msg.Metadata.Set(MetaAttempt, tt.attempt)
			}
			before := time.Now()
			out, err := f.middleware(failWith(tt.err))(msg)
			after := time.Now()
			if err != nil || out != nil {
				t.Fatalf("parked delivery returned %v, %v; want nil, nil so it is acknowledged", out, err)
			}
			if got := msg.Metadata.Get(MetaAttempt); got != tt.attempt {
				t.Errorf("the delivered message's metadata changed: attempt %q", got)
			}

			parked, due := f.parkedMessage(t)
			if got := parked.Metadata.Get(MetaAttempt); got != tt.wantAttempt {
				t.Errorf("parked attempt %q, want %q", got, tt.wantAttempt)
			}
			if got := parked.Metadata.Get(MetaLastError); !strings.HasPrefix(got, "transient: ") || !strings.Contains(got, tt.err.Error()) {
				t.Errorf("parked last_error %q, want the class and the error", got)
			}
			if parked.UUID != msg.UUID || string(parked.Payload) != string(msg.Payload) ||
				parked.Metadata.Get(MetaCorrelationID) != msg.Metadata.Get(MetaCorrelationID) {
				t.Errorf("parked message %s %q %v differs from the delivery", parked.UUID, parked.Payload, parked.Metadata)
			}
			lo, hi := before.Add(tt.wantDelay).Truncate(time.Millisecond), after.Add(tt.wantDelay)
			if due.Before(lo) || due.After(hi) {
				t.Errorf("due %v, want %v after the failure", due, tt.wantDelay)
			}
			if got := handlerOutcome(f.metrics, "parked"); got != 1 {
				t.Errorf("parked outcomes %v, want 1", got)
			}
		})
	}
}

// TestParkTransientPassesOtherFailures: permanent failures go on, unchanged, to the poison queue;
// shutdowns go on unchanged and unacknowledged. Neither is parked.
func TestParkTransientPassesOtherFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		err          error
		wantOutcome  string
		deadLettered bool
	}{
		{name: "permanent mark", err: failure.Permanentf("dossier code %s unknown", "H00-1"), wantOutcome: "dead_lettered", deadLettered: true},
		{name: "4xx answer", err: &failure.StatusError{Partner: "dvcqg", Operation: "sync_dossier", StatusCode: 422}, wantOutcome: "dead_lettered", deadLettered: true},
		{name: "non-retryable protocol error", err: &failure.ProtocolError{Partner: "dvcqg", Operation: "sync_dossier", Code: "-1"}, wantOutcome: "dead_lettered", deadLettered: true},
		{name: "shutdown", err: context.Canceled, wantOutcome: "returned"},
		{name: "wrapped shutdown", err: errors.Join(errors.New("calling dvcqg"), context.Canceled), wantOutcome: "returned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newParkFixture(t)
			_, err := f.middleware(failWith(tt.err))(newDelivery(t, "msg-1"))
			if err != tt.err {
				t.Fatalf("returned %v, want the handler's error unchanged", err)
			}
			if n := f.parkedCount(t); n != 0 {
				t.Errorf("%d parked, want none", n)
			}
			if got := handlerOutcome(f.metrics, tt.wantOutcome); got != 1 {
				t.Errorf("%s outcomes %v, want 1", tt.wantOutcome, got)
			}
			if got := handlerOutcome(f.metrics, "parked"); got != 0 {
				t.Errorf("parked outcomes %v, want 0", got)
			}
			wantDL := 0.0
			if tt.deadLettered {
				wantDL = 1
			}
			if got := testutil.ToFloat64(f.metrics.DeadLetters.WithLabelValues(testHandler, "permanent")); got != wantDL {
				t.Errorf("dead letters (permanent) %v, want %v", got, wantDL)
			}
		})
	}
}

// TestParkTransientExhausted: past the end of the schedule a transient failure becomes
// permanent, wrapping errExhausted and the failure, so the poison queue dead-letters it.
func TestParkTransientExhausted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		attempt string
	}{
		{name: "at the end of the schedule", attempt: "2"},
		{name: "beyond it", attempt: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newParkFixture(t)
			msg := newDelivery(t, "msg-1")
			msg.Metadata.Set(MetaAttempt, tt.attempt)
			_, err := f.middleware(failWith(errPartnerDown))(msg)
			if !errors.Is(err, errExhausted) {
				t.Fatalf("returned %v, want errExhausted", err)
			}
			if !errors.Is(err, errPartnerDown) {
				t.Errorf("the exhausted error lost the failure: %v", err)
			}
			if !failure.IsPermanent(err) || !shouldDeadLetter(err) {
				t.Errorf("exhausted error %v is not permanent: the poison queue would let it through", err)
			}
			if n := f.parkedCount(t); n != 0 {
				t.Errorf("%d parked, want none", n)
			}
			if got := testutil.ToFloat64(f.metrics.DeadLetters.WithLabelValues(testHandler, "exhausted")); got != 1 {
				t.Errorf("dead letters (exhausted) %v, want 1", got)
			}
		})
	}
}

// TestParkTransientWhilePaused: a failure while the partner is paused waits for the end of the
// pause and does not use up the schedule, even at its end.
func TestParkTransientWhilePaused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		attempt string
		err     error
	}{
		{name: "paused partner refused the call", attempt: "1", err: failure.ErrPartnerPaused},
		{name: "other transient failure during a pause", attempt: "1", err: errPartnerDown},
		{name: "at the end of the schedule", attempt: "2", err: errPartnerDown},
		{name: "first delivery", attempt: "", err: failure.ErrPartnerPaused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newParkFixture(t)
			until := time.Now().Add(3 * time.Hour).Truncate(time.Millisecond)
			f.paused.Store(&until)
			msg := newDelivery(t, "msg-1")
			if tt.attempt != "" {
				msg.Metadata.Set(MetaAttempt, tt.attempt)
			}
			out, err := f.middleware(failWith(tt.err))(msg)
			if err != nil || out != nil {
				t.Fatalf("returned %v, %v; want parked (nil, nil)", out, err)
			}
			parked, due := f.parkedMessage(t)
			wantAttempt := tt.attempt
			if wantAttempt == "" {
				wantAttempt = "0"
			}
			if got := parked.Metadata.Get(MetaAttempt); got != wantAttempt {
				t.Errorf("parked attempt %q, want %q: a pause used up the schedule", got, wantAttempt)
			}
			if !due.Equal(until) {
				t.Errorf("due %v, want the end of the pause %v", due, until)
			}
		})
	}
}

var errRedisDown = errors.New("redis is down")

// failingRedis fails every command.
type failingRedis struct{}

func (failingRedis) DialHook(next redis.DialHook) redis.DialHook { return next }

func (failingRedis) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(_ context.Context, cmd redis.Cmder) error {
		cmd.SetErr(errRedisDown)
		return errRedisDown
	}
}

func (failingRedis) ProcessPipelineHook(redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(_ context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			cmd.SetErr(errRedisDown)
		}
		return errRedisDown
	}
}

// TestParkTransientDoesNotAcknowledgeWhenParkingFails: a message that could not be parked is not
// acknowledged (the stream keeps it), and is not dead-lettered either.
func TestParkTransientDoesNotAcknowledgeWhenParkingFails(t *testing.T) {
	t.Parallel()
	// A client whose every command fails, as when Redis is down, without dialling anything.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	down.AddHook(failingRedis{})
	t.Cleanup(func() { down.Close() })
	s := &store.Store{Client: down, Keys: store.Keys{Prefix: "down"}}
	m := newTestMetrics()
	p := parkTransient{handler: testHandler, schedule: newTestSchedule(t, s), metrics: m, log: discardLogger(),
		paused: func() (bool, time.Time) { return false, time.Time{} }}
	_, err := p.Middleware(failWith(errPartnerDown))(newDelivery(t, "msg-1"))
	if err == nil {
		t.Fatal("returned nil: a message that was not parked would be acknowledged and lost")
	}
	if !errors.Is(err, errPartnerDown) || !errors.Is(err, errRedisDown) {
		t.Errorf("returned %v, want the handler's failure and the parking failure in it", err)
	}
	if shouldDeadLetter(err) {
		t.Errorf("%v would be dead-lettered; it must be redelivered", err)
	}
	if got := handlerOutcome(m, "parked"); got != 0 {
		t.Errorf("parked outcomes %v, want 0", got)
	}
}

// TestShortRetry: transient failures are retried up to the limit; permanent failures, shutdowns,
// pauses and in-progress refusals are not retried at all.
func TestShortRetry(t *testing.T) {
	t.Parallel()
	const retries = 3
	tests := []struct {
		name      string
		errs      []error // the handler's answers in order; nil once they run out
		wantCalls int32
	}{
		{name: "transient every time", errs: repeatErr(errPartnerDown, 10), wantCalls: retries + 1},
		{name: "transient then success", errs: []error{errPartnerDown, errPartnerDown}, wantCalls: 3},
		{name: "success", wantCalls: 1},
		{name: "permanent", errs: repeatErr(failure.Permanentf("rejected"), 10), wantCalls: 1},
		{name: "4xx", errs: repeatErr(error(&failure.StatusError{StatusCode: 400}), 10), wantCalls: 1},
		{name: "transient then permanent", errs: []error{errPartnerDown, failure.Permanentf("rejected"), errPartnerDown}, wantCalls: 2},
		{name: "shutdown", errs: repeatErr(context.Canceled, 10), wantCalls: 1},
		{name: "paused", errs: repeatErr(failure.ErrPartnerPaused, 10), wantCalls: 1},
		{name: "in progress", errs: repeatErr(errInProgress, 10), wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newTestMetrics()
			var calls atomic.Int32
			h := func(*message.Message) ([]*message.Message, error) {
				n := calls.Add(1)
				if int(n) <= len(tt.errs) {
					return nil, tt.errs[n-1]
				}
				return nil, nil
			}
			_, err := shortRetry(testHandler, retries, time.Millisecond, m)(h)(newDelivery(t, "msg-1"))
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("handler called %d times, want %d", got, tt.wantCalls)
			}
			var want error
			if tt.wantCalls <= int32(len(tt.errs)) {
				want = tt.errs[tt.wantCalls-1]
			}
			if err != want {
				t.Errorf("returned %v, want the last answer %v", err, want)
			}
		})
	}
}

func repeatErr(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// TestShortRetryCountsRetries: the retries metric counts the retries that happened.
func TestShortRetryCountsRetries(t *testing.T) {
	t.Parallel()
	const retries = 3
	tests := []struct {
		name        string
		failures    int32
		wantRetries float64
	}{
		{name: "no failure", failures: 0, wantRetries: 0},
		{name: "one failure then success", failures: 1, wantRetries: 1},
		{name: "success on the last retry", failures: retries, wantRetries: retries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newTestMetrics()
			var calls atomic.Int32
			h := func(*message.Message) ([]*message.Message, error) {
				if calls.Add(1) <= tt.failures {
					return nil, errPartnerDown
				}
				return nil, nil
			}
			_, _ = shortRetry(testHandler, retries, time.Millisecond, m)(h)(newDelivery(t, "msg-1"))
			if happened := float64(calls.Load() - 1); happened != tt.wantRetries {
				t.Fatalf("%v retries happened, want %v", happened, tt.wantRetries)
			}
			if got := testutil.ToFloat64(m.Retries.WithLabelValues(testHandler)); got != tt.wantRetries {
				t.Errorf("retries metric %v, want %v (the retries that happened)", got, tt.wantRetries)
			}
		})
	}
}

// TestShortRetryMetricSkipsTheFinalFailure: when every attempt fails, watermill's Retry still calls
// ShouldRetry after the last attempt (before it checks MaxRetries); that call must not count as a
// retry in gateway_handler_retries_total.
func TestShortRetryMetricSkipsTheFinalFailure(t *testing.T) {
	t.Parallel()
	const retries = 3
	m := newTestMetrics()
	var calls atomic.Int32
	h := func(*message.Message) ([]*message.Message, error) {
		calls.Add(1)
		return nil, errPartnerDown
	}
	if _, err := shortRetry(testHandler, retries, time.Millisecond, m)(h)(newDelivery(t, "msg-1")); err != errPartnerDown {
		t.Fatalf("returned %v, want the last failure", err)
	}
	if got := calls.Load(); got != retries+1 {
		t.Fatalf("handler called %d times, want %d", got, retries+1)
	}
	if got := testutil.ToFloat64(m.Retries.WithLabelValues(testHandler)); got != retries {
		t.Errorf("retries metric %v after %d retries: the final failure was counted as a retry", got, retries)
	}
}

type deliveryCtxKey struct{}

// TestTimeoutRestoresContext: the handler runs under its own deadline, with the delivery's
// context values, and the message holds the delivery's own context again afterwards, uncancelled,
// so the layers outside can still use it.
func TestTimeoutRestoresContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// slow handlers wait for their deadline and return its error; the others return err.
		slow bool
		err  error
	}{
		{name: "success"},
		{name: "failure", err: errPartnerDown},
		{name: "deadline exceeded", slow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			orig := context.WithValue(t.Context(), deliveryCtxKey{}, "delivery")
			msg := newDelivery(t, "msg-1")
			msg.SetContext(orig)
			var seen context.Context
			h := func(m *message.Message) ([]*message.Message, error) {
				seen = m.Context()
				if tt.slow {
					<-seen.Done()
					return nil, seen.Err()
				}
				return nil, tt.err
			}
			_, err := timeout(50 * time.Millisecond)(h)(msg)
			switch {
			case tt.slow && !errors.Is(err, context.DeadlineExceeded):
				t.Errorf("returned %v, want the attempt's deadline exceeded", err)
			case !tt.slow && err != tt.err:
				t.Errorf("returned %v, want %v", err, tt.err)
			}
			if _, ok := seen.Deadline(); !ok {
				t.Error("the handler ran without a deadline")
			}
			if seen.Value(deliveryCtxKey{}) != "delivery" {
				t.Error("the attempt's context lost the delivery's values")
			}
			if seen.Err() == nil {
				t.Error("the attempt's context was not released after the attempt")
			}
			if msg.Context() != orig {
				t.Error("the message does not hold the delivery's context again")
			}
			if err := msg.Context().Err(); err != nil {
				t.Errorf("the message's context after the middleware: %v, want not cancelled", err)
			}
		})
	}
}

// TestTimeoutOutlivesDeliveryCancellation: a shutdown (the delivery's context cancelled) does not
// cut the attempt under way; it keeps its own deadline and finishes, and the message then holds
// the delivery's context again.
func TestTimeoutOutlivesDeliveryCancellation(t *testing.T) {
	t.Parallel()
	orig, shutdown := context.WithCancel(t.Context())
	msg := newDelivery(t, "msg-1")
	msg.SetContext(orig)
	h := func(m *message.Message) ([]*message.Message, error) {
		shutdown()
		if err := m.Context().Err(); err != nil {
			return nil, err
		}
		if _, ok := m.Context().Deadline(); !ok {
			return nil, failure.Permanentf("the attempt has no deadline")
		}
		return nil, nil
	}
	if _, err := timeout(time.Minute)(h)(msg); err != nil {
		t.Fatalf("attempt during a shutdown: %v, want it to finish", err)
	}
	if msg.Context() != orig {
		t.Error("the message does not hold the delivery's context again")
	}
}

// TestShortRetryWithTimeoutGivesEachAttemptAFreshDeadline: in the router's order (retry outside
// timeout), an attempt that ran out of time does not leave the next one a dead context.
func TestShortRetryWithTimeoutGivesEachAttemptAFreshDeadline(t *testing.T) {
	t.Parallel()
	orig := t.Context()
	msg := newDelivery(t, "msg-1")
	msg.SetContext(orig)
	var attempts []context.Context
	h := func(m *message.Message) ([]*message.Message, error) {
		ctx := m.Context()
		attempts = append(attempts, ctx)
		if err := ctx.Err(); err != nil {
			return nil, failure.Permanentf("attempt %d started with a dead context: %w", len(attempts), err)
		}
		if len(attempts) < 3 {
			// The partner is slow: the attempt runs out of time.
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, nil
	}
	handle := shortRetry(testHandler, 3, time.Millisecond, newTestMetrics())(timeout(50 * time.Millisecond)(h))
	if _, err := handle(msg); err != nil {
		t.Fatalf("returned %v, want success on the third attempt", err)
	}
	if len(attempts) != 3 {
		t.Fatalf("%d attempts, want 3", len(attempts))
	}
	deadlines := map[time.Time]bool{}
	for i, ctx := range attempts {
		d, ok := ctx.Deadline()
		if !ok {
			t.Fatalf("attempt %d had no deadline", i+1)
		}
		deadlines[d] = true
	}
	if len(deadlines) != 3 {
		t.Errorf("attempts shared deadlines: %v", deadlines)
	}
	if msg.Context() != orig || msg.Context().Err() != nil {
		t.Errorf("after the retries the message holds %v (err %v), want the delivery's live context", msg.Context(), msg.Context().Err())
	}
}

// TestParkInProgressKeepsTheSchedule: a message another consumer holds (or a dead consumer's mark
// not yet expired) is parked without using up an attempt, even at the end of the schedule, so a
// crash never dead-letters a message through its own in-progress mark.
func TestParkInProgressKeepsTheSchedule(t *testing.T) {
	t.Parallel()
	f := newParkFixture(t)
	msg := newDelivery(t, "msg-1")
	msg.Metadata.Set(MetaAttempt, "2") // the schedule has two delays: this is its end
	if _, err := f.middleware(failWith(errInProgress))(msg); err != nil {
		t.Fatalf("returned %v, want the message parked and acknowledged", err)
	}
	parked, due := f.parkedMessage(t)
	if got := parked.Metadata.Get(MetaAttempt); got != "2" {
		t.Errorf("attempt %s after an in-progress deferral, want 2 (unchanged)", got)
	}
	if d := time.Until(due); d < 9*time.Minute || d > 10*time.Minute+time.Second {
		t.Errorf("due in %s, want the schedule's current step (10 min)", d)
	}
}
