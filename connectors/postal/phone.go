package postal

import (
	"errors"
	"fmt"
)

// ErrInvalidOrder: the order cannot be sent as it is (a bad phone number, a missing field). The
// dialects refuse it before any call to the partner; retrying cannot help.
var ErrInvalidOrder = errors.New("invalid postal order")

// NormalizePhone checks a Vietnamese phone number and returns it in national form: "0" and nine
// digits. It accepts 0xxxxxxxxx, 84xxxxxxxxx and +84xxxxxxxxx, with ASCII spaces, dots or hyphens
// between digits; anything else (full-width digits, letters, other lengths, a leading 00) is
// refused. The error never quotes the number: phones are personal data.
func NormalizePhone(s string) (string, error) {
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' && i == 0:
		case (c == ' ' || c == '.' || c == '-') && len(digits) > 0 && i < len(s)-1:
		default:
			return "", fmt.Errorf("phone number: character %d is not a digit or separator: %w", i+1, ErrInvalidOrder)
		}
	}
	plus := len(s) > 0 && s[0] == '+'
	var national string
	switch {
	case plus && len(digits) == 11 && digits[0] == '8' && digits[1] == '4':
		national = "0" + string(digits[2:])
	case !plus && len(digits) == 11 && digits[0] == '8' && digits[1] == '4':
		national = "0" + string(digits[2:])
	case !plus && len(digits) == 10 && digits[0] == '0':
		national = string(digits)
	default:
		return "", fmt.Errorf("phone number: want 0 and 9 digits, or 84/+84 and 9 digits (%d digits given): %w", len(digits), ErrInvalidOrder)
	}
	if national[1] == '0' {
		return "", fmt.Errorf("phone number: no Vietnamese number starts with 00: %w", ErrInvalidOrder)
	}
	return national, nil
}
