package vnpay_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/failure"
)

func TestParseIPNDomainVector(t *testing.T) {
	t.Parallel()
	got, err := vnpay.ParseIPN(signedVectorParams(t))
	if err != nil {
		t.Fatalf("ParseIPN: %v", err)
	}
	want := vnpay.IPN{
		TmnCode:           "TESTTMN1",
		Amount:            50000,
		BankCode:          "NCB",
		BankTranNo:        "VNP14226112",
		CardType:          "ATM",
		OrderInfo:         "Thanh toan le phi HS 000123",
		PayDate:           time.Date(2025, 1, 1, 5, 0, 0, 0, time.UTC),
		ResponseCode:      "00",
		TransactionNo:     "14226112",
		TransactionStatus: "00",
		TxnRef:            "HS000123-1",
		SecureHash:        vectorHash,
	}
	if !got.PayDate.Equal(want.PayDate) {
		t.Fatalf("PayDate = %v, want %v", got.PayDate, want.PayDate)
	}
	got.PayDate = want.PayDate
	if got != want {
		t.Fatalf("ParseIPN =\n%+v\nwant\n%+v", got, want)
	}
	if !got.Paid() {
		t.Fatal("Paid() = false for 00/00")
	}
}

func TestParseIPNAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    int64
		wantErr bool
	}{
		{name: "one hundred dong", raw: "10000", want: 100},
		{name: "largest wire value", raw: "999999999900", want: 9_999_999_999},
		{name: "leading zeros tolerated", raw: "0010000", want: 100},
		{name: "not divisible by 100", raw: "5000050", wantErr: true},
		{name: "zero", raw: "0", wantErr: true},
		{name: "negative", raw: "-5000000", wantErr: true},
		{name: "explicit plus", raw: "+5000000", wantErr: true},
		{name: "decimal point", raw: "50000.00", wantErr: true},
		{name: "exponent", raw: "5e6", wantErr: true},
		{name: "spaces", raw: " 5000000", wantErr: true},
		{name: "non numeric", raw: "abc", wantErr: true},
		{name: "thirteen digits", raw: "1000000000000", wantErr: true},
		{name: "overflows int64", raw: "99999999999999999999999", wantErr: true},
		{name: "unicode digits", raw: "５０００００", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := vectorParams(t)
			p.Set("vnp_Amount", tt.raw)
			got, err := vnpay.ParseIPN(p)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseIPN accepted vnp_Amount=%q as %d VND", tt.raw, got.Amount)
				}
				if !errors.Is(err, vnpay.ErrInvalidAmount) || !errors.Is(err, vnpay.ErrInvalidIPN) {
					t.Fatalf("error does not wrap ErrInvalidAmount and ErrInvalidIPN: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseIPN: %v", err)
			}
			if got.Amount != tt.want {
				t.Fatalf("Amount = %d, want %d", got.Amount, tt.want)
			}
		})
	}
}

func TestParseIPNRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mutate   func(url.Values)
		wantInIt []string
	}{
		{name: "required fields missing", mutate: func(p url.Values) {
			for _, k := range []string{"vnp_TmnCode", "vnp_Amount", "vnp_TxnRef", "vnp_ResponseCode", "vnp_TransactionStatus"} {
				p.Del(k)
			}
		}, wantInIt: []string{"vnp_TmnCode: missing", "vnp_Amount: missing", "vnp_TxnRef: missing", "vnp_ResponseCode: missing", "vnp_TransactionStatus: missing"}},
		{name: "repeated parameter", mutate: func(p url.Values) { p.Add("vnp_TxnRef", "OTHER") }, wantInIt: []string{"vnp_TxnRef: given 2 times"}},
		{name: "bad pay date", mutate: func(p url.Values) { p.Set("vnp_PayDate", "2025-01-01") }, wantInIt: []string{"vnp_PayDate"}},
		{name: "impossible pay date", mutate: func(p url.Values) { p.Set("vnp_PayDate", "20250231120000") }, wantInIt: []string{"vnp_PayDate"}},
		{name: "three digit response code", mutate: func(p url.Values) { p.Set("vnp_ResponseCode", "000") }, wantInIt: []string{"vnp_ResponseCode"}},
		{name: "letter status", mutate: func(p url.Values) { p.Set("vnp_TransactionStatus", "OK") }, wantInIt: []string{"vnp_TransactionStatus"}},
		{name: "oversized value", mutate: func(p url.Values) { p.Set("vnp_OrderInfo", strings.Repeat("x", 256)) }, wantInIt: []string{"vnp_OrderInfo: longer than 255"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := signedVectorParams(t)
			tt.mutate(p)
			_, err := vnpay.ParseIPN(p)
			if err == nil {
				t.Fatal("ParseIPN accepted invalid input")
			}
			if !errors.Is(err, vnpay.ErrInvalidIPN) || !failure.IsPermanent(err) {
				t.Fatalf("error is not a permanent ErrInvalidIPN: %v", err)
			}
			for _, want := range tt.wantInIt {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestIPNOptionalFieldsAndPaid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		responseCode string
		status       string
		wantPaid     bool
	}{
		{name: "paid", responseCode: "00", status: "00", wantPaid: true},
		{name: "cancelled by customer", responseCode: "24", status: "02", wantPaid: false},
		{name: "debited but suspicious", responseCode: "07", status: "00", wantPaid: false},
		{name: "response ok but status pending", responseCode: "00", status: "01", wantPaid: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := vectorParams(t)
			p.Del("vnp_BankTranNo")
			p.Del("vnp_PayDate")
			p.Set("vnp_ResponseCode", tt.responseCode)
			p.Set("vnp_TransactionStatus", tt.status)
			n, err := vnpay.ParseIPN(p)
			if err != nil {
				t.Fatalf("ParseIPN: %v", err)
			}
			if n.Paid() != tt.wantPaid {
				t.Fatalf("Paid() = %v, want %v", n.Paid(), tt.wantPaid)
			}
			if !n.PayDate.IsZero() || n.BankTranNo != "" {
				t.Fatalf("absent fields not empty: %+v", n)
			}
		})
	}
}

func TestIPNParamsRoundTrip(t *testing.T) {
	t.Parallel()
	n, err := vnpay.ParseIPN(signedVectorParams(t))
	if err != nil {
		t.Fatalf("ParseIPN: %v", err)
	}
	p := n.Params()
	if got := vnpay.SignedData(p); got != vectorData {
		t.Fatalf("Params() signs as\n%s\nwant\n%s", got, vectorData)
	}
	p.Set(vnpay.ParamSecureHash, vnpay.Sign(vectorSecret, p))
	if !vnpay.Verify(vectorSecret, p) {
		t.Fatal("re-signed Params() do not verify")
	}
	again, err := vnpay.ParseIPN(p)
	if err != nil {
		t.Fatalf("ParseIPN(Params()): %v", err)
	}
	if again != n {
		t.Fatalf("round trip changed the IPN:\n%+v\n%+v", again, n)
	}
}

func TestReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		code     string
		wantJSON string
	}{
		{name: "confirmed", code: vnpay.RspConfirmed, wantJSON: `{"RspCode":"00","Message":"Confirm Success"}`},
		{name: "order not found", code: vnpay.RspOrderNotFound, wantJSON: `{"RspCode":"01","Message":"Order not found"}`},
		{name: "already confirmed", code: vnpay.RspAlreadyConfirmed, wantJSON: `{"RspCode":"02","Message":"Order already confirmed"}`},
		{name: "invalid amount", code: vnpay.RspInvalidAmount, wantJSON: `{"RspCode":"04","Message":"Invalid amount"}`},
		{name: "invalid checksum", code: vnpay.RspInvalidChecksum, wantJSON: `{"RspCode":"97","Message":"Invalid signature"}`},
		{name: "unknown error", code: vnpay.RspUnknownError, wantJSON: `{"RspCode":"99","Message":"Unknown error"}`},
		{name: "unlisted code falls back to 99", code: "42", wantJSON: `{"RspCode":"99","Message":"Unknown error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(vnpay.Reply(tt.code))
			if err != nil {
				t.Fatalf("marshalling reply: %v", err)
			}
			if string(b) != tt.wantJSON {
				t.Fatalf("reply = %s, want %s", b, tt.wantJSON)
			}
		})
	}
	codes := []string{vnpay.RspConfirmed, vnpay.RspOrderNotFound, vnpay.RspAlreadyConfirmed,
		vnpay.RspInvalidAmount, vnpay.RspInvalidChecksum, vnpay.RspUnknownError}
	if !slices.Equal(codes, []string{"00", "01", "02", "04", "97", "99"}) {
		t.Fatalf("reply codes drifted from VNPay's: %v", codes)
	}
}
