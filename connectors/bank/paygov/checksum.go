package paygov

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Fixed values of the transaction API.
const (
	CommandPay  = "PAY"
	Version     = "3.0"
	CurrencyVND = "VND"
)

// ChecksumMessage is the string the platform signs: the six fields joined with '|', in this
// order, as sent (no trimming, no encoding).
func ChecksumMessage(additionFee, clientID, command, transAmount, transactionID, version string) string {
	return strings.Join([]string{additionFee, clientID, command, transAmount, transactionID, version}, "|")
}

// Checksum returns the lowercase hex HMAC-SHA256 of ChecksumMessage keyed with key: the value
// of check_sum. Note the field order: command comes before trans_amount.
func Checksum(key, additionFee, clientID, command, transAmount, transactionID, version string) string {
	return hex.EncodeToString(sum(key, ChecksumMessage(additionFee, clientID, command, transAmount, transactionID, version)))
}

// VerifyChecksum reports whether checkSum is the checksum of the six fields under key. The
// comparison is constant-time and accepts hex in either case; an empty key never verifies
// (a misconfigured gateway must not accept anything).
func VerifyChecksum(key, checkSum, additionFee, clientID, command, transAmount, transactionID, version string) bool {
	if key == "" {
		return false
	}
	got, err := hex.DecodeString(checkSum)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, sum(key, ChecksumMessage(additionFee, clientID, command, transAmount, transactionID, version)))
}

func sum(key, message string) []byte {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(message))
	return h.Sum(nil)
}

// maxAmountDigits bounds wire amounts; 15 digits is far above any fee and far below int64.
const maxAmountDigits = 15

// FormatAmount writes whole VND as the platform's decimal string.
func FormatAmount(vnd int64) string { return strconv.FormatInt(vnd, 10) }

// ParseAmount reads a wire amount: a non-negative decimal integer of whole VND, at most 15
// digits, with no sign, spaces, separators or decimal point.
func ParseAmount(s string) (int64, error) {
	if s == "" || len(s) > maxAmountDigits {
		return 0, fmt.Errorf("parsing amount %q: want 1 to %d digits", s, maxAmountDigits)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("parsing amount %q: want whole VND as decimal digits", s)
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing amount %q: %w", s, err)
	}
	return v, nil
}
