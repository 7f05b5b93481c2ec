package paygov_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/paygov"
	"github.com/egov-vn/gateway/internal/failure"
)

// updateGolden regenerates testdata/golden when set: GATEWAY_UPDATE_GOLDEN=1 go test ./...
var updateGolden = os.Getenv("GATEWAY_UPDATE_GOLDEN") == "1"

// assertGolden compares got with testdata/golden/name, or rewrites it under updateGolden.
func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("creating golden dir: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("writing golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (regenerate with GATEWAY_UPDATE_GOLDEN=1): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale (regenerate with GATEWAY_UPDATE_GOLDEN=1 after checking the diff)\n got: %s\nwant: %s", path, got, want)
	}
}

func marshalIndent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("marshalling %T: %v", v, err)
	}
	return append(b, '\n')
}

func sampleBill(t *testing.T) paygov.BillInfo {
	t.Helper()
	return paygov.BillInfo{
		MaDichVu:         "2",
		MaHoSo:           "000.00.20.H37-250101-0001",
		MaTTHC:           "1.011442",
		TenTTHC:          "Cấp giấy phép xây dựng",
		MaDVC:            "1.011442.000.00.00.H37",
		TenDVC:           "Cấp giấy phép xây dựng",
		MaDonVi:          "000.00.00.H37",
		TenDonVi:         "UBND tỉnh Lạng Sơn",
		TKThuHuong:       "0011012345678",
		MaNHThuHuong:     "970436",
		TenTKThuHuong:    "SO XAY DUNG LANG SON",
		PhiLePhi:         []paygov.PhiLePhi{{LoaiPhiLePhi: "2", MaPhiLePhi: "LP01", TenPhiLePhi: "Lệ phí cấp phép", SoTien: 50000}},
		NoiDungThanhToan: "Nop le phi HS 000.00.20.H37-250101-0001",
		HoTenNguoiNop:    "Nguyễn Văn A",
		SoCMNDNguoiNop:   "020000000001",
		DiaChiNguoiNop:   "Phường Đông Kinh, Lạng Sơn",
		DSKhoanNop:       []paygov.KhoanNop{{NoiDung: "Lệ phí cấp phép", SoTien: "50000"}},
	}
}

func sampleCreate(t *testing.T) paygov.CreateTransactionRequest {
	t.Helper()
	r := paygov.CreateTransactionRequest{
		ClientID:      "TESTCLIENT",
		TransactionID: "123_abcdef0123456789",
		TransAmount:   paygov.FormatAmount(50000),
		Command:       paygov.CommandPay,
		Version:       paygov.Version,
		Description:   "Nop le phi ho so",
		Locale:        "vi",
		CurrencyCode:  paygov.CurrencyVND,
		ReturnURL:     "https://dichvucong.langson.example/payments/return",
		AdditionFee:   "0",
		BillInfo:      sampleBill(t),
	}
	r.Sign(vectorKey)
	return r
}

func TestCreateTransactionRequest(t *testing.T) {
	t.Parallel()
	r := sampleCreate(t)
	if r.CheckSum != vectorSum {
		t.Fatalf("Sign set %s, want the domain.md vector %s", r.CheckSum, vectorSum)
	}
	if !r.VerifyChecksum(vectorKey) || r.VerifyChecksum("TESTHASHKEY2") {
		t.Fatal("VerifyChecksum does not tell key 1 from key 2")
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	assertGolden(t, "create_transaction_request.json", marshalIndent(t, r))

	var back paygov.CreateTransactionRequest
	if err := json.Unmarshal(marshalIndent(t, r), &back); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("JSON round trip changed the request:\n%+v\n%+v", back, r)
	}
}

