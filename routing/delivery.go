package routing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
)

// DeliveryConfig is what the postal delivery flow needs besides the postal partner.
type DeliveryConfig struct {
	// Agency is the other party of every shipment: the sender of a result, the receiver of a
	// collected dossier (the agency's name, phone, address and GSO codes).
	Agency postal.Party
	// DefaultService is the service of a request that names none; DefaultWeightGrams the weight
	// of one that gives none.
	DefaultService     string
	DefaultWeightGrams int
}

// Order number suffixes: a dossier has at most one shipment of each kind, and the two are told
// apart by the suffix ("KQ", kết quả: the result; "HS", hồ sơ: the dossier).
var orderSuffixes = map[postal.Kind]string{postal.KindDeliverResult: "KQ", postal.KindCollectDossier: "HS"}

// maxOrderNumber is the longest order number partners take [assumed: the MyVNPost and NGSP
// material gives no limit; 64 is what the sandbox takes].
const maxOrderNumber = 64

// OrderNumber is the gateway's order number of a dossier's shipment of kind: the dossier code and
// the kind's suffix. It is the same on every retry, so the postal dialect can look the order up
// before creating it again, and the two shipments of one dossier never share a number. A dossier
// code too long for it is cut and completed with a hash of the whole code, still stable.
func OrderNumber(dossierCode string, kind postal.Kind) string {
	suffix := "-" + orderSuffixes[kind]
	if len(dossierCode)+len(suffix) <= maxOrderNumber {
		return dossierCode + suffix
	}
	sum := sha256.Sum256([]byte(dossierCode))
	tag := "-" + hex.EncodeToString(sum[:5])
	return dossierCode[:maxOrderNumber-len(tag)-len(suffix)] + tag + suffix
}

// deliveryToPostal turns vn.gov.delivery.requested into a postal order.
//
// A delivery for a dossier the gateway has never seen is accepted and the order created: the
// one-stop system is the authority on dossiers, the event is authenticated, and a dossier may
// well reach the post before (or without) a status change passing through the gateway (one
// synced before the gateway went live, or one whose status change is still waiting for the
// portal). Refusing it would leave a citizen without the result for no gain. The timeline notes
// that the dossier was not seen before, so ops can tell.
//
// Retries never make a second order: the order number is stable per dossier and kind, and the
// dialect looks the order up by its number before creating it again. A shipment already recorded
// with its first status is not sent to the partner again. A code the postal mapping does not know
// (postal.ErrNoMapping), an order that cannot be sent as it is (postal.ErrInvalidOrder) or one the
// partner refuses (postal.ErrRejected) is permanent: the
// message is dead-lettered with the reason (naming the code) and the one-stop system is told
// through the dead-letter notification (dossier.sync_failed). A partner outage parks the message
// in the vnpost retry schedule; nothing is lost.
type deliveryToPostal struct {
	store   *store.Store
	postal  postal.Postal
	metrics *observability.DeliveryMetrics
	cfg     DeliveryConfig
	log     *slog.Logger
}

