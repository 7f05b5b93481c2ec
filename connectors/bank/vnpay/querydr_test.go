package vnpay_test

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/failure"
)

func validQuery(t *testing.T) vnpay.QueryDR {
	t.Helper()
	return vnpay.QueryDR{
		RequestID:       "Q20250101130000A1",
		TmnCode:         "TESTTMN1",
		TxnRef:          "HS000123-1",
		OrderInfo:       "Truy van GD HS000123-1",
		TransactionNo:   "14226112",
		TransactionDate: time.Date(2025, 1, 1, 5, 0, 0, 0, time.UTC),
		CreateDate:      time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC),
		IPAddr:          "10.0.0.5",
	}
}

func hmacHex(t *testing.T, secret, data string) string {
	t.Helper()
	h := hmac.New(sha512.New, []byte(secret))
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil))
}

func TestNewQueryDRRequest(t *testing.T) {
	t.Parallel()
	r, err := vnpay.NewQueryDRRequest(vectorSecret, validQuery(t))
	if err != nil {
		t.Fatalf("NewQueryDRRequest: %v", err)
	}
	const wantData = "Q20250101130000A1|2.1.0|querydr|TESTTMN1|HS000123-1|20250101120000|20250101130000|10.0.0.5|Truy van GD HS000123-1"
	if got := r.SignedData(); got != wantData {
		t.Fatalf("SignedData:\n got %s\nwant %s", got, wantData)
	}
	if want := hmacHex(t, vectorSecret, wantData); r.SecureHash != want {
		t.Fatalf("SecureHash = %s, want %s", r.SecureHash, want)
	}
	if !r.Verify(vectorSecret) {
		t.Fatal("Verify rejected a fresh request")
	}
	tampered := r
	tampered.TxnRef = "HS000124-1"
	if tampered.Verify(vectorSecret) {
		t.Fatal("Verify accepted a tampered TxnRef")
	}
	unsignedField := r
	unsignedField.TransactionNo = "1"
	if !unsignedField.Verify(vectorSecret) {
		t.Fatal("vnp_TransactionNo must not be covered by the querydr signature")
	}

	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshalling request: %v", err)
	}
	for _, key := range []string{"vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef", "vnp_OrderInfo",
		"vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_SecureHash"} {
		if !strings.Contains(string(b), `"`+key+`"`) {
			t.Errorf("JSON body lacks %s: %s", key, b)
		}
	}
}

func TestNewQueryDRRequestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		mutate     func(*vnpay.QueryDR)
		wantFields []string
	}{
		{name: "empty query", mutate: func(q *vnpay.QueryDR) { *q = vnpay.QueryDR{} },
			wantFields: []string{"RequestID", "TmnCode", "TxnRef", "OrderInfo", "TransactionDate", "CreateDate", "IPAddr"}},
		{name: "request id too long", mutate: func(q *vnpay.QueryDR) { q.RequestID = strings.Repeat("1", 33) }, wantFields: []string{"RequestID"}},
		{name: "pipe in order info", mutate: func(q *vnpay.QueryDR) { q.OrderInfo = "a|b" }, wantFields: []string{"OrderInfo"}},
		{name: "diacritics in order info", mutate: func(q *vnpay.QueryDR) { q.OrderInfo = "Truy vấn" }, wantFields: []string{"OrderInfo"}},
		{name: "transaction number not numeric", mutate: func(q *vnpay.QueryDR) { q.TransactionNo = "VNP1" }, wantFields: []string{"TransactionNo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := validQuery(t)
			tt.mutate(&q)
			_, err := vnpay.NewQueryDRRequest(vectorSecret, q)
			if err == nil {
				t.Fatal("NewQueryDRRequest accepted invalid input")
			}
			if !errors.Is(err, vnpay.ErrInvalidQuery) || !failure.IsPermanent(err) {
				t.Fatalf("error is not a permanent ErrInvalidQuery: %v", err)
			}
			if got := fieldsOf(t, err); !slices.Equal(got, tt.wantFields) {
				t.Fatalf("bad fields = %v, want %v", got, tt.wantFields)
			}
		})
	}
	if _, err := vnpay.NewQueryDRRequest("", validQuery(t)); err == nil {
		t.Fatal("NewQueryDRRequest accepted an empty secret")
	}
}

