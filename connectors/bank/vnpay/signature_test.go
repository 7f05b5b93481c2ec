package vnpay_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
)

// Test vector of domain.md §7 (VNPay).
const (
	vectorSecret = "TESTSECRETKEY1234567890ABCDEFGHI"
	vectorData   = "vnp_Amount=5000000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14226112&vnp_CardType=ATM&vnp_OrderInfo=Thanh+toan+le+phi+HS+000123&vnp_PayDate=20250101120000&vnp_ResponseCode=00&vnp_TmnCode=TESTTMN1&vnp_TransactionNo=14226112&vnp_TransactionStatus=00&vnp_TxnRef=HS000123-1"
	vectorHash   = "bea12b655fdd4b0471956628f4446e73676cfe3246a0ee8e83c74be9ceb0a115cd4489cd191500cd316e367c7b1eaec9264f0df3407ddb1e24c5bff1671edd7d"
)

// vectorParams returns the IPN parameters behind the domain.md vector, unsigned, in the
// order a client would not sort them.
func vectorParams(t *testing.T) url.Values {
	t.Helper()
	return url.Values{
		"vnp_TxnRef":            {"HS000123-1"},
		"vnp_TransactionStatus": {"00"},
		"vnp_TransactionNo":     {"14226112"},
		"vnp_TmnCode":           {"TESTTMN1"},
		"vnp_ResponseCode":      {"00"},
		"vnp_PayDate":           {"20250101120000"},
		"vnp_OrderInfo":         {"Thanh toan le phi HS 000123"},
		"vnp_CardType":          {"ATM"},
		"vnp_BankTranNo":        {"VNP14226112"},
		"vnp_BankCode":          {"NCB"},
		"vnp_Amount":            {"5000000"},
	}
}

func signedVectorParams(t *testing.T) url.Values {
	t.Helper()
	p := vectorParams(t)
	p.Set(vnpay.ParamSecureHash, vectorHash)
	return p
}

func TestSignDomainVector(t *testing.T) {
	t.Parallel()
	p := vectorParams(t)
	if got := vnpay.SignedData(p); got != vectorData {
		t.Fatalf("SignedData:\n got %s\nwant %s", got, vectorData)
	}
	if got := vnpay.Sign(vectorSecret, p); got != vectorHash {
		t.Fatalf("Sign = %s, want %s", got, vectorHash)
	}
	if !vnpay.Verify(vectorSecret, signedVectorParams(t)) {
		t.Fatal("Verify rejected the domain.md vector")
	}
}

func TestFormEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "unreserved kept", in: "AZaz09-_.", want: "AZaz09-_."},
		{name: "space becomes plus", in: "a b  c", want: "a+b++c"},
		{name: "tilde escaped unlike QueryEscape", in: "~", want: "%7E"},
		{name: "star escaped like PHP", in: "*", want: "%2A"},
		{name: "reserved characters", in: "&=+/?:#%", want: "%26%3D%2B%2F%3F%3A%23%25"},
		{name: "quotes and brackets", in: `!'()"<>[]`, want: "%21%27%28%29%22%3C%3E%5B%5D"},
		{name: "utf8 bytes uppercase hex", in: "Lạng Sơn", want: "L%E1%BA%A1ng+S%C6%A1n"},
		{name: "control bytes", in: "\x00\t\n\x7f", want: "%00%09%0A%7F"},
		{name: "invalid utf8 byte encoded as is", in: "\xff", want: "%FF"},
		{name: "empty", in: "", want: ""},
		{name: "url", in: "https://egov.example/ret?a=1&b=2", want: "https%3A%2F%2Fegov.example%2Fret%3Fa%3D1%26b%3D2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := vnpay.FormEncode(tt.in); got != tt.want {
				t.Fatalf("FormEncode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSignedData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params url.Values
		want   string
	}{
		{
			name:   "sorted by key bytes",
			params: url.Values{"vnp_b": {"2"}, "vnp_B": {"1"}, "vnp_a": {"3"}},
			want:   "vnp_B=1&vnp_a=3&vnp_b=2",
		},
		{
			name:   "hash and hash type excluded",
			params: url.Values{"vnp_A": {"1"}, "vnp_SecureHash": {"ab"}, "vnp_SecureHashType": {"HmacSHA512"}},
			want:   "vnp_A=1",
		},
		{
			name:   "non vnp parameters ignored",
			params: url.Values{"vnp_A": {"1"}, "utm_source": {"x"}, "VNP_B": {"2"}, "vnp": {"3"}},
			want:   "vnp_A=1",
		},
		{
			name:   "empty values dropped",
			params: url.Values{"vnp_A": {""}, "vnp_B": {"x"}, "vnp_C": {}},
			want:   "vnp_B=x",
		},
		{
			name:   "first of repeated values",
			params: url.Values{"vnp_A": {"first", "second"}},
			want:   "vnp_A=first",
		},
		{
			name:   "values form encoded",
			params: url.Values{"vnp_OrderInfo": {"Lệ phí ~ * HS 1"}},
			want:   "vnp_OrderInfo=L%E1%BB%87+ph%C3%AD+%7E+%2A+HS+1",
		},
		{
			name:   "nothing to sign",
			params: url.Values{"a": {"1"}},
			want:   "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := vnpay.SignedData(tt.params); got != tt.want {
				t.Fatalf("SignedData = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		mutate func(url.Values)
		want   bool
	}{
		{name: "valid", secret: vectorSecret, mutate: func(url.Values) {}, want: true},
		{name: "uppercase hex accepted", secret: vectorSecret, mutate: func(p url.Values) {
			p.Set(vnpay.ParamSecureHash, strings.ToUpper(vectorHash))
		}, want: true},
		{name: "unrelated parameter ignored", secret: vectorSecret, mutate: func(p url.Values) { p.Set("foo", "bar") }, want: true},
		{name: "empty vnp parameter ignored", secret: vectorSecret, mutate: func(p url.Values) { p.Set("vnp_Extra", "") }, want: true},
		{name: "hash type HmacSHA512 accepted", secret: vectorSecret, mutate: func(p url.Values) {
			p.Set(vnpay.ParamSecureHashType, "HmacSHA512")
		}, want: true},
		{name: "hash type SHA256 refused", secret: vectorSecret, mutate: func(p url.Values) {
			p.Set(vnpay.ParamSecureHashType, "SHA256")
		}, want: false},
		{name: "amount tampered", secret: vectorSecret, mutate: func(p url.Values) { p.Set("vnp_Amount", "5000100") }, want: false},
		{name: "parameter added", secret: vectorSecret, mutate: func(p url.Values) { p.Set("vnp_Extra", "1") }, want: false},
		{name: "parameter removed", secret: vectorSecret, mutate: func(p url.Values) { p.Del("vnp_BankTranNo") }, want: false},
		{name: "wrong secret", secret: vectorSecret + "x", mutate: func(url.Values) {}, want: false},
		{name: "empty secret", secret: "", mutate: func(url.Values) {}, want: false},
		{name: "missing hash", secret: vectorSecret, mutate: func(p url.Values) { p.Del(vnpay.ParamSecureHash) }, want: false},
		{name: "hash repeated", secret: vectorSecret, mutate: func(p url.Values) { p.Add(vnpay.ParamSecureHash, vectorHash) }, want: false},
		{name: "hash truncated", secret: vectorSecret, mutate: func(p url.Values) {
			p.Set(vnpay.ParamSecureHash, vectorHash[:len(vectorHash)-2])
		}, want: false},
		{name: "hash not hex", secret: vectorSecret, mutate: func(p url.Values) {
			p.Set(vnpay.ParamSecureHash, "zz"+vectorHash[2:])
		}, want: false},
		{name: "hash one bit off", secret: vectorSecret, mutate: func(p url.Values) {
			p.Set(vnpay.ParamSecureHash, "ae"+vectorHash[2:])
		}, want: false},
		{name: "signed parameter repeated", secret: vectorSecret, mutate: func(p url.Values) {
			p.Add("vnp_Amount", "100")
		}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := signedVectorParams(t)
			tt.mutate(p)
			if got := vnpay.Verify(tt.secret, p); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSignVerifyRoundTripWithAwkwardText(t *testing.T) {
	t.Parallel()
	p := url.Values{
		"vnp_OrderInfo": {"Nộp lệ phí ~ hồ sơ * 000123 (đợt 1) & 50% + phí"},
		"vnp_TxnRef":    {"HS-1"},
	}
	p.Set(vnpay.ParamSecureHash, vnpay.Sign("k", p))
	if !vnpay.Verify("k", p) {
		t.Fatal("Verify rejected what Sign produced")
	}
	// The query string a browser would carry must decode back to the same signature.
	decoded, err := url.ParseQuery(vnpay.SignedData(p) + "&vnp_SecureHash=" + p.Get(vnpay.ParamSecureHash))
	if err != nil {
		t.Fatalf("parsing signed data as a query: %v", err)
	}
	if !vnpay.Verify("k", decoded) {
		t.Fatal("Verify rejected the parameters decoded from the signed query")
	}
}
