package vietqr

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/jsonstrict"
)

// The bank account-movement notification: a bank reports movements on the province's
// collection accounts, and credits are matched to VietQR payments on reference and amount.
// Banks' own formats differ and are not public; this is the gateway's format, which a bank
// adapter (or the bank itself) speaks:
//
//	POST /v1/callbacks/bank/{bank}/transactions
//	X-Timestamp: <unix seconds>
//	X-Signature: <lowercase hex HMAC-SHA256(secret, X-Timestamp + "." + raw body)>
//	{"transactions":[{"transaction_id","account_number","amount","direction","description","transacted_at"}]}
//
// The timestamp is inside the signature, so a captured notification cannot be replayed with a
// fresh timestamp, and one older than the window is refused. Inside the window, the handler's
// Nonces remember every notification received (by its signature) with its answer: the same
// notification again never reaches the state machine. It is answered as the duplicate it is (the
// recorded answer, with "applied" become "already_settled", so a bank that resends an answered
// notification stops), or 409 while the first delivery is still being processed.

// Header names of the notification.
const (
	HeaderTimestamp = "X-Timestamp"
	HeaderSignature = "X-Signature"
)

// Sentinel errors of VerifyNotification.
var (
	ErrStaleTimestamp = errors.New("timestamp outside the accepted window")
)

// Notification is the body.
type Notification struct {
	Transactions []Transaction `json:"transactions"`
}

// Transaction is one account movement.
type Transaction struct {
	TransactionID string `json:"transaction_id"`
	AccountNumber string `json:"account_number"`
	// Amount is whole VND.
	Amount    int64  `json:"amount"`
	Direction string `json:"direction"` // "credit" or "debit"
	// Description is the transfer's free text, as the payer's bank passed it on: it carries the
	// payment reference (and may carry the payer's name: never log it).
	Description  string `json:"description"`
	TransactedAt string `json:"transacted_at,omitempty"` // RFC 3339
}

// Directions.
const (
	DirectionCredit = "credit"
	DirectionDebit  = "debit"
)

