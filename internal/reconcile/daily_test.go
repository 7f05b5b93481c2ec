package reconcile

import (
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/vntime"
)

func TestNextRun(t *testing.T) {
	t.Parallel()
	at := 90 * time.Minute // 01:30
	tests := []struct {
		name, now, want string
	}{
		{"before the time", "2026-11-26T01:00:00+07:00", "2026-11-26T01:30:00+07:00"},
		{"at the time", "2026-11-26T01:30:00+07:00", "2026-11-27T01:30:00+07:00"},
		{"after the time", "2026-11-26T13:00:00+07:00", "2026-11-27T01:30:00+07:00"},
		// 18:45 UTC is 01:45 the next day in Vietnam: the next run is the day after that.
		{"clock in UTC", "2026-11-26T18:45:00Z", "2026-11-28T01:30:00+07:00"},
		{"end of year", "2026-12-31T23:59:00+07:00", "2027-01-01T01:30:00+07:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now, _ := time.Parse(time.RFC3339, tt.now)
			got := NextRun(now, at)
			if got.Format(time.RFC3339) != tt.want || got.Location() != vntime.Zone {
				t.Fatalf("NextRun(%s) = %s, want %s", tt.now, got.Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestParseClockAndDay(t *testing.T) {
	t.Parallel()
	if d, err := ParseClock("01:30"); err != nil || d != 90*time.Minute {
		t.Fatalf("ParseClock(01:30) = %v, %v", d, err)
	}
	for _, bad := range []string{"1:30pm", "25:00", "", "01:60"} {
		if _, err := ParseClock(bad); err == nil {
			t.Errorf("ParseClock(%q) accepted", bad)
		}
	}
	d, err := ParseDay("2026-11-26")
	if err != nil || d.Location() != vntime.Zone || d.Hour() != 0 || d.Day() != 26 {
		t.Fatalf("ParseDay = %v, %v", d, err)
	}
	for _, bad := range []string{"2026-02-30", "26-11-2026", "2026-11-26T00:00:00Z", ""} {
		if _, err := ParseDay(bad); err == nil {
			t.Errorf("ParseDay(%q) accepted", bad)
		}
	}
}
