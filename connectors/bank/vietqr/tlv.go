package vietqr

import (
	"errors"
	"fmt"
	"strings"
)

// ErrMalformed is wrapped by every error of DecodeTLV and Parse: the input is not a VietQR
// payload this package accepts.
var ErrMalformed = errors.New("malformed VietQR payload")

// TLV is one EMVCo data object: a two-digit ID and its value.
type TLV struct {
	ID    string
	Value string
}

// maxValueLen is the largest value a two-digit length can announce.
const maxValueLen = 99

// EncodeTLV writes fields in order, each as its ID, its value's length in two digits and the
// value. IDs must be two digits; values printable ASCII of at most 99 characters (EMVCo
// lengths count characters, and VietQR payloads are ASCII, so characters are bytes). A field
// with an empty value is written with length 00: leave it out to omit it.
func EncodeTLV(fields ...TLV) (string, error) {
	var b strings.Builder
	for i, f := range fields {
		if len(f.ID) != 2 || !isDigits(f.ID) {
			return "", fmt.Errorf("encoding TLV field %d: id %q is not two digits", i, f.ID)
		}
		if len(f.Value) > maxValueLen {
			return "", fmt.Errorf("encoding TLV field %s: value has %d characters, at most %d fit", f.ID, len(f.Value), maxValueLen)
		}
		if j := firstNonPrintable(f.Value); j >= 0 {
			return "", fmt.Errorf("encoding TLV field %s: byte %d is %q, want printable ASCII", f.ID, j, f.Value[j])
		}
		appendTLV(&b, f.ID, f.Value)
	}
	return b.String(), nil
}

// appendTLV writes one data object whose id and value are already known to be valid.
func appendTLV(b *strings.Builder, id, value string) {
	b.WriteString(id)
	b.WriteByte(byte('0' + len(value)/10))
	b.WriteByte(byte('0' + len(value)%10))
	b.WriteString(value)
}

// DecodeTLV splits s into its data objects, in order. It refuses anything that is not a
// complete run of two-digit id, two-digit length and that many printable ASCII characters,
// saying at which offset it stopped. The errors wrap ErrMalformed.
func DecodeTLV(s string) ([]TLV, error) {
	if j := firstNonPrintable(s); j >= 0 {
		return nil, fmt.Errorf("decoding TLV: %w: byte %d is %q, want printable ASCII", ErrMalformed, j, s[j])
	}
	var fields []TLV
	for off := 0; off < len(s); {
		if len(s)-off < 4 {
			return nil, fmt.Errorf("decoding TLV at offset %d: %w: %q is too short for an id and a length", off, ErrMalformed, s[off:])
		}
		id, length := s[off:off+2], s[off+2:off+4]
		if !isDigits(id) {
			return nil, fmt.Errorf("decoding TLV at offset %d: %w: id %q is not two digits", off, ErrMalformed, id)
		}
		if !isDigits(length) {
			return nil, fmt.Errorf("decoding TLV at offset %d: %w: length %q of field %s is not two digits", off, ErrMalformed, length, id)
		}
		n := int(length[0]-'0')*10 + int(length[1]-'0')
		start := off + 4
		if len(s)-start < n {
			return nil, fmt.Errorf("decoding TLV at offset %d: %w: field %s announces %d characters, %d left", off, ErrMalformed, id, n, len(s)-start)
		}
		fields = append(fields, TLV{ID: id, Value: s[start : start+n]})
		off = start + n
	}
	return fields, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// firstNonPrintable returns the index of the first byte outside printable ASCII, or -1.
func firstNonPrintable(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return i
		}
	}
	return -1
}
