package vnpay_test

import (
	"testing"
	"unicode"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
)

func TestStripDiacritics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "province name precomposed", in: "Lạng Sơn", want: "Lang Son"},
		{name: "province name decomposed", in: "La\u0323ng So\u031Bn", want: "Lang Son"},
		{name: "d with stroke", in: "Đồng Đăng đường", want: "Dong Dang duong"},
		{name: "eth used for D stroke", in: "Ðồng", want: "Dong"},
		{name: "all tones on a", in: "aàáảãạ", want: "aaaaaa"},
		{name: "breve and circumflex stacks", in: "ẰẮẲẴẶẦẤẨẪẬ", want: "AAAAAAAAAA"},
		{name: "horn letters", in: "ơờớởỡợưừứửữự", want: "oooooouuuuuu"},
		{name: "uppercase sentence", in: "THỦ TỤC HÀNH CHÍNH", want: "THU TUC HANH CHINH"},
		{name: "decomposed with two marks", in: "e\u0302\u0301", want: "e"},
		{name: "foreign latin names", in: "Müller Ñoño Çelik", want: "Muller Nono Celik"},
		{name: "ascii untouched", in: "HS-000123 / 50% & ~*", want: "HS-000123 / 50% & ~*"},
		{name: "non latin kept", in: "手续费 €", want: "手续费 €"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := vnpay.StripDiacritics(tt.in); got != tt.want {
				t.Fatalf("StripDiacritics(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Every letter of the Vietnamese alphabet with every tone must come out as one ASCII letter.
func TestStripDiacriticsCoversVietnamese(t *testing.T) {
	t.Parallel()
	const lower = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
	for _, r := range lower + upperOf(lower) {
		got := []rune(vnpay.StripDiacritics(string(r)))
		if len(got) != 1 || got[0] > unicode.MaxASCII || !unicode.IsLetter(got[0]) {
			t.Errorf("StripDiacritics(%q) = %q, want one ASCII letter", r, string(got))
		}
		if unicode.IsUpper(r) != unicode.IsUpper(got[0]) {
			t.Errorf("StripDiacritics(%q) = %q changed case", r, string(got))
		}
	}
}

func upperOf(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, unicode.ToUpper(r))
	}
	return string(out)
}
