package submissions_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/connectors/portal/dvcqg"
	"github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/partnerhttp"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/submissions"
	"github.com/egov-vn/gateway/internal/testredis"
	"github.com/egov-vn/gateway/routing"
)

type fixture struct {
	sb      *sandbox.Sandbox
	dialect *dvcqg.Client
	store   *store.Store
	metrics *observability.NationalMetrics
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	sb := sandbox.New(sandbox.Config{Username: "u", Password: "p", DstCode: "d"})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	hc, err := partnerhttp.New(partnerhttp.Config{Partner: "dvcqg", BaseURL: srv.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dvcqg.New(dvcqg.Config{AuthPath: "/auth", IntegrationPath: "/integration", Username: "u", Password: "p", DstCode: "d", MaDonVi: "000.00.00.H37"}, hc)
	if err != nil {
		t.Fatal(err)
	}
	c := testredis.Client(t)
	m, err := observability.NewNationalMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return fixture{sb: sb, dialect: d, store: &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}, metrics: m}
}

// poller is one replica's poller; a new one over the same store is a restarted replica.
func (f fixture) poller(inbox portal.Inbox) *submissions.Poller {
	return &submissions.Poller{Inbox: inbox, Store: f.store, Metrics: f.metrics, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Agencies: []string{"000.00.15.H37"}, Interval: time.Hour, Batch: 2, MaxPages: 1, DedupTTL: 24 * time.Hour,
		LockLease: 30 * time.Second, Replica: "t"}
}

func (f fixture) submit(t *testing.T, code, agency string) {
	t.Helper()
	el := map[string]json.RawMessage{}
	for k, v := range map[string]string{"MaHoSo": code, "MaTTHC": "1.011442", "DonViXuLy": agency, "LoaiDoiTuong": "1"} {
		el[k], _ = json.Marshal(v)
	}
	if _, ok := f.sb.National().Submit(el); !ok {
		t.Fatal("sandbox refused the submission")
	}
}

func (f fixture) queued(t *testing.T) int64 {
	t.Helper()
	return f.store.Client.XLen(context.Background(), f.store.Keys.Stream(routing.TopicNotificationRequested)).Val()
}

// TestCursorSurvivesARestart: the cursor is kept in Redis, so a restarted poller goes on after
// the last page it stored; a page served again adds nothing.
func TestCursorSurvivesARestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, code := range []string{"N-1", "N-2", "N-3"} {
		f.submit(t, code, "000.00.15.H37")
	}
	st, err := f.poller(f.dialect).Poll(t.Context())
	if err != nil || st.Queued != 2 || st.Cursor != "2" {
		t.Fatalf("first poll: %+v, %v; want 2 queued, cursor 2", st, err)
	}
	st, err = f.poller(f.dialect).Poll(t.Context()) // a new replica, same store
	if err != nil || st.Queued != 1 || st.Fetched != 1 || st.Cursor != "3" {
		t.Fatalf("poll after a restart: %+v, %v; want N-3 only", st, err)
	}
	f.submit(t, "N-1", "000.00.15.H37") // the portal serves N-1 again
	st, err = f.poller(f.dialect).Poll(t.Context())
	if err != nil || st.Queued != 0 || st.Duplicates != 1 {
		t.Fatalf("N-1 served again: %+v, %v; want a duplicate", st, err)
	}
	if n := f.queued(t); n != 3 {
		t.Fatalf("%d notifications queued, want 3", n)
	}
}

// brokenInbox answers every fetch with an error, as a malformed page is.
type brokenInbox struct{ portal.Inbox }

func (brokenInbox) FetchSubmissions(context.Context, string, int) (portal.SubmissionPage, error) {
	return portal.SubmissionPage{}, errors.New("decoding submissions: malformed reply")
}

// TestFailedFetchKeepsTheCursor: a page that cannot be read moves nothing.
func TestFailedFetchKeepsTheCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.submit(t, "K-1", "000.00.15.H37")
	if _, err := f.poller(f.dialect).Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.submit(t, "K-2", "000.00.15.H37")
	if _, err := f.poller(brokenInbox{f.dialect}).Poll(t.Context()); err == nil {
		t.Fatal("a broken page was not reported")
	}
	st, err := f.poller(f.dialect).Poll(t.Context())
	if err != nil || st.Queued != 1 || st.Cursor != "2" {
		t.Fatalf("after the broken page: %+v, %v; want K-2 queued from cursor 1", st, err)
	}
}

// TestUnservedAgencyIsNotDeliveredNorAcknowledged: counted, in the dossier's timeline, not queued.
func TestUnservedAgencyIsNotDeliveredNorAcknowledged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.submit(t, "U-1", "000.00.99.H99")
	st, err := f.poller(f.dialect).Poll(t.Context())
	if err != nil || st.Ignored != 1 || st.Queued != 0 || f.queued(t) != 0 {
		t.Fatalf("%+v, %v; want the submission ignored and nothing queued", st, err)
	}
	if got := testutil.ToFloat64(f.metrics.Submissions.WithLabelValues(observability.SubmissionAgencyIgnored)); got != 1 {
		t.Fatalf("ignored_agency = %v", got)
	}
	tl, err := f.store.Timeline(t.Context(), "U-1")
	if err != nil || len(tl) != 1 || tl[0].Kind != "submission_ignored" {
		t.Fatalf("timeline %+v, %v", tl, err)
	}
	if subs := f.sb.National().Submissions(); subs[0].Acks != 0 {
		t.Fatal("an unserved submission was acknowledged")
	}
}

// failingNotifier refuses every notification, as a one-stop system that is down.
type failingNotifier struct{}

func (failingNotifier) Notify(context.Context, onestop.Notification) error { return errors.New("down") }

type okNotifier struct{}

func (okNotifier) Notify(context.Context, onestop.Notification) error { return nil }

// TestAcknowledgedOnlyAfterDelivery: a failed delivery records nothing; a delivered one is
// acknowledged by the next poll, once.
func TestAcknowledgedOnlyAfterDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.submit(t, "A-1", "000.00.15.H37")
	p := f.poller(f.dialect)
	if _, err := p.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	note := onestop.Notification{ID: "msg_1", Type: onestop.TypeDossierSubmittedNational, Data: json.RawMessage(`{"dossier_code":"A-1"}`)}
	if err := p.Notifier(failingNotifier{}).Notify(t.Context(), note); err == nil {
		t.Fatal("the failure was swallowed")
	}
	if st, _ := p.Poll(t.Context()); st.Acknowledged != 0 || f.sb.National().Submissions()[0].Acks != 0 {
		t.Fatalf("acknowledged without a delivery: %+v", st)
	}
	if err := p.Notifier(okNotifier{}).Notify(t.Context(), note); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Poll(t.Context()); err != nil || st.Acknowledged != 1 {
		t.Fatalf("after the delivery: %+v, %v", st, err)
	}
	if st, _ := p.Poll(t.Context()); st.Acknowledged != 0 || f.sb.National().Submissions()[0].Acks != 1 {
		t.Fatalf("acknowledged again: %+v", st)
	}
}
