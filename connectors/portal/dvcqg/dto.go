package dvcqg

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// The adapter's services.
const (
	serviceLookup   = "TraCuuHoSo"
	serviceSync     = "DongBoHoSoMC"
	serviceProgress = "CapNhatTienDoHoSoMC"
)

// Values of DongBoHoSoMC's isUpdating flag.
const (
	isUpdatingTrue  = "True"
	isUpdatingFalse = "False"
)

// loginRequest is the body of POST {AuthPath}.
type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// loginReply is the answer to a login. Any message the adapter adds is ignored.
type loginReply struct {
	Session   string      `json:"session"`
	ErrorCode *resultCode `json:"error_code"`
}

// envelope starts every body sent to the integration endpoint.
type envelope struct {
	Session string `json:"session"`
	MaDonVi string `json:"madonvi"`
	Service string `json:"service"`
}

// lookupRequest asks whether the portal knows a dossier (TraCuuHoSo).
type lookupRequest struct {
	envelope
	MaHoSo string `json:"MaHoSo"`
}

// syncRequest sends whole dossier states (DongBoHoSoMC).
type syncRequest struct {
	envelope
	IsUpdating string       `json:"isUpdating"`
	Data       []dossierDTO `json:"data"`
}

// progressRequest appends processing steps (CapNhatTienDoHoSoMC).
type progressRequest struct {
	envelope
	Data []stepDTO `json:"data"`
}

// reply is the answer of the integration endpoint. Its message is deliberately not decoded: it
// may echo personal data and must never reach an error.
type reply struct {
	ErrorCode *resultCode     `json:"error_code"`
	Result    json.RawMessage `json:"result"`
}

// dossierDTO is one element of DongBoHoSoMC's data.
type dossierDTO struct {
	MaHoSo               string         `json:"MaHoSo"`
	MaTTHC               string         `json:"MaTTHC"`
	TenTTHC              string         `json:"TenTTHC"`
	MaLinhVuc            string         `json:"MaLinhVuc"`
	TenLinhVuc           string         `json:"TenLinhVuc"`
	ChuHoSo              string         `json:"ChuHoSo"`
	LoaiDoiTuong         string         `json:"LoaiDoiTuong"`
	MaDoiTuong           string         `json:"MaDoiTuong,omitempty"`
	SoDienThoai          string         `json:"SoDienThoai,omitempty"`
	Email                string         `json:"Email,omitempty"`
	TrichYeuHoSo         string         `json:"TrichYeuHoSo"`
	NgayTiepNhan         string         `json:"NgayTiepNhan,omitempty"`
	NgayHenTra           string         `json:"NgayHenTra,omitempty"`
	TrangThaiHoSo        string         `json:"TrangThaiHoSo"`
	NgayTra              string         `json:"NgayTra,omitempty"`
	HinhThuc             string         `json:"HinhThuc"`
	DonViXuLy            string         `json:"DonViXuLy"`
	TaiLieuNop           []submittedDTO `json:"TaiLieuNop"`
	DanhSachLePhi        []feeDTO       `json:"DanhSachLePhi"`
	DanhSachGiayToKetQua []resultDTO    `json:"DanhSachGiayToKetQua"`
}

// submittedDTO is one element of TaiLieuNop.
type submittedDTO struct {
	MaThanhPhanHoSo   string `json:"MaThanhPhanHoSo,omitempty"`
	TenTepDinhKem     string `json:"TenTepDinhKem"`
	DuongDanTaiTepTin string `json:"DuongDanTaiTepTin,omitempty"`
}

// resultDTO is one element of DanhSachGiayToKetQua.
type resultDTO struct {
	MaThanhPhanHoSo      string `json:"MaThanhPhanHoSo,omitempty"`
	TenGiayTo            string `json:"TenGiayTo"`
	DuongDanTepTinKetQua string `json:"DuongDanTepTinKetQua,omitempty"`
}

// feeDTO is one element of DanhSachLePhi.
type feeDTO struct {
	TenPhiLePhi  string `json:"TenPhiLePhi"`
	MaPhiLePhi   string `json:"MaPhiLePhi"`
	HinhThucThu  string `json:"HinhThucThu"`
	Gia          int64  `json:"Gia"`
	LoaiPhiLePhi string `json:"LoaiPhiLePhi"`
}

// stepDTO is one element of CapNhatTienDoHoSoMC's data.
type stepDTO struct {
	MaHoSo                 string `json:"MaHoSo"`
	NguoiXuLy              string `json:"NguoiXuLy"`
	ChucDanh               string `json:"ChucDanh"`
	ThoiDiemXuLy           string `json:"ThoiDiemXuLy"`
	PhongBanXuLy           string `json:"PhongBanXuLy"`
	NoiDungXuLy            string `json:"NoiDungXuLy"`
	TrangThai              string `json:"TrangThai"`
	NgayBatDau             string `json:"NgayBatDau,omitempty"`
	NgayKetThucTheoQuyDinh string `json:"NgayKetThucTheoQuyDinh,omitempty"`
}

// resultCode is the adapter's error_code, which arrives as a string ("00") or as a number (0).
// It keeps the code as received, for errors.
type resultCode string

var errInvalidCode = errors.New("error_code is neither a string nor a number")

// UnmarshalJSON accepts a JSON string or number; null leaves the code empty.
func (c *resultCode) UnmarshalJSON(b []byte) error {
	s, err := textOrNumber(b, errInvalidCode)
	if err != nil {
		return err
	}
	*c = resultCode(s)
	return nil
}

// textOrNumber reads a JSON string (trimmed) or number literal as text; null is "". Anything
// else is notEither.
func textOrNumber(b []byte, notEither error) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return "", nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	default:
		return "", notEither
	}
}

// canonical folds the spellings of one code together: "00", "0" and 0 are "0"; "01" and 1 are
// "1". Codes that are not integers stay as they are.
func (c resultCode) canonical() string {
	n, err := strconv.ParseInt(string(c), 10, 64)
	if err != nil {
		return string(c)
	}
	return strconv.FormatInt(n, 10)
}

// ok reports whether the code means success.
func (c resultCode) ok() bool { return c != "" && c.canonical() == "0" }

// nonEmpty reports whether a JSON value carries anything: not absent, null, "", [] or {}.
func nonEmpty(raw json.RawMessage) bool {
	var v any
	if len(bytes.TrimSpace(raw)) == 0 || json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	default:
		return true
	}
}