func TestCreateTransactionRequestValidate(t *testing.T) {
	t.Parallel()
	r := paygov.CreateTransactionRequest{TransAmount: "0", AdditionFee: "-1", Command: "pay", Version: "2.0", ReturnURL: "/x",
		BillInfo: paygov.BillInfo{PhiLePhi: []paygov.PhiLePhi{{SoTien: -5}}}}
	err := r.Validate()
	if err == nil {
		t.Fatal("Validate accepted an empty request")
	}
	if !errors.Is(err, paygov.ErrInvalidRequest) || !failure.IsPermanent(err) {
		t.Fatalf("error is not a permanent ErrInvalidRequest: %v", err)
	}
	for _, field := range []string{"client_id", "transaction_id", "trans_amount: must be positive", "addition_fee",
		"command", "version", "currency_code", "return_url", "bill_info.MaHoSo", "bill_info.PhiLePhi[0].SoTien"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

func TestCreateTransactionReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		wantOK bool
	}{
		{name: "string zero", body: `{"error":"0","payment_url":"https://pay.example/x","msg":"ok"}`, wantOK: true},
		{name: "number zero", body: `{"error":0,"payment_url":"https://pay.example/x","msg":"ok"}`, wantOK: true},
		{name: "error code", body: `{"error":"99","msg":"sai checksum"}`, wantOK: false},
		{name: "missing error", body: `{"payment_url":"https://pay.example/x"}`, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r paygov.CreateTransactionReply
			if err := json.Unmarshal([]byte(tt.body), &r); err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if r.OK() != tt.wantOK {
				t.Fatalf("OK() = %v, want %v", r.OK(), tt.wantOK)
			}
		})
	}
}

func TestConfirmationCallback(t *testing.T) {
	t.Parallel()
	const key2 = "TESTHASHKEY1" // the vector's key, reused as key 2 to keep the expected sum
	tests := []struct {
		name       string
		body       string
		wantVerify bool
		wantPaid   bool
		wantAmount int64
	}{
		{
			name:       "strings",
			body:       `{"transaction_id":"123_abcdef0123456789","transaction_code":"KP1","trans_amount":"50000","payment_fee":"1100","command":"PAY","addition_fee":"0","version":"3.0","status":"0","check_sum":"` + vectorSum + `"}`,
			wantVerify: true, wantPaid: true, wantAmount: 50000,
		},
		{
			name:       "numbers keep their literal text",
			body:       `{"transaction_id":"123_abcdef0123456789","trans_amount":50000,"payment_fee":0,"command":"PAY","addition_fee":0,"version":"3.0","status":0,"check_sum":"` + strings.ToUpper(vectorSum) + `"}`,
			wantVerify: true, wantPaid: true, wantAmount: 50000,
		},
		{
			name:       "failed payment",
			body:       `{"transaction_id":"123_abcdef0123456789","trans_amount":"50000","command":"PAY","addition_fee":"0","version":"3.0","status":"1","check_sum":"` + vectorSum + `"}`,
			wantVerify: true, wantPaid: false, wantAmount: 50000,
		},
		{
			name:       "amount tampered",
			body:       `{"transaction_id":"123_abcdef0123456789","trans_amount":"5000","command":"PAY","addition_fee":"0","version":"3.0","status":"0","check_sum":"` + vectorSum + `"}`,
			wantVerify: false, wantPaid: true, wantAmount: 5000,
		},
		{
			name:       "amount written as float",
			body:       `{"transaction_id":"123_abcdef0123456789","trans_amount":50000.0,"command":"PAY","addition_fee":"0","version":"3.0","status":"0","check_sum":"` + vectorSum + `"}`,
			wantVerify: false, wantPaid: true, wantAmount: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c paygov.ConfirmationCallback
			if err := json.Unmarshal([]byte(tt.body), &c); err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if got := c.Verify(key2, "TESTCLIENT"); got != tt.wantVerify {
				t.Fatalf("Verify = %v, want %v", got, tt.wantVerify)
			}
			if c.Verify(key2, "OTHERCLIENT") {
				t.Fatal("Verify ignored the client id")
			}
			if c.Paid() != tt.wantPaid {
				t.Fatalf("Paid() = %v, want %v", c.Paid(), tt.wantPaid)
			}
			amount, err := c.Amount()
			if tt.wantAmount < 0 {
				if err == nil {
					t.Fatalf("Amount accepted %q", c.TransAmount)
				}
				return
			}
			if err != nil || amount != tt.wantAmount {
				t.Fatalf("Amount = %d, %v; want %d", amount, err, tt.wantAmount)
			}
		})
	}
}

