// Package payments is the fee payment state machine: payment intents (POST /v1/payments), their
// states and history, and the one atomic step that applies a provider's verdict.
//
// States: pending → paid | failed | expired | cancelled. Only pending changes, and only once:
// the machine is monotonic. Every change is one Lua script (scripts.go) that checks the verdict
// against the payment (the payment exists for this provider and account, the amount is the same
// to the dong, the payment is still pending), changes the state, appends to the history and
// writes the event to the outbox stream ({payment.settled}) that routing turns into the
// one-stop notification and the portal step. So a crash before the script changes nothing (the
// provider calls again), a crash after it has done everything (the repeat is answered "already
// settled"), and the event can neither be lost nor written twice.
//
// Payments without a callback are looked at again (sweeper.go): the provider is asked (VNPay
// querydr, PayGov detail) on a schedule, and a payment still unpaid after its expiry (and a
// grace period) expires, each outcome through the same step.
//
// Money is whole VND (int64). The payer's personal data is kept in the payment (the payment
// platform's bill needs it) but never logged, never in metric labels or errors, and never in the
// API's answers.
package payments

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/vntime"
)

// Config tunes the state machine.
type Config struct {
	// Topic is the outbox topic; its stream shares the payments' hash tag.
	Topic string
	// TTL is how long each provider's payments can be paid; DefaultTTL for the others.
	TTL        map[string]time.Duration
	DefaultTTL time.Duration
	// QueryAfter is how long after creation a payment without callback is first asked about;
	// QueryInterval the pause between questions; ExpireGrace how long after expiry a late
	// payment is still waited for before the payment expires.
	QueryAfter    time.Duration
	QueryInterval time.Duration
	ExpireGrace   time.Duration
	// SweepInterval is how often due payments are looked at; ClaimLease how long a replica
	// holds one it is looking at.
	SweepInterval time.Duration
	ClaimLease    time.Duration
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration
	// FirstAnswerWait is how long a repeat of a request still being created waits for the
	// first one's answer.
	FirstAnswerWait time.Duration
}

func (c *Config) setDefaults() {
	if c.DefaultTTL == 0 {
		c.DefaultTTL = 15 * time.Minute
	}
	if c.QueryAfter == 0 {
		c.QueryAfter = 10 * time.Minute
	}
	if c.QueryInterval == 0 {
		c.QueryInterval = 5 * time.Minute
	}
	if c.ExpireGrace == 0 {
		c.ExpireGrace = 5 * time.Minute
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = 5 * time.Second
	}
	if c.ClaimLease == 0 {
		c.ClaimLease = time.Minute
	}
	if c.IdempotencyTTL == 0 {
		c.IdempotencyTTL = 7 * 24 * time.Hour
	}
	if c.FirstAnswerWait == 0 {
		c.FirstAnswerWait = 2 * time.Second
	}
}

// Sentinel errors.
var (
	// ErrIdempotencyConflict: the Idempotency-Key was used before with another body.
	ErrIdempotencyConflict = errors.New("idempotency key used with another request")
	// ErrInProgress: the first request with this key is still being answered.
	ErrInProgress = errors.New("the first request with this idempotency key is still in progress")
	// ErrNotFound: no such payment (for this client).
	ErrNotFound = errors.New("payment not found")
)

// Service is the state machine on the store.
type Service struct {
	cfg       Config
	store     *store.Store
	keys      keys
	providers map[string]bank.Provider
	metrics   *observability.PaymentMetrics
	log       *slog.Logger
	now       func() time.Time
	// transitionTail is the transition script's KEYS after the payment and its history: the
	// outbox, the due set and every provider's pending index.
	transitionTail []string
}

var (
	_ bank.Settler = (*Service)(nil)
	_ bank.Bills   = (*Service)(nil)
)

// New builds the state machine over the configured providers (by name).
func New(cfg Config, s *store.Store, providers map[string]bank.Provider, m *observability.PaymentMetrics, log *slog.Logger) (*Service, error) {
	cfg.setDefaults()
	if cfg.Topic == "" {
		return nil, errors.New("payments: outbox topic is empty")
	}
	for name, p := range providers {
		if p == nil || p.Name() != name || !slices.Contains(bank.Providers, name) {
			return nil, fmt.Errorf("payments: provider %q is misconfigured", name)
		}
	}
	k := newKeys(s.Keys.Prefix, cfg.Topic)
	return &Service{cfg: cfg, store: s, keys: k, providers: providers, metrics: m, log: log, now: time.Now,
		transitionTail: append([]string{k.outbox(), k.due()}, k.pendingAll()...)}, nil
}

