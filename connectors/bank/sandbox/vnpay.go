package sandbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/internal/vntime"
)

// VNPayConfig is the merchant terminal the VNPay sandbox serves.
type VNPayConfig struct {
	TmnCode string
	Secret  string
	// IPNURL is the merchant's IPN URL, registered with VNPay (not part of the payment URL).
	IPNURL string
	Retry  Retry
}

// VNPay is the fake VNPay 2.1.0. Paths, relative to its mount point:
//
//	GET  /paymentv2/vpcpay.html          the payment page: checks the signed URL, opens the payment
//	POST /pay                            the citizen pays (or gives up): VNPay sends the IPN
//	POST /merchant_webapi/api/transaction querydr (signed request, signed answer)
//	GET  /transactions?date=yyyy-mm-dd   the day's transactions with their IPN attempts
//	GET|PUT /faults                      fault settings (the page and querydr misbehave)
type VNPay struct {
	cfg    VNPayConfig
	faults *faults.Injector
	send   *sender

	mu   sync.Mutex
	txns map[string]*VNPayTransaction
	// planted are transactions a test put in the day's list without a payment behind them.
	planted []*VNPayTransaction
	seq     int64
}

// VNPayTransaction is one payment as the sandbox holds it.
type VNPayTransaction struct {
	TxnRef            string    `json:"vnp_TxnRef"`
	Amount            int64     `json:"amount"`
	OrderInfo         string    `json:"vnp_OrderInfo"`
	CreateDate        string    `json:"vnp_CreateDate"`
	ExpireDate        string    `json:"vnp_ExpireDate"`
	Status            string    `json:"status"` // opened, paid, failed
	TransactionNo     string    `json:"vnp_TransactionNo,omitempty"`
	ResponseCode      string    `json:"vnp_ResponseCode,omitempty"`
	TransactionStatus string    `json:"vnp_TransactionStatus,omitempty"`
	BankCode          string    `json:"vnp_BankCode,omitempty"`
	PayDate           string    `json:"vnp_PayDate,omitempty"`
	PaidAt            time.Time `json:"-"`
	IPNs              []Attempt `json:"ipn_attempts"`
}

// NewVNPay builds the VNPay sandbox.
func NewVNPay(cfg VNPayConfig) *VNPay {
	return &VNPay{cfg: cfg, faults: &faults.Injector{}, send: newSender(cfg.Retry), txns: map[string]*VNPayTransaction{}, seq: 14226100}
}

// Handler serves the sandbox's paths relative to its mount point.
func (v *VNPay) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /paymentv2/vpcpay.html", v.faults.Wrap(http.HandlerFunc(v.page)))
	mux.HandleFunc("POST /pay", payHandler(v.Pay))
	mux.Handle("POST /merchant_webapi/api/transaction", v.faults.Wrap(http.HandlerFunc(v.queryDR)))
	mux.HandleFunc("GET /transactions", v.list)
	mux.Handle("/faults", v.faults)
	return mux
}

// Faults is the sandbox's fault injector.
func (v *VNPay) Faults() *faults.Injector { return v.faults }

// Close stops the IPN retries under way.
func (v *VNPay) Close() { v.send.close() }

// open checks a signed payment URL as VNPay's page does and records the payment.
func (v *VNPay) open(raw string) (*VNPayTransaction, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL")
	}
	q := u.Query()
	if !vnpay.Verify(v.cfg.Secret, q) {
		return nil, fmt.Errorf("invalid signature (code 97)")
	}
	if q.Get("vnp_TmnCode") != v.cfg.TmnCode || q.Get("vnp_Version") != vnpay.Version || q.Get("vnp_Command") != vnpay.CommandPay {
		return nil, fmt.Errorf("unknown terminal, version or command")
	}
	wire, err := strconv.ParseInt(q.Get("vnp_Amount"), 10, 64)
	if err != nil || wire <= 0 || wire%100 != 0 {
		return nil, fmt.Errorf("invalid vnp_Amount")
	}
	if exp, err := vnpay.ParseTime(q.Get("vnp_ExpireDate")); err != nil || time.Now().After(exp) {
		return nil, fmt.Errorf("payment expired (code 24)")
	}
	ref := q.Get("vnp_TxnRef")
	v.mu.Lock()
	defer v.mu.Unlock()
	if t, ok := v.txns[ref]; ok {
		if t.Amount != wire/100 {
			return nil, fmt.Errorf("vnp_TxnRef already used with another amount (code 94)")
		}
		return t, nil
	}
	t := &VNPayTransaction{TxnRef: ref, Amount: wire / 100, OrderInfo: q.Get("vnp_OrderInfo"),
		CreateDate: q.Get("vnp_CreateDate"), ExpireDate: q.Get("vnp_ExpireDate"), Status: "opened", IPNs: []Attempt{}}
	v.txns[ref] = t
	return t, nil
}

