package vietqr

import "slices"

// Bank is one bank in the NAPAS 247 network.
type Bank struct {
	// BIN is the 6-digit NAPAS bank identification number written in field 38-01-00.
	BIN string
	// ShortName is the name citizens know the bank by.
	ShortName string
	// Name is the bank's legal name.
	Name string
}

// banks lists the banks of domain.md §4 (Agribank's BIN is marked assumed there; it matches
// the vietnam-qr-pay package's table, checked in the cross-check test) plus Sacombank and
// TPBank, whose BINs appear in NAPAS's published examples.
var banks = []Bank{
	{BIN: "970436", ShortName: "Vietcombank", Name: "Ngân hàng TMCP Ngoại thương Việt Nam"},
	{BIN: "970415", ShortName: "VietinBank", Name: "Ngân hàng TMCP Công thương Việt Nam"},
	{BIN: "970418", ShortName: "BIDV", Name: "Ngân hàng TMCP Đầu tư và Phát triển Việt Nam"},
	{BIN: "970422", ShortName: "MB", Name: "Ngân hàng TMCP Quân đội"},
	{BIN: "970407", ShortName: "Techcombank", Name: "Ngân hàng TMCP Kỹ thương Việt Nam"},
	{BIN: "970416", ShortName: "ACB", Name: "Ngân hàng TMCP Á Châu"},
	{BIN: "970432", ShortName: "VPBank", Name: "Ngân hàng TMCP Việt Nam Thịnh Vượng"},
	{BIN: "970405", ShortName: "Agribank", Name: "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam"},
	{BIN: "970403", ShortName: "Sacombank", Name: "Ngân hàng TMCP Sài Gòn Thương Tín"},
	{BIN: "970423", ShortName: "TPBank", Name: "Ngân hàng TMCP Tiên Phong"},
}

// Banks returns the known banks; the slice is the caller's to change.
func Banks() []Bank { return slices.Clone(banks) }

// BankByBIN returns the known bank with that BIN. Build accepts any 6-digit BIN: this table
// is for display and configuration checks, not a gate.
func BankByBIN(bin string) (Bank, bool) {
	for _, b := range banks {
		if b.BIN == bin {
			return b, true
		}
	}
	return Bank{}, false
}
