package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
)

// errExhausted marks a message whose delayed retries are used up.
var errExhausted = errors.New("retries exhausted")

// errInProgress: the same message is being handled by another consumer right now (a claim raced
// a slow handler); it is parked and looked at again later, never handled twice at once.
var errInProgress = errors.New("message is being handled by another consumer")

// shouldDeadLetter is the poison queue's filter: permanent failures (bad data, a partner's
// definitive no, exhausted retries). Shutdowns and partner outages never dead-letter.
func shouldDeadLetter(err error) bool { return failure.Classify(err) == failure.Permanent }

// parkTransient parks transient failures in the handler's retry schedule and acknowledges them;
// when the schedule is used up the error becomes permanent (and the poison queue takes it).
// Shutdown errors pass through untouched: the message is not acknowledged and comes back.
type parkTransient struct {
	handler  string
	schedule *Schedule
	paused   func() (bool, time.Time)
	metrics  *observability.Metrics
	log      *slog.Logger
}

func (p parkTransient) Middleware(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err == nil {
			return out, nil
		}
		switch failure.Classify(err) {
		case failure.Shutdown:
			p.metrics.HandlerOutcomes.WithLabelValues(p.handler, "returned").Inc()
			return nil, err
		case failure.Permanent:
			p.deadLettered(msg, err)
			return nil, err
		}
		attempt, _ := strconv.Atoi(msg.Metadata.Get(MetaAttempt))
		due := time.Time{}
		paused, until := p.paused()
		switch {
		case errors.Is(err, failure.ErrPartnerPaused) || paused:
			// A pause does not use up the schedule: wait for its end (or a resume).
			due = until
		case errors.Is(err, errInProgress):
			// Another consumer holds the message (or a dead one's mark has not expired yet): not a
			// failure, so it does not use up the schedule either; look again after the next step.
			due = time.Now().Add(p.schedule.Delay(max(attempt, 1)))
		default:
			attempt++
			if attempt > p.schedule.Attempts() {
				err = failure.MarkPermanent(fmt.Errorf("%w after %d delayed retries: %w", errExhausted, attempt-1, err))
				p.deadLettered(msg, err)
				return nil, err
			}
			due = time.Now().Add(p.schedule.Delay(attempt))
		}
		parkedMsg := msg.Copy()
		parkedMsg.Metadata.Set(MetaAttempt, strconv.Itoa(attempt))
		parkedMsg.Metadata.Set(MetaLastError, failure.Classify(err).String()+": "+truncate(err.Error(), 300))
		if perr := p.schedule.Park(context.WithoutCancel(msg.Context()), parkedMsg, due); perr != nil {
			// Not parked: do not acknowledge; the stream keeps it.
			return nil, errors.Join(err, perr)
		}
		p.metrics.HandlerOutcomes.WithLabelValues(p.handler, "parked").Inc()
		p.log.Warn("message parked for a delayed retry", "handler", p.handler, "partner", p.schedule.partner,
			"attempt", attempt, "due", due.Format(time.RFC3339), "correlation_id", msg.Metadata.Get(MetaCorrelationID),
			"dossier_code", msg.Metadata.Get(MetaSubject), "event_id", msg.Metadata.Get(MetaEventID), "err", err)
		return nil, nil
	}
}

// deadLettered counts and logs a message the poison queue (the next layer out) is about to take.
func (p parkTransient) deadLettered(msg *message.Message, err error) {
	reason := "permanent"
	switch {
	case errors.Is(err, errExhausted):
		reason = "exhausted"
	case strings.Contains(err.Error(), "unreadable stream entry"):
		reason = "unreadable"
	}
	p.metrics.HandlerOutcomes.WithLabelValues(p.handler, "dead_lettered").Inc()
	p.metrics.DeadLetters.WithLabelValues(p.handler, reason).Inc()
	p.log.Error("message dead-lettered", "handler", p.handler, "reason", reason,
		"correlation_id", msg.Metadata.Get(MetaCorrelationID), "dossier_code", msg.Metadata.Get(MetaSubject),
		"event_id", msg.Metadata.Get(MetaEventID), "err", truncate(err.Error(), 300))
}

// handlerMetrics records each delivery's duration and success, inside the poison queue so that
// failures are seen (watermill's own middleware sits outermost and would only see successes), and
// logs the delivery at debug level with the message's correlation id and dossier code, so one
// message's journey can be followed through the logs.
type handlerMetrics struct {
	handler  string
	duration *prometheus.HistogramVec
	log      *slog.Logger
}

