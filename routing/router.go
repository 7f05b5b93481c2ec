// Package routing wires the gateway's flows on watermill over Redis Streams: which topic goes to
// which handler, the handlers themselves, and the middleware every handler runs in. It depends on
// the connector interfaces (connectors/portal, connectors/onestop), never on a concrete dialect.
//
// # Middleware order
//
// Outermost first; each layer sees what the layers inside it return:
//
//  1. Recoverer (watermill): a panic anywhere below, middleware included, becomes an error.
//  2. CorrelationID (watermill): the correlation id travels to every message a handler emits.
//  3. Poison queue with a filter (watermill PoisonQueueWithFilter): permanent failures go to the
//     dead-letter stream with the reason, handler and topic, and are acknowledged. Its filter lets
//     shutdowns and partner outages through: they never dead-letter.
//  4. Park: a transient failure that survived the short retries is parked in the partner's
//     delayed-retry schedule (Redis sorted set) and acknowledged only once parked. Past the end of
//     the schedule it becomes permanent, so layer 3 dead-letters it. A shutdown passes untouched:
//     the message is not acknowledged and is handled again after the restart (or claimed).
//  5. Metrics: handler duration and success, inside the poison queue so failures are counted.
//  6. Idempotent consumer: a message already handled by this handler is acknowledged without
//     handling; the mark is taken for a lease before handling and dropped when the handler
//     fails, so a failure never swallows a message.
//  7. Short retry (watermill Retry): a few in-process retries of transient failures, seconds apart.
//  8. Timeout: each attempt gets HandlerTimeout (and the message gets its delivery context back
//     afterwards, unlike watermill's Timeout, so the outer layers can still write).
//  9. Unreadable entries and panics in the handler become permanent errors (dead-lettered once,
//     not redelivered forever).
//
// # Subscribers
//
// Each handler has Consumers consumers in its Redis Streams consumer group, each an
// internal/streamsub subscriber with up to InFlight messages in its handler at once, read and
// acknowledged in batches (watermill-redisstream's subscriber reads and acknowledges one message
// per round trip; its publisher is still the one used). Order per dossier does not come from the
// stream order: the handlers hold it with versions and per-dossier locks.
//
// Config.Validate keeps one delivery's worst case (Timeout × attempts + backoff) well under the
// subscriber's MaxIdleTime; otherwise another consumer would claim a message still in hand.
package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/streamsub"
)

// Config tunes the router.
type Config struct {
	Replica   string
	Consumers int
	// InFlight is how many messages each consumer may have in its handler at once (1: one at a
	// time); each consumer reads and acknowledges up to that many in one round trip.
	InFlight           int
	HandlerTimeout     time.Duration
	ShortRetries       int
	ShortRetryInterval time.Duration
	MaxIdleTime        time.Duration
	ClaimInterval      time.Duration
	IdempotencyTTL     time.Duration
	// InProgressLease is how long a message stays marked in progress (one delivery's worst case
	// plus a margin); a consumer that dies mid-message leaves a mark that expires after it.
	InProgressLease time.Duration
	PollInterval    time.Duration
	CloseTimeout    time.Duration
	// StreamRetention: acknowledged entries younger than this are not trimmed.
	StreamRetention time.Duration
	// Schedule returns a partner's delayed-retry schedule.
	Schedule func(partner string) []time.Duration
}

// Deps are the router's collaborators.
type Deps struct {
	Store    *store.Store
	Log      *slog.Logger
	Metrics  *observability.Metrics
	Portal   portal.Portal
	Notifier onestop.Notifier
	// Procedures, when set, maps the one-stop system's local procedure codes to national ones.
	Procedures ProcedureResolver
	Pauses     *Pauses
	// Postal, when set, runs the postal delivery flow (delivery.requested to the postal partner,
	// delivered results to the portal) with Delivery's settings and DeliveryMetrics.
	Postal          postal.Postal
	Delivery        DeliveryConfig
	DeliveryMetrics *observability.DeliveryMetrics
}

// Router runs every handler.
type Router struct {
	cfg       Config
	deps      Deps
	wm        *message.Router
	pub       message.Publisher
	schedules map[string]*Schedule
	duration  *prometheus.HistogramVec
	running   chan struct{}
	runOnce   sync.Once
}

type handlerSpec struct {
	name    string
	topic   string
	partner string
	// publishTopic receives what the handler returns ("" when it returns nothing).
	publishTopic string
	fn           message.HandlerFunc
}

// nonClosingClient keeps a pub/sub's Close from closing the shared Redis client
// (watermill-redisstream closes the client it was given).
type nonClosingClient struct{ redis.UniversalClient }

func (nonClosingClient) Close() error { return nil }

