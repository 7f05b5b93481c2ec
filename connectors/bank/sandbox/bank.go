package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/vietqr"
	"github.com/egov-vn/gateway/internal/faults"
)

// BankAccountConfig is one bank that notifies the gateway of movements on its accounts.
type BankAccountConfig struct {
	// Secret signs the notifications (HMAC-SHA256 over timestamp and body).
	Secret string
	// Accounts are the province's collection accounts at this bank.
	Accounts []vietqr.Account
	// NotifyURL is the gateway's /v1/callbacks/bank/{bank}/transactions for this bank.
	NotifyURL string
}

// Banks is the fake banks. Paths, relative to its mount point:
//
//	POST /{bank}/transfer              a citizen's transfer arrives: the bank notifies the gateway
//	GET  /{bank}/transactions?date=    the day's credits with their notification attempts
//	GET|PUT /faults                    fault settings (duplicate_callbacks notifies twice)
type Banks struct {
	banks  map[string]BankAccountConfig
	faults *faults.Injector
	send   *sender
	now    func() time.Time

	mu   sync.Mutex
	txns map[string][]*BankTransaction // by bank
	seq  int64
}

// BankTransaction is one credit as the sandbox bank holds it.
type BankTransaction struct {
	vietqr.Transaction
	Notifications []Attempt `json:"notification_attempts"`
	at            time.Time
}

// NewBanks builds the bank sandbox.
func NewBanks(banks map[string]BankAccountConfig, retry Retry) *Banks {
	return &Banks{banks: banks, faults: &faults.Injector{}, send: newSender(retry), now: time.Now,
		txns: map[string][]*BankTransaction{}, seq: 25011000000}
}

// Handler serves the sandbox's paths relative to its mount point.
func (b *Banks) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{bank}/transfer", b.transfer)
	mux.HandleFunc("GET /{bank}/transactions", b.list)
	mux.Handle("/faults", b.faults)
	return mux
}

// Faults is the sandbox's fault injector.
func (b *Banks) Faults() *faults.Injector { return b.faults }

// Close stops the notification retries under way.
func (b *Banks) Close() { b.send.close() }

// TransferAction is the body of POST /{bank}/transfer: a scanned QR, or the transfer's fields.
type TransferAction struct {
	QRPayload     string `json:"qr_payload"`
	Reference     string `json:"reference"`
	Amount        int64  `json:"amount"`
	AccountNumber string `json:"account_number"`
	Description   string `json:"description"`
}

// TransferResult is what a transfer answers.
type TransferResult struct {
	Transaction  vietqr.Transaction `json:"transaction"`
	Notification Attempt            `json:"notification"`
}

func (b *Banks) transfer(w http.ResponseWriter, r *http.Request) {
	var a TransferAction
	if !decodeAction(w, r, &a) {
		return
	}
	res, err := b.Transfer(r.PathValue("bank"), a)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// Transfer books a credit on one of the bank's accounts and notifies the gateway.
func (b *Banks) Transfer(bankName string, a TransferAction) (TransferResult, error) {
	cfg, ok := b.banks[bankName]
	if !ok {
		return TransferResult{}, fmt.Errorf("unknown bank %q", bankName)
	}
	t := vietqr.Transaction{AccountNumber: a.AccountNumber, Amount: a.Amount, Direction: vietqr.DirectionCredit, Description: a.Description}
	if a.QRPayload != "" {
		p, err := vietqr.Parse(a.QRPayload)
		if err != nil {
			return TransferResult{}, fmt.Errorf("reading the QR: %w", err)
		}
		i := slices.IndexFunc(cfg.Accounts, func(acc vietqr.Account) bool { return acc.BIN == p.BankBIN && acc.Number == p.AccountNumber })
		if i < 0 {
			return TransferResult{}, fmt.Errorf("the QR names account %s at BIN %s, not an account of %s", p.AccountNumber, p.BankBIN, bankName)
		}
		t.AccountNumber = p.AccountNumber
		if t.Amount == 0 {
			t.Amount = p.Amount
		}
		if t.Description == "" {
			t.Description = strings.Join(slices.DeleteFunc([]string{p.Purpose, p.BillNumber, "chuyen tien"},
				func(s string) bool { return s == "" }), " ")
		}
	}
	if t.AccountNumber == "" && len(cfg.Accounts) > 0 {
		t.AccountNumber = cfg.Accounts[0].Number
	}
	if t.Description == "" && a.Reference != "" {
		t.Description = a.Reference + " chuyen tien"
	}
	if t.Amount <= 0 || t.Description == "" {
		return TransferResult{}, fmt.Errorf("give qr_payload, or amount and reference (or description)")
	}
	now := b.now()
	b.mu.Lock()
	b.seq++
	t.TransactionID = "FT" + strconv.FormatInt(b.seq, 10)
	t.TransactedAt = now.Format(time.RFC3339)
	bt := &BankTransaction{Transaction: t, Notifications: []Attempt{}, at: now}
	b.txns[bankName] = append(b.txns[bankName], bt)
	b.mu.Unlock()

	res := TransferResult{Transaction: t, Notification: b.Notify(bankName, []vietqr.Transaction{t})}
	if b.faults.Get().DuplicateCallbacks {
		b.Notify(bankName, []vietqr.Transaction{t})
	}
	return res, nil
}

// Notify signs and sends a notification of txns, repeating it until the gateway answers 2xx
// or 4xx (a 4xx is a verdict; only a 5xx or no answer is sent again).
func (b *Banks) Notify(bankName string, txns []vietqr.Transaction) Attempt {
	cfg := b.banks[bankName]
	body, _ := json.Marshal(vietqr.Notification{Transactions: txns})
	ts := b.now().Unix()
	req := request{method: http.MethodPost, url: cfg.NotifyURL, body: body, header: http.Header{
		"Content-Type":         {"application/json"},
		vietqr.HeaderTimestamp: {strconv.FormatInt(ts, 10)},
		vietqr.HeaderSignature: {vietqr.SignNotification(cfg.Secret, ts, body)},
	}}
	return b.send.deliver(req, func(status int, _ []byte) bool { return status < 500 }, func(a Attempt) {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, bt := range b.txns[bankName] {
			for _, t := range txns {
				if bt.TransactionID == t.TransactionID {
					bt.Notifications = append(bt.Notifications, a)
				}
			}
		}
	})
}

// Transactions returns a bank's credits booked on day (Vietnam's calendar).
func (b *Banks) Transactions(bankName string, day time.Time) []BankTransaction {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []BankTransaction
	for _, bt := range b.txns[bankName] {
		if sameDay(bt.at, day) {
			c := *bt
			c.Notifications = slices.Clone(bt.Notifications)
			out = append(out, c)
		}
	}
	return out
}

func (b *Banks) list(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("bank")
	if _, ok := b.banks[name]; !ok {
		writeError(w, http.StatusNotFound, "unknown bank")
		return
	}
	day, ok := dayParam(w, r)
	if !ok {
		return
	}
	txns := b.Transactions(name, day)
	if txns == nil {
		txns = []BankTransaction{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": day.Format(time.DateOnly), "transactions": txns})
}
