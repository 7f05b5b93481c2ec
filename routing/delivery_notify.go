package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
)

// deliveryStatusToOnestop sends a shipment's delivery.status_changed notifications to the
// one-stop system one after the other, in the order of the shipment's history.
//
// Several consumers read the topic at once, and a notification that fails waits in the retry
// schedule while later ones arrive: without a gate, a shipment's statuses could reach the one-stop
// system out of order. Each message carries its status's position in the history (Seq); the
// shipment records how many were notified, and a message whose predecessor has not been notified
// yet fails (transiently) and is looked at again after the next retry step. A repeat of one
// already notified is acknowledged without sending. The notification id is the one the status
// always had, so the receiver deduplicates whatever a crash makes the gateway send twice.
type deliveryStatusToOnestop struct {
	store    *store.Store
	notifier onestop.Notifier
	metrics  *observability.Metrics
}

// errNotYourTurn: an earlier status of the same shipment has not reached the one-stop system yet.
var errNotYourTurn = errors.New("an earlier status of the shipment is not notified yet")

func (h *deliveryStatusToOnestop) Handle(msg *message.Message) ([]*message.Message, error) {
	ctx := msg.Context()
	var m deliveryStatusMessage
	if err := json.Unmarshal(msg.Payload, &m); err != nil || m.Seq < 1 || !events.IsCode(m.DossierCode) || !postal.Kind(m.Kind).Valid() ||
		m.Notification.ID == "" || m.Notification.Type == "" {
		return nil, failure.Permanentf("reading delivery status message: malformed body")
	}
	notified, err := h.store.ShipmentNotified(ctx, m.DossierCode, m.Kind)
	if err != nil {
		return nil, err
	}
	if m.Seq <= notified {
		return nil, nil
	}
	if m.Seq > notified+1 {
		return nil, fmt.Errorf("notifying status %d of the %s shipment (%d notified): %w", m.Seq, m.Kind, notified, errNotYourTurn)
	}
	n := m.Notification
	if err := h.notifier.Notify(ctx, onestop.Notification{ID: n.ID, Type: n.Type, At: n.At, Data: n.Data}); err != nil {
		h.metrics.Notifications.WithLabelValues(n.Type, failure.Classify(err).String()).Inc()
		return nil, fmt.Errorf("notifying one-stop system of %s: %w", n.Type, err)
	}
	h.metrics.Notifications.WithLabelValues(n.Type, "delivered").Inc()
	if err := h.store.RaiseShipmentNotified(context.WithoutCancel(ctx), m.DossierCode, m.Kind, m.Seq); err != nil {
		return nil, err
	}
	_ = h.store.AddTimeline(context.WithoutCancel(ctx), m.DossierCode, store.TimelineEntry{
		Kind: "notified", Detail: n.Type + " " + n.ID + " (" + m.Kind + " shipment, status " + strconv.Itoa(m.Seq) + " in order)",
	})
	return nil, nil
}
