package vnpay_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
)

// FuzzParseIPN feeds arbitrary IPN query strings to ParseIPN. Beyond never panicking, an
// accepted IPN must satisfy the invariants the handler relies on and survive a round trip
// through Params (what the sandbox sends). Seeds live in testdata/fuzz/FuzzParseIPN.
func FuzzParseIPN(f *testing.F) {
	f.Add(vectorData + "&vnp_SecureHash=" + vectorHash)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		params, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		n, err := vnpay.ParseIPN(params)
		if err != nil {
			if !errors.Is(err, vnpay.ErrInvalidIPN) {
				t.Fatalf("error does not wrap ErrInvalidIPN: %v", err)
			}
			return
		}
		if n.Amount <= 0 || n.Amount > vnpay.MaxAmount {
			t.Fatalf("accepted amount %d outside 1..%d", n.Amount, vnpay.MaxAmount)
		}
		if n.TmnCode == "" || n.TxnRef == "" || len(n.ResponseCode) != 2 || len(n.TransactionStatus) != 2 {
			t.Fatalf("accepted IPN lacks a required field: %+v", n)
		}
		again, err := vnpay.ParseIPN(n.Params())
		if err != nil {
			t.Fatalf("ParseIPN(Params()) failed: %v", err)
		}
		again.SecureHash = n.SecureHash
		if !again.PayDate.Equal(n.PayDate) {
			t.Fatalf("PayDate changed in round trip: %v -> %v", n.PayDate, again.PayDate)
		}
		again.PayDate = n.PayDate
		if again != n {
			t.Fatalf("round trip changed the IPN:\n%+v\n%+v", n, again)
		}
	})
}

// FuzzVerify checks Verify against Sign on arbitrary parameters: it never panics, refuses an
// empty secret, accepts what Sign produced (in either hex case) once the input is made
// unambiguous, and refuses the same parameters after any signed change or under another
// secret. Seeds live in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add(vectorSecret, vectorData+"&vnp_SecureHash="+vectorHash)
	f.Fuzz(func(t *testing.T, secret, rawQuery string) {
		params, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		got := vnpay.Verify(secret, params)
		if secret == "" && got {
			t.Fatal("Verify accepted an empty secret")
		}
		if secret == "" {
			return
		}

		signed := url.Values{}
		for k, v := range params {
			if len(v) > 0 && k != vnpay.ParamSecureHash && k != vnpay.ParamSecureHashType {
				signed.Set(k, v[0])
			}
		}
		hash := vnpay.Sign(secret, signed)
		signed.Set(vnpay.ParamSecureHash, hash)
		if !vnpay.Verify(secret, signed) {
			t.Fatalf("Verify rejected Sign's own output for %q", vnpay.SignedData(signed))
		}
		signed.Set(vnpay.ParamSecureHash, strings.ToUpper(hash))
		if !vnpay.Verify(secret, signed) {
			t.Fatal("Verify rejected uppercase hex")
		}
		// Not secret+"\x00": HMAC zero-pads short keys, so that key is the same key.
		if vnpay.Verify(secret+"x", signed) {
			t.Fatal("Verify accepted another secret")
		}
		signed.Set("vnp_zzTampered", "1")
		if vnpay.Verify(secret, signed) {
			t.Fatal("Verify accepted an added signed parameter")
		}
	})
}
