// Package onestop is the gateway's side of the provincial one-stop system (Hệ thống thông tin một
// cửa điện tử): the interface for notifying it of outcomes (payments, deliveries, sync failures)
// and the notification types. Dialects sign and deliver; the webhook dialect follows Standard
// Webhooks.
package onestop

import (
	"context"
	"encoding/json"
	"time"
)

// Notification types sent to the one-stop system (api.md, "Gateway → one-stop system").
const (
	TypePaymentSucceeded         = "payment.succeeded"
	TypePaymentFailed            = "payment.failed"
	TypePaymentExpired           = "payment.expired"
	TypeDeliveryStatusChanged    = "delivery.status_changed"
	TypeDossierSyncFailed        = "dossier.sync_failed"
	TypeDossierSubmittedNational = "dossier.submitted_national"
)

// Notification is one message to the one-stop system. ID is stable across retries (it becomes
// the `webhook-id`), so the receiver can deduplicate.
type Notification struct {
	ID   string
	Type string
	At   time.Time
	Data json.RawMessage
}

// Notifier delivers notifications to the one-stop system.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}
