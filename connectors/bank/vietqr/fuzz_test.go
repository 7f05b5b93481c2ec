package vietqr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank/vietqr"
)

// FuzzParse feeds arbitrary strings to Parse. It must never panic, must wrap ErrMalformed
// when it refuses, and whatever it accepts must round-trip: Build succeeds on the payload,
// Parse reads Build's output back to the same payload, and Build is then a fixed point.
// Random input almost never carries a valid CRC, so each input is also tried with its CRC
// repaired, which lets the fuzzer reach the structural checks behind it. Seeds live in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(vectorDynamic)
	f.Add(vectorStatic)
	f.Fuzz(func(t *testing.T, s string) {
		checkRoundTrip(t, s)
		checkRoundTrip(t, repairCRC(s))
	})
}

func checkRoundTrip(t *testing.T, s string) {
	t.Helper()
	p, err := vietqr.Parse(s)
	if err != nil {
		if !errors.Is(err, vietqr.ErrMalformed) {
			t.Fatalf("error does not wrap ErrMalformed: %v", err)
		}
		return
	}
	built, err := vietqr.Build(p)
	if err != nil {
		t.Fatalf("Build refused what Parse accepted (%+v): %v", p, err)
	}
	again, err := vietqr.Parse(built)
	if err != nil {
		t.Fatalf("Parse refused Build's output %q: %v", built, err)
	}
	if again != p {
		t.Fatalf("round trip changed the payload:\n%+v\n%+v", p, again)
	}
	rebuilt, err := vietqr.Build(again)
	if err != nil || rebuilt != built {
		t.Fatalf("Build is not a fixed point: %q, %v; want %q", rebuilt, err, built)
	}
}

// repairCRC gives s a correct field 63: it replaces the last four characters when s ends
// like "6304XXXX", and appends "6304" and the CRC otherwise.
func repairCRC(s string) string {
	content := s
	if len(s) >= 8 && s[len(s)-8:len(s)-4] == "6304" {
		content = s[:len(s)-4]
	} else {
		content += "6304"
	}
	return content + fmt.Sprintf("%04X", vietqr.CRC16CCITTFalse([]byte(content)))
}

// FuzzBuild checks the other direction: any payload Build accepts parses back to itself
// (with the default service filled in).
func FuzzBuild(f *testing.F) {
	f.Add("970403", "0011012345678", "", int64(180000), "NPS6869", "thanh toan don hang")
	f.Add("970423", "0099999999", "QRIBFTTC", int64(0), "", "")
	f.Fuzz(func(t *testing.T, bin, account, service string, amount int64, bill, purpose string) {
		p := vietqr.Payload{BankBIN: bin, AccountNumber: account, Service: vietqr.Service(service),
			Amount: amount, BillNumber: bill, Purpose: purpose}
		built, err := vietqr.Build(p)
		if err != nil {
			if !errors.Is(err, vietqr.ErrInvalidPayload) {
				t.Fatalf("error does not wrap ErrInvalidPayload: %v", err)
			}
			return
		}
		if len(built) > 512 || !strings.HasSuffix(built[:len(built)-4], "6304") {
			t.Fatalf("Build produced an implausible payload %q", built)
		}
		back, err := vietqr.Parse(built)
		if err != nil {
			t.Fatalf("Parse refused Build's output %q: %v", built, err)
		}
		if p.Service == "" {
			p.Service = vietqr.ServiceAccount
		}
		if back != p {
			t.Fatalf("round trip changed the payload:\n%+v\n%+v", p, back)
		}
	})
}