// New builds the router and its handlers.
func New(cfg Config, deps Deps) (*Router, error) {
	if cfg.Consumers < 1 {
		return nil, errors.New("routing: at least one consumer per handler")
	}
	wlog := watermill.NewSlogLoggerWithLevelMapping(deps.Log.With("component", "watermill"), map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug,
	})
	wm, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wlog)
	if err != nil {
		return nil, fmt.Errorf("creating router: %w", err)
	}
	client := nonClosingClient{deps.Store.Client}
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: client, Marshaller: store.Codec{}}, wlog)
	if err != nil {
		return nil, fmt.Errorf("creating publisher: %w", err)
	}
	r := &Router{
		cfg: cfg, deps: deps, wm: wm, pub: pub,
		schedules: map[string]*Schedule{},
		running:   make(chan struct{}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_router_handler_duration_seconds",
			Help:    "Time one delivery of a message spent in its handler (retries included), by handler and success.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"handler", "success"}),
	}
	if err := deps.Metrics.Registry.Register(r.duration); err != nil {
		return nil, fmt.Errorf("registering handler metrics: %w", err)
	}

	wm.AddMiddleware(middleware.Recoverer, middleware.CorrelationID)
	poison, err := middleware.PoisonQueueWithFilter(pub, deps.Store.Keys.Stream(TopicDeadLetter), shouldDeadLetter)
	if err != nil {
		return nil, fmt.Errorf("creating poison queue: %w", err)
	}

	specs := []handlerSpec{
		{name: HandlerDossierToPortal, topic: TopicDossierStatusChanged, partner: PartnerPortal,
			fn: (&dossierSync{store: deps.Store, portal: deps.Portal, metrics: deps.Metrics, lease: cfg.HandlerTimeout + 5*time.Second,
				stepBudget: cfg.HandlerTimeout / 2, procedures: deps.Procedures}).Handle},
		{name: HandlerNotificationToOnestop, topic: TopicNotificationRequested, partner: PartnerOnestop,
			fn: (&notify{notifier: deps.Notifier, metrics: deps.Metrics, store: deps.Store}).Handle},
		{name: HandlerDeadLetterToOnestop, topic: TopicDeadLetter, partner: "internal",
			publishTopic: TopicNotificationRequested,
			fn:           (&deadLetterNotice{keys: deps.Store.Keys, store: deps.Store}).Handle},
		{name: HandlerPaymentToOnestop, topic: TopicPaymentSettled, partner: "internal",
			publishTopic: TopicNotificationRequested,
			fn:           (&paymentNotice{store: deps.Store}).Handle},
		{name: HandlerPaymentToPortal, topic: TopicPaymentSettled, partner: PartnerPortal,
			fn: (&paymentToPortal{store: deps.Store, portal: deps.Portal, metrics: deps.Metrics}).Handle},
	}
	if deps.Postal != nil {
		specs = append(specs,
			handlerSpec{name: HandlerDeliveryToPostal, topic: TopicDeliveryRequested, partner: PartnerPostal,
				publishTopic: TopicDeliveryStatusChanged,
				fn: (&deliveryToPostal{store: deps.Store, postal: deps.Postal, metrics: deps.DeliveryMetrics, cfg: deps.Delivery,
					log: deps.Log}).Handle},
			handlerSpec{name: HandlerDeliveredToPortal, topic: TopicResultDelivered, partner: PartnerPortal,
				fn: (&resultToPortal{store: deps.Store, portal: deps.Portal, metrics: deps.Metrics, lease: cfg.HandlerTimeout + 5*time.Second,
					log: deps.Log}).Handle},
			handlerSpec{name: HandlerDeliveryStatusToOnestop, topic: TopicDeliveryStatusChanged, partner: PartnerOnestop,
				fn: (&deliveryStatusToOnestop{store: deps.Store, notifier: deps.Notifier, metrics: deps.Metrics}).Handle})
	}
	for _, s := range specs {
		if err := r.addHandler(s, poison); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Router) addHandler(s handlerSpec, poison message.HandlerMiddleware) error {
	cfg, deps := r.cfg, r.deps
	deps.Metrics.InitHandler(s.name)
	for _, success := range []string{"true", "false"} {
		r.duration.WithLabelValues(s.name, success)
	}
	sched := NewSchedule(deps.Store, s.topic, s.partner, cfg.Schedule(s.partner), deps.Log)
	r.schedules[s.name] = sched
	partner := s.partner
	chain := []message.HandlerMiddleware{
		poison,
		parkTransient{handler: s.name, schedule: sched, metrics: deps.Metrics, log: deps.Log,
			paused: func() (bool, time.Time) { return deps.Pauses.PausedUntil(partner) }}.Middleware,
		handlerMetrics{handler: s.name, duration: r.duration, log: deps.Log}.Middleware,
		idempotentConsumer{handler: s.name, store: deps.Store, lease: cfg.InProgressLease,
			ttl: cfg.IdempotencyTTL, metrics: deps.Metrics}.Middleware,
		shortRetry(s.name, cfg.ShortRetries, cfg.ShortRetryInterval, deps.Metrics),
		timeout(cfg.HandlerTimeout),
		unreadableIsPermanent,
		panicsArePermanent,
	}
	stream := deps.Store.Keys.Stream(s.topic)
	for i := 0; i < cfg.Consumers; i++ {
		sub, err := streamsub.New(streamsub.Config{
			Client:          deps.Store.Client,
			Unmarshaller:    store.Codec{},
			Group:           s.name,
			Consumer:        fmt.Sprintf("%s-%d", cfg.Replica, i),
			InFlight:        cfg.InFlight,
			NackResendSleep: time.Second,
			BlockTime:       time.Second,
			MaxIdleTime:     cfg.MaxIdleTime,
			ClaimInterval:   cfg.ClaimInterval,
			OldestID:        "0",
			CloseTimeout:    cfg.CloseTimeout,
			OnReadError:     recreateLostGroup(deps.Store.Client, stream, s.name, deps.Log),
			Log:             deps.Log.With("component", "subscriber", "handler", s.name),
		})
		if err != nil {
			return fmt.Errorf("creating subscriber for %s: %w", s.name, err)
		}
		name := fmt.Sprintf("%s#%d", s.name, i)
		var h *message.Handler
		if s.publishTopic != "" {
			h = r.wm.AddHandler(name, stream, sub, deps.Store.Keys.Stream(s.publishTopic), r.pub, s.fn)
		} else {
			h = r.wm.AddConsumerHandler(name, stream, sub, message.NoPublishHandlerFunc(func(m *message.Message) error {
				_, err := s.fn(m)
				return err
			}))
		}
		for _, mw := range chain {
			h.AddMiddleware(mw)
		}
	}
	return nil
}

// recreateLostGroup recreates a consumer group that Redis lost (a restart without persistence, a
// flushed key): the read loop would otherwise fail with NOGROUP forever. The group is recreated
// from the start of what the stream still holds; the idempotent consumer skips whatever was
// already handled.
func recreateLostGroup(c redis.UniversalClient, stream, group string, log *slog.Logger) func(error) {
	return func(err error) {
		if redis.HasErrorPrefix(err, "NOGROUP") {
			if cerr := c.XGroupCreateMkStream(context.Background(), stream, group, "0").Err(); cerr != nil && !redis.HasErrorPrefix(cerr, "BUSYGROUP") {
				log.Error("recreating lost consumer group", "group", group, "err", cerr)
			} else {
				log.Warn("consumer group was lost and has been recreated", "group", group)
			}
		}
	}
}

// Run runs the handlers and the retry movers until ctx ends, then drains in-flight messages.
func (r *Router) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range r.schedules {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Run(ctx, r.cfg.PollInterval)
		}()
	}
	trimmer := &Trimmer{Store: r.deps.Store, Retention: r.cfg.StreamRetention, Log: r.deps.Log,
		Topics: []string{TopicDossierStatusChanged, TopicDeliveryRequested, TopicNotificationRequested, TopicPaymentSettled,
			TopicResultDelivered, TopicDeliveryStatusChanged}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		trimmer.Run(ctx, time.Minute)
	}()
	go func() {
		<-r.wm.Running()
		r.runOnce.Do(func() { close(r.running) })
	}()
	err := r.wm.Run(ctx)
	cancel()
	wg.Wait()
	return err
}

// Running is closed once every handler runs.
func (r *Router) Running() <-chan struct{} { return r.running }

// IsRunning reports whether the router is running now.
func (r *Router) IsRunning() bool { return r.wm.IsRunning() }

// Close stops the router, waiting for in-flight messages up to the close timeout.
func (r *Router) Close() error { return r.wm.Close() }

// Schedules returns the delayed-retry schedule of each handler.
func (r *Router) Schedules() map[string]*Schedule { return r.schedules }

// PartnerOf names the partner a handler calls ("" for an unknown handler).
func (r *Router) PartnerOf(handler string) string {
	if s, ok := r.schedules[handler]; ok {
		return s.partner
	}
	return ""
}

// Release makes every message parked for partner due now (a resumed partner) and returns how many.
func (r *Router) Release(ctx context.Context, partner string) (int, error) {
	total := 0
	for _, s := range r.schedules {
		if s.partner != partner {
			continue
		}
		n, err := s.DueNow(ctx)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
