package vnpay

import (
	"fmt"
	"time"
)

// gmt7 is VNPay's wire time zone. A fixed zone rather than Asia/Ho_Chi_Minh: Vietnam has no
// daylight saving time, and a fixed zone needs no tzdata on the host.
var gmt7 = time.FixedZone("GMT+7", 7*60*60)

const wireTimeLayout = "20060102150405"

// FormatTime writes t as VNPay's yyyyMMddHHmmss in GMT+7, whatever t's own location.
func FormatTime(t time.Time) string {
	return t.In(gmt7).Format(wireTimeLayout)
}

// ParseTime reads VNPay's yyyyMMddHHmmss as a GMT+7 instant.
func ParseTime(s string) (time.Time, error) {
	if len(s) != len(wireTimeLayout) || !allDigits(s) {
		return time.Time{}, fmt.Errorf("parsing time %q: want 14 digits yyyyMMddHHmmss", s)
	}
	t, err := time.ParseInLocation(wireTimeLayout, s, gmt7)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing time %q: %w", s, err)
	}
	return t, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
