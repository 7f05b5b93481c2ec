package paygov_test

import (
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank/paygov"
)

// Test vector of domain.md §7 (PayGov).
const (
	vectorKey     = "TESTHASHKEY1"
	vectorMessage = "0|TESTCLIENT|PAY|50000|123_abcdef0123456789|3.0"
	vectorSum     = "e16dc87db2f03dafe20836e16f6eaebbd991e78680b713ac51d39e5439606e7b"
)

func TestChecksumDomainVector(t *testing.T) {
	t.Parallel()
	msg := paygov.ChecksumMessage("0", "TESTCLIENT", "PAY", "50000", "123_abcdef0123456789", "3.0")
	if msg != vectorMessage {
		t.Fatalf("ChecksumMessage = %q, want %q", msg, vectorMessage)
	}
	got := paygov.Checksum(vectorKey, "0", "TESTCLIENT", "PAY", "50000", "123_abcdef0123456789", "3.0")
	if got != vectorSum {
		t.Fatalf("Checksum = %s, want %s", got, vectorSum)
	}
	if !paygov.VerifyChecksum(vectorKey, vectorSum, "0", "TESTCLIENT", "PAY", "50000", "123_abcdef0123456789", "3.0") {
		t.Fatal("VerifyChecksum rejected the domain.md vector")
	}
}

func TestVerifyChecksum(t *testing.T) {
	t.Parallel()
	type fields struct{ fee, client, command, amount, txn, version string }
	good := fields{"0", "TESTCLIENT", "PAY", "50000", "123_abcdef0123456789", "3.0"}
	tests := []struct {
		name string
		key  string
		sum  string
		f    fields
		want bool
	}{
		{name: "valid", key: vectorKey, sum: vectorSum, f: good, want: true},
		{name: "uppercase hex", key: vectorKey, sum: strings.ToUpper(vectorSum), f: good, want: true},
		{name: "key 2 instead of key 1", key: "TESTHASHKEY2", sum: vectorSum, f: good, want: false},
		{name: "empty key", key: "", sum: vectorSum, f: good, want: false},
		{name: "amount changed", key: vectorKey, sum: vectorSum, f: fields{"0", "TESTCLIENT", "PAY", "5000", "123_abcdef0123456789", "3.0"}, want: false},
		{name: "amount and command swapped", key: vectorKey, sum: vectorSum, f: fields{"0", "TESTCLIENT", "50000", "PAY", "123_abcdef0123456789", "3.0"}, want: false},
		{name: "pipe moved between fields", key: vectorKey, sum: vectorSum, f: fields{"0|TESTCLIENT", "PAY", "50000", "123_abcdef0123456789", "3.0", ""}, want: false},
		{name: "truncated sum", key: vectorKey, sum: vectorSum[:62], f: good, want: false},
		{name: "not hex", key: vectorKey, sum: "g" + vectorSum[1:], f: good, want: false},
		{name: "empty sum", key: vectorKey, sum: "", f: good, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := paygov.VerifyChecksum(tt.key, tt.sum, tt.f.fee, tt.f.client, tt.f.command, tt.f.amount, tt.f.txn, tt.f.version)
			if got != tt.want {
				t.Fatalf("VerifyChecksum = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{name: "zero", in: "0", want: 0},
		{name: "fee", in: "50000", want: 50000},
		{name: "fifteen digits", in: "999999999999999", want: 999_999_999_999_999},
		{name: "sixteen digits", in: "1000000000000000", wantErr: true},
		{name: "negative", in: "-1", wantErr: true},
		{name: "decimal", in: "50000.0", wantErr: true},
		{name: "thousands separator", in: "50,000", wantErr: true},
		{name: "space", in: " 50000", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := paygov.ParseAmount(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseAmount(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ParseAmount(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
	if s := paygov.FormatAmount(50000); s != "50000" {
		t.Fatalf("FormatAmount = %q", s)
	}
}
