package vntime

import (
	"testing"
	"time"
)

func TestFormatAndParse(t *testing.T) {
	t.Parallel()
	utc := time.Date(2025, 1, 1, 1, 30, 0, 0, time.UTC)
	if got := Format(utc); got != "20250101083000" {
		t.Fatalf("Format(%v) = %s, want 20250101083000 (UTC+7)", utc, got)
	}
	back, err := Parse("20250101083000")
	if err != nil || !back.Equal(utc) {
		t.Fatalf("Parse = %v, %v; want %v", back, err, utc)
	}
	for _, bad := range []string{"", "2025010108300", "202501010830000", "2025-01-01T08", "20251301083000", "２０２５0101083000"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
