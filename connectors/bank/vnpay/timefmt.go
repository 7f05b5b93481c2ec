package vnpay

import (
	"github.com/egov-vn/gateway/internal/vntime"
	"time"
)

// FormatTime writes t as VNPay's yyyyMMddHHmmss in GMT+7, whatever t's own location.
func FormatTime(t time.Time) string {
	return vntime.Format(t)
}

// ParseTime reads VNPay's yyyyMMddHHmmss as a GMT+7 instant.
func ParseTime(s string) (time.Time, error) {
	return vntime.Parse(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
