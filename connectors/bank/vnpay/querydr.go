package vnpay

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/egov-vn/gateway/internal/failure"
)

// CommandQueryDR is vnp_Command of the transaction status query, sent as a JSON POST to
// VNPay's merchant_webapi/api/transaction endpoint.
const CommandQueryDR = "querydr"

// vnp_ResponseCode values of a querydr answer (not to be confused with the payment's own
// vnp_TransactionStatus inside it).
const (
	QueryCodeSuccess         = "00"
	QueryCodeInvalidMerchant = "02"
	QueryCodeInvalidFormat   = "03"
	QueryCodeNotFound        = "91"
	QueryCodeDuplicate       = "94"
	QueryCodeInvalidChecksum = "97"
	QueryCodeOther           = "99"
)

const maxRequestIDLen = 32

// ErrInvalidQuery is wrapped by every validation error of NewQueryDRRequest.
var ErrInvalidQuery = errors.New("invalid VNPay querydr request")

// QueryDR is what the gateway knows when it asks VNPay for the state of a payment whose IPN
// never arrived.
type QueryDR struct {
	// RequestID identifies this query, unique per day: 1 to 32 letters or digits.
	RequestID string
	TmnCode   string
	// TxnRef is the vnp_TxnRef of the payment being queried.
	TxnRef string
	// OrderInfo describes the query (printable ASCII, no '|').
	OrderInfo string
	// TransactionNo is VNPay's transaction number, when known; it is sent but not signed.
	TransactionNo string
	// TransactionDate is the vnp_CreateDate of the payment being queried.
	TransactionDate time.Time
	// CreateDate is when this query is made.
	CreateDate time.Time
	// IPAddr is the IP address of the server sending the query.
	IPAddr string
}

// QueryDRRequest is the querydr JSON body, in VNPay's field names.
type QueryDRRequest struct {
	RequestID       string `json:"vnp_RequestId"`
	Version         string `json:"vnp_Version"`
	Command         string `json:"vnp_Command"`
	TmnCode         string `json:"vnp_TmnCode"`
	TxnRef          string `json:"vnp_TxnRef"`
	OrderInfo       string `json:"vnp_OrderInfo"`
	TransactionNo   string `json:"vnp_TransactionNo,omitempty"`
	TransactionDate string `json:"vnp_TransactionDate"`
	CreateDate      string `json:"vnp_CreateDate"`
	IPAddr          string `json:"vnp_IpAddr"`
	SecureHash      string `json:"vnp_SecureHash"`
}

// NewQueryDRRequest validates q and returns the signed request body. Validation failures name
// every bad field, wrap ErrInvalidQuery and are marked permanent.
func NewQueryDRRequest(secret string, q QueryDR) (QueryDRRequest, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if secret == "" {
		bad("secret", "must not be empty")
	}
	if q.RequestID == "" || len(q.RequestID) > maxRequestIDLen || !isAlnum(q.RequestID) {
		bad("RequestID", "must be 1 to %d letters or digits", maxRequestIDLen)
	}
	if len(q.TmnCode) != tmnCodeLen || !isAlnum(q.TmnCode) {
		bad("TmnCode", "must be %d letters or digits", tmnCodeLen)
	}
	if q.TxnRef == "" || len(q.TxnRef) > maxTxnRefLen || !isRefChars(q.TxnRef) {
		bad("TxnRef", "must be 1 to %d letters, digits, '-', '_' or '.'", maxTxnRefLen)
	}
	if q.OrderInfo == "" || len(q.OrderInfo) > maxOrderInfoLen || !isPrintableASCII(q.OrderInfo) || strings.Contains(q.OrderInfo, "|") {
		bad("OrderInfo", "must be 1 to %d printable ASCII characters without '|'", maxOrderInfoLen)
	}
	if q.TransactionNo != "" && (len(q.TransactionNo) > 15 || !allDigits(q.TransactionNo)) {
		bad("TransactionNo", "must be empty or up to 15 digits")
	}
	if reason := checkTime(q.TransactionDate); reason != "" {
		bad("TransactionDate", "%s", reason)
	}
	if reason := checkTime(q.CreateDate); reason != "" {
		bad("CreateDate", "%s", reason)
	}
	if _, err := parseIP(q.IPAddr); err != nil {
		bad("IPAddr", "%v", err)
	}
	if len(errs) > 0 {
		return QueryDRRequest{}, failure.MarkPermanent(fmt.Errorf("building querydr request: %w: %w", ErrInvalidQuery, errors.Join(errs...)))
	}
	r := QueryDRRequest{
		RequestID:       q.RequestID,
		Version:         Version,
		Command:         CommandQueryDR,
		TmnCode:         q.TmnCode,
		TxnRef:          q.TxnRef,
		OrderInfo:       q.OrderInfo,
		TransactionNo:   q.TransactionNo,
		TransactionDate: FormatTime(q.TransactionDate),
		CreateDate:      FormatTime(q.CreateDate),
		IPAddr:          q.IPAddr,
	}
	r.SecureHash = hex.EncodeToString(mac(secret, []byte(r.SignedData()), nil))
	return r, nil
}

