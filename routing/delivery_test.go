package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

// fakePostal is a postal partner in memory: orders by number (a create of a number it has
// returns the order, as the dialects do), a tracking list, and a switch to fail.
type fakePostal struct {
	mu      sync.Mutex
	orders  map[string]postal.Order
	creates int // calls that made an order
	calls   int
	fail    error
	records []postal.Event
	cursors []string // cursors Track was called with
	page    int      // records per Track answer (0: all)
}

func newFakePostal() *fakePostal { return &fakePostal{orders: map[string]postal.Order{}} }

func (f *fakePostal) CreateOrder(_ context.Context, o postal.Order) (postal.Created, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return postal.Created{}, f.fail
	}
	if o.Receiver.CommuneCode == "99999" || o.Sender.CommuneCode == "99999" {
		return postal.Created{}, fmt.Errorf("receiver commune 99999: %w", postal.ErrNoMapping)
	}
	if _, ok := f.orders[o.Number]; ok {
		return postal.Created{Number: o.Number, PartnerID: "P-" + o.Number, Status: postal.StatusCreated, AlreadyHad: true}, nil
	}
	f.orders[o.Number] = o
	f.creates++
	return postal.Created{Number: o.Number, PartnerID: "P-" + o.Number, Fee: 22000, Status: postal.StatusCreated}, nil
}

func (f *fakePostal) Track(_ context.Context, cursor string) ([]postal.Event, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cursors = append(f.cursors, cursor)
	if f.fail != nil {
		return nil, "", f.fail
	}
	var out []postal.Event
	for _, e := range f.records {
		if e.Cursor > cursor {
			out = append(out, e)
		}
	}
	if f.page > 0 && len(out) > f.page {
		out = out[:f.page]
	}
	next := cursor
	if len(out) > 0 {
		next = out[len(out)-1].Cursor
	}
	return out, next, nil
}

func (f *fakePostal) Cancel(context.Context, string) error { return nil }

func (f *fakePostal) track(number string, s postal.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records = append(f.records, postal.Event{Number: number, Status: s, At: time.Now(), Office: "250000",
		Cursor: fmt.Sprintf("%06d", len(f.records)+1)})
}

var testAgency = postal.Party{Name: "Agency", Phone: "0912345020", Address: "So 2", ProvinceCode: "20", CommuneCode: "05977"}

type deliveryEnv struct {
	st      *store.Store
	postal  *fakePostal
	metrics *observability.DeliveryMetrics
	h       *deliveryToPostal
}

func newDeliveryEnv(t *testing.T) deliveryEnv {
	t.Helper()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	m, err := observability.NewDeliveryMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	p := newFakePostal()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return deliveryEnv{st: st, postal: p, metrics: m, h: &deliveryToPostal{store: st, postal: p, metrics: m, log: log,
		cfg: DeliveryConfig{Agency: testAgency, DefaultService: postal.ServiceEconomy, DefaultWeightGrams: 500}}}
}

// deliveryEvent is a vn.gov.delivery.requested CloudEvent.
func deliveryEvent(id, code, kind, commune string) []byte {
	b, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "source": "/t", "type": "vn.gov.delivery.requested", "subject": code,
		"data": map[string]any{"dossier_code": code, "kind": kind, "service": "ETN011", "cod_amount": 30000, "note": "giao gio hanh chinh",
			"recipient": map[string]any{"name": "Nguyen Van A", "phone": "0987654321", "address": "12 Tran Dang Ninh",
				"province_code": "20", "commune_code": commune}},
	})
	return b
}

func handleDelivery(t *testing.T, h *deliveryToPostal, uuid string, payload []byte) ([]*message.Message, error) {
	t.Helper()
	msg := message.NewMessage(uuid, payload)
	msg.SetContext(t.Context())
	return h.Handle(msg)
}

