package dvcqg_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/connectors/portal/dvcqg"
	"github.com/egov-vn/gateway/connectors/portal/sandbox"
)

// newNational mounts a fresh sandbox and returns the dialect as an Inbox and Catalogs.
func newNational(t *testing.T) (*dvcqg.Client, *sandbox.Sandbox) {
	t.Helper()
	sb := sandbox.New(sandbox.Config{Username: testUsername, Password: testPassword, DstCode: testDstCode})
	mux := http.NewServeMux()
	mux.Handle(mountPath+"/", http.StripPrefix(mountPath, sb.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL+mountPath), sb
}

func element(t *testing.T, fields map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, v := range fields {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = raw
	}
	return out
}

func submission(t *testing.T, code, agency string) map[string]json.RawMessage {
	t.Helper()
	return element(t, map[string]any{
		"MaHoSo": code, "MaTTHC": "1.011442", "TenTTHC": "Cap giay phep xay dung", "MaLinhVuc": "XD-HDXD",
		"DonViXuLy": agency, "LoaiDoiTuong": "1", "NgayNopHoSo": "20261126090000", "HinhThuc": 1,
		"ChuHoSo": "Nguyen Van A", "SoDienThoai": "0912345678",
		"TaiLieuNop":    []map[string]string{{"MaThanhPhanHoSo": "TP1", "TenTepDinhKem": "don.pdf", "DuongDanTaiTepTin": "https://dvc.example/f/1"}},
		"DanhSachLePhi": []map[string]any{{"TenPhiLePhi": "Le phi", "MaPhiLePhi": "LP01", "HinhThucThu": "1", "Gia": 100000, "LoaiPhiLePhi": "1"}},
	})
}

// TestFetchSubmissionsPagesWithTheCursor: the dialect reads the submissions after its cursor, a
// page at a time, decodes codes, dates, documents and fees, and leaves the applicant out.
func TestFetchSubmissionsPagesWithTheCursor(t *testing.T) {
	t.Parallel()
	c, sb := newNational(t)
	for _, code := range []string{"G22.99-261126-0001", "G22.99-261126-0002", "G22.99-261126-0003"} {
		if _, ok := sb.National().Submit(submission(t, code, "000.00.37.H37")); !ok {
			t.Fatal("sandbox refused a submission")
		}
	}
	page, err := c.FetchSubmissions(t.Context(), "", 2)
	if err != nil {
		t.Fatalf("first page: %v", err)
	}
	if len(page.Submissions) != 2 || page.Next != "2" || !page.More {
		t.Fatalf("first page: %d submissions, next %q, more %v; want 2, \"2\", true", len(page.Submissions), page.Next, page.More)
	}
	s := page.Submissions[0]
	if s.Code != "G22.99-261126-0001" || s.ProcedureCode != "1.011442" || s.Agency != "000.00.37.H37" || s.OwnerKind != 1 || s.Channel != 1 {
		t.Fatalf("first submission decoded as %+v", s)
	}
	if s.SubmittedAt.UTC().Format("2006-01-02T15:04") != "2026-11-26T02:00" {
		t.Fatalf("NgayNopHoSo read as %v, want 09:00 in Vietnam", s.SubmittedAt)
	}
	if len(s.Documents) != 1 || s.Documents[0].URL != "https://dvc.example/f/1" || len(s.Fees) != 1 || s.Fees[0].Amount != 100000 {
		t.Fatalf("documents %+v fees %+v", s.Documents, s.Fees)
	}
	page, err = c.FetchSubmissions(t.Context(), page.Next, 2)
	if err != nil {
		t.Fatalf("second page: %v", err)
	}
	if len(page.Submissions) != 1 || page.Submissions[0].Code != "G22.99-261126-0003" || page.Next != "3" || page.More {
		t.Fatalf("second page: %+v", page)
	}
	page, err = c.FetchSubmissions(t.Context(), page.Next, 2)
	if err != nil || len(page.Submissions) != 0 || page.Next != "3" {
		t.Fatalf("empty page: %+v, %v; want nothing and the cursor kept", page, err)
	}
}

// TestFetchSubmissionsReportsInvalidEntries: an entry without its agency or with a bad date is
// reported (by code, naming fields) and the cursor moves past it.
func TestFetchSubmissionsReportsInvalidEntries(t *testing.T) {
	t.Parallel()
	c, sb := newNational(t)
	bad := submission(t, "G22.99-261126-0009", "")
	bad["NgayNopHoSo"] = json.RawMessage(`"26/11/2026"`)
	sb.National().Submit(bad)
	sb.National().Submit(submission(t, "G22.99-261126-0010", "000.00.37.H37"))
	sb.National().Submit(submission(t, "G22}{x 1", "000.00.37.H37"))
	page, err := c.FetchSubmissions(t.Context(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Submissions) != 1 || len(page.Invalid) != 2 || page.Next != "3" {
		t.Fatalf("page %+v; want one valid, two invalid, cursor 3", page)
	}
	if odd := page.Invalid[1]; odd.Code != "" || odd.Problem != "MaHoSo must be 1..64 letters, digits or . _ - /" {
		t.Fatalf("a code that is not plain reported as %+v; want no code and the reason", odd)
	}
	inv := page.Invalid[0]
	if inv.Code != "G22.99-261126-0009" || inv.Problem != "DonViXuLy is required; NgayNopHoSo must be a date yyyyMMddHHmmss" {
		t.Fatalf("invalid entry reported as %+v", inv)
	}
}

func TestFetchSubmissionsRefusesABadCursor(t *testing.T) {
	t.Parallel()
	c, _ := newNational(t)
	if _, err := c.FetchSubmissions(t.Context(), "abc", 10); err == nil {
		t.Fatal("a cursor that is not a sequence number was accepted")
	}
}

// TestAcknowledgeSubmission: the acknowledgement reaches the portal; an unknown dossier is the
// portal's code 11, an empty code is refused before any call.
func TestAcknowledgeSubmission(t *testing.T) {
	t.Parallel()
	c, sb := newNational(t)
	sb.National().Submit(submission(t, "G22.99-261126-0020", "000.00.37.H37"))
	if err := c.AcknowledgeSubmission(t.Context(), "G22.99-261126-0020"); err != nil {
		t.Fatalf("acknowledging: %v", err)
	}
	if subs := sb.National().Submissions(); len(subs) != 1 || subs[0].Acks != 1 {
		t.Fatalf("sandbox holds %+v; want one acknowledgement", subs)
	}
	if err := c.AcknowledgeSubmission(t.Context(), "UNKNOWN-1"); err == nil {
		t.Fatal("acknowledging an unknown dossier succeeded")
	}
	if err := c.AcknowledgeSubmission(t.Context(), " "); !errors.Is(err, portal.ErrRejected) {
		t.Fatalf("empty code: %v, want a rejection", err)
	}
}

// TestCatalogues: each catalogue is read whole; a changed catalogue is read as changed; a
// truncated or malformed answer is an ErrIncompleteCatalog.
func TestCatalogues(t *testing.T) {
	t.Parallel()
	c, sb := newNational(t)
	procs, err := c.Procedures(t.Context())
	if err != nil || len(procs) != 3 || procs[0].Code != "1.011442" || procs[0].Level != 4 || len(procs[0].Agencies) != 2 {
		t.Fatalf("procedures %+v, %v", procs, err)
	}
	agencies, err := c.Agencies(t.Context())
	if err != nil || len(agencies) != 3 || agencies[1].Parent != "000.00.00.H37" {
		t.Fatalf("agencies %+v, %v", agencies, err)
	}
	fields, err := c.Fields(t.Context())
	if err != nil || len(fields) != 3 || fields[0].Name != "Hoạt động xây dựng" {
		t.Fatalf("fields %+v, %v", fields, err)
	}
	sb.National().SetCatalog(sandbox.CatalogFields, []json.RawMessage{json.RawMessage(`{"MaLinhVuc":"NEW","TenLinhVuc":"New field"}`)})
	if fields, err := c.Fields(t.Context()); err != nil || len(fields) != 1 || fields[0].Code != "NEW" {
		t.Fatalf("changed fields %+v, %v", fields, err)
	}
	for _, mode := range []string{sandbox.BreakTruncated, sandbox.BreakMalformed} {
		sb.National().BreakCatalog(sandbox.CatalogProcedures, mode)
		if _, err := c.Procedures(t.Context()); !errors.Is(err, portal.ErrIncompleteCatalog) {
			t.Errorf("%s answer: %v, want ErrIncompleteCatalog", mode, err)
		}
	}
	sb.National().SetCatalog(sandbox.CatalogAgencies, []json.RawMessage{
		json.RawMessage(`{"MaCoQuan":"A","TenCoQuan":"x"}`), json.RawMessage(`{"MaCoQuan":"A","TenCoQuan":"y"}`)})
	if _, err := c.Agencies(t.Context()); !errors.Is(err, portal.ErrIncompleteCatalog) {
		t.Errorf("a repeated code: %v, want ErrIncompleteCatalog", err)
	}
	sb.National().SetCatalog(sandbox.CatalogAgencies, []json.RawMessage{json.RawMessage(`{"MaCoQuan":"A"}`)})
	if _, err := c.Agencies(t.Context()); !errors.Is(err, portal.ErrIncompleteCatalog) {
		t.Errorf("an element without a name: %v, want ErrIncompleteCatalog", err)
	}
}
