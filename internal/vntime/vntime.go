// Package vntime is Vietnam's wall-clock time as the partners write it: the Asia/Ho_Chi_Minh zone
// and the yyyyMMddHHmmss stamp that DVCQG, VNPay and PayGov all use. The zone is a fixed UTC+7:
// Vietnam has kept it without daylight saving time since 1975, so it is exact for every date the
// partners hold and needs no tzdata on the host.
package vntime

import (
	"fmt"
	"time"
)

// Zone is Asia/Ho_Chi_Minh (ICT, UTC+07:00).
var Zone = time.FixedZone("ICT", 7*3600)

// Layout is the partners' yyyyMMddHHmmss stamp.
const Layout = "20060102150405"

// Format writes t as yyyyMMddHHmmss in ICT, whatever t's own location.
func Format(t time.Time) string { return t.In(Zone).Format(Layout) }

// Parse reads exactly 14 digits yyyyMMddHHmmss as an ICT instant.
func Parse(s string) (time.Time, error) {
	if len(s) != len(Layout) || !allDigits(s) {
		return time.Time{}, fmt.Errorf("parsing time %q: want 14 digits yyyyMMddHHmmss", s)
	}
	t, err := time.ParseInLocation(Layout, s, Zone)
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
	return true
}
