package portalsync

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/vntime"
)

// fakePortal answers look-ups from a map; codes in fail answer an error.
type fakePortal struct {
	held  map[string]portal.Dossier
	fail  map[string]bool
	calls int
}

func (f *fakePortal) LookupDossier(_ context.Context, code string) (portal.Dossier, bool, error) {
	f.calls++
	if f.fail[code] {
		return portal.Dossier{}, false, errors.New("portal unavailable")
	}
	d, ok := f.held[code]
	return d, ok, nil
}

func testMetrics(t *testing.T) *observability.PortalSyncMetrics {
	t.Helper()
	m, err := observability.NewPortalSyncMetrics(prometheus.NewRegistry(), DriftClasses, RunOutcomes, ResyncResults)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestVerifyReportsUncheckedDossiers: a look-up that fails leaves the dossier unchecked and the
// report incomplete (an error run), while the drifts found elsewhere are still reported; a
// status the portal holds ahead of ours is a drift too; every call waits for the limiter.
func TestVerifyReportsUncheckedDossiers(t *testing.T) {
	t.Parallel()
	st := testStore(t)
	synced(t, st, "VF-1", 1, 2)
	synced(t, st, "VF-2", 1, 2)
	synced(t, st, "VF-3", 3, 4)
	p := &fakePortal{
		held: map[string]portal.Dossier{"VF-1": {Code: "VF-1", Status: 2}, "VF-3": {Code: "VF-3", Status: 9}},
		fail: map[string]bool{"VF-2": true},
	}
	g := newGate()
	for range 3 {
		g.tokens <- struct{}{}
	}
	m := testMetrics(t)
	v := &Verifier{Store: st, Portal: p, Limiter: g, Metrics: m}
	rep, err := v.Run(t.Context(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusIncomplete || rep.Checked != 2 || len(rep.Unchecked) != 1 || rep.Unchecked[0] != "VF-2" {
		t.Fatalf("report %+v, want incomplete with VF-2 unchecked", rep)
	}
	if len(rep.Drifts) != 1 || rep.Drifts[0].DossierCode != "VF-3" || rep.Drifts[0].Class != DriftStatus || rep.Drifts[0].Portal != "9" {
		t.Fatalf("drifts %+v, want VF-3's status 9 at the portal", rep.Drifts)
	}
	if p.calls != 3 || g.calls != 3 {
		t.Fatalf("%d look-ups, %d limiter waits; want 3 of each", p.calls, g.calls)
	}
	if testutil.ToFloat64(m.Runs.WithLabelValues(OutcomeError)) != 1 || testutil.ToFloat64(m.Drifts.WithLabelValues(DriftStatus)) != 1 ||
		testutil.ToFloat64(m.LastRun.WithLabelValues(OutcomeError)) == 0 {
		t.Fatal("an incomplete run is not counted as an error run with its drifts")
	}
}

// stopped is a limiter whose wait always fails.
type stopped struct{}

func (stopped) Wait(context.Context) error { return errors.New("stopped") }

// TestVerifyDays: a future day and a day older than the index are refused; the daily run takes
// the day once, and gives the day back when it fails.
func TestVerifyDays(t *testing.T) {
	t.Parallel()
	st := testStore(t)
	synced(t, st, "VD-1", 1, 2)
	p := &fakePortal{held: map[string]portal.Dossier{"VD-1": {Code: "VD-1", Status: 2}}}
	v := &Verifier{Store: st, Portal: p, Limiter: open{}, Metrics: testMetrics(t)}
	if _, err := v.Run(t.Context(), time.Now().Add(48*time.Hour)); !errors.Is(err, ErrFutureDay) {
		t.Fatalf("tomorrow: %v", err)
	}
	if _, err := v.Run(t.Context(), time.Now().AddDate(0, 0, -40)); !errors.Is(err, ErrTooOld) {
		t.Fatalf("40 days ago: %v", err)
	}
	if _, err := v.Stored(t.Context(), time.Now()); !errors.Is(err, ErrNoReport) {
		t.Fatalf("stored before any run: %v", err)
	}
	// A run that fails gives the day back to the next one.
	failing := &Verifier{Store: st, Portal: p, Limiter: stopped{}, Metrics: testMetrics(t)}
	if ran, err := failing.RunOnce(t.Context(), time.Now()); !ran || err == nil {
		t.Fatalf("a failing daily run: ran %v, %v; want it run and failed", ran, err)
	}
	ran, err := v.RunOnce(t.Context(), time.Now())
	if !ran || err != nil {
		t.Fatalf("first daily run: %v %v", ran, err)
	}
	if ran, err := v.RunOnce(t.Context(), time.Now()); ran || err != nil {
		t.Fatalf("second daily run of the same day: ran %v, %v; want skipped", ran, err)
	}
	rep, err := v.Stored(t.Context(), time.Now())
	if err != nil || rep.Status != StatusClean || rep.Checked != 1 || rep.Date != time.Now().In(vntime.Zone).Format(time.DateOnly) {
		t.Fatalf("stored report %+v %v", rep, err)
	}
}
