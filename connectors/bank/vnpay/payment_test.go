package vnpay_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/failure"
)

const sandboxBase = "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"

func validRequest(t *testing.T) vnpay.PaymentRequest {
	t.Helper()
	created := time.Date(2025, 1, 1, 5, 0, 0, 0, time.UTC) // 12:00:00 in GMT+7
	return vnpay.PaymentRequest{
		TmnCode:    "TESTTMN1",
		Amount:     50000,
		TxnRef:     "HS000123-1",
		OrderInfo:  "Thanh toán lệ phí HS 000123",
		OrderType:  "billpayment",
		Locale:     vnpay.LocaleVN,
		ReturnURL:  "https://dichvucong.langson.example/payments/return?id=42",
		IPAddr:     "203.0.113.7",
		CreateDate: created,
		ExpireDate: created.Add(15 * time.Minute),
	}
}

func TestPaymentURL(t *testing.T) {
	t.Parallel()
	got, err := vnpay.PaymentURL(sandboxBase, validRequest(t), vectorSecret)
	if err != nil {
		t.Fatalf("PaymentURL: %v", err)
	}
	const wantQuery = "vnp_Amount=5000000&vnp_Command=pay&vnp_CreateDate=20250101120000&vnp_CurrCode=VND" +
		"&vnp_ExpireDate=20250101121500&vnp_IpAddr=203.0.113.7&vnp_Locale=vn" +
		"&vnp_OrderInfo=Thanh+toan+le+phi+HS+000123&vnp_OrderType=billpayment" +
		"&vnp_ReturnUrl=https%3A%2F%2Fdichvucong.langson.example%2Fpayments%2Freturn%3Fid%3D42" +
		"&vnp_TmnCode=TESTTMN1&vnp_TxnRef=HS000123-1&vnp_Version=2.1.0&vnp_SecureHash="
	prefix := sandboxBase + "?" + wantQuery
	if !strings.HasPrefix(got, prefix) {
		t.Fatalf("PaymentURL:\n got %s\nwant prefix %s", got, prefix)
	}
	if hash := strings.TrimPrefix(got, prefix); len(hash) != 128 {
		t.Fatalf("vnp_SecureHash %q is not 128 hex digits", hash)
	}

	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("parsing the payment URL: %v", err)
	}
	q := u.Query()
	if !vnpay.Verify(vectorSecret, q) {
		t.Fatal("the payment URL's own signature does not verify")
	}
	if q.Has("vnp_BankCode") {
		t.Fatal("an empty BankCode must not be sent")
	}
}

func TestPaymentURLBankCode(t *testing.T) {
	t.Parallel()
	p := validRequest(t)
	p.BankCode = "VNPAYQR"
	got, err := vnpay.PaymentURL(sandboxBase, p, vectorSecret)
	if err != nil {
		t.Fatalf("PaymentURL: %v", err)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("parsing the payment URL: %v", err)
	}
	if bc := u.Query().Get("vnp_BankCode"); bc != "VNPAYQR" {
		t.Fatalf("vnp_BankCode = %q, want VNPAYQR", bc)
	}
	if !vnpay.Verify(vectorSecret, u.Query()) {
		t.Fatal("signature does not cover vnp_BankCode")
	}
}

func TestPaymentURLOrderInfoCleaning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "precomposed diacritics", in: "Nộp lệ phí hồ sơ Đăng ký", want: "Nop le phi ho so Dang ky"},
		{name: "decomposed diacritics", in: "La\u0323ng So\u031Bn", want: "Lang Son"},
		{name: "white space collapsed and trimmed", in: "  a\t\tb\n\u00a0c  ", want: "a b c"},
		{name: "divergent characters become spaces", in: "HS*123 (dot 1) ~ 'x'!", want: "HS 123 dot 1 x"},
		{name: "invisible characters dropped", in: "HS\u200b123\u0007", want: "HS123"},
		{name: "other punctuation kept", in: "HS 12/3: 50% & +1 #2", want: "HS 12/3: 50% & +1 #2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := validRequest(t)
			p.OrderInfo = tt.in
			got, err := vnpay.PaymentURL(sandboxBase, p, vectorSecret)
			if err != nil {
				t.Fatalf("PaymentURL: %v", err)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("parsing the payment URL: %v", err)
			}
			if info := u.Query().Get("vnp_OrderInfo"); info != tt.want {
				t.Fatalf("vnp_OrderInfo = %q, want %q", info, tt.want)
			}
		})
	}
}

func TestPaymentURLValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		base       string
		noSecret   bool
		mutate     func(*vnpay.PaymentRequest)
		wantFields []string
	}{
		{
			name: "every field wrong at once",
			base: "ftp://x", noSecret: true,
			mutate: func(p *vnpay.PaymentRequest) {
				*p = vnpay.PaymentRequest{
					TmnCode: "TOO-LONG-CODE", Amount: -1, TxnRef: "", OrderInfo: "", OrderType: "",
					Locale: "fr", ReturnURL: "nope", IPAddr: "999.1.1.1", BankCode: "X",
				}
			},
			wantFields: []string{"base", "secret", "TmnCode", "Amount", "TxnRef", "OrderInfo", "OrderType",
				"Locale", "ReturnURL", "IPAddr", "CreateDate", "ExpireDate", "BankCode"},
		},
		{name: "zero amount", mutate: func(p *vnpay.PaymentRequest) { p.Amount = 0 }, wantFields: []string{"Amount"}},
		{name: "amount over wire limit", mutate: func(p *vnpay.PaymentRequest) { p.Amount = vnpay.MaxAmount + 1 }, wantFields: []string{"Amount"}},
		{name: "txn ref with space", mutate: func(p *vnpay.PaymentRequest) { p.TxnRef = "HS 1" }, wantFields: []string{"TxnRef"}},
		{name: "txn ref too long", mutate: func(p *vnpay.PaymentRequest) { p.TxnRef = strings.Repeat("A", 101) }, wantFields: []string{"TxnRef"}},
		{name: "order info not latin", mutate: func(p *vnpay.PaymentRequest) { p.OrderInfo = "Phí 手续费" }, wantFields: []string{"OrderInfo"}},
		{name: "order info only symbols", mutate: func(p *vnpay.PaymentRequest) { p.OrderInfo = " *() " }, wantFields: []string{"OrderInfo"}},
		{name: "order info too long", mutate: func(p *vnpay.PaymentRequest) { p.OrderInfo = strings.Repeat("a", 256) }, wantFields: []string{"OrderInfo"}},
		{name: "expire before create", mutate: func(p *vnpay.PaymentRequest) { p.ExpireDate = p.CreateDate.Add(-time.Second) }, wantFields: []string{"ExpireDate"}},
		{name: "ip with zone", mutate: func(p *vnpay.PaymentRequest) { p.IPAddr = "fe80::1%eth0" }, wantFields: []string{"IPAddr"}},
		{name: "return url with tilde", mutate: func(p *vnpay.PaymentRequest) { p.ReturnURL = "https://egov.example/~pay" }, wantFields: []string{"ReturnURL"}},
		{name: "return url relative", mutate: func(p *vnpay.PaymentRequest) { p.ReturnURL = "/payments/return" }, wantFields: []string{"ReturnURL"}},
		{name: "base with query", base: sandboxBase + "?a=1", mutate: func(*vnpay.PaymentRequest) {}, wantFields: []string{"base"}},
		{name: "tmn code with symbol", mutate: func(p *vnpay.PaymentRequest) { p.TmnCode = "TESTTMN!" }, wantFields: []string{"TmnCode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := validRequest(t)
			tt.mutate(&p)
			base, secret := sandboxBase, vectorSecret
			if tt.base != "" {
				base = tt.base
			}
			if tt.noSecret {
				secret = ""
			}
			got, err := vnpay.PaymentURL(base, p, secret)
			if err == nil {
				t.Fatalf("PaymentURL succeeded with %s", got)
			}
			if !errors.Is(err, vnpay.ErrInvalidPaymentRequest) {
				t.Errorf("error does not wrap ErrInvalidPaymentRequest: %v", err)
			}
			if !failure.IsPermanent(err) {
				t.Errorf("validation error is not permanent: %v", err)
			}
			if gotFields := fieldsOf(t, err); !slices.Equal(gotFields, tt.wantFields) {
				t.Fatalf("bad fields = %v, want %v\nerror: %v", gotFields, tt.wantFields, err)
			}
		})
	}
}

// fieldsOf lists the fields named by the FieldErrors joined in err, in order.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var fields []string
	var walk func(error)
	walk = func(e error) {
		var fe *vnpay.FieldError
		if errors.As(e, &fe) && e == error(fe) {
			fields = append(fields, fe.Field)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return fields
}

func TestFormatAndParseTime(t *testing.T) {
	t.Parallel()
	utc := time.Date(2024, 12, 31, 17, 30, 5, 0, time.UTC)
	if got := vnpay.FormatTime(utc); got != "20250101003005" {
		t.Fatalf("FormatTime = %s, want 20250101003005 (GMT+7)", got)
	}
	back, err := vnpay.ParseTime("20250101003005")
	if err != nil {
		t.Fatalf("ParseTime: %v", err)
	}
	if !back.Equal(utc) {
		t.Fatalf("ParseTime = %v, want %v", back, utc)
	}
	for _, bad := range []string{"", "2025010100300", "202501010030051", "2025-01-01T00", "20251301000000", "20250230000000"} {
		if _, err := vnpay.ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) succeeded", bad)
		}
	}
}