// TestDeliveryCreatesOneOrderPerDossierAndKind: the two kinds of one dossier make two orders with
// distinct, stable numbers and the right parties; a redelivery, a second request and a retry after
// an outage make no second order and repeat the same notification id.
func TestDeliveryCreatesOneOrderPerDossierAndKind(t *testing.T) {
	t.Parallel()
	env := newDeliveryEnv(t)
	const code = "000.00.37.H37-251126-0100"
	// The partner is down for the first attempt: a transient error, nothing recorded.
	env.postal.fail = &failure.StatusError{Partner: "vnpost", Operation: "create_order", StatusCode: 503}
	_, err := handleDelivery(t, env.h, "m1", deliveryEvent("d1", code, "deliver_result", "05977"))
	if err == nil || failure.Classify(err) != failure.Transient {
		t.Fatalf("outage: %v, want a transient error", err)
	}
	if _, found, _ := env.st.ShipmentOf(t.Context(), code, "deliver_result"); found {
		t.Fatal("a shipment was recorded although the partner was down")
	}
	env.postal.fail = nil
	out1, err := handleDelivery(t, env.h, "m1", deliveryEvent("d1", code, "deliver_result", "05977"))
	if err != nil {
		t.Fatal(err)
	}
	out2, err := handleDelivery(t, env.h, "m2", deliveryEvent("d2", code, "deliver_result", "05977"))
	if err != nil {
		t.Fatal(err)
	}
	if len(out1) != 1 || len(out2) != 1 || out1[0].UUID != out2[0].UUID {
		t.Fatalf("notifications %v / %v: want one each with the same id", out1, out2)
	}
	if _, err := handleDelivery(t, env.h, "m3", deliveryEvent("d3", code, "collect_dossier", "05977")); err != nil {
		t.Fatal(err)
	}
	if env.postal.creates != 2 || len(env.postal.orders) != 2 {
		t.Fatalf("%d orders made, want 2 (one per kind)", env.postal.creates)
	}
	res, col := env.postal.orders[code+"-KQ"], env.postal.orders[code+"-HS"]
	if res.Sender != testAgency || res.Receiver.Name != "Nguyen Van A" || res.Receiver.CommuneCode != "05977" {
		t.Fatalf("result order parties: sender %+v receiver %+v", res.Sender, res.Receiver)
	}
	if col.Receiver != testAgency || col.Sender.Phone != "0987654321" {
		t.Fatalf("collection order parties: sender %+v receiver %+v", col.Sender, col.Receiver)
	}
	if res.Service != postal.ServiceExpress || res.CODAmount != 30000 || res.WeightGrams != 500 || res.Note != "giao gio hanh chinh" {
		t.Fatalf("result order: %+v", res)
	}
	sh, found, err := env.st.ShipmentOf(t.Context(), code, "deliver_result")
	if err != nil || !found {
		t.Fatalf("shipment: %v %v", found, err)
	}
	if sh.Number != code+"-KQ" || sh.PartnerID != "P-"+code+"-KQ" || sh.Status != 1 || sh.Fee != 22000 || sh.CODAmount != 30000 || len(sh.History) != 1 {
		t.Fatalf("shipment record: %+v", sh)
	}
	// No personal data in the shipment's keys.
	for _, key := range []string{env.st.Keys.Shipment(code, "deliver_result"), env.st.Keys.ShipmentHistory(code, "deliver_result")} {
		dump, _ := env.st.Client.Dump(t.Context(), key).Result()
		for _, pii := range []string{"Nguyen Van A", "0987654321", "Tran Dang Ninh"} {
			if strings.Contains(dump, pii) {
				t.Fatalf("%s holds personal data %q", key, pii)
			}
		}
	}
	if got := testutil.ToFloat64(env.metrics.ShipmentsCreated.WithLabelValues("deliver_result")); got != 1 {
		t.Fatalf("shipments created deliver_result = %v, want 1", got)
	}
	var sm deliveryStatusMessage
	if err := json.Unmarshal(out1[0].Payload, &sm); err != nil || sm.Notification.Type != onestop.TypeDeliveryStatusChanged || sm.Seq != 1 {
		t.Fatalf("status message %s: %v", out1[0].Payload, err)
	}
	n := sm.Notification
	var notice DeliveryNotice
	_ = json.Unmarshal(n.Data, &notice)
	if notice.OrderNumber != code+"-KQ" || notice.Status != 1 || notice.Kind != "deliver_result" || strings.Contains(string(n.Data), "Nguyen") {
		t.Fatalf("notice: %s", n.Data)
	}
}

