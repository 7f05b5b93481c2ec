package dvcqg

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
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
//
// encoding/json hands an UnmarshalJSON method a value it has already checked to be valid JSON,
// so a number literal is its own text, and a string without escapes, in valid UTF-8, is its
// bytes between the quotes; only other strings go through the JSON decoder (which unescapes and
// replaces invalid UTF-8). The success codes the adapter sends on nearly every answer come back
// as constants, without allocating.
func textOrNumber(b []byte, notEither error) (string, error) {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "null":
		return "", nil
	case `"00"`:
		return "00", nil
	case `"0"`, "0":
		return "0", nil
	}
	switch {
	case len(b) > 0 && b[0] == '"':
		if len(b) >= 2 && b[len(b)-1] == '"' && plainJSONText(b[1:len(b)-1]) {
			return string(bytes.TrimSpace(b[1 : len(b)-1])), nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		if json.Valid(b) {
			return string(b), nil
		}
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	default:
		return "", notEither
	}
}

// plainJSONText reports whether the inside of a JSON string is its own value: valid UTF-8
// without escapes, quotes or control characters.
func plainJSONText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
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
//
// The empty answers (the usual "not found") are told without decoding: null, "", and an array
// or object with only whitespace between its brackets. A string with anything between its
// quotes carries something (any escape stands for a character). Any other value (a number,
// a list or object with content) is decoded as before, since a value encoding/json cannot
// decode (say a number beyond float64) counts as carrying nothing.
func nonEmpty(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !json.Valid(raw) {
		return false
	}
	switch raw[0] {
	case 'n':
		return false
	case '"':
		return len(raw) > 2
	case '[', '{':
		if len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0 {
			return false
		}
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
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