// Enabled reports whether a provider is configured.
func (s *Service) Enabled(provider string) bool { _, ok := s.providers[provider]; return ok }

// OutboxStream is the stream key the transitions' events go to.
func (s *Service) OutboxStream() string { return s.keys.outbox() }

// Created is the answer to a payment request (api.md PaymentCreated).
type Created struct {
	PaymentID  string     `json:"payment_id"`
	Status     bank.State `json:"status"`
	Provider   string     `json:"provider"`
	Amount     int64      `json:"amount"`
	Reference  string     `json:"reference"`
	PaymentURL string     `json:"payment_url,omitempty"`
	QRPayload  string     `json:"qr_payload,omitempty"`
	ExpiresAt  string     `json:"expires_at"`
}

// Transition is one entry of a payment's history.
type Transition struct {
	At     string     `json:"at"`
	From   bank.State `json:"from"`
	To     bank.State `json:"to"`
	Reason string     `json:"reason,omitempty"`
}

// View is a payment as GET /v1/payments/{id} shows it (api.md PaymentStatus), without the
// payer's personal data.
type View struct {
	PaymentID             string       `json:"payment_id"`
	DossierCode           string       `json:"dossier_code"`
	ProcedureCode         string       `json:"procedure_code"`
	AgencyCode            string       `json:"agency_code"`
	Provider              string       `json:"provider"`
	Amount                int64        `json:"amount"`
	Status                bank.State   `json:"status"`
	Reference             string       `json:"reference"`
	ProviderTransactionID string       `json:"provider_transaction_id,omitempty"`
	PaidAt                string       `json:"paid_at,omitempty"`
	CreatedAt             string       `json:"created_at"`
	ExpiresAt             string       `json:"expires_at,omitempty"`
	PaymentURL            string       `json:"payment_url,omitempty"`
	QRPayload             string       `json:"qr_payload,omitempty"`
	History               []Transition `json:"history"`

	client     string
	feeLines   []bank.FeeLine
	payer      bank.Payer
	desc       string
	returnURL  string
	createdAt  time.Time
	expiresAt  time.Time
	account    string
	clientIP   string
	instructed bool
}

// Outcome of Create.
type Outcome int

// Create outcomes.
const (
	OutcomeCreated Outcome = iota
	OutcomeReplayed
)

