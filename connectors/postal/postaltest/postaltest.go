// Package postaltest is the contract every postal dialect passes: RunContract drives a
// postal.Postal against the VNPost sandbox over real HTTP and checks what the sandbox received,
// how orders stay single across retries, how tracking resumes from a cursor, and how failures are
// classified. A dialect's test calls it with a factory that builds a fresh sandbox, an httptest
// server and the dialect pointed at it.
package postaltest

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/sandbox"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/faults"
)

// Factory builds a dialect talking to a sandbox of its own over real HTTP. The sandbox and the
// dialect's token cache must both use now as their clock. Each call returns an independent pair:
// the cases run in parallel and inject faults into their sandbox.
type Factory func(t *testing.T, now func() time.Time) (postal.Postal, *sandbox.Sandbox)

// TokenTTL is the token lifetime the factory's sandbox must give (sandbox.Config.TokenTTL), and
// RenewBefore the dialect's renewal margin (Config.RenewBefore).
const (
	TokenTTL    = time.Hour
	RenewBefore = 2 * time.Minute
)

// Personal data of the fixtures: it must reach the partner and never an error.
const (
	citizenName    = "Nguyễn Thị Hoa"
	citizenPhone   = "+84 912 345 678"
	citizenWire    = "0912345678"
	citizenAddress = "Số 12 ngõ 3 đường Bà Triệu"
	agencyName     = "Trung tâm Phục vụ hành chính công tỉnh Lạng Sơn"
	agencyPhone    = "0205 381 234"
	agencyWire     = "0205381234"
)

// Clock is a settable clock shared by a sandbox and a dialect.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2025, 11, 26, 2, 0, 0, 0, time.UTC)} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Order returns a valid order of the kind for the dossier: the agency sends a result to the
// citizen, or the post collects the dossier from the citizen for the agency.
func Order(dossier string, kind postal.Kind) postal.Order {
	agency := postal.Party{Name: agencyName, Phone: agencyPhone, Address: "Số 1 đường Hoàng Văn Thụ",
		ProvinceCode: "20", CommuneCode: "05983"}
	citizen := postal.Party{Name: citizenName, Phone: citizenPhone, Address: citizenAddress,
		ProvinceCode: "20", CommuneCode: "06211"}
	o := postal.Order{Number: dossier + "-R", DossierCode: dossier, Kind: kind, Service: postal.ServiceEconomy,
		Sender: agency, Receiver: citizen, WeightGrams: 300, Note: "Kết quả thủ tục hành chính"}
	if kind == postal.KindCollectDossier {
		o.Number = dossier + "-C"
		o.Sender, o.Receiver = citizen, agency
		o.Note = "Hồ sơ thủ tục hành chính"
	}
	return o
}

// RunContract runs the postal contract against the dialect newPostal builds.
func RunContract(t *testing.T, newPostal Factory) {
	t.Helper()
	f := newPostal
	t.Run("create", func(t *testing.T) { t.Parallel(); testCreate(t, f) })
	t.Run("create again is the same order", func(t *testing.T) { t.Parallel(); testCreateAgain(t, f) })
	t.Run("concurrent creates make one order", func(t *testing.T) { t.Parallel(); testConcurrentCreates(t, f) })
	t.Run("COD and pickup reach the wire", func(t *testing.T) { t.Parallel(); testAddons(t, f) })
	t.Run("bad phone refused before any call", func(t *testing.T) { t.Parallel(); testBadPhone(t, f) })
	t.Run("unknown commune refused before any call", func(t *testing.T) { t.Parallel(); testUnknownCommune(t, f) })
	t.Run("tracking resumes after its cursor", func(t *testing.T) { t.Parallel(); testTracking(t, f) })
	t.Run("expired token is renewed", func(t *testing.T) { t.Parallel(); testTokenExpiry(t, f) })
	t.Run("token renewed before it expires", func(t *testing.T) { t.Parallel(); testTokenRenewal(t, f) })
	t.Run("partner down is transient", func(t *testing.T) { t.Parallel(); testDown(t, f) })
	t.Run("partner 4xx is rejected", func(t *testing.T) { t.Parallel(); testRejected(t, f) })
	t.Run("cancel", func(t *testing.T) { t.Parallel(); testCancel(t, f) })
}

func build(t *testing.T, f Factory) (postal.Postal, *sandbox.Sandbox, *Clock) {
	t.Helper()
	clk := NewClock()
	p, sb := f(t, clk.Now)
	return p, sb, clk
}

