package dvcqg

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/egov-vn/gateway/internal/jsonenc"
)

// The bodies of the calls made for every synced event (TraCuuHoSo, DongBoHoSoMC,
// CapNhatTienDoHoSoMC) are written by hand rather than by encoding/json's reflection: the
// same bytes json.Marshal writes for the struct (field order, omitempty, null for a nil slice,
// HTML-safe string escaping, U+FFFD for invalid UTF-8, \u2028 and \u2029 escaped), which the
// wire tests check against json.Marshal on adversarial values. Other bodies go through
// json.Marshal.

// wireBody is a request body that writes its own JSON.
type wireBody interface {
	appendJSON(dst []byte) []byte
}

// encodeBody returns body's JSON in a slice of its own (the request keeps it until net/http is
// done with it, which may be after the call returns, so it is never pooled): written by hand
// into a pooled scratch buffer and copied out once when body is a wireBody, else json.Marshal.
func encodeBody(body any) ([]byte, error) {
	wb, ok := body.(wireBody)
	if !ok {
		return json.Marshal(body)
	}
	scratch := scratchPool.Get().(*[]byte)
	b := wb.appendJSON((*scratch)[:0])
	payload := make([]byte, len(b))
	copy(payload, b)
	if cap(b) <= maxScratch {
		*scratch = b
		scratchPool.Put(scratch)
	}
	return payload, nil
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxScratch bounds the scratch buffers kept for reuse.
const maxScratch = 64 << 10

func (e envelope) appendFields(b []byte) []byte {
	b = append(b, `{"session":`...)
	b = appendString(b, e.Session)
	b = append(b, `,"madonvi":`...)
	b = appendString(b, e.MaDonVi)
	b = append(b, `,"service":`...)
	return appendString(b, e.Service)
}

func (r lookupRequest) appendJSON(b []byte) []byte {
	b = r.envelope.appendFields(b)
	b = append(b, `,"MaHoSo":`...)
	b = appendString(b, r.MaHoSo)
	return append(b, '}')
}

func (r syncRequest) appendJSON(b []byte) []byte {
	b = r.envelope.appendFields(b)
	b = append(b, `,"isUpdating":`...)
	b = appendString(b, r.IsUpdating)
	b = append(b, `,"data":`...)
	b = appendList(b, r.Data, dossierDTO.appendJSON)
	return append(b, '}')
}

func (r progressRequest) appendJSON(b []byte) []byte {
	b = r.envelope.appendFields(b)
	b = append(b, `,"data":`...)
	b = appendList(b, r.Data, stepDTO.appendJSON)
	return append(b, '}')
}

func (d dossierDTO) appendJSON(b []byte) []byte {
	b = append(b, `{"MaHoSo":`...)
	b = appendString(b, d.MaHoSo)
	b = append(b, `,"MaTTHC":`...)
	b = appendString(b, d.MaTTHC)
	b = append(b, `,"TenTTHC":`...)
	b = appendString(b, d.TenTTHC)
	b = append(b, `,"MaLinhVuc":`...)
	b = appendString(b, d.MaLinhVuc)
	b = append(b, `,"TenLinhVuc":`...)
	b = appendString(b, d.TenLinhVuc)
	b = append(b, `,"ChuHoSo":`...)
	b = appendString(b, d.ChuHoSo)
	b = append(b, `,"LoaiDoiTuong":`...)
	b = appendString(b, d.LoaiDoiTuong)
	b = appendOmitEmpty(b, `,"MaDoiTuong":`, d.MaDoiTuong)
	b = appendOmitEmpty(b, `,"SoDienThoai":`, d.SoDienThoai)
	b = appendOmitEmpty(b, `,"Email":`, d.Email)
	b = append(b, `,"TrichYeuHoSo":`...)
	b = appendString(b, d.TrichYeuHoSo)
	b = appendOmitEmpty(b, `,"NgayTiepNhan":`, d.NgayTiepNhan)
	b = appendOmitEmpty(b, `,"NgayHenTra":`, d.NgayHenTra)
	b = append(b, `,"TrangThaiHoSo":`...)
	b = appendString(b, d.TrangThaiHoSo)
	b = appendOmitEmpty(b, `,"NgayTra":`, d.NgayTra)
	b = append(b, `,"HinhThuc":`...)
	b = appendString(b, d.HinhThuc)
	b = append(b, `,"DonViXuLy":`...)
	b = appendString(b, d.DonViXuLy)
	b = append(b, `,"TaiLieuNop":`...)
	b = appendList(b, d.TaiLieuNop, submittedDTO.appendJSON)
	b = append(b, `,"DanhSachLePhi":`...)
	b = appendList(b, d.DanhSachLePhi, feeDTO.appendJSON)
	b = append(b, `,"DanhSachGiayToKetQua":`...)
	b = appendList(b, d.DanhSachGiayToKetQua, resultDTO.appendJSON)
	return append(b, '}')
}

// appendFirstOmitEmpty writes an object's first field, "name":v, unless v is empty (omitempty);
// the next field then knows from the length whether a comma goes before it (appendField).
func appendFirstOmitEmpty(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, name...)
	return appendString(b, v)
}

