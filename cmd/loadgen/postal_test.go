package main

import (
	"encoding/json"
	"testing"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/routing"
)

// TestDeliveryGenEventsAreValidAndTraceable: every generated delivery request passes the
// gateway's own validation, the kinds and COD amounts are mixed as documented, and each order
// number leads back to its event (and nothing else does).
func TestDeliveryGenEventsAreValidAndTraceable(t *testing.T) {
	g := newDeliveryGen("t1")
	kinds := map[postal.Kind]int{}
	cod := 0
	for n := range uint64(12) {
		body := g.bodyOf(n)
		ev, err := events.Parse(json.RawMessage(body), "")
		if err != nil {
			t.Fatalf("event %d does not parse: %v\n%s", n, err, body)
		}
		d := ev.Delivery
		if d == nil || d.DossierCode != ev.Subject || d.Kind != string(kindOf(n)) {
			t.Fatalf("event %d: delivery %+v", n, d)
		}
		kinds[postal.Kind(d.Kind)]++
		if d.CODAmount > 0 {
			cod++
		}
		number := routing.OrderNumber(d.DossierCode, postal.Kind(d.Kind))
		if got, ok := g.eventOf(number, 1); !ok || got != n {
			t.Errorf("eventOf(%q) = %d, %v; want %d", number, got, ok, n)
		}
		other := routing.OrderNumber(d.DossierCode, map[bool]postal.Kind{true: postal.KindDeliverResult, false: postal.KindCollectDossier}[d.Kind == string(postal.KindCollectDossier)])
		if _, ok := g.eventOf(other, 1); ok {
			t.Errorf("eventOf(%q) matched an order of the other kind", other)
		}
	}
	if kinds[postal.KindCollectDossier] != 3 || kinds[postal.KindDeliverResult] != 9 || cod != 4 {
		t.Errorf("12 events: kinds %v, %d with COD; want 3 collect, 9 deliver, 4 COD", kinds, cod)
	}
	if _, ok := g.eventOf("LGpt2-1-KQ", 1); ok {
		t.Error("eventOf matched another generator's order")
	}
}

// TestPostalScenario runs the postal scenario briefly, two replicas, and checks that both phases
// created every order at the MyVNPost sandbox and that the figures are consistent. It asserts
// nothing about speed.
func TestPostalScenario(t *testing.T) {
	res := flowResultOf(t, "postal", "-events", "300", "-consumers", "2", "-replicas", "2", "-producers", "4")
	if res.Scenario != "postal" || res.Events != 300 || res.Replicas != 2 {
		t.Errorf("RESULT describes %+v", res)
	}
	checkFlowPhases(t, res, 300)
}

// TestPostalScenarioBacklog parks the delivery requests with VNPost paused and drains them.
func TestPostalScenarioBacklog(t *testing.T) {
	res := flowResultOf(t, "postal", "-events", "200", "-backlog")
	if !res.Backlog || res.Gateway.RSSBacklogMiB <= 0 || res.Gateway.Delivered != 200 || res.Baseline.Delivered != 200 {
		t.Errorf("backlog run: %+v", res)
	}
}
