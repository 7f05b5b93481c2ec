package vnpay

import "strings"

// foldTable maps every precomposed Vietnamese letter (and the common Latin-1 accented letters
// found in foreign names) to its base ASCII letter. Built once from readable rows rather than
// from Unicode decomposition tables, which the standard library does not ship.
var foldTable = buildFoldTable()

func buildFoldTable() map[rune]rune {
	rows := map[rune]string{
		'a': "àáảãạăằắẳẵặâầấẩẫậäåā",
		'A': "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÄÅĀ",
		'e': "èéẻẽẹêềếểễệëē",
		'E': "ÈÉẺẼẸÊỀẾỂỄỆËĒ",
		'i': "ìíỉĩịîïī",
		'I': "ÌÍỈĨỊÎÏĪ",
		'o': "òóỏõọôồốổỗộơờớởỡợöøō",
		'O': "ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÖØŌ",
		'u': "ùúủũụưừứửữựûüū",
		'U': "ÙÚỦŨỤƯỪỨỬỮỰÛÜŪ",
		'y': "ỳýỷỹỵÿ",
		'Y': "ỲÝỶỸỴŸ",
		// U+00D0 and U+00F0 (eth) stand in for Đ/đ in text converted from legacy encodings.
		'd': "đð",
		'D': "ĐÐ",
		'c': "ç",
		'C': "Ç",
		'n': "ñ",
		'N': "Ñ",
	}
	table := make(map[rune]rune, 200)
	for base, variants := range rows {
		for _, r := range variants {
			table[r] = base
		}
	}
	return table
}

// StripDiacritics removes Vietnamese diacritics from s: precomposed letters map to their base
// letter (ệ → e, Đ → D), and combining marks (U+0300–U+036F, as found in decomposed text from
// macOS or copied PDFs) are dropped, so "Lạng Sơn" becomes "Lang Son" in either normal form.
// Runes that carry no diacritic are returned unchanged; StripDiacritics does not promise
// ASCII output (callers that need it, such as PaymentURL, check separately).
func StripDiacritics(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r >= 0x0300 && r <= 0x036F:
			// combining mark: drop
		default:
			if base, ok := foldTable[r]; ok {
				b.WriteRune(base)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}
