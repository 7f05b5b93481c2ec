package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/routing"
)

// TestPaymentStepForADossierUnknownToThePortal pays a dossier the portal never received (and
// whose sync is not on its way): the one-stop system is notified once, and the portal step is
// dead-lettered at once with the reason, instead of retrying until the schedule ends.
func TestPaymentStepForADossierUnknownToThePortal(t *testing.T) {
	gw := apptest.Start(t, apptest.Config(t, apptest.RealRedis))
	p := createPayment(t, gw, "unknown-dossier", bank.ProviderVNPay, 30000)
	id := p["payment_id"].(string)
	citizenPays(t, gw, p, true)
	waitStatus(t, gw, id, "paid")
	apptest.Eventually(t, 10*time.Second, "one payment.succeeded notice", func() bool { return len(notices(gw, "payment.succeeded", id)) == 1 })

	dlq := gw.Store.Keys.Stream(routing.TopicDeadLetter)
	var found string
	apptest.Eventually(t, 10*time.Second, "the payment step dead-lettered", func() bool {
		msgs, err := gw.Store.Client.XRange(context.Background(), dlq, "-", "+").Result()
		if err != nil {
			return false
		}
		for _, m := range msgs {
			if s := fmt.Sprint(m.Values); strings.Contains(s, routing.HandlerPaymentToPortal) && strings.Contains(s, id) {
				found = s
			}
		}
		return found != ""
	})
	if !strings.Contains(found, "does not know dossier "+payDossier) {
		t.Fatalf("dead letter %s does not give the reason", found)
	}
	if n, _, _ := gw.Router.Schedules()[routing.HandlerPaymentToPortal].Len(context.Background()); n != 0 {
		t.Fatalf("%d payment steps parked for a retry, want none", n)
	}
}
