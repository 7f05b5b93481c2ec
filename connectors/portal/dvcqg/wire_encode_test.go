package dvcqg

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// wireStrings are values that exercise every escaping rule of encoding/json: HTML characters,
// quotes and backslashes, each control character, invalid and truncated UTF-8, U+2028/U+2029,
// characters just around them, Vietnamese and astral characters, the empty string.
func wireStrings() []string {
	out := []string{"", " ", "H37-0001", "Nguyễn Văn A", "Sở Xây dựng tỉnh Lạng Sơn", `<b>&amp;</b>`, `"quoted"`, `back\slash`,
		"tab\tnew\nline\rcr", "\b\f", "\x00\x1f\x7f", "\xff", "\xe1\xbb", "a\xc3", "\xed\xa0\x80", "\u2027\u2028\u2029\u202a",
		"😀 emoji", "\ufffd", "/slash/", "'single'", "\u00a0nbsp", "0", "20250303081500", "x" + strings.Repeat("é", 300)}
	for c := range 0x20 {
		out = append(out, "c"+string(rune(c))+"c")
	}
	return out
}

func randomString(rng *rand.Rand, pool []string) string {
	var sb strings.Builder
	for range rng.IntN(4) {
		sb.WriteString(pool[rng.IntN(len(pool))])
	}
	return sb.String()
}

