package jsonenc

import (
	"encoding/json"
	"testing"
)

var cases = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
	"<b>&amp;</b>", "Hồ sơ đề nghị cấp giấy phép", "line\u2028sep\u2029para", "bad \xff utf8 \xc3",
	"emoji 😀", "\xed\xa0\x80 surrogate",
}

// TestAppendStringAgreesWithJSON pins the byte-for-byte equality the hand-written encoders rely
// on; breaking any escape (HTML characters, control characters, invalid UTF-8, U+2028) fails it.
func TestAppendStringAgreesWithJSON(t *testing.T) {
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("AppendString(%q) = %s, json.Marshal writes %s", s, got[1:], want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range cases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, json.Marshal writes %s", s, got, want)
		}
	})
}

func TestAppendStringDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { _ = AppendString(buf[:0], "Hồ sơ <số> 1\n") }); n != 0 {
		t.Fatalf("%.0f allocations with room in dst", n)
	}
}
