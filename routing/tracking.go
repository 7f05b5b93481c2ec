package routing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
)

// Tracker polls the postal partner for tracking records and applies each once, in order.
//
// One replica polls at a time: each poll runs under a Redis lock whose lease outlasts the poll's
// own deadline. The partner's cursor is kept in Redis after each record, so a restart (or another
// replica taking over) goes on where the last poll stopped.
//
// A record is applied in two steps: first its effects are written to their streams (the
// delivery.status_changed notification, and for a delivered result the message that marks the
// dossier returned at the portal), then the status is recorded on the shipment (a script that
// records each status once and never moves a final shipment). Effects carry ids derived from the
// order number and status, so when a crash falls between the two steps the record is read again,
// its effects written again and deduplicated by the consumers and the receiver; the other order
// would lose them. A status already recorded, one after a final status, and a record for an order
// the gateway does not know change nothing and are counted (gateway_delivery_tracking_ignored_total);
// the last is logged with its order number only.
//
// Postal dialects that push instead of polling would feed the same apply step; both dialects the
// gateway speaks (MyVNPost, MITC/NGSP) are polled, so there is no push endpoint
// (POST /v1/callbacks/vnpost/... is not served).
type Tracker struct {
	Store    *store.Store
	Postal   postal.Postal
	Metrics  *observability.DeliveryMetrics
	Log      *slog.Logger
	Interval time.Duration
	// Timeout bounds one poll (the Track call and the records it returns); the lock's lease is
	// twice as long.
	Timeout time.Duration

	pub message.Publisher
}

// NewTracker builds the poller with its own stream publisher.
func NewTracker(t Tracker) (*Tracker, error) {
	if t.Interval <= 0 || t.Timeout <= 0 {
		return nil, errors.New("tracking: interval and timeout must be positive")
	}
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: nonClosingClient{t.Store.Client}, Marshaller: store.Codec{}},
		watermill.NewSlogLogger(t.Log.With("component", "tracking")))
	if err != nil {
		return nil, fmt.Errorf("creating tracking publisher: %w", err)
	}
	t.pub = pub
	return &t, nil
}

// Run polls every Interval until ctx ends.
func (t *Tracker) Run(ctx context.Context) {
	tick := time.NewTicker(t.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := t.Poll(ctx); err != nil && ctx.Err() == nil {
			t.Log.Warn("polling postal tracking", "partner", PartnerPostal, "err", err)
		}
	}
}

// Poll runs one poll now and returns how many records it applied (0 when another replica holds
// the poll).
func (t *Tracker) Poll(ctx context.Context) (int, error) {
	token := make([]byte, 8)
	_, _ = rand.Read(token)
	release, err := t.Store.Lock(ctx, t.Store.Keys.DeliveryPollLock(), hex.EncodeToString(token), 2*t.Timeout)
	if errors.Is(err, store.ErrLockHeld) {
		t.Metrics.TrackingPolls.WithLabelValues("skipped").Inc()
		return 0, nil
	}
	if err != nil {
		t.Metrics.TrackingPolls.WithLabelValues("error").Inc()
		return 0, err
	}
	defer release(context.WithoutCancel(ctx))
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	n, err := t.poll(ctx)
	if err != nil {
		t.Metrics.TrackingPolls.WithLabelValues("error").Inc()
		return n, err
	}
	t.Metrics.TrackingPolls.WithLabelValues("ok").Inc()
	return n, nil
}

func (t *Tracker) poll(ctx context.Context) (int, error) {
	cursor, err := t.Store.Client.Get(ctx, t.Store.Keys.DeliveryCursor()).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("reading tracking cursor: %w", err)
	}
	applied := 0
	// A backlog (after an outage) is read page after page, up to maxPages per poll.
	for page := 0; page < maxPages; page++ {
		n, more, next, err := t.page(ctx, cursor)
		applied += n
		if err != nil || !more || next == cursor {
			return applied, err
		}
		cursor = next
	}
	return applied, nil
}

// maxPages bounds the pages of tracking records one poll reads.
const maxPages = 20

