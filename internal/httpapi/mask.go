package httpapi

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// personalFields are the JSON keys whose string values are personal data: the citizen's and
// officials' names, ID numbers, phones, e-mail and addresses, in partners' and our own naming.
var personalFields = map[string]bool{
	"ChuHoSo": true, "MaDoiTuong": true, "SoDienThoai": true, "Email": true, "NguoiXuLy": true,
	"DiaChi": true, "HoTenNguoiNop": true, "SoCMNDNguoiNop": true, "DiaChiNguoiNop": true,
	"name": true, "phone": true, "address": true, "id_number": true, "email": true,
}

// MaskPersonalData returns the JSON document with every personal-data string masked, keeping the
// first character and the length class so ops can still tell records apart. Anything that is not
// JSON comes back as a JSON string saying so (it is never shown raw).
func MaskPersonalData(raw []byte) json.RawMessage {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		b, _ := json.Marshal("<unreadable payload, not shown>")
		return b
	}
	b, _ := json.Marshal(mask(v, false))
	return b
}

func mask(v any, personal bool) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = mask(x, personal || personalFields[k])
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = mask(x, personal)
		}
		return t
	case string:
		if !personal || t == "" {
			return t
		}
		r, _ := utf8.DecodeRuneInString(t)
		return string(r) + strings.Repeat("*", 5)
	default:
		return v
	}
}
