package vnpay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

// OpQueryDR is the operation name of the status query, as reported to partnerhttp (metrics,
// breaker).
const OpQueryDR = "querydr"

// OpTransactions is the operation name of the list of a day's transactions (reconciliation).
const OpTransactions = "transactions"

// Transaction statuses (vnp_TransactionStatus) of a querydr answer that settle a payment.
const (
	txnStatusPaid   = "00"
	txnStatusFailed = "02"
)

// Config is one merchant terminal at VNPay.
type Config struct {
	// TmnCode and Secret are the terminal's code and HMAC-SHA512 secret (a secret).
	TmnCode string
	Secret  string
	// OldSecrets verify querydr answers too during a change of secret; Secret alone signs.
	OldSecrets []string
	// PayURL is VNPay's payment page (…/paymentv2/vpcpay.html). The querydr endpoint
	// (…/merchant_webapi/api/transaction) is the partner HTTP client's base URL.
	PayURL string
	// OrderType is vnp_OrderType ("billpayment" for fees); Locale vnp_Locale ("vn" or "en").
	OrderType string
	Locale    string
	// ReturnURL is where VNPay sends the citizen back when the payment request names none.
	ReturnURL string
	// ServerIP is sent as vnp_IpAddr when the citizen's address is unknown and with every
	// querydr.
	ServerIP string
	// TransactionsURL is the merchant's list of a day's transactions (absolute URL), read by
	// reconciliation; empty when the terminal has none.
	TransactionsURL string
}

func (c *Config) setDefaults() {
	if c.OrderType == "" {
		c.OrderType = "billpayment"
	}
	if c.Locale == "" {
		c.Locale = LocaleVN
	}
	if c.ServerIP == "" {
		c.ServerIP = "127.0.0.1"
	}
}

// Validate reports every problem of the settings at once; it never echoes the secret.
func (c Config) Validate() error {
	var errs []error
	if len(c.TmnCode) != tmnCodeLen || !isAlnum(c.TmnCode) {
		errs = append(errs, fmt.Errorf("vnpay: tmn code must be %d letters or digits", tmnCodeLen))
	}
	if c.Secret == "" {
		errs = append(errs, errors.New("vnpay: secret is empty"))
	}
	if c.PayURL == "" {
		errs = append(errs, errors.New("vnpay: payment page URL is empty"))
	}
	if reason := checkReturnURL(c.ReturnURL); reason != "" {
		errs = append(errs, fmt.Errorf("vnpay: return URL %s", reason))
	}
	if _, err := parseIP(c.ServerIP); err != nil {
		errs = append(errs, fmt.Errorf("vnpay: server IP %w", err))
	}
	return errors.Join(errs...)
}

// Client is the VNPay dialect: it signs payment URLs and asks VNPay (querydr) about payments
// whose IPN never came. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *partnerhttp.Client
	now  func() time.Time
}

var _ bank.Provider = (*Client)(nil)

// New builds the dialect; querydr calls go through c.
func New(cfg Config, c *partnerhttp.Client) (*Client, error) {
	cfg.setDefaults()
	err := cfg.Validate()
	if c == nil {
		err = errors.Join(err, errors.New("vnpay: partner HTTP client is nil"))
	}
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, http: c, now: time.Now}, nil
}

// Name implements bank.Provider.
func (c *Client) Name() string { return bank.ProviderVNPay }

// Create implements bank.Provider: the signed payment URL, built locally (no call to VNPay).
// vnp_TxnRef is the payment reference, vnp_ExpireDate the payment's expiry.
func (c *Client) Create(_ context.Context, p bank.Payment) (bank.Instructions, error) {
	returnURL := p.ReturnURL
	if returnURL == "" {
		returnURL = c.cfg.ReturnURL
	}
	ip := p.ClientIP
	if _, err := parseIP(ip); err != nil {
		ip = c.cfg.ServerIP
	}
	info := p.Description
	if strings.TrimSpace(info) == "" {
		info = "Thanh toan le phi ho so " + p.DossierCode
	}
	u, err := PaymentURL(c.cfg.PayURL, PaymentRequest{
		TmnCode: c.cfg.TmnCode, Amount: p.Amount, TxnRef: p.Reference, OrderInfo: info,
		OrderType: c.cfg.OrderType, Locale: c.cfg.Locale, ReturnURL: returnURL, IPAddr: ip,
		CreateDate: p.CreatedAt, ExpireDate: p.ExpiresAt,
	}, c.cfg.Secret)
	if err != nil {
		return bank.Instructions{}, fmt.Errorf("creating vnpay payment %s: %w: %w", p.Reference, bank.ErrRejected, err)
	}
	return bank.Instructions{PaymentURL: u, ExpiresAt: p.ExpiresAt}, nil
}

