package vnpay

import (
	"errors"
	"fmt"
	"github.com/egov-vn/gateway/internal/vntime"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/egov-vn/gateway/internal/failure"
)

// Fixed values of the payment URL in API version 2.1.0.
const (
	Version     = "2.1.0"
	CommandPay  = "pay"
	CurrencyVND = "VND"
	LocaleVN    = "vn"
	LocaleEN    = "en"
)

// MaxAmount is the largest payment in whole VND: vnp_Amount is Numeric[1,12] on the wire and
// carries VND × 100.
const MaxAmount int64 = 9_999_999_999

// Field limits from VNPay's parameter table (2.1.0).
const (
	tmnCodeLen      = 8
	maxTxnRefLen    = 100
	maxOrderInfoLen = 255
	maxOrderTypeLen = 100
	minReturnURLLen = 10
	maxReturnURLLen = 255
	maxIPAddrLen    = 45
	minBankCodeLen  = 3
	maxBankCodeLen  = 20
)

// ErrInvalidPaymentRequest is wrapped by every validation error of PaymentURL.
var ErrInvalidPaymentRequest = errors.New("invalid VNPay payment request")

// FieldError names one field that failed validation and why. PaymentURL and NewQueryDR
// join one per bad field (errors.Join), so a caller can report them all at once; find them
// with errors.As on each joined error.
type FieldError struct {
	// Field is the Go field name of the request struct (TxnRef, Amount, ...).
	Field string
	// Reason says what is wrong, in words fit for an API client.
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// PaymentRequest is what the gateway knows about one payment when it sends the citizen to
// VNPay (vnp_Command=pay).
type PaymentRequest struct {
	// TmnCode is the merchant's terminal code (vnp_TmnCode), 8 letters or digits.
	TmnCode string
	// Amount is the fee in whole VND; the wire value is Amount × 100.
	Amount int64
	// TxnRef is the merchant's reference (vnp_TxnRef), unique per day: letters, digits, '-',
	// '_' and '.', at most 100.
	TxnRef string
	// OrderInfo is the description shown to the citizen (vnp_OrderInfo). Diacritics are
	// stripped and the text cleaned to printable ASCII (see PaymentURL).
	OrderInfo string
	// OrderType is VNPay's goods category code (vnp_OrderType), e.g. "other" or "billpayment".
	OrderType string
	// Locale is the language of VNPay's pages: LocaleVN or LocaleEN.
	Locale string
	// ReturnURL is where VNPay sends the citizen's browser back (vnp_ReturnUrl).
	ReturnURL string
	// IPAddr is the citizen's IP address (vnp_IpAddr).
	IPAddr string
	// CreateDate is when the payment was created; ExpireDate when VNPay stops accepting it.
	CreateDate time.Time
	ExpireDate time.Time
	// BankCode optionally preselects a bank or method (vnp_BankCode, e.g. "NCB", "VNPAYQR").
	BankCode string
}

// PaymentURL validates p and returns the signed payment URL: base (VNPay's vpcpay.html
// address) with every vnp_* parameter form-encoded in the signed order, followed by
// vnp_SecureHash.
//
// VNPay's own reference encoders (PHP, Java, .NET) disagree on how to escape the characters
// * ~ ! ' ( ), so a signature over them depends on which one VNPay's server uses. They are
// kept out of the URL: vnp_OrderInfo is cleaned (diacritics stripped, those characters and
// runs of white space turned into one space, invisible control and format characters
// dropped; any other character outside printable ASCII is refused, as VNPay asks for order
// information without special characters), and a ReturnURL containing them is refused.
//
// A validation failure names every bad field, wraps ErrInvalidPaymentRequest and is marked
// permanent: retrying cannot fix the input.
func PaymentURL(base string, p PaymentRequest, secret string) (string, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}

	baseURL, err := url.Parse(base)
	switch {
	case err != nil:
		bad("base", "not a URL: %v", err)
	case baseURL.Scheme != "https" && baseURL.Scheme != "http", baseURL.Host == "":
		bad("base", "must be an absolute http(s) URL")
	case baseURL.RawQuery != "" || baseURL.ForceQuery || baseURL.Fragment != "":
		bad("base", "must carry no query or fragment")
	}
	if secret == "" {
		bad("secret", "must not be empty")
	}
	if len(p.TmnCode) != tmnCodeLen || !isAlnum(p.TmnCode) {
		bad("TmnCode", "must be %d letters or digits", tmnCodeLen)
	}
	switch {
	case p.Amount <= 0:
		bad("Amount", "must be positive, got %d", p.Amount)
	case p.Amount > MaxAmount:
		bad("Amount", "must be at most %d VND, got %d", MaxAmount, p.Amount)
	}
	if p.TxnRef == "" || len(p.TxnRef) > maxTxnRefLen || !isRefChars(p.TxnRef) {
		bad("TxnRef", "must be 1 to %d letters, digits, '-', '_' or '.'", maxTxnRefLen)
	}
	orderInfo, err := cleanOrderInfo(p.OrderInfo)
	if err != nil {
		bad("OrderInfo", "%v", err)
	}
	if p.OrderType == "" || len(p.OrderType) > maxOrderTypeLen || !isCodeChars(p.OrderType) {
		bad("OrderType", "must be 1 to %d letters, digits or '_'", maxOrderTypeLen)
	}
	if p.Locale != LocaleVN && p.Locale != LocaleEN {
		bad("Locale", "must be %q or %q, got %q", LocaleVN, LocaleEN, p.Locale)
	}
	if reason := checkReturnURL(p.ReturnURL); reason != "" {
		bad("ReturnURL", "%s", reason)
	}
	if _, err := parseIP(p.IPAddr); err != nil {
		bad("IPAddr", "%v", err)
	}
	if reason := checkTime(p.CreateDate); reason != "" {
		bad("CreateDate", "%s", reason)
	}
	if reason := checkTime(p.ExpireDate); reason != "" {
		bad("ExpireDate", "%s", reason)
	} else if !p.CreateDate.IsZero() && !p.ExpireDate.After(p.CreateDate) {
		bad("ExpireDate", "must be after CreateDate")
	}
	if p.BankCode != "" && (len(p.BankCode) < minBankCodeLen || len(p.BankCode) > maxBankCodeLen || !isAlnum(p.BankCode)) {
		bad("BankCode", "must be empty or %d to %d letters or digits", minBankCodeLen, maxBankCodeLen)
	}
	if len(errs) > 0 {
		return "", failure.MarkPermanent(fmt.Errorf("building payment URL: %w: %w", ErrInvalidPaymentRequest, errors.Join(errs...)))
	}

	params := url.Values{
		"vnp_Version":    {Version},
		"vnp_Command":    {CommandPay},
		"vnp_TmnCode":    {p.TmnCode},
		"vnp_Amount":     {strconv.FormatInt(p.Amount*100, 10)},
		"vnp_CurrCode":   {CurrencyVND},
		"vnp_TxnRef":     {p.TxnRef},
		"vnp_OrderInfo":  {orderInfo},
		"vnp_OrderType":  {p.OrderType},
		"vnp_Locale":     {p.Locale},
		"vnp_ReturnUrl":  {p.ReturnURL},
		"vnp_IpAddr":     {p.IPAddr},
		"vnp_CreateDate": {FormatTime(p.CreateDate)},
		"vnp_ExpireDate": {FormatTime(p.ExpireDate)},
	}
	if p.BankCode != "" {
		params.Set("vnp_BankCode", p.BankCode)
	}
	// Every parameter is non-empty and vnp_*, so the signed string is also the whole query.
	query := SignedData(params)
	return base + "?" + query + "&" + ParamSecureHash + "=" + Sign(secret, params), nil
}

