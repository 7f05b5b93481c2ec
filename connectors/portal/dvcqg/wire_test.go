package dvcqg

import (
	"encoding/json"
	"testing"
	"time"
)

func TestResultCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		json          string
		wantErr       bool
		wantOK        bool
		wantCanonical string
	}{
		{name: "string 00", json: `"00"`, wantOK: true, wantCanonical: "0"},
		{name: "number 0", json: `0`, wantOK: true, wantCanonical: "0"},
		{name: "string 0 with spaces", json: `" 0 "`, wantOK: true, wantCanonical: "0"},
		{name: "string 01", json: `"01"`, wantCanonical: "1"},
		{name: "number 1", json: `1`, wantCanonical: "1"},
		{name: "string 10", json: `"10"`, wantCanonical: "10"},
		{name: "negative", json: `-1`, wantCanonical: "-1"},
		{name: "not a number", json: `"E_SESSION"`, wantCanonical: "E_SESSION"},
		{name: "null", json: `null`, wantCanonical: ""},
		{name: "empty string", json: `""`, wantCanonical: ""},
		{name: "boolean", json: `true`, wantErr: true},
		{name: "object", json: `{"code":0}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c resultCode
			err := json.Unmarshal([]byte(tt.json), &c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if c.ok() != tt.wantOK || c.canonical() != tt.wantCanonical {
				t.Fatalf("%s: ok=%v canonical=%q, want %v %q", tt.json, c.ok(), c.canonical(), tt.wantOK, tt.wantCanonical)
			}
		})
	}
}

func TestNonEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		want bool
	}{
		{name: "absent", raw: ``, want: false},
		{name: "null", raw: `null`, want: false},
		{name: "empty list", raw: `[]`, want: false},
		{name: "empty list with spaces", raw: ` [ ] `, want: false},
		{name: "empty object", raw: `{}`, want: false},
		{name: "empty string", raw: `""`, want: false},
		{name: "one dossier", raw: `[{"MaHoSo":"X"}]`, want: true},
		{name: "an object", raw: `{"MaHoSo":"X"}`, want: true},
		{name: "a string", raw: `"X"`, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := nonEmpty(json.RawMessage(tt.raw)); got != tt.want {
				t.Fatalf("nonEmpty(%s) = %v, want %v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{name: "zero", in: time.Time{}, want: ""},
		{name: "UTC morning", in: time.Date(2025, 1, 1, 2, 30, 0, 0, time.UTC), want: "20250101093000"},
		{name: "UTC evening crosses the day", in: time.Date(2024, 12, 31, 20, 0, 1, 0, time.UTC), want: "20250101030001"},
		{name: "already +07:00", in: time.Date(2025, 6, 15, 23, 59, 59, 0, time.FixedZone("", 7*3600)), want: "20250615235959"},
		{name: "sub-second dropped", in: time.Date(2025, 6, 15, 0, 0, 0, 999_999_999, time.UTC), want: "20250615070000"},
		{name: "west of UTC", in: time.Date(2025, 1, 10, 17, 0, 0, 0, time.FixedZone("", -5*3600)), want: "20250111050000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := formatTime(tt.in); got != tt.want {
				t.Fatalf("formatTime(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