func (h *deliveryToPostal) Handle(msg *message.Message) ([]*message.Message, error) {
	ctx := msg.Context()
	ev, err := events.Parse(json.RawMessage(msg.Payload), "")
	if err != nil {
		return nil, failure.MarkPermanent(fmt.Errorf("reading event: %w", err))
	}
	d := ev.Delivery
	if d == nil {
		return nil, failure.Permanentf("event type %s is not a delivery request", ev.Type)
	}
	kind := postal.Kind(d.Kind)
	if !kind.Valid() {
		return nil, failure.Permanentf("delivery kind %q is unknown", d.Kind)
	}
	code := d.DossierCode
	number := OrderNumber(code, kind)

	existing, found, err := h.store.ShipmentOf(ctx, code, string(kind))
	if err != nil {
		return nil, err
	}
	if found && len(existing.History) > 0 {
		// Created and recorded before (a redelivery, or a second request for the same shipment):
		// the first status's notification again (same id: the receiver deduplicates), no order.
		h.timeline(ctx, code, "shipment_request_repeated", string(kind)+" "+number+": the shipment exists already; no second order", ev.ID)
		first := existing.History[0]
		n, err := statusNotification(existing, postal.Status(first.Status), first.At, first.Office, 1)
		if err != nil {
			return nil, failure.MarkPermanent(err)
		}
		return []*message.Message{n}, nil
	}

	order := h.order(d, kind, number)
	created, err := h.postal.CreateOrder(ctx, order)
	if err != nil {
		if errors.Is(err, postal.ErrNoMapping) || errors.Is(err, postal.ErrRejected) || errors.Is(err, postal.ErrInvalidOrder) {
			err = failure.MarkPermanent(fmt.Errorf("creating order %s: %w", number, err))
			h.timeline(ctx, code, "shipment_refused", string(kind)+" "+number+": "+truncate(err.Error(), 300), ev.ID)
			return nil, err
		}
		h.timeline(ctx, code, "shipment_create_failed", string(kind)+" "+number+": "+failure.Classify(err).String(), ev.ID)
		return nil, fmt.Errorf("creating order %s: %w", number, err)
	}
	sync, err := h.store.DossierSyncState(ctx, code)
	if err != nil {
		return nil, err
	}
	now := nowFunc()
	sh := store.Shipment{DossierCode: code, Number: number, Kind: string(kind), PartnerID: created.PartnerID,
		Service: order.Service, CODAmount: order.CODAmount, Fee: created.Fee, CreatedAt: now}
	isNew, err := h.store.SaveShipment(ctx, code, sh)
	if err != nil {
		return nil, err
	}
	var createdEntry []store.TimelineEntry // written with the first status's, in one round trip
	if isNew {
		h.metrics.ShipmentsCreated.WithLabelValues(string(kind)).Inc()
		detail := string(kind) + " " + number
		if created.AlreadyHad {
			detail += " (the partner had it already)"
		}
		if !sync.Known {
			detail += " (dossier not seen by the gateway before: accepted, the one-stop system is the authority)"
		}
		createdEntry = []store.TimelineEntry{{Kind: "shipment_created", Detail: detail, EventID: ev.ID, At: now}}
	}
	// The partner's status of the order as created (or found), recorded as the first status. A
	// shipment this call created has no status yet: it is not read back. One saved before (a
	// redelivery) is read, as it may have statuses.
	status := created.Status
	first := postal.Event{Number: number, PartnerID: created.PartnerID, Status: status, At: now}
	var fx effects
	if isNew {
		fx, err = applyStatusTo(ctx, h.store, h.metrics, h.log, sh, first, createdEntry...)
	} else {
		fx, err = applyStatus(ctx, h.store, h.metrics, h.log, code, kind, number, first)
	}
	if err != nil {
		return nil, err
	}
	if fx.notification == nil {
		// Recorded before the crash that made this a redelivery: the same notification again.
		recorded, _, err := h.store.ShipmentOf(ctx, code, string(kind))
		if err != nil {
			return nil, err
		}
		seq := seqOf(recorded, status)
		if seq == 0 {
			if len(recorded.History) == 0 {
				return nil, fmt.Errorf("order %s: no status recorded yet", number)
			}
			seq, status = 1, postal.Status(recorded.History[0].Status)
		}
		fx.notification, err = statusNotification(recorded, status, recorded.History[seq-1].At, recorded.History[seq-1].Office, seq)
		if err != nil {
			return nil, failure.MarkPermanent(err)
		}
	}
	return []*message.Message{fx.notification}, nil
}

// order builds the postal order: the agency sends a result to the citizen, the citizen hands a
// dossier to the post for the agency.
func (h *deliveryToPostal) order(d *events.DeliveryRequest, kind postal.Kind, number string) postal.Order {
	citizen := postal.Party{
		Name: d.Recipient.Name, Phone: d.Recipient.Phone, Address: d.Recipient.Address,
		ProvinceCode: d.Recipient.ProvinceCode, CommuneCode: d.Recipient.CommuneCode, DistrictCode: d.Recipient.DistrictCode,
	}
	o := postal.Order{
		Number: number, DossierCode: d.DossierCode, Kind: kind, Service: d.Service,
		WeightGrams: int(d.WeightGrams), CODAmount: d.CODAmount, Note: d.Note,
		Sender: h.cfg.Agency, Receiver: citizen,
	}
	if kind == postal.KindCollectDossier {
		o.Sender, o.Receiver = citizen, h.cfg.Agency
	}
	if o.Service == "" {
		o.Service = h.cfg.DefaultService
	}
	if o.WeightGrams <= 0 {
		o.WeightGrams = h.cfg.DefaultWeightGrams
	}
	return o
}

func (h *deliveryToPostal) timeline(ctx context.Context, code, kind, detail, eventID string) {
	_ = h.store.AddTimeline(context.WithoutCancel(ctx), code, store.TimelineEntry{Kind: kind, Detail: detail, EventID: eventID})
}

// DeliveryNotice is the data of delivery.status_changed. It holds no personal data.
type DeliveryNotice struct {
	DossierCode string `json:"dossier_code"`
	OrderNumber string `json:"order_number"`
	Kind        string `json:"kind"`
	PartnerID   string `json:"partner_id,omitempty"`
	Status      int    `json:"status"`
	StatusName  string `json:"status_name"`
	// Problem marks a failed or returned delivery (statuses 5, 15, 18, 22).
	Problem   bool   `json:"problem"`
	Final     bool   `json:"final"`
	At        string `json:"at"`
	Office    string `json:"office,omitempty"`
	CODAmount int64  `json:"cod_amount"`
	Fee       int64  `json:"fee,omitempty"`
}

