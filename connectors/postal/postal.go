// Package postal is the gateway's side of the public postal service (VNPost): the one small
// interface every postal dialect implements (connectors/postal/myvnpost, connectors/postal/ngsp),
// and the domain types it speaks. Routing calls it; dialects translate it to a partner's wire
// format, and map the GSO administrative codes the one-stop system sends to postal codes
// (connectors/postal/address).
//
// One dossier can need two shipments: collecting the dossier from the citizen and delivering the
// result. Each has its own order number (OrderNumber), derived from the dossier code and the kind,
// stable across retries, so a retried create never makes a second order: a dialect looks the order
// up by its number before creating it again.
package postal

import (
	"context"
	"errors"
	"time"
)

// Kind is what a shipment is for.
type Kind string

// The shipment kinds of vn.gov.delivery.requested.
const (
	KindDeliverResult  Kind = "deliver_result"  // the agency sends the result to the citizen
	KindCollectDossier Kind = "collect_dossier" // the post collects the dossier from the citizen
)

// Valid reports whether k is one of the two kinds.
func (k Kind) Valid() bool { return k == KindDeliverResult || k == KindCollectDossier }

// Service codes (MyVNPost): CTN001 economy, ETN011 express, ETN013 same day.
const (
	ServiceEconomy = "CTN001"
	ServiceExpress = "ETN011"
	ServiceSameDay = "ETN013"
)

// Add-on service codes (MyVNPost).
const (
	AddonCOD    = "GTG021" // collect on delivery
	AddonPickup = "GTG026" // pickup at the sender's address
)

// Sentinel errors of the kind.
var (
	// ErrRejected: the partner refused the order for its content (permanent).
	ErrRejected = errors.New("postal partner rejected the order")
	// ErrNotFound: the partner does not know the order.
	ErrNotFound = errors.New("order not known to the postal partner")
	// ErrNoMapping: an administrative code has no postal mapping (the error names the code).
	ErrNoMapping = errors.New("no postal mapping for administrative code")
)

// Party is a sender or a receiver. Name, Phone and Address are personal data when the party is a
// citizen: never logged, never in metric labels or errors.
type Party struct {
	Name    string
	Phone   string
	Address string // street address, without the administrative units
	// GSO codes as the one-stop system sends them: province (2 digits), commune (5 digits),
	// district (3 digits, legacy dossiers only).
	ProvinceCode string
	CommuneCode  string
	DistrictCode string
}

// Order is a shipment to create.
type Order struct {
	Number      string // the gateway's order number: stable per dossier and kind (OrderNumber)
	DossierCode string
	Kind        Kind
	Service     string // ServiceEconomy, ...
	Sender      Party
	Receiver    Party
	WeightGrams int
	CODAmount   int64 // whole VND; 0 means no COD
	Note        string
}

// Created is the partner's answer to a created (or found) order.
type Created struct {
	Number     string // the gateway's order number
	PartnerID  string // the partner's own id (originalID, ItemCode)
	Fee        int64  // whole VND, when the partner quotes it
	Status     Status
	AlreadyHad bool // the order existed already (a retried create)
}

// Status is a shipment status, as the MyVNPost order status codes (0..22). Dialects with their
// own codes map to these.
type Status int

// The shipment statuses.
const (
	StatusDraft            Status = 0
	StatusCreated          Status = 1
	StatusPickingUp        Status = 4
	StatusPickupFailed     Status = 5
	StatusPickedUp         Status = 6
	StatusAtPostOffice     Status = 7
	StatusInTransit        Status = 10
	StatusDelivering       Status = 12
	StatusDelivered        Status = 14
	StatusDeliveryFailed   Status = 15
	StatusReturning        Status = 18
	StatusCompleted        Status = 19
	StatusDeliveryCanceled Status = 22
)

// Final reports whether a shipment in status s can no longer move on (delivered, completed,
// cancelled). A tracking record that would move a final shipment elsewhere is ignored.
func (s Status) Final() bool {
	return s == StatusDelivered || s == StatusCompleted || s == StatusDeliveryCanceled
}

// Event is one tracking record.
type Event struct {
	Number    string // the gateway's order number
	PartnerID string
	Status    Status
	Message   string // the partner's status text (no personal data)
	At        time.Time
	Office    string // POSID, the post office
	Cursor    string // the dialect's cursor after this record (lastId), for polling dialects
}

// Postal is a postal partner.
type Postal interface {
	// CreateOrder creates the order, or finds it by its number when it exists already (a retry),
	// so that calling it twice never makes two orders.
	CreateOrder(ctx context.Context, o Order) (Created, error)
	// Track returns the tracking records after cursor (empty: from the start), in order, and the
	// cursor to pass next time. A dialect that only pushes returns nothing.
	Track(ctx context.Context, cursor string) ([]Event, string, error)
	// Cancel cancels an order by its number.
	Cancel(ctx context.Context, number string) error
}