func (v *VNPay) page(w http.ResponseWriter, r *http.Request) {
	t, err := v.open(r.URL.String())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "awaiting_payment", "vnp_TxnRef": t.TxnRef, "amount": t.Amount,
		"vnp_OrderInfo": t.OrderInfo, "pay": "POST /sandbox/vnpay/pay {\"reference\":\"" + t.TxnRef + "\",\"outcome\":\"success\"}"})
}

// PayAction is the body of POST /pay (also PayGov's).
type PayAction struct {
	Reference  string `json:"reference"`
	PaymentURL string `json:"payment_url"`
	Outcome    string `json:"outcome"`
}

func (a PayAction) check() error {
	if (a.Reference == "") == (a.PaymentURL == "") {
		return fmt.Errorf("give exactly one of reference and payment_url")
	}
	if a.Outcome != "success" && a.Outcome != "failed" {
		return fmt.Errorf(`outcome must be "success" or "failed"`)
	}
	return nil
}

// PayResult is what a citizen action answers: the transaction and the first callback attempt.
type PayResult struct {
	Reference     string  `json:"reference"`
	TransactionNo string  `json:"transaction_no"`
	Outcome       string  `json:"outcome"`
	Callback      Attempt `json:"callback"`
}

// Pay completes a payment as the citizen would and sends the IPN.
func (v *VNPay) Pay(a PayAction) (PayResult, error) {
	var t *VNPayTransaction
	if a.PaymentURL != "" {
		var err error
		if t, err = v.open(a.PaymentURL); err != nil {
			return PayResult{}, err
		}
	}
	v.mu.Lock()
	if t == nil {
		t = v.txns[a.Reference]
	}
	if t == nil {
		v.mu.Unlock()
		return PayResult{}, fmt.Errorf("no payment %q was opened here: give its payment_url", a.Reference)
	}
	if t.Status != "opened" {
		v.mu.Unlock()
		return PayResult{}, fmt.Errorf("payment %s is already %s", t.TxnRef, t.Status)
	}
	v.seq++
	now := time.Now()
	t.TransactionNo, t.BankCode, t.PayDate, t.PaidAt = strconv.FormatInt(v.seq, 10), "NCB", vnpay.FormatTime(now), now
	if a.Outcome == "success" {
		t.Status, t.ResponseCode, t.TransactionStatus = "paid", "00", "00"
	} else {
		t.Status, t.ResponseCode, t.TransactionStatus = "failed", "24", "02"
	}
	ipn := vnpay.IPN{TmnCode: v.cfg.TmnCode, Amount: t.Amount, BankCode: t.BankCode, CardType: "ATM", OrderInfo: t.OrderInfo,
		PayDate: now, ResponseCode: t.ResponseCode, TransactionNo: t.TransactionNo, TransactionStatus: t.TransactionStatus, TxnRef: t.TxnRef}
	if t.Status == "paid" {
		ipn.BankTranNo = "VNP" + t.TransactionNo
	}
	res := PayResult{Reference: t.TxnRef, TransactionNo: t.TransactionNo, Outcome: t.Status}
	v.mu.Unlock()

	res.Callback = v.SendIPN(ipn)
	if v.faults.Get().DuplicateCallbacks {
		v.SendIPN(ipn)
	}
	return res, nil
}

// SendIPN signs n and sends it to the IPN URL, as VNPay does, repeating it until VNPay's rules
// say the merchant answered: a JSON RspCode other than 99.
func (v *VNPay) SendIPN(n vnpay.IPN) Attempt {
	params := n.Params()
	query := vnpay.SignedData(params) + "&" + vnpay.ParamSecureHash + "=" + vnpay.Sign(v.cfg.Secret, params)
	req := request{method: http.MethodGet, url: v.cfg.IPNURL + "?" + query}
	return v.send.deliver(req, func(status int, body []byte) bool {
		var rep vnpay.IPNReply
		return status == http.StatusOK && json.Unmarshal(body, &rep) == nil && rep.RspCode != "" && rep.RspCode != vnpay.RspUnknownError
	}, func(a Attempt) {
		v.mu.Lock()
		defer v.mu.Unlock()
		if t := v.txns[n.TxnRef]; t != nil {
			t.IPNs = append(t.IPNs, a)
		}
	})
}

