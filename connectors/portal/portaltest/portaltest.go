// Package portaltest is the contract every portal dialect passes: RunContract drives a
// portal.Portal against the DVCQG sandbox over real HTTP and checks what the sandbox received and
// how failures are classified. A dialect's test calls it with a factory that builds a fresh
// sandbox, an httptest server and the dialect pointed at it.
package portaltest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/faults"
)

// factory builds a portal dialect talking to a sandbox of its own over real HTTP.
type factory = func(t *testing.T) (portal.Portal, *sandbox.Sandbox)

// Personal data used by every fixture; it must reach the portal and never an error.
const (
	ownerName    = "Nguyễn Văn An"
	ownerID      = "001085012345"
	ownerPhone   = "0912345678"
	ownerEmail   = "an.nguyen@example.vn"
	officialName = "Trần Thị Bình"
)

// wireDate is yyyyMMddHHmmss.
var wireDate = regexp.MustCompile(`^[0-9]{14}$`)

// RunContract runs the portal contract against the dialect newPortal builds. Each call of
// newPortal must return an independent pair (its own sandbox, HTTP server and client): the cases
// run in parallel and inject faults into their sandbox.
func RunContract(t *testing.T, newPortal func(t *testing.T) (portal.Portal, *sandbox.Sandbox)) {
	t.Helper()
	f := newPortal
	t.Run("create then update", func(t *testing.T) { t.Parallel(); testCreateThenUpdate(t, f) })
	t.Run("step appended", func(t *testing.T) { t.Parallel(); testStepAppended(t, f) })
	t.Run("session expiry means a transparent re-login", func(t *testing.T) { t.Parallel(); testSessionExpiry(t, f) })
	t.Run("partner failure is transient", func(t *testing.T) { t.Parallel(); testPartnerFailure(t, f) })
	t.Run("rejected dossier is permanent", func(t *testing.T) { t.Parallel(); testRejectedDossier(t, f) })
	t.Run("rejected step is permanent", func(t *testing.T) { t.Parallel(); testRejectedStep(t, f) })
	t.Run("dates in yyyyMMddHHmmss at +07:00", func(t *testing.T) { t.Parallel(); testDates(t, f) })
	t.Run("concurrent upserts of different dossiers", func(t *testing.T) { t.Parallel(); testConcurrentUpserts(t, f) })
}

// Dossier returns a complete, valid dossier in status 2 (received), with personal data, fees,
// submitted documents and dates.
func Dossier(code string) portal.Dossier {
	return portal.Dossier{
		Code:          code,
		ProcedureCode: "1.001612.000.00.00.H37",
		ProcedureName: "Cấp giấy phép xây dựng",
		FieldCode:     "G11-XD05",
		FieldName:     "Hoạt động xây dựng",
		Owner:         ownerName,
		OwnerKind:     1,
		OwnerID:       ownerID,
		Phone:         ownerPhone,
		Email:         ownerEmail,
		Summary:       "Đề nghị cấp giấy phép xây dựng nhà ở riêng lẻ",
		ReceivedAt:    time.Date(2025, 3, 3, 1, 15, 0, 0, time.UTC),
		DueAt:         time.Date(2025, 3, 17, 9, 0, 0, 0, time.UTC),
		Status:        portal.StatusReceived,
		Channel:       1,
		Agency:        "Sở Xây dựng tỉnh Lạng Sơn",
		Fees: []portal.Fee{
			{Name: "Lệ phí cấp giấy phép xây dựng", Code: "LP-XD", PaymentMethod: "2", Amount: 75000, Kind: "2"},
		},
		Documents: []portal.Document{
			{Code: "TP1", Name: "Đơn đề nghị cấp giấy phép xây dựng", URL: "https://files.example.vn/tp1.pdf"},
		},
	}
}

// Step returns a valid processing step of the dossier code.
func Step(code, content string) portal.Step {
	return portal.Step{
		DossierCode: code,
		Handler:     officialName,
		Title:       "Chuyên viên",
		At:          time.Date(2025, 3, 4, 2, 0, 0, 0, time.UTC),
		Department:  "Phòng Quản lý xây dựng",
		Content:     content,
		Status:      portal.StatusProcessing,
		StartedAt:   time.Date(2025, 3, 4, 1, 0, 0, 0, time.UTC),
		DueAt:       time.Date(2025, 3, 10, 10, 0, 0, 0, time.UTC),
	}
}