func mustOrder(t *testing.T, sb *sandbox.Sandbox, number string) sandbox.Order {
	t.Helper()
	o, ok := sb.Order(number)
	if !ok {
		t.Fatalf("sandbox holds no order %s", number)
	}
	return o
}

// noPersonalData fails when err quotes a fixture's personal data.
func noPersonalData(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, pd := range []string{citizenName, "912345678", "912 345 678", citizenAddress, "3812"} {
		if strings.Contains(err.Error(), pd) {
			t.Errorf("error quotes personal data %q: %v", pd, err)
		}
	}
}

func testCreate(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	o := Order("H37-251126-0001", postal.KindDeliverResult)
	got, err := p.CreateOrder(t.Context(), o)
	if err != nil {
		t.Fatalf("creating order: %v", err)
	}
	if got.Number != o.Number || got.PartnerID == "" || got.Status != postal.StatusCreated || got.AlreadyHad {
		t.Fatalf("created = %+v, want number %s, a partner id, status 1, not AlreadyHad", got, o.Number)
	}
	rec := mustOrder(t, sb, o.Number)
	if rec.PartnerID != got.PartnerID || rec.Service != postal.ServiceEconomy || rec.Weight != 300 {
		t.Errorf("sandbox order = %+v; want partner id %s, CTN001, 300 g", rec, got.PartnerID)
	}
	if rec.Receiver.Name != citizenName || rec.Receiver.Phone != citizenWire || rec.Receiver.Address != citizenAddress {
		t.Errorf("receiver on the wire = %+v, want the citizen with phone %s", rec.Receiver, citizenWire)
	}
	if rec.Sender.Phone != agencyWire {
		t.Errorf("sender phone on the wire = %q, want %s (normalised)", rec.Sender.Phone, agencyWire)
	}
	// Receiver commune 06211 (Xã Cao Lộc) is served by area 2515; sender 05983 by 2510.
	if rec.Receiver.Province != "25" || rec.Receiver.District != "2515" || rec.Sender.Province != "25" || rec.Sender.District != "2510" {
		t.Errorf("postal codes on the wire: sender %s/%s receiver %s/%s, want 25/2510 and 25/2515",
			rec.Sender.Province, rec.Sender.District, rec.Receiver.Province, rec.Receiver.District)
	}
	if rec.Pickup() || rec.CODAmount != 0 {
		t.Errorf("a result delivery without COD went out with pickup=%v COD=%d", rec.Pickup(), rec.CODAmount)
	}
	if len(rec.History) != 1 || rec.History[0].Status != postal.StatusCreated {
		t.Errorf("history = %+v, want one change to 1", rec.History)
	}
}

func testCreateAgain(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	o := Order("H37-251126-0002", postal.KindDeliverResult)
	first, err := p.CreateOrder(t.Context(), o)
	if err != nil {
		t.Fatalf("first create: %v", err)
	}
	again, err := p.CreateOrder(t.Context(), o)
	if err != nil {
		t.Fatalf("second create: %v", err)
	}
	if !again.AlreadyHad || again.PartnerID != first.PartnerID || again.Number != o.Number || again.Status != postal.StatusCreated {
		t.Fatalf("second create = %+v, want AlreadyHad with partner id %s and status 1", again, first.PartnerID)
	}
	if n := len(sb.Orders()); n != 1 {
		t.Fatalf("sandbox holds %d orders, want 1", n)
	}
	if n := sb.DuplicateCreates(); n != 0 {
		t.Fatalf("the retried create reached the partner's create %d times; it must look the order up first", n)
	}
	if h := mustOrder(t, sb, o.Number).History; len(h) != 1 {
		t.Fatalf("history after a retried create = %+v, want one entry", h)
	}
	// Once the shipment moved on, a retried create reports where it is.
	if _, err := sb.Advance(o.Number, nil); err != nil {
		t.Fatal(err)
	}
	moved, err := p.CreateOrder(t.Context(), o)
	if err != nil || !moved.AlreadyHad || moved.Status != postal.StatusPickingUp {
		t.Fatalf("create after advancing = %+v, %v; want AlreadyHad at status 4", moved, err)
	}
}

func testConcurrentCreates(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	o := Order("H37-251126-0003", postal.KindCollectDossier)
	const n = 6
	results := make([]postal.Created, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], errs[i] = p.CreateOrder(t.Context(), o) }()
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if results[i].PartnerID != results[0].PartnerID {
			t.Fatalf("creates answered different partner ids: %+v", results)
		}
		if !results[i].AlreadyHad {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d creates reported a new order, want exactly 1", fresh)
	}
	if got := len(sb.Orders()); got != 1 {
		t.Fatalf("sandbox holds %d orders, want 1", got)
	}
}

