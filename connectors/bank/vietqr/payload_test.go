package vietqr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank/vietqr"
	"github.com/egov-vn/gateway/internal/failure"
)

// Test vectors of domain.md §7 (VietQR).
const (
	vectorDynamic = "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
	vectorStatic  = "00020101021138540010A00000072701240006970423011000999999990208QRIBFTTA53037045802VN6304CBB4"
)

var (
	vectorDynamicPayload = vietqr.Payload{
		BankBIN: "970403", AccountNumber: "0011012345678", Service: vietqr.ServiceAccount,
		Amount: 180000, BillNumber: "NPS6869", Purpose: "thanh toan don hang",
	}
	vectorStaticPayload = vietqr.Payload{BankBIN: "970423", AccountNumber: "0099999999", Service: vietqr.ServiceAccount}
)

func TestDomainVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload vietqr.Payload
		qr      string
		dynamic bool
	}{
		{name: "NAPAS dynamic example", payload: vectorDynamicPayload, qr: vectorDynamic, dynamic: true},
		{name: "static", payload: vectorStaticPayload, qr: vectorStatic, dynamic: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			built, err := vietqr.Build(tt.payload)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if built != tt.qr {
				t.Fatalf("Build:\n got %s\nwant %s", built, tt.qr)
			}
			parsed, err := vietqr.Parse(tt.qr)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if parsed != tt.payload {
				t.Fatalf("Parse = %+v, want %+v", parsed, tt.payload)
			}
			if parsed.Dynamic() != tt.dynamic {
				t.Fatalf("Dynamic() = %v, want %v", parsed.Dynamic(), tt.dynamic)
			}
		})
	}
}

// withCRC completes content (everything before field 63) with "6304" and its CRC.
func withCRC(t *testing.T, content string) string {
	t.Helper()
	content += "6304"
	return content + fmt.Sprintf("%04X", vietqr.CRC16CCITTFalse([]byte(content)))
}

func TestBuild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload vietqr.Payload
		want    string
	}{
		{
			name:    "empty service defaults to account",
			payload: vietqr.Payload{BankBIN: "970423", AccountNumber: "0099999999"},
			want:    vectorStatic,
		},
		{
			name:    "card service",
			payload: vietqr.Payload{BankBIN: "970436", AccountNumber: "9704360000000000", Service: vietqr.ServiceCard},
			want:    withCRC(t, "00020101021138600010A00000072701300006970436011697043600000000000208QRIBFTTC53037045802VN"),
		},
		{
			name:    "purpose only",
			payload: vietqr.Payload{BankBIN: "970416", AccountNumber: "257678859", Amount: 10000, Purpose: "Chuyen tien"},
			// Published in vietnam-qr-pay's README for the same input.
			want: "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA53037045405100005802VN62150811Chuyen tien630453E6",
		},
		{
			name:    "bill number only on a static code",
			payload: vietqr.Payload{BankBIN: "970405", AccountNumber: "1234", BillNumber: "HS000123"},
			want:    withCRC(t, "00020101021138480010A00000072701180006970405010412340208QRIBFTTA53037045802VN62120108HS000123"),
		},
		{
			name:    "largest amount and longest texts",
			payload: vietqr.Payload{BankBIN: "970418", AccountNumber: strings.Repeat("9", 19), Amount: vietqr.MaxAmount, BillNumber: strings.Repeat("B", 25), Purpose: strings.Repeat("p", 25)},
			want: withCRC(t, "00020101021238630010A00000072701330006970418011999999999999999999990208QRIBFTTA"+
				"53037045413"+"9999999999999"+"5802VN"+"6258"+"0125"+strings.Repeat("B", 25)+"0825"+strings.Repeat("p", 25)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := vietqr.Build(tt.payload)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Build:\n got %s\nwant %s", got, tt.want)
			}
			back, err := vietqr.Parse(got)
			if err != nil {
				t.Fatalf("Parse(Build): %v", err)
			}
			want := tt.payload
			if want.Service == "" {
				want.Service = vietqr.ServiceAccount
			}
			if back != want {
				t.Fatalf("Parse(Build) = %+v, want %+v", back, want)
			}
		})
	}
}

func TestBuildValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		payload    vietqr.Payload
		wantFields []string
	}{
		{name: "everything wrong", payload: vietqr.Payload{BankBIN: "97040", AccountNumber: "", Service: "QRIBFTTX", Amount: -1,
			BillNumber: strings.Repeat("b", 26), Purpose: "Nộp lệ phí"},
			wantFields: []string{"BankBIN", "AccountNumber", "Service", "Amount", "BillNumber", "Purpose"}},
		{name: "bin with letters", payload: vietqr.Payload{BankBIN: "97040A", AccountNumber: "1"}, wantFields: []string{"BankBIN"}},
		{name: "account too long", payload: vietqr.Payload{BankBIN: "970403", AccountNumber: strings.Repeat("1", 20)}, wantFields: []string{"AccountNumber"}},
		{name: "account with dash", payload: vietqr.Payload{BankBIN: "970403", AccountNumber: "0011-0123"}, wantFields: []string{"AccountNumber"}},
		{name: "amount over 13 digits", payload: vietqr.Payload{BankBIN: "970403", AccountNumber: "1", Amount: vietqr.MaxAmount + 1}, wantFields: []string{"Amount"}},
		{name: "purpose 26 characters", payload: vietqr.Payload{BankBIN: "970403", AccountNumber: "1", Purpose: strings.Repeat("p", 26)}, wantFields: []string{"Purpose"}},
		{name: "purpose with newline", payload: vietqr.Payload{BankBIN: "970403", AccountNumber: "1", Purpose: "a\nb"}, wantFields: []string{"Purpose"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := vietqr.Build(tt.payload)
			if err == nil {
				t.Fatalf("Build accepted an invalid payload: %s", got)
			}
			if !errors.Is(err, vietqr.ErrInvalidPayload) || !failure.IsPermanent(err) {
				t.Fatalf("error is not a permanent ErrInvalidPayload: %v", err)
			}
			var fields []string
			for _, e := range unwrapJoined(err) {
				var fe *vietqr.FieldError
				if errors.As(e, &fe) {
					fields = append(fields, fe.Field)
				}
			}
			if strings.Join(fields, ",") != strings.Join(tt.wantFields, ",") {
				t.Fatalf("bad fields = %v, want %v\nerror: %v", fields, tt.wantFields, err)
			}
			if tt.payload.Purpose == "Nộp lệ phí" && !strings.Contains(err.Error(), "remove diacritics") {
				t.Fatalf("error does not say to remove diacritics: %v", err)
			}
		})
	}
}

// unwrapJoined returns the errors joined somewhere inside err.
func unwrapJoined(err error) []error {
	for err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			var out []error
			for _, e := range j.Unwrap() {
				if _, nested := e.(interface{ Unwrap() []error }); nested {
					out = append(out, unwrapJoined(e)...)
				} else {
					out = append(out, e)
				}
			}
			return out
		}
		err = errors.Unwrap(err)
	}
	return nil
}

// tlv encodes fields with EncodeTLV, failing the test on error.
func tlv(t *testing.T, fields ...vietqr.TLV) string {
	t.Helper()
	s, err := vietqr.EncodeTLV(fields...)
	if err != nil {
		t.Fatalf("EncodeTLV: %v", err)
	}
	return s
}

func fld(id, value string) vietqr.TLV { return vietqr.TLV{ID: id, Value: value} }