// Create stores a payment intent under the client's Idempotency-Key and asks the provider what
// the citizen must do. The same key with the same request answers the first answer again; with
// another request, ErrIdempotencyConflict. The intent is stored before the provider is asked,
// so a provider failure leaves a pending intent that a repeat of the request completes (and
// that otherwise expires through the sweeper).
func (s *Service) Create(ctx context.Context, client, key string, req Request, clientIP string) (Created, Outcome, error) {
	provider, ok := s.providers[req.Provider]
	if !ok {
		return Created{}, 0, fmt.Errorf("creating payment: provider %q is not configured", req.Provider)
	}
	now := s.now()
	ttl := s.cfg.DefaultTTL
	if d, ok := s.cfg.TTL[req.Provider]; ok && d > 0 {
		ttl = d
	}
	expires := now.Add(ttl)
	firstLook := expires.Add(s.cfg.ExpireGrace)
	if req.Provider != bank.ProviderVietQR {
		firstLook = minTime(now.Add(s.cfg.QueryAfter), firstLook)
	}
	feeLines, _ := json.Marshal(req.FeeLines)
	payer, _ := json.Marshal(req.Payer)
	hash := req.Hash()
	idem := s.keys.idempotency(client, key)
	var ref string
	for attempt := 0; ; attempt++ {
		ref = NewReference()
		id := "pay_" + watermill.NewULID()
		created := stamp(now)
		entry, _ := json.Marshal(Transition{At: created, From: "", To: bank.StatePending, Reason: "created"})
		args := []any{int64(s.cfg.IdempotencyTTL / time.Second), hash, firstLook.UnixMilli(), string(entry), ref, now.UnixMilli(),
			"payment_id", id, "reference", ref, "client", client, "dossier_code", req.DossierCode,
			"procedure_code", req.ProcedureCode, "agency_code", req.AgencyCode, "provider", req.Provider,
			"amount", strconv.FormatInt(req.Amount, 10), "fee_lines", string(feeLines), "payer", string(payer),
			"description", req.Description, "return_url", req.ReturnURL, "client_ip", clientIP,
			"status", string(bank.StatePending), "created_at", created, "expires_at", stamp(expires),
			"created_ms", strconv.FormatInt(now.UnixMilli(), 10), "expires_ms", strconv.FormatInt(expires.UnixMilli(), 10),
			"request_hash", hash,
		}
		res, err := createIntent.Run(ctx, s.store.Client, []string{idem, s.keys.payment(ref), s.keys.history(ref),
			s.keys.id(id), s.keys.dossier(req.DossierCode), s.keys.due(), s.keys.pending(req.Provider)}, args...).StringSlice()
		if err != nil {
			return Created{}, 0, fmt.Errorf("storing payment intent: %w", err)
		}
		switch res[0] {
		case "created":
			s.log.Info("payment intent stored", "payment_id", id, "partner", req.Provider, "dossier_code", req.DossierCode)
			c, err := s.instruct(ctx, provider, ref)
			return c, OutcomeCreated, err
		case "exists":
			if len(res) < 3 || res[2] != hash {
				return Created{}, 0, ErrIdempotencyConflict
			}
			c, err := s.replay(ctx, provider, res[1])
			return c, OutcomeReplayed, err
		}
		if attempt == 3 {
			return Created{}, 0, errors.New("storing payment intent: no free reference after 4 draws")
		}
	}
}