// StatusNames name the shipment statuses in notifications and timelines.
var StatusNames = map[postal.Status]string{
	postal.StatusDraft: "draft", postal.StatusCreated: "created", postal.StatusPickingUp: "picking_up",
	postal.StatusPickupFailed: "pickup_failed", postal.StatusPickedUp: "picked_up", postal.StatusAtPostOffice: "at_post_office",
	postal.StatusInTransit: "in_transit", postal.StatusDelivering: "delivering", postal.StatusDelivered: "delivered",
	postal.StatusDeliveryFailed: "delivery_failed", postal.StatusReturning: "returning", postal.StatusCompleted: "completed",
	postal.StatusDeliveryCanceled: "cancelled",
}

func statusName(s postal.Status) string {
	if n, ok := StatusNames[s]; ok {
		return n
	}
	return "status_" + strconv.Itoa(int(s))
}

// deliveryStatusMessage is a message of TopicDeliveryStatusChanged: one status of a shipment on
// its way to the one-stop system. Seq is the status's position in the shipment's history (1 for
// the first): the handler sends a shipment's notifications in that order.
type deliveryStatusMessage struct {
	Seq          int              `json:"seq"`
	DossierCode  string           `json:"dossier_code"`
	Kind         string           `json:"kind"`
	Notification notificationBody `json:"notification"`
}

// statusNotification is the delivery.status_changed of one status of a shipment, the seq-th of its
// history. Its id comes from the order number and the status, so a repeat carries the same
// webhook-id.
func statusNotification(sh store.Shipment, s postal.Status, at time.Time, office string, seq int) (*message.Message, error) {
	n, err := NewNotification(onestop.TypeDeliveryStatusChanged, sh.Number+"\x00"+strconv.Itoa(int(s)), DeliveryNotice{
		DossierCode: sh.DossierCode, OrderNumber: sh.Number, Kind: sh.Kind, PartnerID: sh.PartnerID,
		Status: int(s), StatusName: statusName(s), Problem: observability.IsProblem(s), Final: s.Final(),
		At: at.UTC().Format(time.RFC3339), Office: office, CODAmount: sh.CODAmount, Fee: sh.Fee,
	})
	if err != nil {
		return nil, err
	}
	var body notificationBody
	if err := json.Unmarshal(n.Payload, &body); err != nil {
		return nil, fmt.Errorf("reading notification: %w", err)
	}
	payload, err := json.Marshal(deliveryStatusMessage{Seq: seq, DossierCode: sh.DossierCode, Kind: sh.Kind, Notification: body})
	if err != nil {
		return nil, fmt.Errorf("encoding status message: %w", err)
	}
	m := message.NewMessage(n.UUID, payload)
	m.Metadata.Set(MetaType, onestop.TypeDeliveryStatusChanged)
	m.Metadata.Set(MetaSubject, sh.DossierCode)
	return m, nil
}

// seqOf is the position (1-based) of status s in a shipment's history, 0 when absent.
func seqOf(sh store.Shipment, s postal.Status) int {
	for i, h := range sh.History {
		if h.Status == int(s) {
			return i + 1
		}
	}
	return 0
}

// ResultDelivered is a message of TopicResultDelivered: the post delivered a dossier's result.
type ResultDelivered struct {
	DossierCode string    `json:"dossier_code"`
	OrderNumber string    `json:"order_number"`
	Status      int       `json:"status"`
	DeliveredAt time.Time `json:"delivered_at"`
}

// finalStatuses and deliveredStatuses as the store's script takes them.
var (
	finalStatuses     = []int{int(postal.StatusDelivered), int(postal.StatusCompleted), int(postal.StatusDeliveryCanceled)}
	deliveredStatuses = []int{int(postal.StatusDelivered), int(postal.StatusCompleted)}
)

// effects are the messages a new shipment status causes.
type effects struct {
	notification *message.Message // TopicDeliveryStatusChanged
	delivered    *message.Message // TopicResultDelivered, for a delivered result
}

// decide says what a tracking record does to a shipment as recorded: "" for a new status, else
// the reason it is ignored.
func decide(sh store.Shipment, s postal.Status) string {
	for _, h := range sh.History {
		if h.Status == int(s) {
			return observability.IgnoredDuplicate
		}
	}
	if postal.Status(sh.Status).Final() && len(sh.History) > 0 {
		return observability.IgnoredAfterFinal
	}
	return ""
}

