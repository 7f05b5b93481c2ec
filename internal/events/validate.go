package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/egov-vn/gateway/internal/vntime"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FieldError names one bad field with a message fit for the caller. It never echoes the value:
// values may be personal data.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors collects every problem of one input.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Field + ": " + fe.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

func (e *FieldErrors) add(field, format string, args ...any) {
	*e = append(*e, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// object is a JSON object read field by field, so that every bad field can be named.
type object struct {
	path   string
	fields map[string]json.RawMessage
	errs   *FieldErrors
}

func newObject(path string, raw json.RawMessage, errs *FieldErrors) (object, bool) {
	o := object{path: path, errs: errs}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		errs.add(path, "must be a JSON object")
		return o, false
	}
	if err := json.Unmarshal(raw, &o.fields); err != nil {
		errs.add(path, "must be a JSON object")
		return o, false
	}
	return o, true
}

func (o object) name(field string) string {
	if o.path == "" {
		return field
	}
	return o.path + "." + field
}

func (o object) has(field string) bool {
	v, ok := o.fields[field]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// str reads a string field; required fields must be non-empty. Control characters and invalid
// UTF-8 are refused everywhere.
func (o object) str(field string, required bool, maxLen int) string {
	raw, ok := o.fields[field]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if required {
			o.errs.add(o.name(field), "is required")
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		o.errs.add(o.name(field), "must be a string")
		return ""
	}
	if required && strings.TrimSpace(s) == "" {
		o.errs.add(o.name(field), "must not be empty")
		return ""
	}
	if !utf8.ValidString(s) {
		o.errs.add(o.name(field), "must be valid UTF-8")
		return ""
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			o.errs.add(o.name(field), "must not contain control characters")
			return ""
		}
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		o.errs.add(o.name(field), "must be at most %d characters", maxLen)
		return ""
	}
	return s
}

// code reads an identifier: ASCII letters, digits and . _ - only, so look-alike Unicode (full-width
// digits, zero-width spaces, combining marks) can never make two codes that print the same.
func (o object) code(field string, required bool, maxLen int) string {
	s := o.str(field, required, maxLen)
	if s == "" {
		return ""
	}
	if !IsCode(s) {
		o.errs.add(o.name(field), "must contain only ASCII letters, digits, '.', '_' and '-'")
		return ""
	}
	return s
}

// IsCode reports whether s is a plain ASCII identifier.
func IsCode(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// integer reads a whole number within [min, max]; fractions, exponents and strings are refused.
func (o object) integer(field string, required bool, min, max int64) (int64, bool) {
	raw, ok := o.fields[field]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if required {
			o.errs.add(o.name(field), "is required")
		}
		return 0, false
	}
	return integerValue(o.name(field), raw, min, max, o.errs)
}

func integerValue(name string, raw json.RawMessage, min, max int64, errs *FieldErrors) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !(raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		errs.add(name, "must be a whole number")
		return 0, false
	}
	if bytes.ContainsAny(raw, ".eE") {
		errs.add(name, "must be a whole number (no fraction or exponent)")
		return 0, false
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		errs.add(name, "must be a whole number within %d..%d", min, max)
		return 0, false
	}
	if n < min || n > max {
		if max == math.MaxInt64 {
			errs.add(name, "must be at least %d", min)
		} else {
			errs.add(name, "must be within %d..%d", min, max)
		}
		return 0, false
	}
	return n, true
}

// date reads a date in the portal's yyyyMMddHHmmss (taken as ICT) or RFC 3339.
func (o object) date(field string, required bool) time.Time {
	s := o.str(field, required, 40)
	if s == "" {
		return time.Time{}
	}
	t, err := ParseDate(s)
	if err != nil {
		o.errs.add(o.name(field), "must be a date as yyyyMMddHHmmss (Asia/Ho_Chi_Minh) or RFC 3339")
		return time.Time{}
	}
	return t
}

// ParseDate reads yyyyMMddHHmmss (ICT) or RFC 3339.
func ParseDate(s string) (time.Time, error) {
	if len(s) == len(vntime.Layout) {
		return vntime.Parse(s)
	}
	return time.Parse(time.RFC3339, s)
}

func (o object) array(field string) []json.RawMessage {
	raw, ok := o.fields[field]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		o.errs.add(o.name(field), "must be an array")
		return nil
	}
	return items
}