func TestConfirmationCallbackSign(t *testing.T) {
	t.Parallel()
	c := paygov.ConfirmationCallback{TransactionID: "123_abcdef0123456789", TransAmount: "50000", Command: "PAY",
		AdditionFee: "0", Version: "3.0", Status: paygov.StatusPaid}
	c.Sign(vectorKey, "TESTCLIENT")
	if c.CheckSum != vectorSum {
		t.Fatalf("Sign set %s, want %s", c.CheckSum, vectorSum)
	}
	assertGolden(t, "confirmation_callback.json", marshalIndent(t, c))
	reply := paygov.ConfirmationReply{ReturnCode: paygov.ReturnOK, ReturnMsg: "success"}
	if b, _ := json.Marshal(reply); string(b) != `{"return_code":0,"return_msg":"success"}` {
		t.Fatalf("reply JSON = %s", b)
	}
}

func TestTextUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    paygov.Text
		wantErr bool
	}{
		{name: "string", in: `"abc"`, want: "abc"},
		{name: "escaped string", in: `"a\u0020b"`, want: "a b"},
		{name: "integer", in: `50000`, want: "50000"},
		{name: "negative", in: `-1`, want: "-1"},
		{name: "float literal kept", in: `1.50`, want: "1.50"},
		{name: "null", in: `null`, want: ""},
		{name: "bool", in: `true`, wantErr: true},
		{name: "object", in: `{}`, wantErr: true},
		{name: "array", in: `[1]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got struct {
				V paygov.Text `json:"v"`
			}
			err := json.Unmarshal([]byte(`{"v":`+tt.in+`}`), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal(%s) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got.V != tt.want {
				t.Fatalf("Unmarshal(%s) = %q, want %q", tt.in, got.V, tt.want)
			}
		})
	}
}

func TestBillLookupReply(t *testing.T) {
	t.Parallel()
	bill := sampleBill(t)
	bill.TransactionID = "123_abcdef0123456789"
	bill.ClientID = "TESTCLIENT"
	bill.MaTraCuuTT = paygov.LookupCode(bill.MaHoSo, time.Date(2025, 1, 1, 5, 0, 0, 0, time.UTC))
	tests := []struct {
		name   string
		reply  paygov.BillLookupReply
		golden string
	}{
		{name: "payable", reply: paygov.BillLookupReply{ErrorCode: paygov.BillPayable, Bill: &bill}, golden: "bill_lookup_payable.json"},
		{name: "nothing to pay", reply: paygov.BillLookupReply{ErrorCode: paygov.BillNothingToPay, Message: "Ho so da thanh toan"}, golden: "bill_lookup_paid.json"},
		{name: "unknown dossier", reply: paygov.BillLookupReply{ErrorCode: paygov.BillError, Message: "Khong tim thay ho so"}, golden: "bill_lookup_unknown.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := marshalIndent(t, tt.reply)
			assertGolden(t, tt.golden, b)
			var back paygov.BillLookupReply
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if !reflect.DeepEqual(back, tt.reply) {
				t.Fatalf("round trip changed the reply:\n%+v\n%+v", back, tt.reply)
			}
		})
	}
}

func TestBillLookupReplyDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		wantCode int
		wantBill bool
		wantErr  bool
	}{
		{name: "code as string", body: `{"error_code":"1","message":{"MaHoSo":"X"}}`, wantCode: 1, wantBill: true},
		{name: "null message", body: `{"error_code":0,"message":null}`, wantCode: 0},
		{name: "no message", body: `{"error_code":-1}`, wantCode: -1},
		{name: "code not a number", body: `{"error_code":"x","message":"?"}`, wantErr: true},
		{name: "message a number", body: `{"error_code":0,"message":5}`, wantErr: true},
		{name: "bill of wrong shape", body: `{"error_code":1,"message":{"PhiLePhi":"none"}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r paygov.BillLookupReply
			err := json.Unmarshal([]byte(tt.body), &r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.ErrorCode != tt.wantCode || (r.Bill != nil) != tt.wantBill {
				t.Fatalf("decoded %+v", r)
			}
		})
	}
}

func TestLookupCode(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 30, 17, 4, 5, 0, time.UTC) // 2025-07-01 00:04:05 in Vietnam
	if got := paygov.LookupCode("H37-0001", at); got != "H37-000120250701000405" {
		t.Fatalf("LookupCode = %s", got)
	}
}
