package routing

import (
	"context"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/internal/store"
)

// nowFunc is the clock (a variable for tests).
var nowFunc = time.Now

func durationOf(d interface{ Nanoseconds() int64 }) time.Duration {
	return time.Duration(d.Nanoseconds())
}

// deadLetterNotice tells the one-stop system when a dossier cannot be synced for good: every dead
// letter of the portal handlers and of the postal delivery flow (an order the post cannot take: an
// address code without postal mapping, a refused order) becomes a dossier.sync_failed
// notification with the reason.
type deadLetterNotice struct {
	keys  store.Keys
	store *store.Store
}

// notifiedDeadLetters are the handlers whose dead letters the one-stop system is told of.
var notifiedDeadLetters = map[string]bool{
	HandlerDossierToPortal: true, HandlerDeliveryToPostal: true, HandlerDeliveredToPortal: true,
}

// SyncFailed is the data of dossier.sync_failed.
type SyncFailed struct {
	DossierCode string `json:"dossier_code"`
	EventID     string `json:"event_id,omitempty"`
	Reason      string `json:"reason"`
}

func (h *deadLetterNotice) Handle(msg *message.Message) ([]*message.Message, error) {
	handler := msg.Metadata.Get(middleware.PoisonedHandlerKey)
	if name, _, _ := strings.Cut(handler, "#"); !notifiedDeadLetters[name] {
		return nil, nil
	}
	code := msg.Metadata.Get(MetaSubject)
	reason := "permanent"
	if r := msg.Metadata.Get(middleware.ReasonForPoisonedKey); r != "" {
		reason = truncate(r, 300)
	}
	_ = h.store.AddTimeline(context.WithoutCancel(msg.Context()), code, store.TimelineEntry{
		Kind: "dead_lettered", Detail: reason, EventID: msg.Metadata.Get(MetaEventID),
	})
	n, err := NewNotification(onestop.TypeDossierSyncFailed, msg.UUID, SyncFailed{
		DossierCode: code, EventID: msg.Metadata.Get(MetaEventID), Reason: reason,
	})
	if err != nil {
		return nil, err
	}
	n.Metadata.Set(MetaSubject, code)
	return []*message.Message{n}, nil
}