func (s submittedDTO) appendJSON(b []byte) []byte {
	b = append(b, '{')
	start := len(b)
	b = appendFirstOmitEmpty(b, `"MaThanhPhanHoSo":`, s.MaThanhPhanHoSo)
	b = appendField(b, start, `"TenTepDinhKem":`, s.TenTepDinhKem)
	b = appendOmitEmpty(b, `,"DuongDanTaiTepTin":`, s.DuongDanTaiTepTin)
	return append(b, '}')
}

func (r resultDTO) appendJSON(b []byte) []byte {
	b = append(b, '{')
	start := len(b)
	b = appendFirstOmitEmpty(b, `"MaThanhPhanHoSo":`, r.MaThanhPhanHoSo)
	b = appendField(b, start, `"TenGiayTo":`, r.TenGiayTo)
	b = appendOmitEmpty(b, `,"DuongDanTepTinKetQua":`, r.DuongDanTepTinKetQua)
	return append(b, '}')
}

func (f feeDTO) appendJSON(b []byte) []byte {
	b = append(b, `{"TenPhiLePhi":`...)
	b = appendString(b, f.TenPhiLePhi)
	b = append(b, `,"MaPhiLePhi":`...)
	b = appendString(b, f.MaPhiLePhi)
	b = append(b, `,"HinhThucThu":`...)
	b = appendString(b, f.HinhThucThu)
	b = append(b, `,"Gia":`...)
	b = strconv.AppendInt(b, f.Gia, 10)
	b = append(b, `,"LoaiPhiLePhi":`...)
	b = appendString(b, f.LoaiPhiLePhi)
	return append(b, '}')
}

func (s stepDTO) appendJSON(b []byte) []byte {
	b = append(b, `{"MaHoSo":`...)
	b = appendString(b, s.MaHoSo)
	b = append(b, `,"NguoiXuLy":`...)
	b = appendString(b, s.NguoiXuLy)
	b = append(b, `,"ChucDanh":`...)
	b = appendString(b, s.ChucDanh)
	b = append(b, `,"ThoiDiemXuLy":`...)
	b = appendString(b, s.ThoiDiemXuLy)
	b = append(b, `,"PhongBanXuLy":`...)
	b = appendString(b, s.PhongBanXuLy)
	b = append(b, `,"NoiDungXuLy":`...)
	b = appendString(b, s.NoiDungXuLy)
	b = append(b, `,"TrangThai":`...)
	b = appendString(b, s.TrangThai)
	b = appendOmitEmpty(b, `,"NgayBatDau":`, s.NgayBatDau)
	b = appendOmitEmpty(b, `,"NgayKetThucTheoQuyDinh":`, s.NgayKetThucTheoQuyDinh)
	return append(b, '}')
}

// appendField writes a field that is never omitted, after the fields written since start (with
// a comma if there are any).
func appendField(b []byte, start int, name, v string) []byte {
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, name...)
	return appendString(b, v)
}

// appendOmitEmpty writes ,"name":v unless v is empty (omitempty).
func appendOmitEmpty(b []byte, commaName, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, commaName...)
	return appendString(b, v)
}

// appendList writes a JSON array of elems, or null for a nil slice, as encoding/json does.
func appendList[T any](b []byte, elems []T, appendElem func(T, []byte) []byte) []byte {
	if elems == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendElem(e, b)
	}
	return append(b, ']')
}

// appendString writes s as a JSON string exactly as encoding/json does (jsonenc.AppendString).
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s) }

// scanReply reads an integration answer's error_code, and its result when wantResult, without
// reflection, for the plain form every adapter answer takes: a JSON object whose keys are ASCII
// without escapes. It yields what json.Unmarshal into reply yields: the last occurrence of a
// key wins, error_code null leaves no code (hasCode false), an error_code that is neither a
// string nor a number fails the whole answer (err), and result is a copy of its value. handled
// is false for any other answer (invalid JSON, not an object, a key with an escape or a
// non-ASCII byte, or one that differs from error_code or result only in case, which
// encoding/json would match): the caller decodes it with encoding/json.
func scanReply(body []byte, wantResult bool) (code resultCode, hasCode bool, result json.RawMessage, handled bool, err error) {
	if !json.Valid(body) {
		return "", false, nil, false, nil
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return "", false, nil, false, nil
	}
	var rawResult []byte
	for i = skipSpace(body, i+1); body[i] != '}'; {
		// body is valid JSON, so a key (a string) starts here.
		end := i + 1
		for body[end] != '"' {
			if c := body[end]; c == '\\' || c >= utf8.RuneSelf {
				return "", false, nil, false, nil
			}
			end++
		}
		key := body[i+1 : end]
		i = skipSpace(body, skipSpace(body, end+1)+1) // past the colon
		valEnd := skipValue(body, i)
		switch string(key) {
		case "error_code":
			if raw := body[i:valEnd]; string(raw) == "null" {
				code, hasCode = "", false
			} else {
				if err := code.UnmarshalJSON(raw); err != nil {
					return "", false, nil, true, err
				}
				hasCode = true
			}
		case "result":
			rawResult = body[i:valEnd]
		default:
			if bytes.EqualFold(key, []byte("error_code")) || bytes.EqualFold(key, []byte("result")) {
				return "", false, nil, false, nil
			}
		}
		if i = skipSpace(body, valEnd); body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	if wantResult && rawResult != nil {
		result = append(json.RawMessage(nil), rawResult...)
	}
	return code, hasCode, result, true, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	default: // a number, true, false or null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns the end of the valid JSON string starting at b[i] (past its closing quote).
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}
