package main

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/routing"
)

// TestMixPattern: slot and request are inverses, count agrees with slot over any prefix, and the
// default weights give the documented shares.
func TestMixPattern(t *testing.T) {
	for _, spec := range []string{"status=17,ipn=2,delivery=1", "status=1", "status=3,delivery=2", "ipn=1,status=1,delivery=0"} {
		f := &mixedFlow{mixSpec: spec, versions: 4}
		if err := f.check(&flowOptions{events: 1000}); err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		seen := [3]uint64{}
		for n := range uint64(203) {
			kind, rank := f.slot(n)
			if rank != seen[kind] {
				t.Fatalf("%s: request %d is %s #%d, want #%d (ranks in order)", spec, n, mixNames[kind], rank, seen[kind])
			}
			seen[kind]++
			if back := f.request(kind, rank); back != n {
				t.Fatalf("%s: request(%s, %d) = %d, want %d", spec, mixNames[kind], rank, back, n)
			}
			for k := range 3 {
				if got := f.count(n+1, k); got != seen[k] {
					t.Fatalf("%s: count(%d, %s) = %d, want %d", spec, n+1, mixNames[k], got, seen[k])
				}
			}
		}
	}
	f := &mixedFlow{mixSpec: "status=17,ipn=2,delivery=1", versions: 4}
	_ = f.check(&flowOptions{events: 2000})
	if s, i, d := f.count(2000, mixStatus), f.count(2000, mixIPN), f.count(2000, mixDelivery); s != 1700 || i != 200 || d != 100 {
		t.Errorf("default mix of 2000: %d status, %d ipn, %d delivery; want 1700, 200, 100", s, i, d)
	}
	for _, bad := range []string{"status=0,ipn=1", "status=x", "parcel=1,status=1", "status=-1"} {
		if err := (&mixedFlow{mixSpec: bad, versions: 4}).check(&flowOptions{events: 10}); err == nil {
			t.Errorf("-mix %q accepted", bad)
		}
	}
}

// TestMixedGenEvents: the generator's events are valid CloudEvents of the kind their slot says,
// IPN slots have no body, and each effect key leads back to its request.
func TestMixedGenEvents(t *testing.T) {
	f := &mixedFlow{mixSpec: "status=3,ipn=1,delivery=1", versions: 2}
	o := &flowOptions{events: 50}
	if err := f.check(o); err != nil {
		t.Fatal(err)
	}
	g := f.newGen("t", o).(*mixedGen)
	steps := map[string]int{}
	for n := range uint64(o.events) {
		body := g.bodyOf(n)
		kind, _ := f.slot(n)
		if kind == mixIPN {
			if body != nil {
				t.Fatalf("IPN slot %d has a body", n)
			}
			if back, ok := g.eventOf("ipn-"+itoa(n), 1); !ok || back != n {
				t.Errorf("ipn key of %d maps to %d, %v", n, back, ok)
			}
			continue
		}
		ev, err := events.Parse(json.RawMessage(body), "")
		if err != nil {
			t.Fatalf("request %d: %v", n, err)
		}
		var key string
		var nth int
		switch {
		case kind == mixStatus && ev.StatusChanged != nil:
			steps[ev.Subject]++
			key, nth = ev.Subject, steps[ev.Subject]
		case kind == mixDelivery && ev.Delivery != nil:
			key, nth = orderNumberOf(ev), 1
		default:
			t.Fatalf("request %d (%s) is a %s", n, mixNames[kind], ev.Type)
		}
		if back, ok := g.eventOf(key, nth); !ok || back != n {
			t.Errorf("request %d: effect %s #%d maps to %d, %v", n, key, nth, back, ok)
		}
	}
}

// TestMixedScenario runs the mixed scenario briefly: both phases deliver every request's effect
// (steps, orders, 00 answers).
func TestMixedScenario(t *testing.T) {
	res := flowResultOf(t, "mixed", "-events", "400", "-consumers", "2", "-producers", "8", "-mix", "status=3,ipn=1,delivery=1")
	if res.Scenario != "mixed" || res.Events != 400 {
		t.Errorf("RESULT describes %+v", res)
	}
	checkFlowPhases(t, res, 400)
	// 400 requests of the pattern 3:1:1 are 240 status changes, 80 IPNs, 80 delivery requests.
	want := map[string]int64{"status": 240, "ipn": 80, "delivery": 80}
	for name, p := range map[string]flowPhase{"baseline": res.Baseline, "gateway": res.Gateway} {
		for k, n := range want {
			if l := p.ByKind[k]; l.Count != n || l.P50Ms <= 0 || l.P50Ms > l.P99Ms || l.P99Ms > l.P999Ms {
				t.Errorf("%s: %s latency %+v, want %d requests with ordered percentiles", name, k, l, n)
			}
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func orderNumberOf(ev *events.Event) string {
	return routing.OrderNumber(ev.Delivery.DossierCode, postal.Kind(ev.Delivery.Kind))
}