func (m handlerMetrics) Middleware(h message.HandlerFunc) message.HandlerFunc {
	ok := m.duration.WithLabelValues(m.handler, "true")
	failed := m.duration.WithLabelValues(m.handler, "false")
	return func(msg *message.Message) ([]*message.Message, error) {
		start := time.Now()
		out, err := h(msg)
		took := time.Since(start)
		if err != nil {
			failed.Observe(took.Seconds())
		} else {
			ok.Observe(took.Seconds())
		}
		m.log.Debug("message handled", "handler", m.handler, "success", err == nil, "duration_ms", took.Milliseconds(),
			"correlation_id", msg.Metadata.Get(MetaCorrelationID), "dossier_code", msg.Metadata.Get(MetaSubject),
			"event_id", msg.Metadata.Get(MetaEventID), "attempt", msg.Metadata.Get(MetaAttempt))
		return out, err
	}
}

// idempotentConsumer handles each message at most once per handler. It marks a message as in
// progress for a lease before handling, marks it done after success, and forgets the mark when
// the handler fails, so a failed message is handled again (watermill's Deduplicator marks before
// handling and would drop a message whose first try failed).
type idempotentConsumer struct {
	handler string
	store   *store.Store
	lease   time.Duration
	ttl     time.Duration
	metrics *observability.Metrics
}

const (
	markInProgress = "in_progress"
	markDone       = "done"
)

func (d idempotentConsumer) Middleware(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ctx := msg.Context()
		key := d.store.Keys.Handled(d.handler, msg.UUID)
		ok, err := d.store.Client.SetNX(ctx, key, markInProgress, d.lease).Result()
		if err != nil {
			return nil, fmt.Errorf("marking message in progress: %w", err)
		}
		if !ok {
			state, err := d.store.Client.Get(ctx, key).Result()
			switch {
			case errors.Is(err, redis.Nil):
				// The mark expired between the two calls: treat as in progress, look again later.
				return nil, errInProgress
			case err != nil:
				return nil, fmt.Errorf("reading message mark: %w", err)
			case state == markDone:
				d.metrics.HandlerOutcomes.WithLabelValues(d.handler, "duplicate").Inc()
				return nil, nil
			default:
				return nil, errInProgress
			}
		}
		out, herr := h(msg)
		bg := context.WithoutCancel(ctx)
		if herr != nil {
			_ = d.store.Client.Del(bg, key).Err()
			return nil, herr
		}
		if err := d.store.Client.Set(bg, key, markDone, d.ttl).Err(); err != nil {
			return nil, fmt.Errorf("marking message done: %w", err)
		}
		d.metrics.HandlerOutcomes.WithLabelValues(d.handler, "ok").Inc()
		return out, nil
	}
}

// shortRetry retries transient failures a few times in-process (seconds), before the message is
// parked in the schedule.
func shortRetry(handler string, retries int, interval time.Duration, metrics *observability.Metrics) message.HandlerMiddleware {
	counter := metrics.Retries.WithLabelValues(handler)
	return middleware.Retry{
		MaxRetries:      retries,
		InitialInterval: interval,
		MaxInterval:     5 * time.Second,
		Multiplier:      2,
		// Each attempt starts from the delivery's context, not the previous attempt's
		// (cancelled) one.
		ResetContextOnRetry: true,
		ShouldRetry: func(p middleware.RetryParams) bool {
			// watermill asks once more after the last attempt; that is no retry.
			if p.RetryNum >= retries || failure.Classify(p.Err) != failure.Transient ||
				errors.Is(p.Err, failure.ErrPartnerPaused) || errors.Is(p.Err, failure.ErrBreakerOpen) ||
				errors.Is(p.Err, errInProgress) {
				return false
			}
			counter.Inc()
			return true
		},
	}.Middleware
}

// panicsArePermanent turns a panic in a handler into a permanent error, so the message is
// dead-lettered once instead of being redelivered and panicking forever.
func panicsArePermanent(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) (out []*message.Message, err error) {
		defer func() {
			if r := recover(); r != nil {
				out, err = nil, failure.Permanentf("handler panicked: %v", r)
			}
		}()
		return h(msg)
	}
}

// unreadableIsPermanent dead-letters a stream entry the codec could not read.
func unreadableIsPermanent(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		if why := msg.Metadata.Get(store.MetaUnreadable); why != "" {
			return nil, failure.Permanentf("unreadable stream entry: %s", why)
		}
		return h(msg)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// timeout gives each attempt its own deadline and puts the delivery's context back afterwards:
// watermill's Timeout leaves the message holding a cancelled context, and the layers outside
// (poison queue, park) must still be able to write with the message.
//
// The attempt's context is detached from the subscriber's cancellation: on shutdown the attempt
// under way finishes (within the handler timeout, well inside the router's close timeout) instead
// of cutting a partner call in half. Its acknowledgement may be lost with the closing subscriber;
// the message then comes back after the restart and the idempotent consumer skips it.
func timeout(d time.Duration) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			orig := msg.Context()
			ctx, cancel := context.WithTimeout(context.WithoutCancel(orig), d)
			defer func() {
				cancel()
				msg.SetContext(orig)
			}()
			msg.SetContext(ctx)
			return h(msg)
		}
	}
}
