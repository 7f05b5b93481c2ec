package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
)

// PaymentNotice is the data of the payment.succeeded, payment.failed and payment.expired
// notifications to the one-stop system. It holds no personal data.
type PaymentNotice struct {
	PaymentID             string `json:"payment_id"`
	DossierCode           string `json:"dossier_code"`
	Provider              string `json:"provider"`
	Amount                int64  `json:"amount"`
	Status                string `json:"status"`
	Reference             string `json:"reference"`
	ProviderTransactionID string `json:"provider_transaction_id,omitempty"`
	PaidAt                string `json:"paid_at,omitempty"`
	At                    string `json:"at"`
	Reason                string `json:"reason,omitempty"`
}

// noticeTypes maps a final state to its notification type; a cancellation has none (the one-stop
// system is the one that cancels).
var noticeTypes = map[bank.State]string{
	bank.StatePaid:    onestop.TypePaymentSucceeded,
	bank.StateFailed:  onestop.TypePaymentFailed,
	bank.StateExpired: onestop.TypePaymentExpired,
}

func readPaymentEvent(msg *message.Message) (bank.Event, error) {
	var ev bank.Event
	if err := json.Unmarshal(msg.Payload, &ev); err != nil || ev.PaymentID == "" || ev.DossierCode == "" || ev.To == "" {
		return bank.Event{}, failure.Permanentf("reading payment event: malformed body")
	}
	return ev, nil
}

// paymentNotice turns a payment transition into the notification to the one-stop system. The
// notification's id is derived from the payment and its type, so a repeat (a redelivery after a
// crash) carries the same webhook-id and the receiver deduplicates it.
type paymentNotice struct {
	store *store.Store
}

func (h *paymentNotice) Handle(msg *message.Message) ([]*message.Message, error) {
	ev, err := readPaymentEvent(msg)
	if err != nil {
		return nil, err
	}
	typ, ok := noticeTypes[ev.To]
	if !ok {
		return nil, nil
	}
	n, err := NewNotification(typ, ev.PaymentID, PaymentNotice{
		PaymentID: ev.PaymentID, DossierCode: ev.DossierCode, Provider: ev.Provider, Amount: ev.Amount, Status: string(ev.To),
		Reference: ev.Reference, ProviderTransactionID: ev.ProviderTransactionID, PaidAt: ev.PaidAt, At: ev.At, Reason: ev.Reason,
	})
	if err != nil {
		return nil, failure.MarkPermanent(err)
	}
	n.Metadata.Set(MetaSubject, ev.DossierCode)
	_ = h.store.AddTimeline(context.WithoutCancel(msg.Context()), ev.DossierCode, store.TimelineEntry{
		Kind: "payment_" + string(ev.To), Detail: ev.Provider + " " + ev.PaymentID,
	})
	return []*message.Message{n}, nil
}

// paymentToPortal tells the national portal that a dossier's fee was paid, as a processing step
// (CapNhatTienDoHoSoMC) of the dossier at status 6 (financial obligation requested).
//
// [assumed] DVCQG's public material documents no call for a fee payment of its own: the portal
// holds the dossier's fee lines (DanhSachLePhi) in the state the one-stop system sends with each
// status change, and its progress history. The gateway does not hold the dossier's whole state,
// so it cannot re-send DongBoHoSoMC itself; it appends a step saying what was paid, how and
// when (amount, provider, provider transaction number, payment reference), and the one-stop
// system's next status change carries the updated fee lines. The step is sent once per payment
// (the dossier's step set records it), whatever the redeliveries. A portal that does not know the
// dossier, while no version of it waits to be synced, dead-letters the step at once with that
// reason (unknownForGood); ops replay it once the dossier is at the portal.
type paymentToPortal struct {
	store   *store.Store
	portal  portal.Portal
	metrics *observability.Metrics
}

var providerNames = map[string]string{
	bank.ProviderVNPay: "VNPay", bank.ProviderPayGov: "Cong thanh toan quoc gia (PayGov)", bank.ProviderVietQR: "chuyen khoan VietQR",
}

func (h *paymentToPortal) Handle(msg *message.Message) ([]*message.Message, error) {
	ctx := msg.Context()
	ev, err := readPaymentEvent(msg)
	if err != nil {
		return nil, err
	}
	if ev.To != bank.StatePaid {
		return nil, nil
	}
	stepsKey := h.store.Keys.DossierSteps(ev.DossierCode)
	member := "payment:" + ev.PaymentID
	sent, err := h.store.Client.SIsMember(ctx, stepsKey, member).Result()
	if err != nil {
		return nil, fmt.Errorf("reading sent steps: %w", err)
	}
	if sent {
		return nil, nil
	}
	paidAt, err := time.Parse(time.RFC3339, ev.PaidAt)
	if err != nil {
		paidAt, _ = time.Parse(time.RFC3339, ev.At)
	}
	content := "Da thanh toan phi, le phi truc tuyen qua " + providerNames[ev.Provider] + ": " +
		strconv.FormatInt(ev.Amount, 10) + " dong, ma thanh toan " + ev.Reference
	if ev.ProviderTransactionID != "" {
		content += ", ma giao dich " + ev.ProviderTransactionID
	}
	err = h.portal.AddProgress(ctx, portal.Step{
		DossierCode: ev.DossierCode, Handler: "He thong thanh toan truc tuyen", Title: "Thanh toan truc tuyen",
		At: paidAt, Department: ev.AgencyCode, Content: content, Status: portal.StatusFeeRequested, StartedAt: paidAt,
	})
	if err != nil {
		if unknownForGood(ctx, h.store, ev.DossierCode, err) {
			_ = h.store.AddTimeline(context.WithoutCancel(ctx), ev.DossierCode, store.TimelineEntry{
				Kind: "payment_step_failed", Detail: "unknown_dossier",
			})
			return nil, failure.MarkPermanent(fmt.Errorf("adding the payment step of %s: the portal does not know dossier %s "+
				"and no version of it waits to be synced; replay this dead letter once the dossier is at the portal: %w",
				ev.PaymentID, ev.DossierCode, err))
		}
		_ = h.store.AddTimeline(context.WithoutCancel(ctx), ev.DossierCode, store.TimelineEntry{
			Kind: "payment_step_failed", Detail: failure.Classify(err).String(),
		})
		return nil, fmt.Errorf("adding the payment step of %s: %w", ev.PaymentID, err)
	}
	if err := h.store.Client.SAdd(context.WithoutCancel(ctx), stepsKey, member).Err(); err != nil {
		return nil, fmt.Errorf("recording sent payment step: %w", err)
	}
	h.metrics.PortalSyncs.WithLabelValues("step_sent").Inc()
	_ = h.store.AddTimeline(context.WithoutCancel(ctx), ev.DossierCode, store.TimelineEntry{
		Kind: "payment_step_sent", Detail: ev.Provider + " " + ev.PaymentID,
	})
	return nil, nil
}

// unknownForGood reports whether err says the portal does not know the dossier while no version
// of it waits in the portal sync backlog: retrying cannot help until the one-stop system sends
// the dossier, so the payment step is dead-lettered with that reason instead of retrying for
// days. A dossier whose sync is retrying may still land: that failure stays transient. A backlog
// that cannot be read leaves it transient too.
func unknownForGood(ctx context.Context, st *store.Store, code string, err error) bool {
	if !errors.Is(err, portal.ErrUnknownDossier) {
		return false
	}
	pending, perr := st.SyncPending(context.WithoutCancel(ctx), code)
	return perr == nil && !pending
}
