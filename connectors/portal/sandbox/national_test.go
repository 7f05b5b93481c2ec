package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/egov-vn/gateway/connectors/portal/sandbox"
)

// TestSubmissionsOverHTTP: a citizen's submission gets the next SoThuTu; the services serve the
// entries after a sequence number, the same dossier twice when it was submitted twice, and
// count acknowledgements; bad input is refused and changes nothing.
func TestSubmissionsOverHTTP(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	for _, tt := range []struct {
		name string
		body any
	}{{"not JSON", "{"}, {"no MaHoSo", map[string]any{"MaTTHC": "1.011442"}}, {"a list", []any{}}} {
		if status, _ := e.call(t, http.MethodPost, "/submissions", "", tt.body); status != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400", tt.name, status)
		}
	}
	for _, code := range []string{"S-1", "S-2", "S-1"} {
		if status, out := e.call(t, http.MethodPost, "/submissions", "", map[string]any{"MaHoSo": code, "DonViXuLy": "A"}); status != http.StatusCreated {
			t.Fatalf("submitting %s: HTTP %d %v", code, status, out)
		}
	}
	session := e.login(t)
	code, out := e.integrate(t, session, map[string]any{"service": "LayDanhSachHoSoDVCQG", "TuSoThuTu": 1, "SoLuong": 10})
	result, _ := out["result"].([]any)
	if code != "00" || len(result) != 2 {
		t.Fatalf("after 1: code %s, %d entries; want S-2 and S-1 again", code, len(result))
	}
	if first, _ := result[0].(map[string]any); first["MaHoSo"] != "S-2" || first["SoThuTu"] != float64(2) || first["NgayNopHoSo"] == nil {
		t.Fatalf("first entry %v", first)
	}
	for _, bad := range []map[string]any{{"TuSoThuTu": -1, "SoLuong": 1}, {"TuSoThuTu": 0, "SoLuong": 0}, {"TuSoThuTu": "x", "SoLuong": 1}} {
		bad["service"] = "LayDanhSachHoSoDVCQG"
		if code, _ := e.integrate(t, session, bad); code != "10" {
			t.Errorf("%v: code %s, want 10", bad, code)
		}
	}
	if code, _ := e.integrate(t, session, map[string]any{"service": "XacNhanHoSoDVCQG", "MaHoSo": "S-1"}); code != "00" {
		t.Fatalf("ack: %s", code)
	}
	if code, _ := e.integrate(t, session, map[string]any{"service": "XacNhanHoSoDVCQG", "MaHoSo": "S-9"}); code != "11" {
		t.Fatalf("ack of an unknown dossier: %s, want 11", code)
	}
	subs := e.sb.National().Submissions()
	if len(subs) != 3 || subs[0].Acks != 1 || subs[2].Acks != 1 || subs[1].Acks != 0 || subs[0].Served != 0 || subs[1].Served != 1 {
		t.Fatalf("submissions %+v", subs)
	}
}

// TestCataloguesOverHTTP: replace, read and break a catalogue; unknown names and modes are
// refused.
func TestCataloguesOverHTTP(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	session := e.login(t)
	_, out := e.integrate(t, session, map[string]any{"service": "LayDanhMucLinhVuc"})
	res, _ := out["result"].(map[string]any)
	if res["TongSo"] != float64(3) {
		t.Fatalf("seed fields: %v", out)
	}
	if status, _ := e.call(t, http.MethodPut, "/catalogs/fields", "", []map[string]string{{"MaLinhVuc": "A", "TenLinhVuc": "a"}}); status != http.StatusOK {
		t.Fatalf("replacing: HTTP %d", status)
	}
	if status, out := e.call(t, http.MethodGet, "/catalogs/fields", "", nil); status != http.StatusOK || len(out["items"].([]any)) != 1 {
		t.Fatalf("reading: HTTP %d %v", status, out)
	}
	if status, _ := e.call(t, http.MethodPut, "/catalogs/fields/break", "", map[string]string{"mode": "sideways"}); status != http.StatusBadRequest {
		t.Fatalf("unknown mode: HTTP %d", status)
	}
	if status, _ := e.call(t, http.MethodGet, "/catalogs/things", "", nil); status != http.StatusNotFound {
		t.Fatalf("unknown catalogue: HTTP %d", status)
	}
	if status, _ := e.call(t, http.MethodPut, "/catalogs/procedures/break", "", map[string]string{"mode": "truncated"}); status != http.StatusOK {
		t.Fatal("breaking")
	}
	_, out = e.integrate(t, session, map[string]any{"service": "LayDanhSachTTHC"})
	res, _ = out["result"].(map[string]any)
	if res["TongSo"] != float64(3) || len(res["DanhSach"].([]any)) != 1 {
		t.Fatalf("truncated answer %v", out)
	}
	e.sb.Reset()
	_, out = e.integrate(t, e.login(t), map[string]any{"service": "LayDanhSachTTHC"})
	if res, _ = out["result"].(map[string]any); len(res["DanhSach"].([]any)) != 3 {
		t.Fatalf("after a reset the seed catalogue is whole again: %v", out)
	}
}