// TestDeliveryUnknownCommuneIsPermanent: a code without postal mapping is a permanent error that
// names the code, and records no shipment.
func TestDeliveryUnknownCommuneIsPermanent(t *testing.T) {
	t.Parallel()
	env := newDeliveryEnv(t)
	const code = "000.00.37.H37-251126-0101"
	_, err := handleDelivery(t, env.h, "m1", deliveryEvent("d1", code, "deliver_result", "99999"))
	if err == nil || failure.Classify(err) != failure.Permanent || !errors.Is(err, postal.ErrNoMapping) || !strings.Contains(err.Error(), "99999") {
		t.Fatalf("unknown commune: %v, want a permanent error naming 99999", err)
	}
	if _, found, _ := env.st.ShipmentOf(t.Context(), code, "deliver_result"); found {
		t.Fatal("a shipment was recorded for a refused order")
	}
	tl, _ := env.st.Timeline(t.Context(), code)
	if len(tl) != 1 || tl[0].Kind != "shipment_refused" || !strings.Contains(tl[0].Detail, "99999") {
		t.Fatalf("timeline: %+v", tl)
	}
}

func TestOrderNumber(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("A", 64)
	for _, tc := range []struct {
		name string
		code string
		kind postal.Kind
		want string
	}{
		{"result", "000.00.37.H37-251126-0001", postal.KindDeliverResult, "000.00.37.H37-251126-0001-KQ"},
		{"collection", "000.00.37.H37-251126-0001", postal.KindCollectDossier, "000.00.37.H37-251126-0001-HS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OrderNumber(tc.code, tc.kind); got != tc.want {
				t.Fatalf("OrderNumber = %q, want %q", got, tc.want)
			}
		})
	}
	a, b := OrderNumber(long, postal.KindDeliverResult), OrderNumber(long+"B", postal.KindDeliverResult)
	if len(a) > 64 || len(b) > 64 || a == b || a != OrderNumber(long, postal.KindDeliverResult) {
		t.Fatalf("long codes: %q %q: want distinct, stable, at most 64 characters", a, b)
	}
}