func testAddons(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	o := Order("H37-251126-0004", postal.KindCollectDossier)
	o.CODAmount = 150000
	o.Service = postal.ServiceExpress
	if _, err := p.CreateOrder(t.Context(), o); err != nil {
		t.Fatalf("creating collection with COD: %v", err)
	}
	rec := mustOrder(t, sb, o.Number)
	if rec.CODAmount != 150000 || !rec.Pickup() || rec.Service != postal.ServiceExpress {
		t.Fatalf("collection on the wire: COD %d pickup %v service %s, want 150000, pickup, ETN011", rec.CODAmount, rec.Pickup(), rec.Service)
	}
	if rec.Dialect == sandbox.MyVNPost {
		if v, ok := rec.HasAddon(postal.AddonCOD); !ok || v != "150000" {
			t.Errorf("GTG021 = %q, %v; want propValue 150000", v, ok)
		}
		if _, ok := rec.HasAddon(postal.AddonPickup); !ok {
			t.Error("GTG026 missing from a collection")
		}
		if len(rec.Addons) != 2 {
			t.Errorf("addons = %+v, want exactly GTG021 and GTG026", rec.Addons)
		}
	}
	if rec.Dialect == sandbox.NGSP && (!rec.SendDocument || rec.ReceiveResult) {
		t.Errorf("NGSP collection: IsSendDocument %v IsReceiveResult %v, want true/false", rec.SendDocument, rec.ReceiveResult)
	}
	d := Order("H37-251126-0004", postal.KindDeliverResult)
	if _, err := p.CreateOrder(t.Context(), d); err != nil {
		t.Fatalf("creating delivery: %v", err)
	}
	rec = mustOrder(t, sb, d.Number)
	if rec.Pickup() || rec.CODAmount != 0 || len(rec.Addons) != 0 {
		t.Errorf("delivery without COD: pickup %v COD %d addons %+v, want none", rec.Pickup(), rec.CODAmount, rec.Addons)
	}
	if rec.Dialect == sandbox.NGSP && !rec.ReceiveResult {
		t.Error("NGSP delivery without IsReceiveResult")
	}
	if n := len(sb.Orders()); n != 2 {
		t.Errorf("the two shipments of one dossier: sandbox holds %d orders, want 2", n)
	}
}

func testBadPhone(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	for _, phone := range []string{"091234567", "０９１２３４５６７８", "0912-345-67a", "", "+1 202 555 0100"} {
		o := Order("H37-251126-0005", postal.KindDeliverResult)
		o.Receiver.Phone = phone
		_, err := p.CreateOrder(t.Context(), o)
		if !errors.Is(err, postal.ErrInvalidOrder) || !failure.IsPermanent(err) {
			t.Errorf("phone %q: %v, want a permanent ErrInvalidOrder", phone, err)
		}
		if err != nil && !strings.Contains(err.Error(), "receiver phone") {
			t.Errorf("phone %q: error does not name the field: %v", phone, err)
		}
		noPersonalData(t, err)
	}
	if n := sb.Requests(); n != 0 {
		t.Fatalf("the partner was called %d times for orders refused before the wire", n)
	}
}

func testUnknownCommune(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	o := Order("H37-251126-0006", postal.KindDeliverResult)
	o.Receiver.CommuneCode = "05971" // Phường Hoàng Văn Thụ before the reform: no longer a code
	_, err := p.CreateOrder(t.Context(), o)
	if !errors.Is(err, postal.ErrNoMapping) || !failure.IsPermanent(err) || !strings.Contains(err.Error(), "05971") {
		t.Fatalf("unknown commune: %v, want a permanent ErrNoMapping naming 05971", err)
	}
	noPersonalData(t, err)
	o.Receiver.CommuneCode = "0597 1"
	if _, err = p.CreateOrder(t.Context(), o); !errors.Is(err, postal.ErrInvalidOrder) {
		t.Fatalf("malformed commune: %v, want ErrInvalidOrder", err)
	}
	if n := sb.Requests(); n != 0 {
		t.Fatalf("the partner was called %d times for orders refused before the wire", n)
	}
	o.Receiver.CommuneCode, o.Receiver.DistrictCode = "05971", "178" // a legacy dossier
	if _, err = p.CreateOrder(t.Context(), o); err == nil {
		if n := sb.Requests(); n == 0 {
			t.Fatal("the legacy dossier was accepted without reaching the partner")
		}
	} else {
		t.Fatalf("legacy dossier with district 178: %v", err)
	}
	if rec := mustOrder(t, sb, o.Number); rec.Receiver.District != "2510" {
		t.Errorf("legacy district 178 went out as area %s, want 2510", rec.Receiver.District)
	}
	if n := len(sb.Orders()); n != 1 {
		t.Fatalf("sandbox holds %d orders, want only the legacy one", n)
	}
}