// divergentChars are escaped differently by PHP urlencode (%2A, %7E, %21, %27, %28, %29),
// Java URLEncoder and WHATWG URLSearchParams (which keep '*') and .NET WebUtility.UrlEncode
// (which keeps * ! ( )): a signature over them depends on which encoder VNPay's server uses.
const divergentChars = "*~!'()"

func cleanOrderInfo(s string) (string, error) {
	s = StripDiacritics(s)
	var b strings.Builder
	var outside []rune
	pendingSpace := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || strings.ContainsRune(divergentChars, r):
			pendingSpace = true
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		case r > '~':
			if len(outside) < 5 {
				outside = append(outside, r)
			}
			continue
		}
		if pendingSpace && b.Len() > 0 {
			b.WriteByte(' ')
		}
		pendingSpace = false
		b.WriteRune(r)
	}
	out := b.String()
	switch {
	case len(outside) > 0:
		return "", fmt.Errorf("contains characters outside printable ASCII after removing diacritics: %q", string(outside))
	case out == "":
		return "", errors.New("must not be empty")
	case len(out) > maxOrderInfoLen:
		return "", fmt.Errorf("must be at most %d characters, got %d", maxOrderInfoLen, len(out))
	}
	return out, nil
}

func checkReturnURL(s string) string {
	if len(s) < minReturnURLLen || len(s) > maxReturnURLLen {
		return fmt.Sprintf("must be %d to %d characters", minReturnURLLen, maxReturnURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "must be an absolute http(s) URL"
	}
	if strings.ContainsAny(s, divergentChars) {
		return "must not contain any of * ~ ! ' ( ): VNPay's reference encoders escape them differently"
	}
	return ""
}

func parseIP(s string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" || len(s) > maxIPAddrLen {
		return netip.Addr{}, fmt.Errorf("must be an IPv4 or IPv6 address without zone, got %q", s)
	}
	return addr, nil
}

func checkTime(t time.Time) string {
	if t.IsZero() {
		return "must be set"
	}
	if y := t.In(vntime.Zone).Year(); y < 2000 || y > 9999 {
		return fmt.Sprintf("year %d is out of range", y)
	}
	return ""
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func isCodeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i:i+1]) && s[i] != '_' {
			return false
		}
	}
	return true
}

// isRefChars accepts the characters that every form encoder leaves untouched, so a reference
// reads the same in the signed string, the URL and VNPay's records.
func isRefChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return false
		}
	}
	return true
}
