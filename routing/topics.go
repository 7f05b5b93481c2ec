package routing

import "github.com/egov-vn/gateway/internal/events"

// Topics: one Redis stream each (store.Keys.Stream). Names are <aggregate>.<event_past_tense>.
const (
	// TopicDossierStatusChanged carries the one-stop system's dossier state changes.
	TopicDossierStatusChanged = "dossier.status_changed"
	// TopicDeliveryRequested carries requests to deliver a result or collect a dossier by post.
	TopicDeliveryRequested = "delivery.requested"
	// TopicNotificationRequested carries notifications to send to the one-stop system.
	TopicNotificationRequested = "notification.requested"
	// TopicDeadLetter is the dead-letter stream of every handler.
	TopicDeadLetter = "deadletter"
	// TopicPaymentSettled is the payment state machine's outbox: one event per transition
	// (paid, failed, expired, cancelled), written atomically with the transition itself.
	TopicPaymentSettled = "payment.settled"
	// TopicResultDelivered carries results the post delivered to the citizen, on their way to the
	// portal as returned dossiers (status 10). The tracking poller writes it.
	TopicResultDelivered = "delivery.result_delivered"
	// TopicDeliveryStatusChanged carries shipment statuses to notify to the one-stop system, each
	// with its position in the shipment's history (written by the delivery handler and the
	// tracking poller).
	TopicDeliveryStatusChanged = "delivery.status_changed"
)

// Handler names say where the message goes. They are consumer group names and metric labels.
const (
	HandlerDossierToPortal         = "dossier_status_to_portal"
	HandlerNotificationToOnestop   = "notification_to_onestop"
	HandlerDeadLetterToOnestop     = "deadletter_to_onestop"
	HandlerPaymentToOnestop        = "payment_settled_to_onestop"
	HandlerPaymentToPortal         = "payment_settled_to_portal"
	HandlerDeliveryToPostal        = "delivery_requested_to_vnpost"
	HandlerDeliveredToPortal       = "result_delivered_to_portal"
	HandlerDeliveryStatusToOnestop = "delivery_status_to_onestop"
)

// Partners, as named in metrics, breakers, pause switches and retry schedules.
const (
	PartnerPortal  = "dvcqg"
	PartnerOnestop = "onestop"
	PartnerPostal  = "vnpost"
)

// TopicForEventType maps an inbound CloudEvent type to its topic ("" for an unknown type).
func TopicForEventType(t string) string {
	switch t {
	case events.TypeDossierStatusChanged:
		return TopicDossierStatusChanged
	case events.TypeDeliveryRequested:
		return TopicDeliveryRequested
	}
	return ""
}

// Metadata keys carried by every message.
const (
	MetaType          = "type"
	MetaSource        = "source"
	MetaEventID       = "event_id"
	MetaSubject       = "subject"
	MetaClient        = "client"
	MetaReceivedAt    = "received_at"
	MetaCorrelationID = "correlation_id"
	// MetaAttempt counts delayed retries so far ("" or "0" on the first delivery).
	MetaAttempt = "attempt"
	// MetaLastError is the class and short text of the last failure (no personal data).
	MetaLastError = "last_error"
	MetaHandler   = "handler"
	MetaPartner   = "partner"
)
