package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/egov-vn/gateway/internal/vntime"
	"strconv"
)

// object is one JSON object of a request, kept raw so the sandbox stores what it received.
type object map[string]json.RawMessage

// scalar reads a field as text: a string's value or a number's literal. Absent and null fields
// are empty; ok is false for arrays, objects and booleans.
func scalar(raw json.RawMessage) (value string, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", true
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw), true
	default:
		return "", false
	}
}

// element is one object of a request's list: its bytes as received and its fields.
type element struct {
	raw    json.RawMessage
	fields object
}

// objects decodes a JSON array of objects.
func objects(raw json.RawMessage) ([]element, bool) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false
	}
	out := make([]element, 0, len(items))
	for _, item := range items {
		var o object
		if err := json.Unmarshal(item, &o); err != nil || o == nil {
			return nil, false
		}
		out = append(out, element{raw: item, fields: o})
	}
	return out, true
}

// checker collects the problems of one element; messages name fields, never values.
type checker struct {
	prefix   string
	problems []string
}

func (c *checker) add(name, problem string) {
	c.problems = append(c.problems, fmt.Sprintf("%s.%s %s", c.prefix, name, problem))
}

func (c *checker) required(o object, name string) {
	if v, ok := scalar(o[name]); !ok || v == "" {
		c.add(name, "is required")
	}
}

func (c *checker) code(o object, name string, lo, hi int, required bool) {
	v, ok := scalar(o[name])
	if ok && v == "" && !required {
		return
	}
	n, err := strconv.Atoi(v)
	if !ok || err != nil || n < lo || n > hi {
		c.add(name, fmt.Sprintf("must be a code within %d..%d", lo, hi))
	}
}

func (c *checker) date(o object, name string, required bool) {
	v, ok := scalar(o[name])
	if ok && v == "" && !required {
		return
	}
	if _, err := vntime.Parse(v); !ok || err != nil {
		c.add(name, "must be a date yyyyMMddHHmmss")
	}
}

func (c *checker) list(o object, name string) []element {
	raw := o[name]
	if v, ok := scalar(raw); ok && v == "" {
		return nil
	}
	items, ok := objects(raw)
	if !ok {
		c.add(name, "must be a list of objects")
	}
	return items
}

// checkDossier validates one DongBoHoSoMC element.
func checkDossier(i int, o object) []string {
	c := checker{prefix: fmt.Sprintf("data[%d]", i)}
	c.required(o, "MaHoSo")
	c.required(o, "MaTTHC")
	c.code(o, "TrangThaiHoSo", 1, 10, true)
	c.code(o, "LoaiDoiTuong", 1, 2, true)
	c.code(o, "HinhThuc", 0, 1, false)
	for _, name := range []string{"NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayKetThucXuLy"} {
		c.date(o, name, false)
	}
	c.list(o, "TaiLieuNop")
	c.list(o, "DanhSachGiayToKetQua")
	for j, fee := range c.list(o, "DanhSachLePhi") {
		v, ok := scalar(fee.fields["Gia"])
		if n, err := strconv.ParseInt(v, 10, 64); !ok || err != nil || n < 0 {
			c.add(fmt.Sprintf("DanhSachLePhi[%d].Gia", j), "must be a non-negative whole number of VND")
		}
	}
	return c.problems
}

// checkStep validates one CapNhatTienDoHoSoMC element.
func checkStep(i int, o object) []string {
	c := checker{prefix: fmt.Sprintf("data[%d]", i)}
	c.required(o, "MaHoSo")
	c.date(o, "ThoiDiemXuLy", true)
	c.code(o, "TrangThai", 1, 10, true)
	c.date(o, "NgayBatDau", false)
	c.date(o, "NgayKetThucTheoQuyDinh", false)
	return c.problems
}

// field reads one field of a stored JSON object as text (see scalar); arrays and objects come
// back as their JSON.
func field(raw json.RawMessage, name string) (string, bool) {
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		return "", false
	}
	v, present := o[name]
	if !present {
		return "", false
	}
	if s, ok := scalar(v); ok {
		return s, true
	}
	return string(v), true
}