// Query implements bank.Provider with querydr. The answer's signature is checked; a payment
// VNPay does not know is bank.ErrNotFound.
func (c *Client) Query(ctx context.Context, q bank.Query) (bank.Status, error) {
	req, err := NewQueryDRRequest(c.cfg.Secret, QueryDR{
		RequestID: requestID(c.now()), TmnCode: c.cfg.TmnCode, TxnRef: q.Reference,
		OrderInfo: "Truy van giao dich " + q.Reference, TransactionNo: digitsOnly(q.ProviderTransactionID),
		TransactionDate: q.CreatedAt, CreateDate: c.now(), IPAddr: c.cfg.ServerIP,
	})
	if err != nil {
		return bank.Status{}, fmt.Errorf("querying vnpay payment %s: %w", q.Reference, err)
	}
	resp, err := c.http.Do(ctx, OpQueryDR, func(r *resty.Request) (*resty.Response, error) {
		return r.SetHeader("Content-Type", "application/json").SetBody(req).Post("")
	})
	if err != nil {
		return bank.Status{}, fmt.Errorf("querying vnpay payment %s: %w", q.Reference, err)
	}
	var ans QueryDRResponse
	if err := json.Unmarshal(resp.Body(), &ans); err != nil {
		return bank.Status{}, fmt.Errorf("decoding vnpay querydr answer for %s: %w", q.Reference, errMalformedAnswer)
	}
	switch ans.ResponseCode {
	case QueryCodeSuccess:
	case QueryCodeNotFound:
		return bank.Status{}, fmt.Errorf("querying vnpay payment %s: %w", q.Reference, bank.ErrNotFound)
	default:
		// 94 (a repeated request id), 99 and any other code: ask again on the next round.
		return bank.Status{}, fmt.Errorf("querying vnpay payment %s: %w", q.Reference,
			&failure.ProtocolError{Partner: c.http.Partner(), Operation: OpQueryDR, Code: ans.ResponseCode, Retryable: true})
	}
	if !ans.Verify(c.cfg.Secret) && !slices.ContainsFunc(c.cfg.OldSecrets, ans.Verify) {
		return bank.Status{}, fmt.Errorf("querying vnpay payment %s: answer: %w", q.Reference, bank.ErrInvalidSignature)
	}
	if ans.TxnRef != q.Reference || ans.TmnCode != c.cfg.TmnCode {
		return bank.Status{}, fmt.Errorf("querying vnpay payment %s: the answer is about another payment: %w", q.Reference, errMalformedAnswer)
	}
	st := bank.Status{Outcome: bank.OutcomePending, ProviderTransactionID: ans.TransactionNo,
		Code: "vnp_TransactionStatus " + ans.TransactionStatus}
	switch ans.TransactionStatus {
	case txnStatusPaid:
		st.Outcome = bank.OutcomePaid
	case txnStatusFailed:
		st.Outcome = bank.OutcomeFailed
	}
	if st.Outcome != bank.OutcomePending {
		amount, err := ans.AmountVND()
		if err != nil {
			return bank.Status{}, fmt.Errorf("querying vnpay payment %s: %w", q.Reference, err)
		}
		st.Amount = amount
	}
	if t, err := ParseTime(ans.PayDate); err == nil {
		st.PaidAt = t
	}
	return st, nil
}

// errMalformedAnswer is transient: VNPay answering garbage is an outage, not a verdict.
var errMalformedAnswer = errors.New("malformed vnpay answer")

// requestID makes a querydr vnp_RequestId, unique per day: the time and 8 random hex digits.
func requestID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "Q" + FormatTime(now) + strings.ToUpper(hex.EncodeToString(b))
}

func digitsOnly(s string) string {
	if len(s) > 15 || !allDigits(s) {
		return ""
	}
	return s
}