// SignedData is the string querydr signs, raw values joined with '|' (no URL-encoding):
// vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TxnRef|vnp_TransactionDate|
// vnp_CreateDate|vnp_IpAddr|vnp_OrderInfo, as on VNPay's querydr documentation page and in
// the vnpay npm library (cross-checked in tests). [assumed] until run against VNPay's sandbox.
func (r QueryDRRequest) SignedData() string {
	return strings.Join([]string{
		r.RequestID, r.Version, r.Command, r.TmnCode, r.TxnRef,
		r.TransactionDate, r.CreateDate, r.IPAddr, r.OrderInfo,
	}, "|")
}

// Verify reports whether r carries a valid vnp_SecureHash for secret (the sandbox checks the
// gateway's queries with it).
func (r QueryDRRequest) Verify(secret string) bool {
	return verifyHex(secret, r.SignedData(), r.SecureHash)
}

// QueryDRResponse is VNPay's querydr answer. VNPay documents every value as a string
// (vnp_Amount included, VND × 100). [assumed] VNPay never sends them as JSON numbers.
type QueryDRResponse struct {
	ResponseID        string `json:"vnp_ResponseId"`
	Command           string `json:"vnp_Command"`
	ResponseCode      string `json:"vnp_ResponseCode"`
	Message           string `json:"vnp_Message"`
	TmnCode           string `json:"vnp_TmnCode"`
	TxnRef            string `json:"vnp_TxnRef"`
	Amount            string `json:"vnp_Amount"`
	OrderInfo         string `json:"vnp_OrderInfo"`
	BankCode          string `json:"vnp_BankCode"`
	PayDate           string `json:"vnp_PayDate"`
	TransactionNo     string `json:"vnp_TransactionNo"`
	TransactionType   string `json:"vnp_TransactionType"`
	TransactionStatus string `json:"vnp_TransactionStatus"`
	PromotionCode     string `json:"vnp_PromotionCode,omitempty"`
	PromotionAmount   string `json:"vnp_PromotionAmount,omitempty"`
	SecureHash        string `json:"vnp_SecureHash"`
}

// SignedData is the string VNPay signs in a querydr answer:
// vnp_ResponseId|vnp_Command|vnp_ResponseCode|vnp_Message|vnp_TmnCode|vnp_TxnRef|vnp_Amount|
// vnp_BankCode|vnp_PayDate|vnp_TransactionNo|vnp_TransactionType|vnp_TransactionStatus|
// vnp_OrderInfo|vnp_PromotionCode|vnp_PromotionAmount, absent values empty.
// [assumed] from VNPay's documentation page and the vnpay npm library, not yet checked against
// a live answer.
func (r QueryDRResponse) SignedData() string {
	return strings.Join([]string{
		r.ResponseID, r.Command, r.ResponseCode, r.Message, r.TmnCode, r.TxnRef, r.Amount,
		r.BankCode, r.PayDate, r.TransactionNo, r.TransactionType, r.TransactionStatus,
		r.OrderInfo, r.PromotionCode, r.PromotionAmount,
	}, "|")
}

// Sign sets r.SecureHash (the sandbox answers queries with it).
func (r *QueryDRResponse) Sign(secret string) {
	r.SecureHash = hex.EncodeToString(mac(secret, []byte(r.SignedData()), nil))
}

// Verify reports whether r carries a valid vnp_SecureHash for secret, in constant time.
func (r QueryDRResponse) Verify(secret string) bool {
	return verifyHex(secret, r.SignedData(), r.SecureHash)
}

// Found reports whether VNPay answered the query itself successfully (the transaction exists).
func (r QueryDRResponse) Found() bool { return r.ResponseCode == QueryCodeSuccess }

// Paid reports whether the queried payment succeeded.
func (r QueryDRResponse) Paid() bool {
	return r.Found() && r.TransactionStatus == ResponseCodeSuccess
}

// AmountVND returns vnp_Amount in whole VND, with the same checks as ParseIPN.
func (r QueryDRResponse) AmountVND() (int64, error) {
	amount, err := parseWireAmount(r.Amount)
	if err != nil {
		return 0, fmt.Errorf("reading querydr vnp_Amount: %w", err)
	}
	return amount, nil
}

func verifyHex(secret, data, gotHex string) bool {
	if secret == "" {
		return false
	}
	got, err := hex.DecodeString(gotHex)
	if err != nil || len(got) != sha512.Size {
		return false
	}
	return hmac.Equal(got, mac(secret, []byte(data), nil))
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