// topicMessages reads the messages of a topic's stream, oldest first.
func topicMessages(t *testing.T, st *store.Store, topic string) []*message.Message {
	t.Helper()
	entries, err := st.Client.XRange(t.Context(), st.Keys.Stream(topic), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []*message.Message
	for _, e := range entries {
		m, err := store.Codec{}.Unmarshal(e.Values)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestTrackingAppliesEachStatusOnceInOrder: each new status is recorded once and notified in
// order; a repeated status, a status after delivery and a record of an unknown order change
// nothing and are counted; a delivered result asks once for the portal; the cursor survives.
func TestTrackingAppliesEachStatusOnceInOrder(t *testing.T) {
	t.Parallel()
	env := newDeliveryEnv(t)
	const code = "000.00.37.H37-251126-0102"
	if _, err := handleDelivery(t, env.h, "m1", deliveryEvent("d1", code, "deliver_result", "05977")); err != nil {
		t.Fatal(err)
	}
	number := code + "-KQ"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	newTracker := func() *Tracker {
		tr, err := NewTracker(Tracker{Store: env.st, Postal: env.postal, Metrics: env.metrics, Log: log, Interval: time.Second, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	tr := newTracker()
	for _, s := range []postal.Status{postal.StatusCreated, postal.StatusPickingUp, postal.StatusPickedUp, postal.StatusPickingUp,
		postal.StatusDelivering, postal.StatusDeliveryFailed, postal.StatusDelivering, postal.StatusDelivered, postal.StatusInTransit} {
		env.postal.track(number, s)
	}
	env.postal.track("NOT-OURS-KQ", postal.StatusDelivered)
	env.postal.track(number, postal.Status(99))
	n, err := tr.Poll(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// 4, 6, 12, 15, 14 are new; 1 was recorded at creation; 4 and 12 repeat; 10 comes after 14.
	if n != 5 {
		t.Fatalf("applied %d records, want 5", n)
	}
	sh, _, _ := env.st.ShipmentOf(t.Context(), code, "deliver_result")
	var got []int
	for _, h := range sh.History {
		got = append(got, h.Status)
	}
	if fmt.Sprint(got) != "[1 4 6 12 15 14]" || sh.Status != 14 || sh.DeliveredAt.IsZero() {
		t.Fatalf("history %v status %d delivered %v; want [1 4 6 12 15 14], 14, a delivery time", got, sh.Status, sh.DeliveredAt)
	}
	for reason, want := range map[string]float64{observability.IgnoredDuplicate: 3, observability.IgnoredAfterFinal: 1, observability.IgnoredUnknownOrder: 1,
		observability.IgnoredUnknownStatus: 1} {
		if got := testutil.ToFloat64(env.metrics.TrackingIgnored.WithLabelValues(reason)); got != want {
			t.Fatalf("ignored %s = %v, want %v", reason, got, want)
		}
	}
	if got := testutil.ToFloat64(env.metrics.Problems.WithLabelValues("deliver_result", "15")); got != 1 {
		t.Fatalf("problems 15 = %v, want 1", got)
	}
	var statuses []int
	var seqs []int
	for _, m := range topicMessages(t, env.st, TopicDeliveryStatusChanged) {
		var sm deliveryStatusMessage
		var d DeliveryNotice
		_ = json.Unmarshal(m.Payload, &sm)
		_ = json.Unmarshal(sm.Notification.Data, &d)
		statuses = append(statuses, d.Status)
		seqs = append(seqs, sm.Seq)
	}
	if fmt.Sprint(seqs) != "[2 3 4 5 6]" {
		t.Fatalf("status messages in positions %v, want [2 3 4 5 6] (1 was the creation)", seqs)
	}
	if fmt.Sprint(statuses) != "[4 6 12 15 14]" {
		t.Fatalf("notifications of statuses %v, want [4 6 12 15 14]", statuses)
	}
	delivered := topicMessages(t, env.st, TopicResultDelivered)
	if len(delivered) != 1 {
		t.Fatalf("%d delivered-result messages, want 1", len(delivered))
	}
	var rd ResultDelivered
	if err := json.Unmarshal(delivered[0].Payload, &rd); err != nil || rd.DossierCode != code || rd.Status != 14 || rd.OrderNumber != number {
		t.Fatalf("delivered result %s: %v", delivered[0].Payload, err)
	}
	tl, _ := env.st.Timeline(t.Context(), code)
	problems := 0
	for _, e := range tl {
		if e.Kind == "shipment_problem" && strings.Contains(e.Detail, number) {
			problems++
		}
	}
	if problems != 1 {
		t.Fatalf("timeline shows %d problems, want 1: %+v", problems, tl)
	}
	// A new poller (a restart) starts from the stored cursor: nothing is applied again.
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	tr = newTracker()
	defer tr.Close()
	if n, err := tr.Poll(t.Context()); err != nil || n != 0 {
		t.Fatalf("poll after restart: %d, %v; want nothing new", n, err)
	}
	if last := env.postal.cursors[len(env.postal.cursors)-1]; last != "000011" {
		t.Fatalf("restarted poll asked after cursor %q, want 000011", last)
	}
}

// TestTrackingWaitsForTheLock: a poll while another replica holds the lock does nothing.
func TestTrackingWaitsForTheLock(t *testing.T) {
	t.Parallel()
	env := newDeliveryEnv(t)
	tr, err := NewTracker(Tracker{Store: env.st, Postal: env.postal, Metrics: env.metrics, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Interval: time.Second, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	release, err := env.st.Lock(t.Context(), env.st.Keys.DeliveryPollLock(), "other-replica", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Poll(t.Context()); err != nil || len(env.postal.cursors) != 0 {
		t.Fatalf("poll under another replica's lock: %v, %d Track calls; want none", err, len(env.postal.cursors))
	}
	release(t.Context())
	if _, err := tr.Poll(t.Context()); err != nil || len(env.postal.cursors) != 1 {
		t.Fatalf("poll after the lock is free: %v, %d Track calls; want one", err, len(env.postal.cursors))
	}
}

// recordingPortal keeps the dossiers it was sent.
type recordingPortal struct{ upserts []portal.Dossier }

func (p *recordingPortal) UpsertDossier(_ context.Context, d portal.Dossier) error {
	p.upserts = append(p.upserts, d)
	return nil
}
func (p *recordingPortal) AddProgress(context.Context, portal.Step) error { return nil }

// TestResultToPortal: a delivered result sends the last synced state with status 10 and NgayTra;
// without a synced state it waits (transient); once returned, a repeat sends nothing.
func TestResultToPortal(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	p := &recordingPortal{}
	h := &resultToPortal{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	const code = "D-RET-1"
	at := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	body, _ := json.Marshal(ResultDelivered{DossierCode: code, OrderNumber: code + "-KQ", Status: 14, DeliveredAt: at})
	handle := func() error {
		msg := message.NewMessage("dlv1", body)
		msg.SetContext(t.Context())
		_, err := h.Handle(msg)
		return err
	}
	if err := handle(); !errors.Is(err, errNoSyncedState) || failure.Classify(err) != failure.Transient {
		t.Fatalf("without a synced state: %v, want a transient wait", err)
	}
	ev, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": "e9", "source": "/t", "type": "vn.gov.dossier.status_changed", "subject": code,
		"data": map[string]any{"version": 9,
			"dossier": map[string]any{"MaHoSo": code, "MaTTHC": "1.0", "LoaiDoiTuong": 1, "TrangThaiHoSo": 9,
				"DanhSachLePhi": []map[string]any{{"TenPhiLePhi": "Le phi", "MaPhiLePhi": "LP01", "Gia": 50000}}},
			"step": map[string]any{"ThoiDiemXuLy": "20251126080000", "TrangThai": 9}},
	})
	if err := st.RecordSynced(t.Context(), code, store.SyncedSummary{Version: 9, Status: 9}, ev); err != nil {
		t.Fatal(err)
	}
	if err := handle(); err != nil {
		t.Fatal(err)
	}
	if len(p.upserts) != 1 {
		t.Fatalf("%d upserts, want 1", len(p.upserts))
	}
	d := p.upserts[0]
	if d.Status != portal.StatusResultReturned || !d.ReturnedAt.Equal(at) || d.Code != code || len(d.Fees) != 1 || d.Fees[0].Amount != 50000 {
		t.Fatalf("sent %+v; want the synced state at status 10 returned at %v", d, at)
	}
	sum, _, _ := st.LastSyncedSummary(t.Context(), code)
	if sum.Status != 10 || sum.Version != 9 {
		t.Fatalf("last synced summary %+v: want status 10 of version 9", sum)
	}
	if err := handle(); err != nil || len(p.upserts) != 1 {
		t.Fatalf("repeat: %v, %d upserts; want nothing sent again", err, len(p.upserts))
	}
}

// recordingNotifier keeps the notifications it sent.
type recordingNotifier struct{ sent []onestop.Notification }

func (n *recordingNotifier) Notify(_ context.Context, x onestop.Notification) error {
	n.sent = append(n.sent, x)
	return nil
}

// TestDeliveryStatusesNotifiedInOrder: a shipment's second status arriving before its first waits
// (a transient error) and is sent after it; a repeat is not sent again.
func TestDeliveryStatusesNotifiedInOrder(t *testing.T) {
	t.Parallel()
	env := newDeliveryEnv(t)
	const code = "000.00.37.H37-251126-0103"
	sh := store.Shipment{DossierCode: code, Number: code + "-HS", Kind: "collect_dossier", CreatedAt: time.Now()}
	if _, err := env.st.SaveShipment(t.Context(), code, sh); err != nil {
		t.Fatal(err)
	}
	first, err := statusNotification(sh, postal.StatusCreated, time.Now(), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	second, err := statusNotification(sh, postal.StatusPickingUp, time.Now(), "", 2)
	if err != nil {
		t.Fatal(err)
	}
	rn := &recordingNotifier{}
	h := &deliveryStatusToOnestop{store: env.st, notifier: rn, metrics: newTestMetrics()}
	handle := func(m *message.Message) error {
		c := m.Copy()
		c.SetContext(t.Context())
		_, err := h.Handle(c)
		return err
	}
	if err := handle(second); !errors.Is(err, errNotYourTurn) || failure.Classify(err) != failure.Transient {
		t.Fatalf("second before first: %v, want a transient wait", err)
	}
	for _, m := range []*message.Message{first, second, second, first} {
		if err := handle(m); err != nil {
			t.Fatal(err)
		}
	}
	if len(rn.sent) != 2 || rn.sent[0].ID != first.UUID || rn.sent[1].ID != second.UUID {
		t.Fatalf("sent %+v; want the first then the second, once each", rn.sent)
	}
	if err := handle(message.NewMessage("bad", []byte(`{"seq":0}`))); failure.Classify(err) != failure.Permanent {
		t.Fatalf("malformed message: %v, want permanent", err)
	}
}

// TestTrackingReadsABacklog: records waiting after an outage are read page after page in one poll.
func TestTrackingReadsABacklog(t *testing.T) {
	t.Parallel()
	env := newDeliveryEnv(t)
	const code = "000.00.37.H37-251126-0104"
	if _, err := handleDelivery(t, env.h, "m1", deliveryEvent("d1", code, "collect_dossier", "05977")); err != nil {
		t.Fatal(err)
	}
	env.postal.page = 2
	for _, s := range []postal.Status{postal.StatusPickingUp, postal.StatusPickedUp, postal.StatusAtPostOffice, postal.StatusInTransit, postal.StatusDelivering} {
		env.postal.track(code+"-HS", s)
	}
	tr, err := NewTracker(Tracker{Store: env.st, Postal: env.postal, Metrics: env.metrics, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Interval: time.Second, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if n, err := tr.Poll(t.Context()); err != nil || n != 5 {
		t.Fatalf("poll: %d applied, %v; want the 5 records of 3 pages", n, err)
	}
	if fmt.Sprint(env.postal.cursors) != "[ 000002 000004 000005]" {
		t.Fatalf("Track called after %q, want each page's cursor then one empty page", env.postal.cursors)
	}
}

// TestDeliveryTimeline: a created shipment shows in the dossier's timeline as created (with the
// request's event id) then its first status, in that order; a repeated request adds only a note
// that the shipment exists.
func TestDeliveryTimeline(t *testing.T) {
	t.Parallel()
	env := newDeliveryEnv(t)
	const code = "000.00.37.H37-251126-0300"
	for i, id := range []string{"t1", "t2"} {
		if _, err := handleDelivery(t, env.h, "m"+id, deliveryEvent(id, code, "deliver_result", "05977")); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	tl, err := env.st.Timeline(t.Context(), code)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range tl {
		kinds = append(kinds, e.Kind)
	}
	if got, want := strings.Join(kinds, ","), "shipment_created,shipment_status,shipment_request_repeated"; got != want {
		t.Fatalf("timeline %s, want %s", got, want)
	}
	if tl[0].EventID != "t1" || !strings.Contains(tl[1].Detail, "status 1 (created)") {
		t.Errorf("entries %+v", tl[:2])
	}
}