// page reads and applies one page of tracking records after cursor; more says whether the page
// held any, next is the cursor saved after it.
func (t *Tracker) page(ctx context.Context, cursor string) (applied int, more bool, next string, err error) {
	cursorKey := t.Store.Keys.DeliveryCursor()
	records, next, err := t.Postal.Track(ctx, cursor)
	if err != nil {
		return 0, false, cursor, fmt.Errorf("tracking after cursor %q: %w", cursor, err)
	}
	for _, e := range records {
		ok, err := t.apply(ctx, e)
		if err != nil {
			return applied, false, cursor, err
		}
		if ok {
			applied++
		}
		if e.Cursor != "" && e.Cursor != cursor {
			if err := t.Store.Client.Set(ctx, cursorKey, e.Cursor, 0).Err(); err != nil {
				return applied, false, cursor, fmt.Errorf("saving tracking cursor: %w", err)
			}
			cursor = e.Cursor
		}
	}
	if next != "" && next != cursor {
		if err := t.Store.Client.Set(ctx, cursorKey, next, 0).Err(); err != nil {
			return applied, false, cursor, fmt.Errorf("saving tracking cursor: %w", err)
		}
		cursor = next
	}
	return applied, len(records) > 0, cursor, nil
}

// apply applies one tracking record; it reports whether the record was a new status.
func (t *Tracker) apply(ctx context.Context, e postal.Event) (bool, error) {
	if e.Number == "" || len(e.Number) > maxOrderNumber || !events.IsCode(e.Number) {
		t.ignored(observability.IgnoredUnknownOrder)
		t.Log.Warn("tracking record without a usable order number ignored", "partner", PartnerPostal)
		return false, nil
	}
	e.Office = truncate(e.Office, 32) // the partner's text, kept in the history: bounded
	code, kind, ok, err := t.Store.ShipmentByOrder(ctx, e.Number)
	if err != nil {
		return false, err
	}
	var sh store.Shipment
	if ok {
		sh, ok, err = t.Store.ShipmentOf(ctx, code, kind)
		if err != nil {
			return false, err
		}
	}
	if !ok {
		t.ignored(observability.IgnoredUnknownOrder)
		t.Log.Warn("tracking record for an unknown order ignored", "partner", PartnerPostal, "order_number", e.Number)
		return false, nil
	}
	if _, known := StatusNames[e.Status]; !known {
		t.ignored(observability.IgnoredUnknownStatus)
		t.Log.Warn("tracking record with an unknown status ignored", "partner", PartnerPostal, "order_number", e.Number, "status", int(e.Status))
		return false, nil
	}
	if e.At.IsZero() {
		e.At = nowFunc()
	}
	if reason := decide(sh, e.Status); reason != "" {
		t.ignored(reason)
		t.Log.Debug("tracking record ignored", "order_number", e.Number, "status", int(e.Status), "reason", reason)
		return false, nil
	}
	fx, err := effectsOf(sh, e)
	if err != nil {
		return false, err
	}
	if err := t.pub.Publish(t.Store.Keys.Stream(TopicDeliveryStatusChanged), fx.notification); err != nil {
		return false, fmt.Errorf("publishing status notification of %s: %w", e.Number, err)
	}
	if fx.delivered != nil {
		if err := t.pub.Publish(t.Store.Keys.Stream(TopicResultDelivered), fx.delivered); err != nil {
			return false, fmt.Errorf("publishing delivered result of %s: %w", e.Number, err)
		}
	}
	res, err := t.Store.ApplyShipmentStatus(ctx, code, kind, store.ShipmentStatus{Status: int(e.Status), At: e.At.UTC(), Office: e.Office},
		finalStatuses, deliveredStatuses)
	if err != nil {
		return false, err
	}
	switch res {
	case store.StatusApplied:
		recorded(ctx, t.Store, t.Metrics, t.Log, sh, e)
		return true, nil
	case store.StatusDuplicate, store.StatusAfterFinal:
		t.ignored(res)
	}
	return false, nil
}

func (t *Tracker) ignored(reason string) { t.Metrics.TrackingIgnored.WithLabelValues(reason).Inc() }

// Close closes the tracker's publisher.
func (t *Tracker) Close() error { return t.pub.Close() }