// TestHandWrittenBodiesMatchMarshal: the hand-written bodies are byte for byte what json.Marshal
// writes for the same structs, on the golden dossiers and steps and on random values built from
// every escaping case, with empty, nil and several-element lists and omitted fields.
func TestHandWrittenBodiesMatchMarshal(t *testing.T) {
	t.Parallel()
	pool := wireStrings()
	rng := rand.New(rand.NewPCG(7, 11))
	s := func() string {
		if rng.IntN(4) == 0 {
			return ""
		}
		return randomString(rng, pool)
	}
	env := func() envelope { return envelope{Session: s(), MaDonVi: s(), Service: s()} }
	check := func(name string, body wireBody) {
		t.Helper()
		want, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeBody(body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s differs from json.Marshal\n got %s\nwant %s", name, got, want)
		}
	}
	for range 3000 {
		check("lookup", lookupRequest{envelope: env(), MaHoSo: s()})
		d := dossierDTO{MaHoSo: s(), MaTTHC: s(), TenTTHC: s(), MaLinhVuc: s(), TenLinhVuc: s(), ChuHoSo: s(),
			LoaiDoiTuong: s(), MaDoiTuong: s(), SoDienThoai: s(), Email: s(), TrichYeuHoSo: s(), NgayTiepNhan: s(),
			NgayHenTra: s(), TrangThaiHoSo: s(), NgayTra: s(), HinhThuc: s(), DonViXuLy: s()}
		if rng.IntN(3) > 0 {
			d.TaiLieuNop = []submittedDTO{}
			for range rng.IntN(3) {
				d.TaiLieuNop = append(d.TaiLieuNop, submittedDTO{MaThanhPhanHoSo: s(), TenTepDinhKem: s(), DuongDanTaiTepTin: s()})
			}
		}
		if rng.IntN(3) > 0 {
			d.DanhSachLePhi = []feeDTO{}
			for range rng.IntN(3) {
				d.DanhSachLePhi = append(d.DanhSachLePhi, feeDTO{TenPhiLePhi: s(), MaPhiLePhi: s(), HinhThucThu: s(),
					Gia: rng.Int64() - rng.Int64(), LoaiPhiLePhi: s()})
			}
		}
		if rng.IntN(3) > 0 {
			d.DanhSachGiayToKetQua = []resultDTO{}
			for range rng.IntN(3) {
				d.DanhSachGiayToKetQua = append(d.DanhSachGiayToKetQua, resultDTO{MaThanhPhanHoSo: s(), TenGiayTo: s(), DuongDanTepTinKetQua: s()})
			}
		}
		var data []dossierDTO
		if rng.IntN(5) > 0 {
			data = []dossierDTO{d}
			if rng.IntN(4) == 0 {
				data = append(data, d, dossierDTO{})
			}
		}
		check("sync", syncRequest{envelope: env(), IsUpdating: s(), Data: data})
		st := stepDTO{MaHoSo: s(), NguoiXuLy: s(), ChucDanh: s(), ThoiDiemXuLy: s(), PhongBanXuLy: s(), NoiDungXuLy: s(),
			TrangThai: s(), NgayBatDau: s(), NgayKetThucTheoQuyDinh: s()}
		var steps []stepDTO
		if rng.IntN(5) > 0 {
			steps = []stepDTO{st}
		}
		check("progress", progressRequest{envelope: env(), Data: steps})
	}
	for _, str := range pool {
		if got, want := string(appendString(nil, str)), mustMarshal(t, str); got != want {
			t.Errorf("appendString(%q) = %s, json.Marshal writes %s", str, got, want)
		}
	}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEncodeBodyFallsBackToMarshal: a body without its own writer (the catalog's and inbound
// services' envelopes) goes through json.Marshal.
func TestEncodeBodyFallsBackToMarshal(t *testing.T) {
	t.Parallel()
	env := envelope{Session: "s<1>", MaDonVi: "000.00.00.H37", Service: "LayDanhMucTTHC"}
	got, err := encodeBody(env)
	if err != nil || string(got) != mustMarshal(t, env) {
		t.Fatalf("encodeBody(envelope) = %s, %v; want %s", got, err, mustMarshal(t, env))
	}
}

// benchSync is a DongBoHoSoMC body as the load runs send it.
func benchSync(b *testing.B) syncRequest {
	b.Helper()
	d := dossierDTO{MaHoSo: "H37-BENCH-0001", MaTTHC: "1.001612.000.00.00.H37", TenTTHC: "Cấp giấy phép xây dựng",
		MaLinhVuc: "G11-XD05", TenLinhVuc: "Hoạt động xây dựng", ChuHoSo: "Nguyễn Văn A", LoaiDoiTuong: "1",
		MaDoiTuong: "001090000001", SoDienThoai: "0912345678", Email: "a@example.vn",
		TrichYeuHoSo: "Đề nghị cấp giấy phép xây dựng nhà ở riêng lẻ", NgayTiepNhan: "20250303081500",
		NgayHenTra: "20250317160000", TrangThaiHoSo: "2", HinhThuc: "1", DonViXuLy: "Sở Xây dựng tỉnh Lạng Sơn",
		TaiLieuNop:           []submittedDTO{{MaThanhPhanHoSo: "TP1", TenTepDinhKem: "Đơn đề nghị", DuongDanTaiTepTin: "https://files.example.vn/tp1.pdf"}},
		DanhSachLePhi:        []feeDTO{{TenPhiLePhi: "Lệ phí cấp giấy phép xây dựng", MaPhiLePhi: "LP-XD", HinhThucThu: "2", Gia: 75000, LoaiPhiLePhi: "2"}},
		DanhSachGiayToKetQua: []resultDTO{}}
	return syncRequest{envelope: envelope{Session: "bench-session", MaDonVi: "000.00.00.H37", Service: serviceSync},
		IsUpdating: isUpdatingTrue, Data: []dossierDTO{d}}
}

// BenchmarkEncodeSync writes one DongBoHoSoMC body: json.Marshal against the hand-written body.
func BenchmarkEncodeSync(b *testing.B) {
	body := benchSync(b)
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encodeBody", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeBody(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeReply reads the usual answer: json.Unmarshal into reply against scanReply.
func BenchmarkDecodeReply(b *testing.B) {
	body := []byte(`{"error_code":"00","message":"Thành công","result":[]}`)
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var rep reply
			if err := json.Unmarshal(body, &rep); err != nil || rep.ErrorCode == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scanReply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, _, handled, err := scanReply(body, true); !ok || !handled || err != nil {
				b.Fatal(err)
			}
		}
	})
}
