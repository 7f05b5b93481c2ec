package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/faults"
)

const (
	user    = "gateway"
	pass    = "sandbox-secret"
	dstcode = "DVCQG-SANDBOX"
	unit    = "000.00.00.H37"
)

// env is one sandbox behind a real HTTP server, mounted as the dev profile mounts it.
type env struct {
	sb  *sandbox.Sandbox
	url string
}

func start(t *testing.T, cfg sandbox.Config) env {
	t.Helper()
	if cfg.Username == "" {
		cfg.Username, cfg.Password, cfg.DstCode = user, pass, dstcode
	}
	sb := sandbox.New(cfg)
	mux := http.NewServeMux()
	mux.Handle("/sandbox/dvcqg/", http.StripPrefix("/sandbox/dvcqg", sb.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return env{sb: sb, url: srv.URL + "/sandbox/dvcqg"}
}

// call sends body (JSON-encoded unless it is a string) and decodes the JSON answer.
func (e env) call(t *testing.T, method, path, dst string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if dst != "" {
		req.Header.Set("dstcode", dst)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (e env) login(t *testing.T) string {
	t.Helper()
	status, out := e.call(t, http.MethodPost, "/auth", dstcode, map[string]string{"username": user, "password": pass})
	session, _ := out["session"].(string)
	if status != http.StatusOK || session == "" {
		t.Fatalf("login: HTTP %d %v", status, out)
	}
	return session
}

// integrate calls a service with a session and returns the error_code as text.
func (e env) integrate(t *testing.T, session string, fields map[string]any) (string, map[string]any) {
	t.Helper()
	body := map[string]any{"session": session, "madonvi": unit}
	for k, v := range fields {
		body[k] = v
	}
	status, out := e.call(t, http.MethodPost, "/integration", dstcode, body)
	if status != http.StatusOK {
		t.Fatalf("integration: HTTP %d %v", status, out)
	}
	return fmt.Sprint(out["error_code"]), out
}

func dossier(code string) map[string]any {
	return map[string]any{
		"MaHoSo": code, "MaTTHC": "1.001612", "TenTTHC": "Cấp giấy phép xây dựng",
		"ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": "1", "SoDienThoai": "0912345678",
		"NgayTiepNhan": "20250303081500", "NgayHenTra": "20250317160000", "TrangThaiHoSo": "2",
		"HinhThuc": "1", "DonViXuLy": "Sở Xây dựng",
		"TaiLieuNop":           []any{map[string]any{"TenTepDinhKem": "Đơn"}},
		"DanhSachLePhi":        []any{map[string]any{"TenPhiLePhi": "Lệ phí", "Gia": 75000}},
		"DanhSachGiayToKetQua": []any{},
	}
}

func step(code, content string) map[string]any {
	return map[string]any{
		"MaHoSo": code, "NguoiXuLy": "Trần Thị Bình", "ThoiDiemXuLy": "20250304090000",
		"NoiDungXuLy": content, "TrangThai": "4",
	}
}

func with(m map[string]any, key string, value any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	if value == nil {
		delete(out, key)
	} else {
		out[key] = value
	}
	return out
}

func TestLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		dstcode    string
		body       any
		wantStatus int
		wantCode   string
	}{
		{name: "accepted", dstcode: dstcode, body: map[string]string{"username": user, "password": pass}, wantStatus: 200, wantCode: "0"},
		{name: "wrong password", dstcode: dstcode, body: map[string]string{"username": user, "password": "nope"}, wantStatus: 200, wantCode: "02"},
		{name: "wrong username", dstcode: dstcode, body: map[string]string{"username": "other", "password": pass}, wantStatus: 200, wantCode: "02"},
		{name: "wrong dstcode", dstcode: "OTHER", body: map[string]string{"username": user, "password": pass}, wantStatus: 200, wantCode: "03"},
		{name: "no dstcode", body: map[string]string{"username": user, "password": pass}, wantStatus: 200, wantCode: "03"},
		{name: "not JSON", dstcode: dstcode, body: "username=gateway", wantStatus: 400, wantCode: "10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, sandbox.Config{})
			status, out := e.call(t, http.MethodPost, "/auth", tt.dstcode, tt.body)
			if status != tt.wantStatus || fmt.Sprint(out["error_code"]) != tt.wantCode {
				t.Fatalf("HTTP %d error_code %v, want HTTP %d code %s", status, out["error_code"], tt.wantStatus, tt.wantCode)
			}
			session, _ := out["session"].(string)
			if (session != "") != (tt.wantCode == "0") {
				t.Fatalf("session %q with code %s", session, tt.wantCode)
			}
			if tt.wantCode == "0" {
				if _, isNumber := out["error_code"].(float64); !isNumber {
					t.Errorf("login error_code %#v, want the integer 0 as the real adapter answers", out["error_code"])
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tt.wantCode == "0"]; e.sb.Logins() != want {
				t.Errorf("logins = %d, want %d", e.sb.Logins(), want)
			}
		})
	}
}

func TestIntegrationChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dstcode  string
		session  string // "valid" for a fresh session
		madonvi  *string
		fields   map[string]any
		wantHTTP int
		wantCode string
		// wantMessage must appear in the answer's message.
		wantMessage string
	}{
		{name: "lookup of an unknown dossier", fields: map[string]any{"service": "TraCuuHoSo", "MaHoSo": "X-1"}, wantCode: "00"},
		{name: "no session", session: "-", fields: map[string]any{"service": "TraCuuHoSo", "MaHoSo": "X-1"}, wantCode: "01"},
		{name: "unknown session", session: "forged", fields: map[string]any{"service": "TraCuuHoSo", "MaHoSo": "X-1"}, wantCode: "01"},
		{name: "wrong dstcode", dstcode: "OTHER", fields: map[string]any{"service": "TraCuuHoSo", "MaHoSo": "X-1"}, wantCode: "03"},
		{name: "empty madonvi", madonvi: new(string), fields: map[string]any{"service": "TraCuuHoSo", "MaHoSo": "X-1"}, wantCode: "03"},
		{name: "unknown service", fields: map[string]any{"service": "XoaHoSo"}, wantCode: "04"},
		{name: "lookup without MaHoSo", fields: map[string]any{"service": "TraCuuHoSo"}, wantCode: "10"},
		{name: "sync accepted", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{dossier("X-1")}}, wantCode: "00"},
		{name: "sync with numeric codes", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(with(dossier("X-1"), "TrangThaiHoSo", 4), "LoaiDoiTuong", 2)}}, wantCode: "00"},
		{name: "sync with a bad isUpdating", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "true", "data": []any{dossier("X-1")}}, wantCode: "10", wantMessage: "isUpdating"},
		{name: "sync without data", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{}}, wantCode: "10", wantMessage: "data"},
		{name: "sync with data not a list", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": dossier("X-1")}, wantCode: "10", wantMessage: "data"},
		{name: "sync without MaHoSo", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "MaHoSo", nil)}}, wantCode: "10", wantMessage: "data[0].MaHoSo"},
		{name: "sync without MaTTHC", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "MaTTHC", "")}}, wantCode: "10", wantMessage: "data[0].MaTTHC"},
		{name: "sync with status 11", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "TrangThaiHoSo", "11")}}, wantCode: "10", wantMessage: "TrangThaiHoSo"},
		{name: "sync with owner kind 3", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "LoaiDoiTuong", "3")}}, wantCode: "10", wantMessage: "LoaiDoiTuong"},
		{name: "sync with HinhThuc 2", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "HinhThuc", "2")}}, wantCode: "10", wantMessage: "HinhThuc"},
		{name: "sync with an ISO date", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "NgayTiepNhan", "2025-03-03T08:15:00+07:00")}}, wantCode: "10", wantMessage: "NgayTiepNhan"},
		{name: "sync with month 13", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "NgayHenTra", "20251303081500")}}, wantCode: "10", wantMessage: "NgayHenTra"},
		{name: "sync with a negative fee", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "DanhSachLePhi", []any{map[string]any{"Gia": -1}})}}, wantCode: "10", wantMessage: "DanhSachLePhi[0].Gia"},
		{name: "sync with a fractional fee", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "DanhSachLePhi", []any{map[string]any{"Gia": 1.5}})}}, wantCode: "10", wantMessage: "Gia"},
		{name: "sync with TaiLieuNop not a list", fields: map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{with(dossier("X-1"), "TaiLieuNop", "none")}}, wantCode: "10", wantMessage: "TaiLieuNop"},
		{name: "step for an unknown dossier", fields: map[string]any{"service": "CapNhatTienDoHoSoMC", "data": []any{step("X-1", "a")}}, wantCode: "11"},
		{name: "step without ThoiDiemXuLy", fields: map[string]any{"service": "CapNhatTienDoHoSoMC", "data": []any{with(step("X-1", "a"), "ThoiDiemXuLy", nil)}}, wantCode: "10", wantMessage: "ThoiDiemXuLy"},
		{name: "step with status 0", fields: map[string]any{"service": "CapNhatTienDoHoSoMC", "data": []any{with(step("X-1", "a"), "TrangThai", "0")}}, wantCode: "10", wantMessage: "TrangThai"},
		{name: "not JSON", fields: nil, wantHTTP: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, sandbox.Config{})
			session := e.login(t)
			switch tt.session {
			case "-":
				session = ""
			case "":
			default:
				session = tt.session
			}
			dst := dstcode
			if tt.dstcode != "" {
				dst = tt.dstcode
			}
			var body any = "not json"
			if tt.fields != nil {
				m := map[string]any{"session": session, "madonvi": unit}
				if tt.madonvi != nil {
					m["madonvi"] = *tt.madonvi
				}
				for k, v := range tt.fields {
					m[k] = v
				}
				body = m
			}
			status, out := e.call(t, http.MethodPost, "/integration", dst, body)
			wantHTTP := tt.wantHTTP
			if wantHTTP == 0 {
				wantHTTP = http.StatusOK
			}
			if status != wantHTTP {
				t.Fatalf("HTTP %d, want %d (%v)", status, wantHTTP, out)
			}
			if tt.wantCode != "" && fmt.Sprint(out["error_code"]) != tt.wantCode {
				t.Fatalf("error_code %v, want %s (message %v)", out["error_code"], tt.wantCode, out["message"])
			}
			msg := fmt.Sprint(out["message"])
			if !strings.Contains(msg, tt.wantMessage) {
				t.Errorf("message %q does not name %q", msg, tt.wantMessage)
			}
			for _, pii := range []string{"Nguyễn Văn An", "0912345678", "Trần Thị Bình"} {
				if strings.Contains(msg, pii) {
					t.Errorf("message %q echoes personal data", msg)
				}
			}
			if tt.wantCode != "00" {
				if got := e.sb.Dossiers(); len(got) != 0 {
					t.Errorf("a refused request recorded %v", got)
				}
			}
		})
	}
}