func testCreateThenUpdate(t *testing.T, newPortal factory) {
	p, sb := newPortal(t)
	ctx := t.Context()
	d := Dossier("H37-CU-0001")
	if err := p.UpsertDossier(ctx, d); err != nil {
		t.Fatalf("creating dossier: %v", err)
	}
	rec := mustRecord(t, sb, d.Code)
	if rec.Creates != 1 || rec.Updates != 0 || rec.Upserts != 1 {
		t.Fatalf("after create: creates=%d updates=%d upserts=%d, want 1/0/1 (isUpdating False)", rec.Creates, rec.Updates, rec.Upserts)
	}
	for name, want := range map[string]string{
		"MaHoSo": d.Code, "MaTTHC": d.ProcedureCode, "TenTTHC": d.ProcedureName, "ChuHoSo": ownerName,
		"LoaiDoiTuong": "1", "SoDienThoai": ownerPhone, "Email": ownerEmail, "MaDoiTuong": ownerID,
		"TrangThaiHoSo": "2", "HinhThuc": "1", "DonViXuLy": d.Agency,
	} {
		assertField(t, rec, name, want)
	}
	if fees, _ := rec.DossierField("DanhSachLePhi"); !strings.Contains(fees, "75000") || !strings.Contains(fees, "LP-XD") {
		t.Errorf("DanhSachLePhi = %s, want the fee line with Gia 75000", fees)
	}

	d.Status = portal.StatusProcessing
	d.Summary = "Đã bổ sung bản vẽ"
	if err := p.UpsertDossier(ctx, d); err != nil {
		t.Fatalf("updating dossier: %v", err)
	}
	rec = mustRecord(t, sb, d.Code)
	if rec.Creates != 1 || rec.Updates != 1 || rec.Upserts != 2 {
		t.Fatalf("after update: creates=%d updates=%d upserts=%d, want 1/1/2 (isUpdating True)", rec.Creates, rec.Updates, rec.Upserts)
	}
	assertField(t, rec, "TrangThaiHoSo", "4")
	assertField(t, rec, "TrichYeuHoSo", d.Summary)
}

func testStepAppended(t *testing.T, newPortal factory) {
	p, sb := newPortal(t)
	ctx := t.Context()
	d := Dossier("H37-ST-0001")
	if err := p.UpsertDossier(ctx, d); err != nil {
		t.Fatalf("creating dossier: %v", err)
	}
	first, second := Step(d.Code, "Thẩm định hồ sơ"), Step(d.Code, "Trình lãnh đạo ký")
	second.Status = portal.StatusFinished
	for i, s := range []portal.Step{first, first, second} {
		if err := p.AddProgress(ctx, s); err != nil {
			t.Fatalf("adding step %d: %v", i, err)
		}
	}
	rec := mustRecord(t, sb, d.Code)
	if len(rec.Steps) != 3 {
		t.Fatalf("steps recorded = %d, want 3 (a step sent twice is recorded twice)", len(rec.Steps))
	}
	for i, want := range []struct{ content, status string }{
		{first.Content, "4"}, {first.Content, "4"}, {second.Content, "9"},
	} {
		assertStepField(t, rec, i, "MaHoSo", d.Code)
		assertStepField(t, rec, i, "NoiDungXuLy", want.content)
		assertStepField(t, rec, i, "TrangThai", want.status)
		assertStepField(t, rec, i, "NguoiXuLy", officialName)
		assertStepField(t, rec, i, "PhongBanXuLy", first.Department)
	}
	if rec.Upserts != 1 {
		t.Errorf("upserts = %d after adding steps, want 1: a step must not resend the dossier", rec.Upserts)
	}
}

func testSessionExpiry(t *testing.T, newPortal factory) {
	p, sb := newPortal(t)
	ctx := t.Context()
	d := Dossier("H37-SE-0001")
	if err := p.UpsertDossier(ctx, d); err != nil {
		t.Fatalf("creating dossier: %v", err)
	}
	if got := sb.Logins(); got != 1 {
		t.Fatalf("logins after first upsert = %d, want 1", got)
	}
	if err := p.AddProgress(ctx, Step(d.Code, "Thẩm định")); err != nil {
		t.Fatalf("adding step: %v", err)
	}
	if got := sb.Logins(); got != 1 {
		t.Fatalf("logins after a second call = %d, want 1: the session must be cached", got)
	}

	sb.ExpireSessions()
	d.Status = portal.StatusProcessing
	if err := p.UpsertDossier(ctx, d); err != nil {
		t.Fatalf("updating dossier after the session expired: %v", err)
	}
	if got := sb.Logins(); got != 2 {
		t.Fatalf("logins after expiry = %d, want 2", got)
	}
	sb.ExpireSessions()
	if err := p.AddProgress(ctx, Step(d.Code, "Trình ký")); err != nil {
		t.Fatalf("adding step after the session expired: %v", err)
	}
	if got := sb.Logins(); got != 3 {
		t.Fatalf("logins after second expiry = %d, want 3", got)
	}
	rec := mustRecord(t, sb, d.Code)
	if rec.Creates != 1 || rec.Updates != 1 || len(rec.Steps) != 2 {
		t.Fatalf("creates=%d updates=%d steps=%d, want 1/1/2: each call carried out once", rec.Creates, rec.Updates, len(rec.Steps))
	}
}

