package vietqr_test

import (
	"testing"

	"github.com/egov-vn/gateway/connectors/bank/vietqr"
)

func TestBanks(t *testing.T) {
	t.Parallel()
	// BINs of domain.md §4, plus the banks of the §7 vectors.
	want := map[string]string{
		"970436": "Vietcombank", "970415": "VietinBank", "970418": "BIDV", "970422": "MB",
		"970407": "Techcombank", "970416": "ACB", "970432": "VPBank", "970405": "Agribank",
		"970403": "Sacombank", "970423": "TPBank",
	}
	all := vietqr.Banks()
	if len(all) != len(want) {
		t.Fatalf("Banks() has %d entries, want %d", len(all), len(want))
	}
	seen := map[string]bool{}
	for _, b := range all {
		if seen[b.BIN] {
			t.Errorf("BIN %s listed twice", b.BIN)
		}
		seen[b.BIN] = true
		if want[b.BIN] != b.ShortName {
			t.Errorf("BIN %s is %q, want %q", b.BIN, b.ShortName, want[b.BIN])
		}
		if b.Name == "" {
			t.Errorf("BIN %s has no name", b.BIN)
		}
		got, ok := vietqr.BankByBIN(b.BIN)
		if !ok || got != b {
			t.Errorf("BankByBIN(%s) = %+v, %v", b.BIN, got, ok)
		}
		if _, err := vietqr.Build(vietqr.Payload{BankBIN: b.BIN, AccountNumber: "1"}); err != nil {
			t.Errorf("Build rejects BIN %s: %v", b.BIN, err)
		}
	}
	if _, ok := vietqr.BankByBIN("999999"); ok {
		t.Fatal("BankByBIN found an unknown BIN")
	}
	all[0].BIN = "000000"
	if _, ok := vietqr.BankByBIN("000000"); ok {
		t.Fatal("changing Banks()'s result changed the table")
	}
}