func TestRecordsWhatItReceives(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	session := e.login(t)
	d := dossier("H37-0001")

	code, out := e.integrate(t, session, map[string]any{"service": "TraCuuHoSo", "MaHoSo": "H37-0001"})
	if code != "00" || len(out["result"].([]any)) != 0 {
		t.Fatalf("lookup before sync: %s %v, want an empty result", code, out["result"])
	}
	if code, _ := e.integrate(t, session, map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{d}}); code != "00" {
		t.Fatalf("create: %s", code)
	}
	code, out = e.integrate(t, session, map[string]any{"service": "TraCuuHoSo", "MaHoSo": "H37-0001"})
	if code != "00" || len(out["result"].([]any)) != 1 {
		t.Fatalf("lookup after sync: %s %v, want the dossier", code, out["result"])
	}
	updated := with(d, "TrangThaiHoSo", "4")
	if code, _ := e.integrate(t, session, map[string]any{"service": "DongBoHoSoMC", "isUpdating": "True", "data": []any{updated}}); code != "00" {
		t.Fatalf("update: %s", code)
	}
	for _, s := range []map[string]any{step("H37-0001", "first"), step("H37-0001", "first"), step("H37-0001", "second")} {
		if code, _ := e.integrate(t, session, map[string]any{"service": "CapNhatTienDoHoSoMC", "data": []any{s}}); code != "00" {
			t.Fatalf("step: %s", code)
		}
	}

	rec, ok := e.sb.Dossier("H37-0001")
	if !ok {
		t.Fatal("no record")
	}
	if rec.Upserts != 2 || rec.Creates != 1 || rec.Updates != 1 {
		t.Errorf("upserts=%d creates=%d updates=%d, want 2/1/1", rec.Upserts, rec.Creates, rec.Updates)
	}
	if v, _ := rec.DossierField("TrangThaiHoSo"); v != "4" {
		t.Errorf("latest TrangThaiHoSo = %q, want 4", v)
	}
	if v, _ := rec.DossierField("DanhSachLePhi"); !strings.Contains(v, "75000") {
		t.Errorf("DanhSachLePhi = %s", v)
	}
	if _, ok := rec.DossierField("NgayTra"); ok {
		t.Error("NgayTra reported as sent")
	}
	var contents []string
	for i := range rec.Steps {
		v, _ := rec.StepField(i, "NoiDungXuLy")
		contents = append(contents, v)
	}
	if strings.Join(contents, ",") != "first,first,second" {
		t.Errorf("steps = %v, want first,first,second (arrival order, duplicates kept)", contents)
	}

	status, got := e.call(t, http.MethodGet, "/dossiers/H37-0001", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET dossier: HTTP %d", status)
	}
	gotDossier, _ := got["dossier"].(map[string]any)
	if gotDossier["TrangThaiHoSo"] != "4" || gotDossier["ChuHoSo"] != "Nguyễn Văn An" {
		t.Errorf("GET dossier: dossier = %v", gotDossier)
	}
	if steps, _ := got["steps"].([]any); len(steps) != 3 {
		t.Errorf("GET dossier: %d steps, want 3", len(steps))
	}
	for key, want := range map[string]float64{"upserts": 2, "creates": 1, "updates": 1} {
		if got[key] != want {
			t.Errorf("GET dossier: %s = %v, want %v", key, got[key], want)
		}
	}

	status, list := e.call(t, http.MethodGet, "/dossiers", "", nil)
	items, _ := list["dossiers"].([]any)
	if status != http.StatusOK || len(items) != 1 || list["logins"] != float64(1) {
		t.Fatalf("GET dossiers: HTTP %d %v", status, list)
	}
	if first := items[0].(map[string]any); first["MaHoSo"] != "H37-0001" || first["steps"] != float64(3) || first["upserts"] != float64(2) {
		t.Errorf("GET dossiers: %v", first)
	}
	if status, _ := e.call(t, http.MethodGet, "/dossiers/H37-9999", "", nil); status != http.StatusNotFound {
		t.Errorf("GET unknown dossier: HTTP %d, want 404", status)
	}
}