func testPartnerFailure(t *testing.T, newPortal factory) {
	tests := []struct {
		name     string
		settings faults.Settings
		// loggedIn makes one successful call first, so the failure hits a live session rather
		// than the login.
		loggedIn bool
	}{
		{name: "503 before login", settings: faults.Settings{ErrorRate: 1, Status: 503}},
		{name: "503 with a session", settings: faults.Settings{ErrorRate: 1, Status: 503}, loggedIn: true},
		{name: "500 with a session", settings: faults.Settings{ErrorRate: 1, Status: 500}, loggedIn: true},
		{name: "502 with a session", settings: faults.Settings{ErrorRate: 1, Status: 502}, loggedIn: true},
		{name: "down before login", settings: faults.Settings{Down: true}},
		{name: "down with a session", settings: faults.Settings{Down: true}, loggedIn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, sb := newPortal(t)
			ctx := t.Context()
			d := Dossier("H37-PF-0001")
			if tt.loggedIn {
				if err := p.UpsertDossier(ctx, Dossier("H37-PF-0000")); err != nil {
					t.Fatalf("warming up: %v", err)
				}
			}
			sb.Faults().Set(tt.settings)
			err := p.UpsertDossier(ctx, d)
			assertKind(t, "upsert", err, failure.Transient)
			assertNoPersonalData(t, err)
			err = p.AddProgress(ctx, Step(d.Code, "Thẩm định"))
			assertKind(t, "add progress", err, failure.Transient)
			if _, ok := sb.Dossier(d.Code); ok {
				t.Fatal("the sandbox recorded a dossier while failing")
			}

			sb.Faults().Set(faults.Settings{})
			if err := p.UpsertDossier(ctx, d); err != nil {
				t.Fatalf("upsert after the partner recovered: %v", err)
			}
			if err := p.AddProgress(ctx, Step(d.Code, "Thẩm định")); err != nil {
				t.Fatalf("add progress after the partner recovered: %v", err)
			}
		})
	}
}

func testRejectedDossier(t *testing.T, newPortal factory) {
	tests := []struct {
		name   string
		mutate func(d *portal.Dossier)
	}{
		{name: "status above 10", mutate: func(d *portal.Dossier) { d.Status = 11 }},
		{name: "status zero", mutate: func(d *portal.Dossier) { d.Status = 0 }},
		{name: "no dossier code", mutate: func(d *portal.Dossier) { d.Code = "" }},
		{name: "no procedure code", mutate: func(d *portal.Dossier) { d.ProcedureCode = "" }},
		{name: "unknown owner kind", mutate: func(d *portal.Dossier) { d.OwnerKind = 7 }},
		{name: "unknown result method", mutate: func(d *portal.Dossier) { d.Channel = 5 }},
		{name: "negative fee", mutate: func(d *portal.Dossier) { d.Fees[0].Amount = -75000 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, sb := newPortal(t)
			d := Dossier("H37-RJ-0001")
			tt.mutate(&d)
			err := p.UpsertDossier(t.Context(), d)
			assertKind(t, "upsert", err, failure.Permanent)
			if !errors.Is(err, portal.ErrRejected) {
				t.Errorf("error %q does not wrap portal.ErrRejected", err)
			}
			assertNoPersonalData(t, err)
			if got := sb.Dossiers(); len(got) != 0 {
				t.Fatalf("the sandbox recorded %v for a rejected dossier", got)
			}
		})
	}
}

func testRejectedStep(t *testing.T, newPortal factory) {
	tests := []struct {
		name   string
		mutate func(s *portal.Step)
	}{
		{name: "status zero", mutate: func(s *portal.Step) { s.Status = 0 }},
		{name: "status above 10", mutate: func(s *portal.Step) { s.Status = 12 }},
		{name: "no time", mutate: func(s *portal.Step) { s.At = time.Time{} }},
		{name: "no dossier code", mutate: func(s *portal.Step) { s.DossierCode = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, sb := newPortal(t)
			d := Dossier("H37-RS-0001")
			if err := p.UpsertDossier(t.Context(), d); err != nil {
				t.Fatalf("creating dossier: %v", err)
			}
			s := Step(d.Code, "Thẩm định")
			tt.mutate(&s)
			err := p.AddProgress(t.Context(), s)
			assertKind(t, "add progress", err, failure.Permanent)
			if !errors.Is(err, portal.ErrRejected) {
				t.Errorf("error %q does not wrap portal.ErrRejected", err)
			}
			assertNoPersonalData(t, err)
			if rec := mustRecord(t, sb, d.Code); len(rec.Steps) != 0 {
				t.Fatalf("the sandbox recorded %d steps for a rejected step", len(rec.Steps))
			}
		})
	}
}

