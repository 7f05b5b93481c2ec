package vnpay

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/egov-vn/gateway/internal/failure"
)

// Sentinel errors of ParseIPN; every error it returns wraps ErrInvalidIPN, and amount
// problems also wrap ErrInvalidAmount (the handler answers RspInvalidAmount for those).
var (
	ErrInvalidIPN    = errors.New("invalid VNPay IPN")
	ErrInvalidAmount = errors.New("invalid amount")
)

// ResponseCodeSuccess is the vnp_ResponseCode and vnp_TransactionStatus of a paid transaction.
const ResponseCodeSuccess = "00"

// maxIPNValueLen bounds every IPN value: VNPay's longest field (vnp_OrderInfo) is 255.
const maxIPNValueLen = 255

// IPN is the payment result VNPay sends to the merchant's IPN URL (HTTP GET, query
// parameters). Parse it with ParseIPN only after Verify accepted the parameters.
type IPN struct {
	TmnCode string // vnp_TmnCode
	// Amount is vnp_Amount / 100, in whole VND.
	Amount     int64
	BankCode   string // vnp_BankCode
	BankTranNo string // vnp_BankTranNo, absent when the payment failed
	CardType   string // vnp_CardType: ATM, QRCODE, ...
	OrderInfo  string // vnp_OrderInfo, as the merchant sent it
	// PayDate is vnp_PayDate, a GMT+7 instant; zero when VNPay left it out.
	PayDate           time.Time
	ResponseCode      string // vnp_ResponseCode
	TransactionNo     string // vnp_TransactionNo, VNPay's own transaction number
	TransactionStatus string // vnp_TransactionStatus
	TxnRef            string // vnp_TxnRef, the merchant's reference
	SecureHash        string // vnp_SecureHash, kept for the audit trail
}

// Paid reports whether VNPay says the citizen paid: vnp_ResponseCode and
// vnp_TransactionStatus are both "00". Anything else is a failed payment.
func (n IPN) Paid() bool {
	return n.ResponseCode == ResponseCodeSuccess && n.TransactionStatus == ResponseCodeSuccess
}

// Params writes n back as VNPay's query parameters, without vnp_SecureHash: the sandbox signs
// them with Sign and sends them as VNPay would. Empty fields are left out, as VNPay does.
func (n IPN) Params() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("vnp_TmnCode", n.TmnCode)
	if n.Amount != 0 {
		v.Set("vnp_Amount", strconv.FormatInt(n.Amount*100, 10))
	}
	set("vnp_BankCode", n.BankCode)
	set("vnp_BankTranNo", n.BankTranNo)
	set("vnp_CardType", n.CardType)
	set("vnp_OrderInfo", n.OrderInfo)
	if !n.PayDate.IsZero() {
		v.Set("vnp_PayDate", FormatTime(n.PayDate))
	}
	set("vnp_ResponseCode", n.ResponseCode)
	set("vnp_TransactionNo", n.TransactionNo)
	set("vnp_TransactionStatus", n.TransactionStatus)
	set("vnp_TxnRef", n.TxnRef)
	return v
}