// replay answers a repeated request: the stored answer, waiting briefly for a first request
// still in progress, and asking the provider again when an earlier attempt failed.
func (s *Service) replay(ctx context.Context, provider bank.Provider, ref string) (Created, error) {
	deadline := s.now().Add(s.cfg.FirstAnswerWait)
	for {
		v, err := s.load(ctx, ref)
		if err != nil {
			return Created{}, err
		}
		if v.instructed {
			return created(v), nil
		}
		if s.now().After(deadline) {
			return s.instruct(ctx, provider, ref)
		}
		select {
		case <-ctx.Done():
			return Created{}, fmt.Errorf("waiting for the first answer: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// instruct asks the provider what the citizen must do and records it.
func (s *Service) instruct(ctx context.Context, provider bank.Provider, ref string) (Created, error) {
	v, err := s.load(ctx, ref)
	if err != nil {
		return Created{}, err
	}
	ins, err := provider.Create(ctx, bank.Payment{
		ID: v.PaymentID, Reference: v.Reference, DossierCode: v.DossierCode, ProcedureCode: v.ProcedureCode,
		AgencyCode: v.AgencyCode, Amount: v.Amount, FeeLines: v.feeLines, Payer: v.payer, Description: v.desc,
		ReturnURL: v.returnURL, ClientIP: v.clientIP, CreatedAt: v.createdAt, ExpiresAt: v.expiresAt,
	})
	if err != nil {
		return Created{}, fmt.Errorf("asking %s for payment %s: %w", provider.Name(), v.PaymentID, err)
	}
	fields := []any{"instructed_at", stamp(s.now()), "payment_url", ins.PaymentURL, "qr_payload", ins.QRPayload,
		"provider_ref", ins.ProviderRef, "account", ins.Account}
	if _, err := recordInstructions.Run(ctx, s.store.Client, []string{s.keys.payment(ref)}, fields...).Int(); err != nil {
		return Created{}, fmt.Errorf("recording payment instructions: %w", err)
	}
	v, err = s.load(ctx, ref)
	if err != nil {
		return Created{}, err
	}
	return created(v), nil
}

func created(v View) Created {
	return Created{PaymentID: v.PaymentID, Status: bank.StatePending, Provider: v.Provider, Amount: v.Amount,
		Reference: v.Reference, PaymentURL: v.PaymentURL, QRPayload: v.QRPayload, ExpiresAt: v.ExpiresAt}
}

// Get returns a payment of client by id.
func (s *Service) Get(ctx context.Context, client, paymentID string) (View, error) {
	if len(paymentID) > 64 || !isIDChars(paymentID) {
		return View{}, ErrNotFound
	}
	ref, err := s.store.Client.Get(ctx, s.keys.id(paymentID)).Result()
	if errors.Is(err, redis.Nil) {
		return View{}, ErrNotFound
	}
	if err != nil {
		return View{}, fmt.Errorf("reading payment index: %w", err)
	}
	v, err := s.load(ctx, ref)
	if err != nil {
		return View{}, err
	}
	if v.client != client {
		return View{}, ErrNotFound
	}
	return v, nil
}

// ByDossier returns a dossier's payments, oldest first.
func (s *Service) ByDossier(ctx context.Context, code string) ([]View, error) {
	refs, err := s.store.Client.SMembers(ctx, s.keys.dossier(code)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading dossier payments: %w", err)
	}
	out := make([]View, 0, len(refs))
	for _, ref := range refs {
		v, err := s.load(ctx, ref)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b View) int { return a.createdAt.Compare(b.createdAt) })
	return out, nil
}

// load reads a payment by reference.
func (s *Service) load(ctx context.Context, ref string) (View, error) {
	var h *redis.MapStringStringCmd
	var hist *redis.StringSliceCmd
	_, err := s.store.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		h = p.HGetAll(ctx, s.keys.payment(ref))
		hist = p.LRange(ctx, s.keys.history(ref), 0, -1)
		return nil
	})
	if err != nil {
		return View{}, fmt.Errorf("reading payment: %w", err)
	}
	f := h.Val()
	if len(f) == 0 {
		return View{}, ErrNotFound
	}
	amount, _ := strconv.ParseInt(f["amount"], 10, 64)
	v := View{
		PaymentID: f["payment_id"], DossierCode: f["dossier_code"], ProcedureCode: f["procedure_code"], AgencyCode: f["agency_code"],
		Provider: f["provider"], Amount: amount, Status: bank.State(f["status"]), Reference: f["reference"],
		ProviderTransactionID: f["provider_txn_id"], PaidAt: f["paid_at"], CreatedAt: f["created_at"], ExpiresAt: f["expires_at"],
		PaymentURL: f["payment_url"], QRPayload: f["qr_payload"], History: []Transition{},
		client: f["client"], desc: f["description"], returnURL: f["return_url"], account: f["account"],
		clientIP: f["client_ip"], instructed: f["instructed_at"] != "",
	}
	_ = json.Unmarshal([]byte(f["fee_lines"]), &v.feeLines)
	_ = json.Unmarshal([]byte(f["payer"]), &v.payer)
	// The API's times have whole seconds; the machine's own arithmetic uses the milliseconds.
	if ms, err := strconv.ParseInt(f["created_ms"], 10, 64); err == nil {
		v.createdAt = time.UnixMilli(ms)
	}
	if ms, err := strconv.ParseInt(f["expires_ms"], 10, 64); err == nil {
		v.expiresAt = time.UnixMilli(ms)
	}
	for _, raw := range hist.Val() {
		var t Transition
		if json.Unmarshal([]byte(raw), &t) == nil {
			v.History = append(v.History, t)
		}
	}
	return v, nil
}

// Settle implements bank.Settler: a verified callback's verdict, applied in one atomic step.
func (s *Service) Settle(ctx context.Context, st bank.Settlement) (bank.Result, error) {
	if st.Reference == "" || len(st.Reference) > 64 || !isIDChars(st.Reference) {
		return bank.NotFound, nil
	}
	to := bank.StateFailed
	if st.Outcome == bank.OutcomePaid {
		to = bank.StatePaid
	}
	crashPoint("before_settle")
	res, err := s.transition(ctx, st.Provider, st.Reference, to, st.Amount, st.ProviderTransactionID, st.Account, st.Reason, st.PaidAt)
	if err != nil {
		return 0, err
	}
	crashPoint("after_settle")
	return res, nil
}

// Cancel cancels a pending payment (no endpoint of API v1 offers it; ops tooling and tests
// do). A payment already final is left as it is and its verdict returned.
func (s *Service) Cancel(ctx context.Context, client, paymentID, reason string) (bank.Result, error) {
	v, err := s.Get(ctx, client, paymentID)
	if err != nil {
		return 0, err
	}
	return s.transition(ctx, "", v.Reference, bank.StateCancelled, -1, "", "", "cancelled: "+reason, time.Time{})
}

func (s *Service) transition(ctx context.Context, provider, ref string, to bank.State, amount int64, txn, account, reason string, paidAt time.Time) (bank.Result, error) {
	now := s.now()
	amountArg := "-1"
	if amount >= 0 {
		amountArg = strconv.FormatInt(amount, 10)
	}
	paid := ""
	if !paidAt.IsZero() {
		paid = stamp(paidAt)
	}
	// The keys after the payment's own two are the same for every payment, built once.
	keys := make([]string, 2, 2+len(s.transitionTail))
	keys[0], keys[1] = s.keys.payment(ref), s.keys.history(ref)
	out, err := transition.Run(ctx, s.store.Client, append(keys, s.transitionTail...),
		provider, string(to), amountArg, txn, account, reason, stamp(now), paid, s.cfg.Topic).StringSlice()
	if err != nil {
		return 0, fmt.Errorf("applying payment transition: %w", err)
	}
	var res bank.Result
	switch out[0] {
	case "applied":
		res = bank.Applied
	case "not_found":
		res = bank.NotFound
	case "amount_mismatch":
		res = bank.AmountMismatch
	case "already":
		res = bank.AlreadySettled
	case "closed":
		res = bank.Closed
	default:
		res = bank.Conflict
	}
	if res == bank.Applied && len(out) == 5 {
		prov, amount := out[3], out[4]
		if slices.Contains(bank.Providers, prov) {
			s.metrics.Transitions.WithLabelValues(prov, string(to)).Inc()
			if a, err := strconv.ParseFloat(amount, 64); err == nil && to == bank.StatePaid {
				s.metrics.PaidVND.WithLabelValues(prov).Add(a)
			}
		}
		s.log.Info("payment state changed", "payment_id", out[2], "partner", prov, "to", string(to))
	}
	return res, nil
}

// PayableBill implements bank.Bills: the newest pending payment of the dossier with provider.
func (s *Service) PayableBill(ctx context.Context, provider, code string) (bank.Bill, bank.BillStatus, error) {
	views, err := s.ByDossier(ctx, code)
	if err != nil {
		return bank.Bill{}, 0, err
	}
	for i := len(views) - 1; i >= 0; i-- {
		v := views[i]
		if v.Provider == provider && v.Status == bank.StatePending {
			return bank.Bill{LookupAt: s.now(), Payment: bank.Payment{
				ID: v.PaymentID, Reference: v.Reference, DossierCode: v.DossierCode, ProcedureCode: v.ProcedureCode,
				AgencyCode: v.AgencyCode, Amount: v.Amount, FeeLines: v.feeLines, Payer: v.payer, Description: v.desc,
				CreatedAt: v.createdAt, ExpiresAt: v.expiresAt,
			}}, bank.BillPayable, nil
		}
	}
	if len(views) > 0 {
		return bank.Bill{}, bank.BillNothingToPay, nil
	}
	st, err := s.store.DossierSyncState(ctx, code)
	if err != nil {
		return bank.Bill{}, 0, err
	}
	if st.Known {
		return bank.Bill{}, bank.BillNothingToPay, nil
	}
	return bank.Bill{}, bank.BillUnknownDossier, nil
}

// referenceAlphabet is Crockford's base 32 (no I, L, O, U): references read back unambiguously
// from a screen or a bank statement.
const referenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ReferenceLen is the length of a payment reference.
const ReferenceLen = 10

// NewReference draws a payment reference: a letter then nine letters or digits (50 random bits),
// short enough for VietQR's purpose field and a bank transfer's description.
func NewReference() string {
	b := make([]byte, ReferenceLen)
	_, _ = rand.Read(b)
	out := make([]byte, ReferenceLen)
	out[0] = referenceAlphabet[10+int(b[0])%22]
	for i := 1; i < ReferenceLen; i++ {
		out[i] = referenceAlphabet[int(b[i])%32]
	}
	return string(out)
}

func isIDChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// stamp writes a time as RFC 3339 in Vietnam's time (the API's times).
func stamp(t time.Time) string { return t.In(vntime.Zone).Format(time.RFC3339) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