func (v *VNPay) queryDR(w http.ResponseWriter, r *http.Request) {
	var q vnpay.QueryDRRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&q); err != nil {
		writeJSON(w, http.StatusOK, vnpay.QueryDRResponse{ResponseCode: vnpay.QueryCodeInvalidFormat, Message: "Invalid format"})
		return
	}
	ans := vnpay.QueryDRResponse{ResponseID: q.RequestID, Command: vnpay.CommandQueryDR, TmnCode: q.TmnCode, TxnRef: q.TxnRef}
	switch {
	case !q.Verify(v.cfg.Secret):
		ans.ResponseCode, ans.Message = vnpay.QueryCodeInvalidChecksum, "Invalid Checksum"
	case q.TmnCode != v.cfg.TmnCode:
		ans.ResponseCode, ans.Message = vnpay.QueryCodeInvalidMerchant, "Merchant is not valid"
	default:
		v.mu.Lock()
		t := v.txns[q.TxnRef]
		if t == nil || t.Status == "opened" {
			ans.ResponseCode, ans.Message = vnpay.QueryCodeNotFound, "Transaction not found"
		} else {
			ans.ResponseCode, ans.Message = vnpay.QueryCodeSuccess, "QueryDR Success"
			ans.Amount, ans.OrderInfo, ans.BankCode = strconv.FormatInt(t.Amount*100, 10), t.OrderInfo, t.BankCode
			ans.PayDate, ans.TransactionNo, ans.TransactionType, ans.TransactionStatus = t.PayDate, t.TransactionNo, "01", t.TransactionStatus
		}
		v.mu.Unlock()
	}
	ans.Sign(v.cfg.Secret)
	writeJSON(w, http.StatusOK, ans)
}

// Transactions returns the transactions paid or failed on day (Vietnam's calendar), in
// reference order.
func (v *VNPay) Transactions(day time.Time) []VNPayTransaction {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []VNPayTransaction
	for _, t := range slices.Concat(slices.Collect(maps.Values(v.txns)), v.planted) {
		if t.Status != "opened" && sameDay(t.PaidAt, day) {
			c := *t
			c.IPNs = slices.Clone(t.IPNs)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b VNPayTransaction) int { return strings.Compare(a.TxnRef, b.TxnRef) })
	return out
}

// Plant adds t to the lists of the day of t.PaidAt as it is, beside any transaction of the same
// reference: for tests of reconciliation (a payment unknown to the gateway, a reference paid
// twice). No IPN is sent.
func (v *VNPay) Plant(t VNPayTransaction) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if t.TransactionNo == "" {
		v.seq++
		t.TransactionNo = strconv.FormatInt(v.seq, 10)
	}
	if t.PayDate == "" {
		t.PayDate = vnpay.FormatTime(t.PaidAt)
	}
	v.planted = append(v.planted, &t)
}

// Amend changes the transaction of a reference in place, without telling the gateway: for tests
// of reconciliation (an amount that differs, a payment VNPay says it never completed). It
// reports whether the reference was opened here.
func (v *VNPay) Amend(ref string, change func(*VNPayTransaction)) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.txns[ref]
	if ok {
		change(t)
	}
	return ok
}

// Transaction returns one transaction by reference.
func (v *VNPay) Transaction(ref string) (VNPayTransaction, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.txns[ref]
	if !ok {
		return VNPayTransaction{}, false
	}
	c := *t
	c.IPNs = slices.Clone(t.IPNs)
	return c, true
}

func (v *VNPay) list(w http.ResponseWriter, r *http.Request) {
	day, ok := dayParam(w, r)
	if !ok {
		return
	}
	txns := v.Transactions(day)
	if txns == nil {
		txns = []VNPayTransaction{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": day.Format(time.DateOnly), "transactions": txns})
}

// dayParam reads ?date=yyyy-mm-dd (today in Vietnam when absent).
func dayParam(w http.ResponseWriter, r *http.Request) (time.Time, bool) {
	s := r.URL.Query().Get("date")
	if s == "" {
		return time.Now().In(vntime.Zone), true
	}
	d, err := time.ParseInLocation(time.DateOnly, s, vntime.Zone)
	if err != nil {
		writeError(w, http.StatusBadRequest, "date must be yyyy-mm-dd")
		return time.Time{}, false
	}
	return d, true
}

func sameDay(t, day time.Time) bool {
	a, b := t.In(vntime.Zone), day.In(vntime.Zone)
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// payHandler serves POST /pay, the citizen's action, for a sandbox whose Pay completes it.
func payHandler(pay func(PayAction) (PayResult, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var a PayAction
		if !decodeAction(w, r, &a) {
			return
		}
		if err := a.check(); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		res, err := pay(a)
		if err != nil {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}
