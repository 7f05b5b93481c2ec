package routing

import (
	"context"

	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/egov-vn/gateway/internal/store"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
)

// notify delivers notifications to the one-stop system.
type notify struct {
	notifier onestop.Notifier
	metrics  *observability.Metrics
	store    *store.Store
}

// notificationBody is a notification on the stream.
type notificationBody struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

func (h *notify) Handle(msg *message.Message) ([]*message.Message, error) {
	var n notificationBody
	if err := json.Unmarshal(msg.Payload, &n); err != nil || n.ID == "" || n.Type == "" {
		return nil, failure.Permanentf("reading notification: malformed body")
	}
	err := h.notifier.Notify(msg.Context(), onestop.Notification{ID: n.ID, Type: n.Type, At: n.At, Data: n.Data})
	if err != nil {
		h.metrics.Notifications.WithLabelValues(n.Type, failure.Classify(err).String()).Inc()
		return nil, fmt.Errorf("notifying one-stop system of %s: %w", n.Type, err)
	}
	h.metrics.Notifications.WithLabelValues(n.Type, "delivered").Inc()
	if code := msg.Metadata.Get(MetaSubject); code != "" {
		_ = h.store.AddTimeline(context.WithoutCancel(msg.Context()), code, store.TimelineEntry{
			Kind: "notified", Detail: n.Type + " " + n.ID,
		})
	}
	return nil, nil
}

// NewNotification builds the message that asks for a notification. The id is derived from key, so
// the same cause always yields the same webhook-id and the receiver can deduplicate. Callers set
// the message's MetaSubject to the dossier code it concerns, so its journey can be followed.
func NewNotification(typ, key string, data any) (*message.Message, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encoding notification data: %w", err)
	}
	sum := sha256.Sum256([]byte(typ + "\x00" + key))
	id := "msg_" + hex.EncodeToString(sum[:12])
	body, err := json.Marshal(notificationBody{ID: id, Type: typ, At: nowFunc().UTC(), Data: raw})
	if err != nil {
		return nil, fmt.Errorf("encoding notification: %w", err)
	}
	m := message.NewMessage(id, body)
	m.Metadata.Set(MetaType, typ)
	return m, nil
}
