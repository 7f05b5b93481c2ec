package paygov

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/egov-vn/gateway/internal/vntime"
	"net/url"
	"strconv"
	"time"

	"github.com/egov-vn/gateway/internal/failure"
)

// Text is a wire value that the platform and its integrators write either as a JSON string or
// as a JSON number (OpenCPS sends transaction_id, status and fee codes both ways). It keeps
// the literal text, which is what the checksum covers, and is always written as a string.
type Text string

// UnmarshalJSON accepts a JSON string, a JSON number (kept as written) or null (empty).
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding text: %w", err)
		}
		*t = Text(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("decoding text: want a JSON string or number, got %.20q", b)
	}
	*t = Text(n)
	return nil
}

// Status values of the confirmation callback and codes of the replies.
const (
	// StatusPaid is the callback's status when the citizen paid; any other value is a failure.
	StatusPaid = "0"
	// CreateOK is the create-transaction reply's error field on success.
	CreateOK = "0"
	// ReturnOK and ReturnError are the return_code values of the reply to the callback.
	ReturnOK    = 0
	ReturnError = -1
	// Bill look-up reply codes (error_code).
	BillPayable      = 1
	BillNothingToPay = 0
	BillError        = -1
)

// CreateTransactionRequest is the JSON body the gateway POSTs to create a payment
// transaction. Amounts are decimal strings of whole VND, as OpenCPS sends them.
type CreateTransactionRequest struct {
	ClientID      string   `json:"client_id"`
	TransactionID string   `json:"transaction_id"`
	TransAmount   string   `json:"trans_amount"`
	Command       string   `json:"command"`
	Version       string   `json:"version"`
	Description   string   `json:"description"`
	Locale        string   `json:"locale"`
	CountryCode   string   `json:"country_code,omitempty"`
	CurrencyCode  string   `json:"currency_code"`
	Environment   string   `json:"environment,omitempty"` // "1" web, "2" app (OpenCPS)
	ReturnURL     string   `json:"return_url"`
	AdditionFee   string   `json:"addition_fee"`
	CheckSum      string   `json:"check_sum"`
	BillInfo      BillInfo `json:"bill_info"`
}

// Sign sets r.CheckSum with key 1.
func (r *CreateTransactionRequest) Sign(key1 string) {
	r.CheckSum = Checksum(key1, r.AdditionFee, r.ClientID, r.Command, r.TransAmount, r.TransactionID, r.Version)
}

// VerifyChecksum reports whether r.CheckSum is valid under key 1 (the sandbox checks the
// gateway's requests with it).
func (r CreateTransactionRequest) VerifyChecksum(key1 string) bool {
	return VerifyChecksum(key1, r.CheckSum, r.AdditionFee, r.ClientID, r.Command, r.TransAmount, r.TransactionID, r.Version)
}

// ErrInvalidRequest is wrapped by every error of CreateTransactionRequest.Validate.
var ErrInvalidRequest = errors.New("invalid PayGov create-transaction request")

// Validate checks what the gateway controls before sending: identifiers present, amounts
// whole VND (trans_amount positive), the fixed command, version and currency, an absolute
// return URL and a dossier code. Every problem is named (errors.Join); the error wraps
// ErrInvalidRequest and is marked permanent.
func (r CreateTransactionRequest) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if r.ClientID == "" {
		bad("client_id", "must not be empty")
	}
	if r.TransactionID == "" {
		bad("transaction_id", "must not be empty")
	}
	if v, err := ParseAmount(r.TransAmount); err != nil {
		bad("trans_amount", "%v", err)
	} else if v <= 0 {
		bad("trans_amount", "must be positive")
	}
	if _, err := ParseAmount(r.AdditionFee); err != nil {
		bad("addition_fee", "%v", err)
	}
	if r.Command != CommandPay {
		bad("command", "must be %q", CommandPay)
	}
	if r.Version != Version {
		bad("version", "must be %q", Version)
	}
	if r.CurrencyCode != CurrencyVND {
		bad("currency_code", "must be %q", CurrencyVND)
	}
	if u, err := url.Parse(r.ReturnURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("return_url", "must be an absolute http(s) URL")
	}
	if r.BillInfo.MaHoSo == "" {
		bad("bill_info.MaHoSo", "must not be empty")
	}
	for i, fee := range r.BillInfo.PhiLePhi {
		if fee.SoTien < 0 {
			bad(fmt.Sprintf("bill_info.PhiLePhi[%d].SoTien", i), "must not be negative")
		}
	}
	if len(errs) > 0 {
		return failure.MarkPermanent(fmt.Errorf("validating create-transaction request: %w: %w", ErrInvalidRequest, errors.Join(errs...)))
	}
	return nil
}