func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	lookup := map[string]any{"service": "TraCuuHoSo", "MaHoSo": "X-1"}
	t.Run("after the TTL", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		now := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)
		e := start(t, sandbox.Config{SessionTTL: 10 * time.Minute, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
		session := e.login(t)
		mu.Lock()
		now = now.Add(9 * time.Minute)
		mu.Unlock()
		if code, _ := e.integrate(t, session, lookup); code != "00" {
			t.Fatalf("within the TTL: %s", code)
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		if code, _ := e.integrate(t, session, lookup); code != "01" {
			t.Fatalf("at the TTL: %s, want 01", code)
		}
	})
	t.Run("on POST /sessions/expire", func(t *testing.T) {
		t.Parallel()
		e := start(t, sandbox.Config{})
		session := e.login(t)
		status, out := e.call(t, http.MethodPost, "/sessions/expire", "", nil)
		if status != http.StatusOK || out["expired"] != float64(1) {
			t.Fatalf("expire: HTTP %d %v", status, out)
		}
		if code, _ := e.integrate(t, session, lookup); code != "01" {
			t.Fatalf("after expiry: %s, want 01", code)
		}
		if code, _ := e.integrate(t, e.login(t), lookup); code != "00" {
			t.Fatalf("after a new login: %s", code)
		}
	})
	t.Run("on ExpireSessions", func(t *testing.T) {
		t.Parallel()
		e := start(t, sandbox.Config{})
		session := e.login(t)
		e.sb.ExpireSessions()
		if code, _ := e.integrate(t, session, lookup); code != "01" {
			t.Fatalf("after expiry: %s, want 01", code)
		}
	})
}

