package vnpay

import (
	"net/url"
	"testing"
	"time"
)

// benchIPN is a typical IPN query string, signed with secret.
func benchIPN(b *testing.B, secret string) string {
	b.Helper()
	n := IPN{TmnCode: "DEMOTMN1", Amount: 150000, BankCode: "NCB", BankTranNo: "VNP14226112", CardType: "ATM",
		OrderInfo: "Thanh toan phi ho so JMR4ZQ4XR6", PayDate: time.Date(2026, 11, 26, 20, 31, 36, 0, time.UTC),
		ResponseCode: "00", TransactionNo: "14226112", TransactionStatus: "00", TxnRef: "JMR4ZQ4XR6"}
	p := n.Params()
	p.Set(ParamSecureHash, Sign(secret, p))
	return p.Encode()
}

// BenchmarkVerifyIPN is the IPN handler's check of an IPN: the query parsed, the signature
// verified, the fields read.
func BenchmarkVerifyIPN(b *testing.B) {
	const secret = "DEMOVNPAYSECRET0123456789ABCDEF"
	raw := benchIPN(b, secret)
	b.ReportAllocs()
	for b.Loop() {
		params, err := url.ParseQuery(raw)
		if err != nil || !Verify(secret, params) {
			b.Fatal("IPN does not verify")
		}
		if _, err := ParseIPN(params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the signature check alone, on a parsed query: it allocates nothing.
func BenchmarkVerify(b *testing.B) {
	const secret = "DEMOVNPAYSECRET0123456789ABCDEF"
	params, err := url.ParseQuery(benchIPN(b, secret))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !Verify(secret, params) {
			b.Fatal("IPN does not verify")
		}
	}
}