func testTracking(t *testing.T, f Factory) {
	p, sb, clk := build(t, f)
	ctx := t.Context()
	a := Order("H37-251126-0007", postal.KindDeliverResult)
	b := Order("H37-251126-0008", postal.KindCollectDossier)
	for _, o := range []postal.Order{a, b} {
		if _, err := p.CreateOrder(ctx, o); err != nil {
			t.Fatalf("creating %s: %v", o.Number, err)
		}
	}
	clk.Add(time.Minute)
	for _, n := range []string{a.Number, a.Number, b.Number} {
		if _, err := sb.Advance(n, nil); err != nil {
			t.Fatal(err)
		}
	}
	events, cursor, err := p.Track(ctx, "")
	if err != nil {
		t.Fatalf("tracking from the start: %v", err)
	}
	want := []struct {
		number string
		status postal.Status
	}{{a.Number, 1}, {b.Number, 1}, {a.Number, 4}, {a.Number, 6}, {b.Number, 4}}
	checkEvents(t, events, want)
	if cursor == "" || cursor != events[len(events)-1].Cursor {
		t.Fatalf("cursor %q, want the last record's %q", cursor, events[len(events)-1].Cursor)
	}
	if !events[0].At.Equal(NewClock().Now()) || !events[2].At.Equal(NewClock().Now().Add(time.Minute)) {
		t.Errorf("event times %v, %v; want the sandbox clock's instants", events[0].At, events[2].At)
	}
	if events[0].PartnerID == "" || events[0].Message == "" {
		t.Errorf("first event %+v lacks the partner id or message", events[0])
	}

	same, again, err := p.Track(ctx, cursor)
	if err != nil || len(same) != 0 || again != cursor {
		t.Fatalf("tracking with nothing new = %d events, cursor %q, %v; want none and the same cursor", len(same), again, err)
	}
	four := postal.StatusDeliveryFailed
	if _, err := sb.Advance(b.Number, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Advance(a.Number, &four); err != nil {
		t.Fatal(err)
	}
	newer, next, err := p.Track(ctx, cursor)
	if err != nil {
		t.Fatalf("tracking after the cursor: %v", err)
	}
	checkEvents(t, newer, []struct {
		number string
		status postal.Status
	}{{b.Number, 6}, {a.Number, 15}})
	if next == cursor || next != newer[1].Cursor {
		t.Fatalf("cursor after the second poll = %q, want %q", next, newer[1].Cursor)
	}
	if _, _, err := p.Track(ctx, "not-a-cursor"); err == nil || !failure.IsPermanent(err) {
		t.Errorf("a malformed cursor: %v, want a permanent error", err)
	}
}

func checkEvents(t *testing.T, events []postal.Event, want []struct {
	number string
	status postal.Status
}) {
	t.Helper()
	if len(events) != len(want) {
		t.Fatalf("events = %+v, want %d", events, len(want))
	}
	var last int64 = -1
	for i, ev := range events {
		if ev.Number != want[i].number || ev.Status != want[i].status {
			t.Errorf("event %d = %s status %d, want %s status %d", i, ev.Number, ev.Status, want[i].number, want[i].status)
		}
		c, err := strconv.ParseInt(ev.Cursor, 10, 64)
		if err != nil || c <= last {
			t.Errorf("event %d cursor %q does not increase", i, ev.Cursor)
		}
		last = c
	}
}

func testTokenExpiry(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	if _, err := p.CreateOrder(t.Context(), Order("H37-251126-0009", postal.KindDeliverResult)); err != nil {
		t.Fatal(err)
	}
	if sb.ExpireTokens() == 0 {
		t.Fatal("the dialect holds no token after a create")
	}
	created, err := p.CreateOrder(t.Context(), Order("H37-251126-0010", postal.KindDeliverResult))
	if err != nil || created.AlreadyHad {
		t.Fatalf("create after the token expired: %+v, %v; want a transparent renewal", created, err)
	}
	if len(sb.Orders()) != 2 {
		t.Fatalf("sandbox holds %d orders, want 2", len(sb.Orders()))
	}
	if n := loginsOf(sb); n != 2 {
		t.Fatalf("logins = %d, want 2 (one renewal)", n)
	}
}

func loginsOf(sb *sandbox.Sandbox) int { return sb.Logins(sandbox.MyVNPost) + sb.Logins(sandbox.NGSP) }

func testTokenRenewal(t *testing.T, f Factory) {
	p, sb, clk := build(t, f)
	ctx := t.Context()
	if _, _, err := p.Track(ctx, ""); err != nil {
		t.Fatal(err)
	}
	clk.Add(TokenTTL - RenewBefore - time.Second)
	if _, _, err := p.Track(ctx, ""); err != nil || loginsOf(sb) != 1 {
		t.Fatalf("before the renewal margin: %v, logins %d; want the cached token", err, loginsOf(sb))
	}
	before := sb.Requests()
	clk.Add(time.Second)
	if _, _, err := p.Track(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if loginsOf(sb) != 2 {
		t.Fatalf("logins within the renewal margin = %d, want 2", loginsOf(sb))
	}
	// One login and one poll: the old token was not tried and refused first.
	if n := sb.Requests() - before; n != 2 {
		t.Fatalf("requests for a poll with renewal = %d, want 2 (login, poll)", n)
	}
}

func testDown(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	sb.Faults().Set(faults.Settings{Down: true})
	o := Order("H37-251126-0011", postal.KindDeliverResult)
	_, err := p.CreateOrder(t.Context(), o)
	if err == nil || errors.Is(err, postal.ErrRejected) || failure.Classify(err) != failure.Transient {
		t.Fatalf("create while down: %v, want a transient error, not ErrRejected", err)
	}
	noPersonalData(t, err)
	if _, _, err := p.Track(t.Context(), ""); err == nil || failure.Classify(err) != failure.Transient {
		t.Fatalf("tracking while down: %v, want transient", err)
	}
	sb.Faults().Set(faults.Settings{ErrorRate: 1, Status: 503})
	if _, err := p.CreateOrder(t.Context(), o); err == nil || failure.Classify(err) != failure.Transient || errors.Is(err, postal.ErrRejected) {
		t.Fatalf("create on 503: %v, want transient", err)
	}
	sb.Faults().Set(faults.Settings{})
	if _, err := p.CreateOrder(t.Context(), o); err != nil {
		t.Fatalf("create once the partner is back: %v", err)
	}
	if n := len(sb.Orders()); n != 1 {
		t.Fatalf("sandbox holds %d orders, want 1", n)
	}
}

func testRejected(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	// Log in first, so the fault hits the order calls and not the login.
	if _, _, err := p.Track(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{400, 422} {
		sb.Faults().Set(faults.Settings{ErrorRate: 1, Status: status})
		_, err := p.CreateOrder(t.Context(), Order("H37-251126-0012", postal.KindDeliverResult))
		if !errors.Is(err, postal.ErrRejected) || !failure.IsPermanent(err) {
			t.Errorf("HTTP %d: %v, want a permanent ErrRejected", status, err)
		}
		noPersonalData(t, err)
	}
	sb.Faults().Set(faults.Settings{})
	if n := len(sb.Orders()); n != 0 {
		t.Fatalf("sandbox holds %d orders after refusals", n)
	}
}

func testCancel(t *testing.T, f Factory) {
	p, sb, _ := build(t, f)
	ctx := t.Context()
	o := Order("H37-251126-0013", postal.KindDeliverResult)
	if _, err := p.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := p.Cancel(ctx, o.Number); err != nil {
		t.Fatalf("cancelling: %v", err)
	}
	if rec := mustOrder(t, sb, o.Number); rec.Status != postal.StatusDeliveryCanceled {
		t.Fatalf("status after cancel = %d, want 22", rec.Status)
	}
	events, _, err := p.Track(ctx, "")
	if err != nil || len(events) != 2 || events[1].Status != postal.StatusDeliveryCanceled {
		t.Fatalf("tracking after cancel = %+v, %v; want created then 22", events, err)
	}
	if err := p.Cancel(ctx, o.Number); !errors.Is(err, postal.ErrRejected) || !failure.IsPermanent(err) {
		t.Errorf("cancelling a cancelled order: %v, want a permanent ErrRejected", err)
	}
	if err := p.Cancel(ctx, "H37-UNKNOWN-R"); !errors.Is(err, postal.ErrNotFound) || !failure.IsPermanent(err) {
		t.Errorf("cancelling an unknown order: %v, want a permanent ErrNotFound", err)
	}
	before := sb.Requests()
	if err := p.Cancel(ctx, "bad/number"); !errors.Is(err, postal.ErrInvalidOrder) || sb.Requests() != before {
		t.Errorf("cancelling a malformed number: %v (requests %d→%d), want ErrInvalidOrder and no call", err, before, sb.Requests())
	}
}
