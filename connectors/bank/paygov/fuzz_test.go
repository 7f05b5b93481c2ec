package paygov_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank/paygov"
)

// FuzzConfirmationCallback decodes arbitrary bodies as the platform's callback: decoding and
// verification never panic, a decoded callback signed with Sign always verifies, and it
// never verifies under another key. Seeds live in testdata/fuzz/FuzzConfirmationCallback.
func FuzzConfirmationCallback(f *testing.F) {
	f.Add(`{"transaction_id":"123_abcdef0123456789","trans_amount":"50000","command":"PAY","addition_fee":"0","version":"3.0","status":"0","check_sum":"` + vectorSum + `"}`)
	f.Fuzz(func(t *testing.T, body string) {
		var c paygov.ConfirmationCallback
		if json.Unmarshal([]byte(body), &c) != nil {
			return
		}
		_ = c.Verify(vectorKey, "TESTCLIENT")
		_, _ = c.Amount()
		c.Sign(vectorKey, "TESTCLIENT")
		if !c.Verify(vectorKey, "TESTCLIENT") {
			t.Fatalf("a callback signed with Sign does not verify: %+v", c)
		}
		if c.Verify(vectorKey+"x", "TESTCLIENT") {
			t.Fatal("a callback verifies under another key")
		}
	})
}

// FuzzBillLookupReply decodes arbitrary bodies as a bill look-up answer: whatever decodes
// must encode and decode back to the same reply.
func FuzzBillLookupReply(f *testing.F) {
	f.Add(`{"error_code":1,"message":{"MaHoSo":"X","PhiLePhi":[{"LoaiPhiLePhi":2,"SoTien":50000}]}}`)
	f.Add(`{"error_code":"0","message":"Ho so da thanh toan"}`)
	f.Fuzz(func(t *testing.T, body string) {
		var r paygov.BillLookupReply
		if json.Unmarshal([]byte(body), &r) != nil {
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("encoding a decoded reply: %v", err)
		}
		var back paygov.BillLookupReply
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("decoding %s: %v", b, err)
		}
		if !reflect.DeepEqual(normalize(back), normalize(r)) {
			t.Fatalf("round trip changed the reply:\n%+v\n%+v", r, back)
		}
	})
}

// normalize treats a nil and an empty slice alike: JSON cannot tell them apart.
func normalize(r paygov.BillLookupReply) paygov.BillLookupReply {
	if r.Bill != nil {
		b := *r.Bill
		if len(b.PhiLePhi) == 0 {
			b.PhiLePhi = nil
		}
		if len(b.DSKhoanNop) == 0 {
			b.DSKhoanNop = nil
		}
		r.Bill = &b
	}
	return r
}
