package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

// stepPortal answers AddProgress with err and counts the calls.
type stepPortal struct {
	err   error
	steps int
}

func (p *stepPortal) UpsertDossier(context.Context, portal.Dossier) error { return nil }
func (p *stepPortal) AddProgress(context.Context, portal.Step) error {
	p.steps++
	return p.err
}

// TestPaymentStepForAnUnknownDossier: the portal answering that it does not know the dossier is
// a permanent failure (dead-lettered with that reason) when no version of the dossier waits to
// be synced, and stays transient while one does (its sync may still land), as every other
// portal failure does.
func TestPaymentStepForAnUnknownDossier(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	// As the dvcqg dialect answers error_code 11: transient, wrapping portal.ErrUnknownDossier.
	unknown := fmt.Errorf("adding progress: %w: %w", portal.ErrUnknownDossier,
		&failure.ProtocolError{Partner: "dvcqg", Operation: "add_progress", Code: "11", Retryable: true})
	if failure.Classify(unknown) != failure.Transient {
		t.Fatalf("the dialect's error is %s, want transient", failure.Classify(unknown))
	}
	if err := st.MarkUnsynced(t.Context(), "D-WAITING", 3, time.Now(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	handle := func(p *stepPortal, dossier string) error {
		ev, _ := json.Marshal(bank.Event{PaymentID: "pay_" + dossier, Reference: "R" + dossier, DossierCode: dossier, Provider: bank.ProviderVNPay,
			Amount: 150000, From: bank.StatePending, To: bank.StatePaid, At: time.Now().Format(time.RFC3339)})
		msg := message.NewMessage("m-"+dossier, ev)
		msg.SetContext(t.Context())
		h := &paymentToPortal{store: st, portal: p, metrics: newTestMetrics()}
		_, err := h.Handle(msg)
		return err
	}

	err := handle(&stepPortal{err: unknown}, "D-NEVER")
	if err == nil || failure.Classify(err) != failure.Permanent || !strings.Contains(err.Error(), "does not know dossier D-NEVER") {
		t.Fatalf("unknown dossier, no sync waiting: %v (%s), want a permanent failure naming the dossier", err, failure.Classify(err))
	}
	if !errors.Is(err, portal.ErrUnknownDossier) {
		t.Fatalf("error %v does not wrap portal.ErrUnknownDossier", err)
	}
	tl, terr := st.Client.XRange(t.Context(), st.Keys.Timeline("D-NEVER"), "-", "+").Result()
	if terr != nil || len(tl) != 1 || !strings.Contains(fmt.Sprint(tl[0].Values), "unknown_dossier") {
		t.Fatalf("timeline of D-NEVER %v %v, want one payment_step_failed entry saying unknown_dossier", tl, terr)
	}

	if err := handle(&stepPortal{err: unknown}, "D-WAITING"); err == nil || failure.Classify(err) != failure.Transient {
		t.Fatalf("unknown dossier whose sync waits: %v (%s), want transient", err, failure.Classify(err))
	}
	down := fmt.Errorf("adding progress: %w", &failure.ProtocolError{Partner: "dvcqg", Operation: "add_progress", Code: "99", Retryable: true})
	if err := handle(&stepPortal{err: down}, "D-OTHER"); err == nil || failure.Classify(err) != failure.Transient {
		t.Fatalf("another portal failure: %v (%s), want transient", err, failure.Classify(err))
	}
	p := &stepPortal{}
	if err := handle(p, "D-KNOWN"); err != nil || p.steps != 1 {
		t.Fatalf("a known dossier: %v, %d steps; want the step sent once", err, p.steps)
	}
}