func testDates(t *testing.T, newPortal factory) {
	p, sb := newPortal(t)
	ctx := t.Context()
	d := Dossier("H37-DT-0001")
	// 02:30 UTC is 09:30 in Hanoi; 17:00 at UTC-05:00 is 05:00 the next day in Hanoi.
	d.ReceivedAt = time.Date(2025, 1, 1, 2, 30, 0, 0, time.UTC)
	d.DueAt = time.Date(2025, 1, 10, 17, 0, 0, 0, time.FixedZone("EST", -5*3600))
	d.ReturnedAt = time.Time{}
	if err := p.UpsertDossier(ctx, d); err != nil {
		t.Fatalf("creating dossier: %v", err)
	}
	rec := mustRecord(t, sb, d.Code)
	assertField(t, rec, "NgayTiepNhan", "20250101093000")
	assertField(t, rec, "NgayHenTra", "20250111050000")
	if v, _ := rec.DossierField("NgayTra"); v != "" {
		t.Errorf("NgayTra = %q for a zero time, want it omitted or empty", v)
	}

	s := Step(d.Code, "Thẩm định")
	s.At = time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)
	s.StartedAt = time.Date(2025, 1, 2, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	s.DueAt = time.Time{}
	if err := p.AddProgress(ctx, s); err != nil {
		t.Fatalf("adding step: %v", err)
	}
	rec = mustRecord(t, sb, d.Code)
	assertStepField(t, rec, 0, "ThoiDiemXuLy", "20250101065959")
	assertStepField(t, rec, 0, "NgayBatDau", "20250102080000")
	if v, _ := rec.StepField(0, "NgayKetThucTheoQuyDinh"); v != "" {
		t.Errorf("NgayKetThucTheoQuyDinh = %q for a zero time, want it omitted or empty", v)
	}
	for _, name := range []string{"NgayTiepNhan", "NgayHenTra"} {
		if v, _ := rec.DossierField(name); !wireDate.MatchString(v) {
			t.Errorf("%s = %q, want yyyyMMddHHmmss", name, v)
		}
	}
}

func testConcurrentUpserts(t *testing.T, newPortal factory) {
	p, sb := newPortal(t)
	ctx := t.Context()
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			d := Dossier(fmt.Sprintf("H37-CC-%04d", i))
			if err := p.UpsertDossier(ctx, d); err != nil {
				errs[i] = err
				return
			}
			errs[i] = p.AddProgress(ctx, Step(d.Code, "Tiếp nhận"))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent upserts: %v", err)
	}
	if got := len(sb.Dossiers()); got != n {
		t.Fatalf("the sandbox holds %d dossiers, want %d", got, n)
	}
	for i := range n {
		rec := mustRecord(t, sb, fmt.Sprintf("H37-CC-%04d", i))
		if rec.Creates != 1 || rec.Updates != 0 || len(rec.Steps) != 1 {
			t.Errorf("dossier %d: creates=%d updates=%d steps=%d, want 1/0/1", i, rec.Creates, rec.Updates, len(rec.Steps))
		}
	}
	if got := sb.Logins(); got != 1 {
		t.Errorf("logins = %d, want 1: concurrent callers must share one login", got)
	}
}

func mustRecord(t *testing.T, sb *sandbox.Sandbox, code string) sandbox.Record {
	t.Helper()
	rec, ok := sb.Dossier(code)
	if !ok {
		t.Fatalf("the sandbox holds no dossier %s", code)
	}
	return rec
}

func assertField(t *testing.T, rec sandbox.Record, name, want string) {
	t.Helper()
	if got, ok := rec.DossierField(name); !ok || got != want {
		t.Errorf("dossier %s = %q (sent: %v), want %q", name, got, ok, want)
	}
}

func assertStepField(t *testing.T, rec sandbox.Record, i int, name, want string) {
	t.Helper()
	if got, ok := rec.StepField(i, name); !ok || got != want {
		t.Errorf("step %d %s = %q (sent: %v), want %q", i, name, got, ok, want)
	}
}

func assertKind(t *testing.T, action string, err error, want failure.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want a %s one", action, want)
	}
	if got := failure.Classify(err); got != want {
		t.Fatalf("%s: error %q classified %s, want %s", action, err, got, want)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatalf("%s: error %q is a cancellation", action, err)
	}
}

func assertNoPersonalData(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, pii := range []string{ownerName, ownerID, ownerPhone, ownerEmail, officialName} {
		if strings.Contains(err.Error(), pii) {
			t.Errorf("error %q carries personal data", err)
		}
	}
}