// effectsOf builds the messages of a new status.
func effectsOf(sh store.Shipment, e postal.Event) (effects, error) {
	var fx effects
	var err error
	if fx.notification, err = statusNotification(sh, e.Status, e.At, e.Office, len(sh.History)+1); err != nil {
		return fx, err
	}
	if sh.Kind == string(postal.KindDeliverResult) && (e.Status == postal.StatusDelivered || e.Status == postal.StatusCompleted) {
		body, err := json.Marshal(ResultDelivered{DossierCode: sh.DossierCode, OrderNumber: sh.Number, Status: int(e.Status), DeliveredAt: e.At.UTC()})
		if err != nil {
			return fx, fmt.Errorf("encoding delivered result: %w", err)
		}
		sum := sha256.Sum256([]byte("delivered\x00" + sh.Number))
		fx.delivered = message.NewMessage("dlv_"+hex.EncodeToString(sum[:12]), body)
		fx.delivered.Metadata.Set(MetaSubject, sh.DossierCode)
	}
	return fx, nil
}

// applyStatus records a new status of a shipment (once, in order) and counts and shows it: the
// dossier's timeline, the status metric, and for a failed or returned delivery a warning with the
// order number and the problem metric. It returns the messages the status causes, or none when
// the status was not new.
func applyStatus(ctx context.Context, st *store.Store, m *observability.DeliveryMetrics, log *slog.Logger,
	code string, kind postal.Kind, number string, e postal.Event) (effects, error) {
	sh, found, err := st.ShipmentOf(ctx, code, string(kind))
	if err != nil {
		return effects{}, err
	}
	if !found {
		return effects{}, fmt.Errorf("recording status of order %s: no shipment", number)
	}
	return applyStatusTo(ctx, st, m, log, sh, e)
}

// applyStatusTo is applyStatus of a shipment already read (or just created, without statuses):
// the store's script applies the status only if it is still new, whatever was read. The timeline
// entries before go to the dossier's timeline first, with the status's own when it is recorded.
func applyStatusTo(ctx context.Context, st *store.Store, m *observability.DeliveryMetrics, log *slog.Logger,
	sh store.Shipment, e postal.Event, before ...store.TimelineEntry) (fx effects, err error) {
	code, kind := sh.DossierCode, sh.Kind
	applied := false
	defer func() {
		if len(before) > 0 && !applied {
			_ = st.AddTimelines(context.WithoutCancel(ctx), code, before...)
		}
	}()
	if reason := decide(sh, e.Status); reason != "" {
		return effects{}, nil
	}
	fx, err = effectsOf(sh, e)
	if err != nil {
		return effects{}, failure.MarkPermanent(err)
	}
	res, err := st.ApplyShipmentStatus(ctx, code, kind, store.ShipmentStatus{Status: int(e.Status), At: e.At.UTC(), Office: e.Office},
		finalStatuses, deliveredStatuses)
	if err != nil {
		return effects{}, err
	}
	if res != store.StatusApplied {
		return effects{}, nil
	}
	applied = true
	recorded(ctx, st, m, log, sh, e, before...)
	return fx, nil
}

// recorded shows a newly recorded status to ops, after the timeline entries before.
func recorded(ctx context.Context, st *store.Store, m *observability.DeliveryMetrics, log *slog.Logger, sh store.Shipment, e postal.Event,
	before ...store.TimelineEntry) {
	label := observability.StatusLabel(e.Status)
	m.StatusChanges.WithLabelValues(sh.Kind, label).Inc()
	kind, detail := "shipment_status", sh.Kind+" "+sh.Number+" status "+strconv.Itoa(int(e.Status))+" ("+statusName(e.Status)+")"
	if observability.IsProblem(e.Status) {
		kind = "shipment_problem"
		m.Problems.WithLabelValues(sh.Kind, label).Inc()
		log.Warn("delivery failed or returned", "order_number", sh.Number, "dossier_code", sh.DossierCode,
			"kind", sh.Kind, "status", int(e.Status), "status_name", statusName(e.Status))
	}
	entries := append(slices.Clip(before), store.TimelineEntry{Kind: kind, Detail: detail})
	if sh.Kind == string(postal.KindDeliverResult) && (e.Status == postal.StatusDelivered || e.Status == postal.StatusCompleted) && sh.DeliveredAt.IsZero() {
		entries = append(entries, store.TimelineEntry{Kind: "delivery_done",
			Detail: "result delivered to the citizen by post (" + sh.Number + "); the portal is told the dossier is returned"})
	}
	_ = st.AddTimelines(context.WithoutCancel(ctx), sh.DossierCode, entries...)
}