// napas returns field 38 for bin, account and service (each left out when empty).
func napas(t *testing.T, guid, bin, account, service string) vietqr.TLV {
	t.Helper()
	var ben []vietqr.TLV
	if bin != "" {
		ben = append(ben, fld("00", bin))
	}
	if account != "" {
		ben = append(ben, fld("01", account))
	}
	sub := []vietqr.TLV{fld("00", guid)}
	if ben != nil {
		sub = append(sub, fld("01", tlv(t, ben...)))
	}
	if service != "" {
		sub = append(sub, fld("02", service))
	}
	return fld("38", tlv(t, sub...))
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	acct := napas(t, "A000000727", "970423", "0099999999", "QRIBFTTA")
	head := []vietqr.TLV{fld("00", "01"), fld("01", "11"), acct}
	tail := []vietqr.TLV{fld("53", "704"), fld("58", "VN")}
	qr := func(fields ...vietqr.TLV) string {
		t.Helper()
		return withCRC(t, tlv(t, fields...))
	}
	with := func(extra ...vietqr.TLV) string {
		t.Helper()
		return qr(append(append(append([]vietqr.TLV{}, head...), tail...), extra...)...)
	}
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "empty", in: "", wantErr: "must end with field 63"},
		{name: "no crc field", in: strings.TrimSuffix(vectorStatic, "6304CBB4"), wantErr: "must end with field 63"},
		{name: "crc off by one", in: strings.TrimSuffix(vectorStatic, "CBB4") + "CBB5", wantErr: "CRC mismatch: field 63 says CBB5, the content gives CBB4"},
		{name: "crc not hex", in: strings.TrimSuffix(vectorStatic, "CBB4") + "CBXZ", wantErr: `CRC "CBXZ" is not four hex digits`},
		{name: "one character changed", in: strings.Replace(vectorDynamic, "180000", "980000", 1), wantErr: "CRC mismatch"},
		{name: "diacritics", in: strings.Replace(vectorDynamic, "thanh", "thành", 1), wantErr: "printable ASCII"},
		{name: "too long", in: strings.Repeat("0", 600), wantErr: "at most 512"},
		{name: "truncated framing", in: withCRC(t, "000201010211385"), wantErr: "announces"},
		{name: "not starting with 00", in: qr(append([]vietqr.TLV{fld("01", "11"), acct}, tail...)...), wantErr: "must start with field 00"},
		{name: "wrong format indicator", in: qr(append([]vietqr.TLV{fld("00", "02"), acct}, tail...)...), wantErr: "must start with field 00"},
		{name: "crc field twice", in: qr(append(append(head, fld("63", "ABCD")), tail...)...), wantErr: "field 63 appears more than once"},
		{name: "repeated field", in: with(fld("58", "VN")), wantErr: "field 58 appears more than once"},
		{name: "bad initiation", in: qr(append([]vietqr.TLV{fld("00", "01"), fld("01", "13"), acct}, tail...)...), wantErr: "must be 11 or 12"},
		{name: "missing account", in: qr(append([]vietqr.TLV{fld("00", "01"), fld("01", "11")}, tail...)...), wantErr: "field 38 (NAPAS account information) is missing"},
		{name: "other scheme guid", in: qr(append([]vietqr.TLV{fld("00", "01"), napas(t, "A000000775", "970423", "0099999999", "QRIBFTTA")}, tail...)...), wantErr: "not a NAPAS VietQR template"},
		{name: "missing service", in: qr(append([]vietqr.TLV{fld("00", "01"), napas(t, "A000000727", "970423", "0099999999", "")}, tail...)...), wantErr: "38-02 (service code) is missing"},
		{name: "missing beneficiary", in: qr(append([]vietqr.TLV{fld("00", "01"), napas(t, "A000000727", "", "", "QRIBFTTA")}, tail...)...), wantErr: "38-01 (beneficiary) is missing"},
		{name: "unknown service", in: qr(append([]vietqr.TLV{fld("00", "01"), napas(t, "A000000727", "970423", "0099999999", "QRIBFTTX")}, tail...)...), wantErr: "Service: must be QRIBFTTA or QRIBFTTC"},
		{name: "short bin", in: qr(append([]vietqr.TLV{fld("00", "01"), napas(t, "A000000727", "97042", "0099999999", "QRIBFTTA")}, tail...)...), wantErr: "BankBIN: must be 6 digits"},
		{name: "missing account number", in: qr(append([]vietqr.TLV{fld("00", "01"), napas(t, "A000000727", "970423", "", "QRIBFTTA")}, tail...)...), wantErr: "AccountNumber: must be 1 to 19"},
		{name: "broken beneficiary framing", in: qr(append([]vietqr.TLV{fld("00", "01"), fld("38", tlv(t, fld("00", "A000000727"), fld("01", "00069704230199"), fld("02", "QRIBFTTA")))}, tail...)...), wantErr: "field 38-01 (beneficiary)"},
		{name: "repeated bin", in: qr(append([]vietqr.TLV{fld("00", "01"), fld("38", tlv(t, fld("00", "A000000727"), fld("01", tlv(t, fld("00", "970423"), fld("00", "970436"), fld("01", "1"))), fld("02", "QRIBFTTA")))}, tail...)...), wantErr: "field 38-01-00 appears more than once"},
		{name: "dollars", in: qr(append(head, fld("53", "840"), fld("58", "VN"))...), wantErr: "must be 704 (VND)"},
		{name: "other country", in: qr(append(head, fld("53", "704"), fld("58", "LA"))...), wantErr: "must be VN"},
		{name: "missing currency", in: qr(append(head, fld("58", "VN"))...), wantErr: "field 53 (currency) is missing"},
		{name: "missing country", in: qr(append(head, fld("53", "704"))...), wantErr: "field 58 (country) is missing"},
		{name: "decimal amount", in: with(fld("54", "10000.00")), wantErr: "without a decimal point"},
		{name: "zero amount", in: with(fld("54", "0")), wantErr: "must be positive"},
		{name: "negative amount", in: with(fld("54", "-1000")), wantErr: "not a decimal number"},
		{name: "amount fourteen digits", in: with(fld("54", "12345678901234")), wantErr: "at most 13"},
		{name: "tip field", in: with(fld("54", "10000"), fld("55", "01")), wantErr: "tip or convenience fee"},
		{name: "purpose too long", in: with(fld("62", tlv(t, fld("08", strings.Repeat("p", 26))))), wantErr: "Purpose: must be at most 25"},
		{name: "repeated purpose", in: with(fld("62", tlv(t, fld("08", "abc"), fld("08", "def")))), wantErr: "field 62-08 appears more than once"},
		{name: "broken additional data", in: with(fld("62", "0899a")), wantErr: "field 62 (additional data)"},
		{name: "crc inside another field", in: crcInsideField(t, tlv(t, append(head, tail...)...)), wantErr: "field 63 (CRC) must be the last field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := vietqr.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse accepted %q as %+v", tt.in, p)
			}
			if !errors.Is(err, vietqr.ErrMalformed) || !failure.IsPermanent(err) {
				t.Fatalf("error is not a permanent ErrMalformed: %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

// crcInsideField ends content with a field 59 whose value closes with "6304" and a valid CRC,
// so the string ends like a VietQR payload although no field 63 exists.
func crcInsideField(t *testing.T, content string) string {
	t.Helper()
	pre := content + "5910AB6304"
	return pre + fmt.Sprintf("%04X", vietqr.CRC16CCITTFalse([]byte(pre)))
}

func TestParseTolerates(t *testing.T) {
	t.Parallel()
	acct := napas(t, "A000000727", "970423", "0099999999", "QRIBFTTA")
	static := vectorStaticPayload
	withAmount := vectorStaticPayload
	withAmount.Amount = 5000
	qr := func(fields ...vietqr.TLV) string {
		t.Helper()
		return withCRC(t, tlv(t, fields...))
	}
	tests := []struct {
		name string
		in   string
		want vietqr.Payload
	}{
		{name: "lowercase crc", in: strings.TrimSuffix(vectorStatic, "CBB4") + "cbb4", want: static},
		{name: "merchant fields and unreserved template skipped", in: qr(fld("00", "01"), fld("01", "11"), acct, fld("52", "4829"),
			fld("53", "704"), fld("58", "VN"), fld("59", "EGOV"), fld("60", "LANG SON"), fld("80", "046")), want: static},
		{name: "unknown subfields skipped", in: qr(fld("00", "01"), fld("01", "11"),
			fld("38", tlv(t, fld("00", "A000000727"), fld("01", tlv(t, fld("00", "970423"), fld("01", "0099999999"), fld("09", "x"))), fld("02", "QRIBFTTA"), fld("05", "y"))),
			fld("53", "704"), fld("58", "VN"), fld("62", tlv(t, fld("07", "TERMINAL001")))), want: static},
		{name: "no initiation field", in: qr(fld("00", "01"), acct, fld("53", "704"), fld("58", "VN")), want: static},
		{name: "static initiation with amount", in: qr(fld("00", "01"), fld("01", "11"), acct, fld("53", "704"), fld("54", "5000"), fld("58", "VN")), want: withAmount},
		{name: "dynamic initiation without amount", in: qr(fld("00", "01"), fld("01", "12"), acct, fld("53", "704"), fld("58", "VN")), want: static},
		{name: "amount with leading zeros", in: qr(fld("00", "01"), fld("01", "12"), acct, fld("53", "704"), fld("54", "005000"), fld("58", "VN")), want: withAmount},
		{name: "fields out of canonical order", in: qr(fld("00", "01"), fld("58", "VN"), fld("53", "704"), acct, fld("01", "11")), want: static},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := vietqr.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}
