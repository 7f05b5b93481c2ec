package postal_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/postal"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"0912345678":      "0912345678",
		"+84912345678":    "0912345678",
		"84912345678":     "0912345678",
		"091 234 5678":    "0912345678",
		"091.234.5678":    "0912345678",
		"+84-912-345-678": "0912345678",
		"0205381234":      "0205381234",
	} {
		got, err := postal.NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNormalizePhoneRefuses(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "091234567", "09123456789", "０９１２３４５６７８", "0912345678x", "(091)2345678",
		"0084912345678", "+0912345678", "+8491234567", "849123456789", " 0912345678", "0912345678 ",
		"0012345678", "84012345678", "09123+45678", "0912\n345678", "+",
	} {
		_, err := postal.NormalizePhone(in)
		if !errors.Is(err, postal.ErrInvalidOrder) {
			t.Errorf("NormalizePhone(%q) = %v, want ErrInvalidOrder", in, err)
			continue
		}
		if digits := strings.Trim(in, " +"); len(digits) > 4 && strings.Contains(err.Error(), digits) {
			t.Errorf("NormalizePhone(%q): error quotes the number: %v", in, err)
		}
	}
}