// ParseIPN reads the IPN query parameters into an IPN. It checks structure only (the
// signature is Verify's job, and must be checked first): required fields present, no vnp_*
// parameter repeated, codes of two digits, vnp_PayDate a GMT+7 yyyyMMddHHmmss, and vnp_Amount
// a positive decimal of at most 12 digits that is a whole number of VND (divisible by 100).
// Every problem is reported at once; the error wraps ErrInvalidIPN and is marked permanent.
func ParseIPN(params url.Values) (IPN, error) {
	var errs []error
	bad := func(field string, err error) {
		errs = append(errs, fmt.Errorf("%s: %w", field, err))
	}
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if strings.HasPrefix(k, ParamPrefix) && len(v) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		bad(k, fmt.Errorf("given %d times", len(params[k])))
	}
	get := func(k string, required bool) string {
		v := params.Get(k)
		switch {
		case v == "" && required:
			bad(k, errors.New("missing"))
		case len(v) > maxIPNValueLen:
			bad(k, fmt.Errorf("longer than %d bytes", maxIPNValueLen))
			return ""
		}
		return v
	}

	n := IPN{
		TmnCode:           get("vnp_TmnCode", true),
		BankCode:          get("vnp_BankCode", false),
		BankTranNo:        get("vnp_BankTranNo", false),
		CardType:          get("vnp_CardType", false),
		OrderInfo:         get("vnp_OrderInfo", false),
		ResponseCode:      get("vnp_ResponseCode", true),
		TransactionNo:     get("vnp_TransactionNo", false),
		TransactionStatus: get("vnp_TransactionStatus", true),
		TxnRef:            get("vnp_TxnRef", true),
		SecureHash:        get(ParamSecureHash, false),
	}
	if raw := get("vnp_Amount", true); raw != "" {
		amount, err := parseWireAmount(raw)
		if err != nil {
			bad("vnp_Amount", err)
		}
		n.Amount = amount
	}
	for _, c := range []struct{ field, code string }{
		{"vnp_ResponseCode", n.ResponseCode},
		{"vnp_TransactionStatus", n.TransactionStatus},
	} {
		if c.code != "" && (len(c.code) != 2 || !allDigits(c.code)) {
			bad(c.field, fmt.Errorf("want two digits, got %q", c.code))
		}
	}
	if raw := get("vnp_PayDate", false); raw != "" {
		t, err := ParseTime(raw)
		if err != nil {
			bad("vnp_PayDate", err)
		}
		n.PayDate = t
	}
	if len(errs) > 0 {
		return IPN{}, failure.MarkPermanent(fmt.Errorf("parsing IPN: %w: %w", ErrInvalidIPN, errors.Join(errs...)))
	}
	return n, nil
}

// parseWireAmount turns a wire vnp_Amount (VND × 100) into whole VND.
func parseWireAmount(raw string) (int64, error) {
	if !allDigits(raw) {
		return 0, fmt.Errorf("%w: %q is not a non-negative decimal integer", ErrInvalidAmount, raw)
	}
	if len(raw) > 12 {
		return 0, fmt.Errorf("%w: %q has more than 12 digits", ErrInvalidAmount, raw)
	}
	wire, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidAmount, err)
	}
	if wire == 0 {
		return 0, fmt.Errorf("%w: zero", ErrInvalidAmount)
	}
	if wire%100 != 0 {
		return 0, fmt.Errorf("%w: %q is not a whole number of VND (not divisible by 100)", ErrInvalidAmount, raw)
	}
	return wire / 100, nil
}

// IPN reply codes (RspCode) from VNPay's IPN documentation, in the order the handler checks:
// checksum (97), order exists (01), amount (04), not yet confirmed (02), then 00; 99 for
// anything unexpected.
const (
	RspConfirmed        = "00"
	RspOrderNotFound    = "01"
	RspAlreadyConfirmed = "02"
	RspInvalidAmount    = "04"
	RspInvalidChecksum  = "97"
	RspUnknownError     = "99"
)

// IPNReply is the JSON body the IPN handler answers with (HTTP 200).
type IPNReply struct {
	RspCode string `json:"RspCode"`
	Message string `json:"Message"`
}

var replyMessages = map[string]string{
	RspConfirmed:        "Confirm Success",
	RspOrderNotFound:    "Order not found",
	RspAlreadyConfirmed: "Order already confirmed",
	RspInvalidAmount:    "Invalid amount",
	RspInvalidChecksum:  "Invalid signature",
	RspUnknownError:     "Unknown error",
}

// Reply returns the reply for code with the message VNPay's reference code uses. An unknown
// code becomes RspUnknownError, so the handler can never answer something VNPay cannot read.
func Reply(code string) IPNReply {
	msg, ok := replyMessages[code]
	if !ok {
		return IPNReply{RspCode: RspUnknownError, Message: replyMessages[RspUnknownError]}
	}
	return IPNReply{RspCode: code, Message: msg}
}
