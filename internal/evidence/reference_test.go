package evidence

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// vnpayQuery is a VNPay IPN's query string as the Recorder sees it.
const vnpayQuery = "vnp_Amount=15000000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14226112&vnp_CardType=ATM" +
	"&vnp_OrderInfo=Thanh+toan+phi+ho+so+JMR4ZQ4XR6&vnp_PayDate=20261126203136&vnp_ResponseCode=00" +
	"&vnp_TmnCode=DEMOTMN1&vnp_TransactionNo=14226112&vnp_TransactionStatus=00&vnp_TxnRef=JMR4ZQ4XR6" +
	"&vnp_SecureHash=" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// queryGetCases are queries whose first value of a key url.ParseQuery and queryGet must agree on.
var queryGetCases = []string{
	vnpayQuery, "", "&", "vnp_TxnRef", "vnp_TxnRef=", "vnp_TxnRef=&vnp_TxnRef=B", "vnp_TxnRef=A&vnp_TxnRef=B",
	"vnp_TxnRef=A;B&vnp_TxnRef=C", "vnp_TxnRef=%zz&vnp_TxnRef=D", "vnp%5FTxnRef=E", "vnp_Txn%52ef=F+G%20H",
	"vnp_TxnRef%zz=X&vnp_TxnRef=I", "a=1&&vnp_TxnRef=J&", "vnp_TxnRef=K=L", "vnp+TxnRef=M", "vnp_TxnRef=%E1%BA%A1",
	"transaction_id=T1&vnp_TxnRef=", ";vnp_TxnRef=N", "vnp_TxnRef=O;", "VNP_TXNREF=P",
	strings.Repeat("a=1&", maxScannedParams) + "vnp_TxnRef=Q",
}

// TestQueryGet: queryGet reads what url.ParseQuery(raw).Get reads.
func TestQueryGet(t *testing.T) {
	for _, raw := range queryGetCases {
		for _, key := range referenceFields {
			q, _ := url.ParseQuery(raw)
			if got, want := queryGet(raw, key), q.Get(key); got != want {
				t.Errorf("queryGet(%.80q, %s) = %q, want %q", raw, key, got, want)
			}
		}
	}
}

func FuzzQueryGet(f *testing.F) {
	for _, raw := range queryGetCases {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, key := range referenceFields {
			q, _ := url.ParseQuery(raw)
			if got, want := queryGet(raw, key), q.Get(key); got != want {
				t.Fatalf("queryGet(%q, %s) = %q, want %q", raw, key, got, want)
			}
		}
	})
}

// TestReferenceAllocations: reading a VNPay IPN's reference allocates nothing (parsing the whole
// query into url.Values took a map and a slice and a string per parameter).
func TestReferenceAllocations(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/v1/callbacks/vnpay/ipn?"+vnpayQuery, nil)
	if ref := reference(r, nil); ref != "JMR4ZQ4XR6" {
		t.Fatalf("reference %q", ref)
	}
	if n := testing.AllocsPerRun(100, func() { reference(r, nil) }); n != 0 {
		t.Errorf("reading the reference made %.0f allocations, want none", n)
	}
}

func BenchmarkReference(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/v1/callbacks/vnpay/ipn?"+vnpayQuery, nil)
	b.ReportAllocs()
	for b.Loop() {
		reference(r, nil)
	}
}