// SignNotification returns the X-Signature of body sent at ts.
func SignNotification(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyNotification checks the signature (constant time) and then the timestamp's freshness.
// An empty secret never verifies.
func VerifyNotification(secret, tsHeader, sigHeader string, body []byte, now time.Time, window time.Duration) error {
	if secret == "" {
		return bank.ErrInvalidSignature
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil || len(tsHeader) > 12 {
		return bank.ErrInvalidSignature
	}
	got, err := hex.DecodeString(sigHeader)
	if err != nil || len(got) != sha256.Size {
		return bank.ErrInvalidSignature
	}
	want, _ := hex.DecodeString(SignNotification(secret, ts, body))
	if !hmac.Equal(got, want) {
		return bank.ErrInvalidSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return ErrStaleTimestamp
	}
	return nil
}

// BankConfig is one bank that notifies the gateway.
type BankConfig struct {
	// Secret signs its notifications.
	Secret string
	// OldSecrets are accepted too, during a rotation: the bank may sign with the old secret
	// until it switches to the new one.
	OldSecrets []string
	// Accounts are the collection accounts at this bank whose movements it reports.
	Accounts []Account
}

// maxNotificationBody bounds one notification.
const maxNotificationBody = 256 << 10

// maxTransactions bounds the movements of one notification.
const maxTransactions = 500

// NotificationHandler serves POST /v1/callbacks/bank/{bank}/transactions. It answers 404 for a
// bank it does not know, 401 when the signature does not verify or the timestamp is outside
// Window, 400 for a body that is not a notification, 413 for one over 256 KiB, 503 when the
// store cannot be reached (the bank sends again; settling is idempotent), and otherwise 200 with
// one result per movement: "applied", "already_settled", "ignored" (a debit) or "unmatched" with
// the reason (unknown account or reference, amount differs, payment final).
type NotificationHandler struct {
	Banks    map[string]BankConfig
	Settler  bank.Settler
	Observer bank.Observer
	Window   time.Duration
	// Nonces, when set, remember the notifications received and their answers: the same
	// notification (the same signature) again is answered from the memory (see above).
	Nonces Nonces
	Now    func() time.Time
	Log    *slog.Logger
}

// Nonces is a memory of received notifications shared by every replica (internal/replay).
type Nonces interface {
	// Claim records id in scope for ttl and reports whether it is new; when it is not, it
	// returns what Remember recorded for it (nothing while the first delivery is processed).
	Claim(ctx context.Context, scope, id string, ttl time.Duration) (first bool, answer []byte, err error)
	// Remember records the answer given to id, for its repeats.
	Remember(ctx context.Context, scope, id string, answer []byte) error
	// Release forgets id, so a retry of a notification that could not be processed is accepted.
	Release(ctx context.Context, scope, id string) error
}

// verify checks the notification against the bank's secrets, the current one first.
func (cfg BankConfig) verify(tsHeader, sigHeader string, body []byte, now time.Time, window time.Duration) error {
	err := VerifyNotification(cfg.Secret, tsHeader, sigHeader, body, now, window)
	for _, old := range cfg.OldSecrets {
		if err == nil || errors.Is(err, ErrStaleTimestamp) {
			break
		}
		err = VerifyNotification(old, tsHeader, sigHeader, body, now, window)
	}
	return err
}

// TransactionResult is the verdict on one movement.
type TransactionResult struct {
	TransactionID string `json:"transaction_id"`
	Result        string `json:"result"`
	Reason        string `json:"reason,omitempty"`
	Reference     string `json:"reference,omitempty"`
}

// Ack is the 200 answer.
type Ack struct {
	Status   string              `json:"status"`
	Received int                 `json:"received"`
	Results  []TransactionResult `json:"results"`
}

func (h *NotificationHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("bank")
	cfg, ok := h.Banks[name]
	if !ok {
		h.reject(w, r, http.StatusNotFound, bank.ReasonUnknownBank, "Bank not found")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxNotificationBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.reject(w, r, http.StatusRequestEntityTooLarge, bank.ReasonMalformed, "The body is too large")
			return
		}
		h.reject(w, r, http.StatusBadRequest, bank.ReasonMalformed, "The body could not be read")
		return
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if err := cfg.verify(r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, now(), h.Window); err != nil {
		reason := bank.ReasonBadSignature
		if errors.Is(err, ErrStaleTimestamp) {
			reason = bank.ReasonStaleTimestamp
		}
		h.reject(w, r, http.StatusUnauthorized, reason, "A valid signature and a current timestamp are required")
		return
	}
	if err := jsonstrict.Check(body, 8); err != nil && !errors.Is(err, jsonstrict.ErrSyntax) {
		h.reject(w, r, http.StatusBadRequest, bank.ReasonMalformed, "The body repeats a key or nests too deeply")
		return
	}
	var n Notification
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	// One document only: anything after it (even a second object) makes the body malformed.
	if err := dec.Decode(&n); err != nil || dec.Decode(new(json.RawMessage)) != io.EOF || len(n.Transactions) == 0 || len(n.Transactions) > maxTransactions {
		h.reject(w, r, http.StatusBadRequest, bank.ReasonMalformed, "The body is not a notification with 1 to 500 transactions")
		return
	}
	// The signature verified, so it is the notification's identity (lower-case hex, whatever case
	// was sent). Only verified notifications are remembered: forgeries cannot fill the memory.
	scope, nonce := "bank:"+name, strings.ToLower(r.Header.Get(HeaderSignature))
	if h.Nonces != nil {
		first, previous, err := h.Nonces.Claim(r.Context(), scope, nonce, 2*h.Window)
		if err != nil {
			h.reject(w, r, http.StatusServiceUnavailable, bank.ReasonUnavailable, "The store is unavailable; send the notification again")
			return
		}
		if !first {
			h.repeat(w, r, previous)
			return
		}
	}
	ack := Ack{Status: "ok", Received: len(n.Transactions), Results: make([]TransactionResult, 0, len(n.Transactions))}
	for _, t := range n.Transactions {
		res, err := h.settle(r, name, cfg, t)
		if err != nil {
			if h.Nonces != nil {
				// The bank sends it again: that retry is not a replay. Settling is idempotent, so
				// the movements already applied are answered "already_settled" then.
				_ = h.Nonces.Release(context.WithoutCancel(r.Context()), scope, nonce)
			}
			h.reject(w, r, http.StatusServiceUnavailable, bank.ReasonUnavailable, "The store is unavailable; send the notification again")
			return
		}
		ack.Results = append(ack.Results, res)
	}
	if h.Nonces != nil {
		if b, err := json.Marshal(ack); err == nil {
			// Best effort: without it a repeat is answered 409 rather than from the record.
			_ = h.Nonces.Remember(context.WithoutCancel(r.Context()), scope, nonce, b)
		}
	}
	writeAck(w, ack)
}

func writeAck(w http.ResponseWriter, ack Ack) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(ack)
}

// repeat answers a notification received before, without settling anything: from the recorded
// answer, where the movements the first delivery applied are now "already_settled", or 409 while
// the first delivery has no answer yet.
func (h *NotificationHandler) repeat(w http.ResponseWriter, r *http.Request, previous []byte) {
	var ack Ack
	if len(previous) == 0 || json.Unmarshal(previous, &ack) != nil {
		h.reject(w, r, http.StatusConflict, bank.ReasonReplayed, "This notification is being processed; nothing was changed")
		return
	}
	// Counted per movement, as a first delivery is: what it applied is now already settled, the
	// rest is a replay.
	for i, res := range ack.Results {
		if res.Result == bank.Applied.String() || res.Result == bank.AlreadySettled.String() {
			ack.Results[i].Result = bank.AlreadySettled.String()
			h.Observer.CallbackAccepted(bank.EndpointBankTransactions, bank.AlreadySettled)
		} else {
			h.Observer.CallbackRejected(bank.EndpointBankTransactions, bank.ReasonReplayed)
		}
	}
	writeAck(w, ack)
}

func (h *NotificationHandler) settle(r *http.Request, bankName string, cfg BankConfig, t Transaction) (TransactionResult, error) {
	out := TransactionResult{TransactionID: t.TransactionID}
	unmatched := func(reason string) (TransactionResult, error) {
		h.Observer.CallbackRejected(bank.EndpointBankTransactions, reason)
		if h.Log != nil {
			h.Log.Warn("bank movement not matched", "partner", bankName, "reason", reason, "reference", out.Reference)
		}
		out.Result, out.Reason = "unmatched", reason
		return out, nil
	}
	if t.TransactionID == "" || len(t.TransactionID) > 64 || t.Amount <= 0 || (t.Direction != DirectionCredit && t.Direction != DirectionDebit) {
		return unmatched(bank.ReasonMalformed)
	}
	if t.Direction == DirectionDebit {
		out.Result = "ignored"
		return out, nil
	}
	i := slices.IndexFunc(cfg.Accounts, func(a Account) bool { return a.Number == t.AccountNumber })
	if i < 0 {
		return unmatched(bank.ReasonUnknownAccount)
	}
	account := cfg.Accounts[i]
	paidAt, _ := time.Parse(time.RFC3339, t.TransactedAt)
	refs := References(t.Description)
	if len(refs) == 0 {
		return unmatched(bank.ReasonUnknownReference)
	}
	verdict := bank.NotFound
	for _, ref := range refs {
		res, err := h.Settler.Settle(r.Context(), bank.Settlement{
			Provider: bank.ProviderVietQR, Reference: ref, Outcome: bank.OutcomePaid, Amount: t.Amount,
			ProviderTransactionID: t.TransactionID, Account: account.Key(), PaidAt: paidAt,
			Reason: "bank " + bankName + " credit " + safeText(t.TransactionID),
		})
		if err != nil {
			return out, fmt.Errorf("settling bank movement: %w", err)
		}
		if res != bank.NotFound {
			verdict, out.Reference = res, ref
			break
		}
	}
	switch verdict {
	case bank.Applied, bank.AlreadySettled:
		h.Observer.CallbackAccepted(bank.EndpointBankTransactions, verdict)
		out.Result = verdict.String()
		return out, nil
	}
	return unmatched(bank.ReasonFor(verdict))
}

func (h *NotificationHandler) reject(w http.ResponseWriter, r *http.Request, status int, reason, title string) {
	h.Observer.CallbackRejected(bank.EndpointBankTransactions, reason)
	if h.Log != nil {
		name := r.PathValue("bank")
		if _, known := h.Banks[name]; !known {
			name = "(unknown)"
		}
		h.Log.Warn("bank notification refused", "partner", name, "reason", reason, "status", status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "https://egov-gateway.invalid/problems/" + strings.ReplaceAll(reason, "_", "-"), "title": title,
		"status": status, "instance": r.URL.Path,
	})
}

// ReferenceLen is the length of a payment reference (see internal/payments): references are
// ReferenceLen upper-case letters and digits starting with a letter, so they survive banks'
// rewriting of transfer descriptions (upper-casing, dropping punctuation).
const ReferenceLen = 10

// maxCandidates bounds how many references one description is searched for.
const maxCandidates = 16

// References returns the candidate payment references a transfer description may carry,
// upper-cased: first the words of exactly ReferenceLen letters and digits that start with a
// letter (as every reference does), then such windows inside longer words, since banks may glue
// the reference to the words around it. Only a stored reference matches a candidate.
func References(description string) []string {
	words := strings.FieldsFunc(strings.ToUpper(description), func(r rune) bool {
		return !('A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	})
	var out []string
	seen := map[string]bool{}
	add := func(c string) bool {
		if c[0] < 'A' || seen[c] {
			return false
		}
		seen[c] = true
		out = append(out, c)
		return len(out) == maxCandidates
	}
	for _, w := range words {
		if len(w) == ReferenceLen && add(w) {
			return out
		}
	}
	for _, w := range words {
		for i := 0; len(w) > ReferenceLen && i+ReferenceLen <= len(w); i++ {
			if add(w[i : i+ReferenceLen]) {
				return out
			}
		}
	}
	return out
}

func safeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && i < 64; i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
