package evidence

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/vntime"
)

// encodeCases are entries whose encoding must be json.Marshal's.
func encodeCases() []Entry {
	at := time.Date(2026, 11, 26, 20, 31, 36, 123456700, vntime.Zone)
	return []Entry{
		{},
		{At: at, Endpoint: "vnpay_ipn", Method: "GET", Target: "/v1/callbacks/vnpay/ipn?vnp_TxnRef=JMR4ZQ4XR6&vnp_Amount=15000000",
			Remote: "127.0.0.1", Verdict: Verdict{Status: 200, Answer: `{"RspCode":"00","Message":"Confirm Success"}` + "\n"}, Reference: "JMR4ZQ4XR6"},
		{At: at.Truncate(time.Second), Endpoint: "paygov_confirm", Method: "POST", Target: "/x",
			Headers: map[string]string{"X-Signature": "abc", "Content-Type": "application/json", "User-Agent": "<b>&\"\\\u2028\u2029"},
			Body:    "{\"a\":\"\x00\x01\b\f\n\r\t\x1f\x7f é 中 \xff\xfe\"}", BodyEncoding: "utf8", BodySize: 1 << 20, BodyTruncated: true,
			Verdict: Verdict{Status: 503}, Reference: "R1"},
		{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Headers: map[string]string{}, Body: "aGk=", BodyEncoding: "base64", BodySize: 3},
		{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("odd", 5*3600+30*60+15))},
		{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 25*3600))},
	}
}

// TestEncodeEntry: encodeEntry writes what json.Marshal writes, and fails where it fails.
func TestEncodeEntry(t *testing.T) {
	for i, e := range encodeCases() {
		want, werr := json.Marshal(e)
		got, err := encodeEntry(&e)
		if (err != nil) != (werr != nil) || string(got) != string(want) {
			t.Errorf("case %d: encodeEntry\n%s (%v), json.Marshal\n%s (%v)", i, got, err, want, werr)
		}
	}
}

func FuzzEncodeEntry(f *testing.F) {
	f.Add("vnpay_ipn", "/v1/callbacks/vnpay/ipn?vnp_TxnRef=A&x=<>", "X-Signature", "v\u2028", "body \xff", "{\"RspCode\":\"00\"}", int64(1764163896123456789), 200)
	f.Fuzz(func(t *testing.T, endpoint, target, hk, hv, body, answer string, ns int64, status int) {
		e := Entry{At: time.Unix(0, ns).In(vntime.Zone), Endpoint: endpoint, Method: "GET", Target: target, Remote: hk,
			Headers: map[string]string{hk: hv, hv: hk, "Content-Type": body}, Body: body, BodySize: len(body),
			BodyTruncated: len(body)%2 == 1, Verdict: Verdict{Status: status, Answer: answer}, Reference: hv}
		want, werr := json.Marshal(e)
		got, err := encodeEntry(&e)
		if (err != nil) != (werr != nil) || string(got) != string(want) {
			t.Fatalf("encodeEntry\n%s (%v), json.Marshal\n%s (%v)", got, err, want, werr)
		}
	})
}

// BenchmarkEncodeEntry encodes a VNPay IPN's entry.
func BenchmarkEncodeEntry(b *testing.B) {
	e := encodeCases()[1]
	e.Headers = map[string]string{"User-Agent": "Go-http-client/1.1"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeEntry(&e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalEntry is the same entry through json.Marshal, for comparison.
func BenchmarkMarshalEntry(b *testing.B) {
	e := encodeCases()[1]
	e.Headers = map[string]string{"User-Agent": "Go-http-client/1.1"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&e); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEncodeEntryAllocations: a VNPay IPN's entry is encoded in one allocation (json.Marshal
// made five).
func TestEncodeEntryAllocations(t *testing.T) {
	e := encodeCases()[1]
	e.Headers = map[string]string{"User-Agent": "Go-http-client/1.1"}
	if n := testing.AllocsPerRun(100, func() { _, _ = encodeEntry(&e) }); n > 1 {
		t.Errorf("encoding an entry made %.0f allocations, want 1", n)
	}
}