func sampleQueryResponse(t *testing.T) vnpay.QueryDRResponse {
	t.Helper()
	return vnpay.QueryDRResponse{
		ResponseID:        "4f5b0a7c2d3e4f5a",
		Command:           vnpay.CommandQueryDR,
		ResponseCode:      vnpay.QueryCodeSuccess,
		Message:           "QueryDR Success",
		TmnCode:           "TESTTMN1",
		TxnRef:            "HS000123-1",
		Amount:            "5000000",
		OrderInfo:         "Thanh toan le phi HS 000123",
		BankCode:          "NCB",
		PayDate:           "20250101120000",
		TransactionNo:     "14226112",
		TransactionType:   "01",
		TransactionStatus: "00",
	}
}

func TestQueryDRResponse(t *testing.T) {
	t.Parallel()
	r := sampleQueryResponse(t)
	const wantData = "4f5b0a7c2d3e4f5a|querydr|00|QueryDR Success|TESTTMN1|HS000123-1|5000000|NCB|20250101120000|14226112|01|00|Thanh toan le phi HS 000123||"
	if got := r.SignedData(); got != wantData {
		t.Fatalf("SignedData:\n got %s\nwant %s", got, wantData)
	}
	r.Sign(vectorSecret)
	if r.SecureHash != hmacHex(t, vectorSecret, wantData) {
		t.Fatalf("Sign set %s", r.SecureHash)
	}
	if !r.Verify(vectorSecret) {
		t.Fatal("Verify rejected a signed answer")
	}
	upper := r
	upper.SecureHash = strings.ToUpper(r.SecureHash)
	if !upper.Verify(vectorSecret) {
		t.Fatal("Verify rejected uppercase hex")
	}
	tampered := r
	tampered.TransactionStatus = "02"
	if tampered.Verify(vectorSecret) {
		t.Fatal("Verify accepted a tampered status")
	}
	if r.Verify("") {
		t.Fatal("Verify accepted an empty secret")
	}
	if !r.Found() || !r.Paid() {
		t.Fatalf("Found/Paid = %v/%v, want true/true", r.Found(), r.Paid())
	}
	amount, err := r.AmountVND()
	if err != nil || amount != 50000 {
		t.Fatalf("AmountVND = %d, %v; want 50000", amount, err)
	}
}

func TestQueryDRResponseStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		code      string
		status    string
		amount    string
		wantFound bool
		wantPaid  bool
		wantAmtOK bool
	}{
		{name: "paid", code: "00", status: "00", amount: "100", wantFound: true, wantPaid: true, wantAmtOK: true},
		{name: "found but failed", code: "00", status: "02", amount: "100", wantFound: true, wantAmtOK: true},
		{name: "not found", code: vnpay.QueryCodeNotFound, status: "", amount: ""},
		{name: "odd amount", code: "00", status: "00", amount: "150", wantFound: true, wantPaid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := sampleQueryResponse(t)
			r.ResponseCode, r.TransactionStatus, r.Amount = tt.code, tt.status, tt.amount
			if r.Found() != tt.wantFound || r.Paid() != tt.wantPaid {
				t.Fatalf("Found/Paid = %v/%v, want %v/%v", r.Found(), r.Paid(), tt.wantFound, tt.wantPaid)
			}
			if _, err := r.AmountVND(); (err == nil) != tt.wantAmtOK {
				t.Fatalf("AmountVND error = %v, want ok=%v", err, tt.wantAmtOK)
			}
		})
	}
}