// BillInfo is the bill (biên lai) the platform shows and receipts: bill_info of a create
// transaction, and the message of a payable bill look-up. Field names are the platform's,
// taken from OpenCPS's integration. The penalty fields (MaLoaiHinhThuPhat ... TaiKhoanThuNSNN)
// are sent empty for fees, as OpenCPS does. [assumed] The platform accepts codes (MaDichVu,
// LoaiPhiLePhi, MaPhiLePhi) as JSON strings: OpenCPS sends them as strings in one place and as
// numbers in another.
type BillInfo struct {
	// TransactionID, ClientID and MaTraCuuTT appear in bill look-up answers only, as OpenCPS
	// answers them. [assumed]
	TransactionID string `json:"transaction_id,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
	MaTraCuuTT    string `json:"MaTraCuuTT,omitempty"`

	MaDichVu         Text       `json:"MaDichVu,omitempty"` // 2 = fees and charges (OpenCPS)
	MaHoSo           string     `json:"MaHoSo"`
	MaTTHC           string     `json:"MaTTHC"`
	TenTTHC          string     `json:"TenTTHC"`
	MaDVC            string     `json:"MaDVC"`
	TenDVC           string     `json:"TenDVC"`
	MaDonVi          string     `json:"MaDonVi"`
	TenDonVi         string     `json:"TenDonVi"`
	TKThuHuong       string     `json:"TKThuHuong"`    // beneficiary account
	MaNHThuHuong     string     `json:"MaNHThuHuong"`  // beneficiary bank code
	TenTKThuHuong    string     `json:"TenTKThuHuong"` // beneficiary account name
	PhiLePhi         []PhiLePhi `json:"PhiLePhi"`
	NoiDungThanhToan string     `json:"NoiDungThanhToan"`
	HoTenNguoiNop    string     `json:"HoTenNguoiNop"`
	SoCMNDNguoiNop   string     `json:"SoCMNDNguoiNop"`
	DiaChiNguoiNop   string     `json:"DiaChiNguoiNop"`
	HuyenNguoiNop    string     `json:"HuyenNguoiNop"`
	TinhNguoiNop     string     `json:"TinhNguoiNop"`
	MaCoQuanQD       string     `json:"MaCoQuanQD"`
	TenCoQuanQD      string     `json:"TenCoQuanQD"`
	KhoBac           string     `json:"KhoBac"`
	NgayQD           string     `json:"NgayQD"`
	SoQD             string     `json:"SoQD"`

	MaLoaiHinhThuPhat  string `json:"MaLoaiHinhThuPhat"`
	TenLoaiHinhThuPhat string `json:"TenLoaiHinhThuPhat"`
	ThoiGianViPham     string `json:"ThoiGianViPham"`
	DiaDiemViPham      string `json:"DiaDiemViPham"`
	TenNguoiViPham     string `json:"TenNguoiViPham"`
	TaiKhoanThuNSNN    string `json:"TaiKhoanThuNSNN"`

	DSKhoanNop []KhoanNop `json:"DSKhoanNop,omitempty"`
}

// PhiLePhi is one fee or charge line of a bill.
type PhiLePhi struct {
	LoaiPhiLePhi Text   `json:"LoaiPhiLePhi"`
	MaPhiLePhi   Text   `json:"MaPhiLePhi"`
	TenPhiLePhi  string `json:"TenPhiLePhi"`
	// SoTien is whole VND, a JSON number as OpenCPS sends it.
	SoTien int64 `json:"SoTien"`
}

// KhoanNop is one payment item of DSKhoanNop; SoTien is a decimal string of whole VND there.
type KhoanNop struct {
	NoiDung string `json:"NoiDung"`
	SoTien  string `json:"SoTien"`
}

// CreateTransactionReply is the platform's answer to a create transaction.
type CreateTransactionReply struct {
	Error      Text   `json:"error"`
	PaymentURL string `json:"payment_url"`
	Msg        string `json:"msg"`
}

// OK reports whether the platform created the transaction (error == "0").
func (r CreateTransactionReply) OK() bool { return r.Error == CreateOK }

// ConfirmationCallback is the payment confirmation the platform POSTs to the gateway.
// Values are kept as written (Text), because the checksum covers their literal text.
type ConfirmationCallback struct {
	ClientID        Text `json:"client_id,omitempty"`
	TransactionID   Text `json:"transaction_id"`
	TransactionCode Text `json:"transaction_code"` // the platform's own transaction code
	TransAmount     Text `json:"trans_amount"`
	PaymentFee      Text `json:"payment_fee"`
	Command         Text `json:"command"`
	AdditionFee     Text `json:"addition_fee"`
	Version         Text `json:"version"`
	Status          Text `json:"status"`
	CheckSum        Text `json:"check_sum"`
}

// Verify reports whether the callback's check_sum is valid under key 2. clientID is the
// gateway's own client_id: the callback does not necessarily carry it. The amount and
// transaction must still be matched against the stored payment.
func (c ConfirmationCallback) Verify(key2, clientID string) bool {
	return VerifyChecksum(key2, string(c.CheckSum), string(c.AdditionFee), clientID, string(c.Command),
		string(c.TransAmount), string(c.TransactionID), string(c.Version))
}

// Sign sets c.CheckSum under key 2 (the sandbox signs its callbacks with it).
func (c *ConfirmationCallback) Sign(key2, clientID string) {
	c.CheckSum = Text(Checksum(key2, string(c.AdditionFee), clientID, string(c.Command),
		string(c.TransAmount), string(c.TransactionID), string(c.Version)))
}

// Paid reports whether the platform says the citizen paid (status 0).
func (c ConfirmationCallback) Paid() bool { return c.Status == StatusPaid }

// Amount returns trans_amount in whole VND.
func (c ConfirmationCallback) Amount() (int64, error) {
	v, err := ParseAmount(string(c.TransAmount))
	if err != nil {
		return 0, fmt.Errorf("reading trans_amount: %w", err)
	}
	return v, nil
}

// ConfirmationReply is the gateway's answer to the callback.
type ConfirmationReply struct {
	ReturnCode int    `json:"return_code"`
	ReturnMsg  string `json:"return_msg"`
}

// BillLookupRequest is the platform's question: which bill does this dossier have?
type BillLookupRequest struct {
	MaHoSo string `json:"MaHoSo"`
}

// BillLookupReply answers a bill look-up. On the wire, message is the bill object when
// error_code is BillPayable and a text otherwise.
type BillLookupReply struct {
	ErrorCode int
	// Bill is set when ErrorCode is BillPayable.
	Bill *BillInfo
	// Message explains the other codes.
	Message string
}

type billLookupWire struct {
	ErrorCode int `json:"error_code"`
	Message   any `json:"message"`
}

// MarshalJSON writes {"error_code": n, "message": bill-or-text}.
func (r BillLookupReply) MarshalJSON() ([]byte, error) {
	w := billLookupWire{ErrorCode: r.ErrorCode, Message: r.Message}
	if r.Bill != nil {
		w.Message = r.Bill
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads error_code (number or numeric string) and message (object or text).
func (r *BillLookupReply) UnmarshalJSON(b []byte) error {
	var w struct {
		ErrorCode Text            `json:"error_code"`
		Message   json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decoding bill look-up reply: %w", err)
	}
	code, err := strconv.Atoi(string(w.ErrorCode))
	if err != nil {
		return fmt.Errorf("decoding bill look-up reply: error_code %q is not an integer", w.ErrorCode)
	}
	out := BillLookupReply{ErrorCode: code}
	msg := bytes.TrimSpace(w.Message)
	switch {
	case len(msg) == 0 || bytes.Equal(msg, []byte("null")):
	case msg[0] == '{':
		var bill BillInfo
		if err := json.Unmarshal(msg, &bill); err != nil {
			return fmt.Errorf("decoding bill look-up reply message: %w", err)
		}
		out.Bill = &bill
	default:
		var text string
		if err := json.Unmarshal(msg, &text); err != nil {
			return fmt.Errorf("decoding bill look-up reply message: want an object or a string: %w", err)
		}
		out.Message = text
	}
	*r = out
	return nil
}

// LookupCode builds MaTraCuuTT, the payment look-up code: the dossier code followed by the
// yyyyMMddHHmmss stamp of at in Vietnam's time (UTC+7).
func LookupCode(maHoSo string, at time.Time) string {
	return maHoSo + vntime.Format(at)
}