func TestFaultsSpareInspection(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	session := e.login(t)
	if status, _ := e.call(t, http.MethodPut, "/faults", "", map[string]any{"error_rate": 1, "status": 503}); status != http.StatusOK {
		t.Fatalf("PUT faults: HTTP %d", status)
	}
	if got := e.sb.Faults().Get(); got.ErrorRate != 1 || got.Status != 503 {
		t.Fatalf("Faults() = %+v after PUT", got)
	}
	if status, _ := e.call(t, http.MethodPost, "/auth", dstcode, map[string]string{"username": user, "password": pass}); status != http.StatusServiceUnavailable {
		t.Errorf("/auth under faults: HTTP %d, want 503", status)
	}
	if status, _ := e.call(t, http.MethodPost, "/integration", dstcode, map[string]any{"session": session, "madonvi": unit, "service": "TraCuuHoSo", "MaHoSo": "X"}); status != http.StatusServiceUnavailable {
		t.Errorf("/integration under faults: HTTP %d, want 503", status)
	}
	for _, path := range []string{"/dossiers", "/faults"} {
		if status, _ := e.call(t, http.MethodGet, path, "", nil); status != http.StatusOK {
			t.Errorf("GET %s under faults: HTTP %d, want 200", path, status)
		}
	}
	if status, _ := e.call(t, http.MethodPost, "/sessions/expire", "", nil); status != http.StatusOK {
		t.Errorf("POST /sessions/expire under faults: HTTP %d, want 200", status)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	session := e.login(t)
	if code, _ := e.integrate(t, session, map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{dossier("X-1")}}); code != "00" {
		t.Fatalf("create: %s", code)
	}
	e.sb.Faults().Set(faults.Settings{LatencyMS: 5})
	e.sb.Reset()
	if _, ok := e.sb.Dossier("X-1"); ok {
		t.Error("dossier kept after Reset")
	}
	if e.sb.Logins() != 0 {
		t.Errorf("logins = %d after Reset", e.sb.Logins())
	}
	if e.sb.Faults().Get() != (faults.Settings{}) {
		t.Errorf("faults = %+v after Reset", e.sb.Faults().Get())
	}
	if code, _ := e.integrate(t, session, map[string]any{"service": "TraCuuHoSo", "MaHoSo": "X-1"}); code != "01" {
		t.Errorf("old session after Reset: %s, want 01", code)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	session := e.login(t)
	if code, _ := e.integrate(t, session, map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{dossier("X-1")}}); code != "00" {
		t.Fatalf("create: %s", code)
	}
	ranks := map[int]int{}
	e.sb.SetStepHook(func(code string, nth int) {
		if code == "X-1" {
			ranks[nth]++
		}
	})
	const n = 20
	var wg sync.WaitGroup
	codes := make([]string, n)
	for i := range n {
		wg.Go(func() {
			body := map[string]any{"session": session, "madonvi": unit, "service": "CapNhatTienDoHoSoMC", "data": []any{step("X-1", fmt.Sprint(i))}}
			raw, _ := json.Marshal(body)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/integration", bytes.NewReader(raw))
			req.Header.Set("dstcode", dstcode)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			codes[i] = fmt.Sprint(out["error_code"])
			_, _ = e.sb.Dossier("X-1")
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != "00" {
			t.Errorf("step %d: %s", i, c)
		}
	}
	if rec, _ := e.sb.Dossier("X-1"); len(rec.Steps) != n {
		t.Errorf("%d steps recorded, want %d", len(rec.Steps), n)
	}
	if got := e.sb.StepsReceived(); got != n {
		t.Errorf("StepsReceived %d, want %d", got, n)
	}
	for k := 1; k <= n; k++ {
		if ranks[k] != 1 {
			t.Fatalf("step hook ranks %v, want 1..%d once each", ranks, n)
		}
	}
	// A step for a dossier never received is refused and not counted; Reset counts from zero.
	if code, _ := e.integrate(t, session, map[string]any{"service": "CapNhatTienDoHoSoMC", "data": []any{step("X-unknown", "1")}}); code == "00" {
		t.Error("step of an unknown dossier accepted")
	}
	if got := e.sb.StepsReceived(); got != n {
		t.Errorf("StepsReceived %d after a refused step, want %d", got, n)
	}
	if len(ranks) != n {
		t.Errorf("the step hook saw a refused step: %v", ranks)
	}
	e.sb.Reset()
	if got := e.sb.StepsReceived(); got != 0 {
		t.Errorf("StepsReceived %d after Reset", got)
	}
}
