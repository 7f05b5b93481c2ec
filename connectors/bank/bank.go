// Package bank is the gateway's side of the payment providers that collect a dossier's fees: the
// one small interface every provider dialect implements (connectors/bank/vnpay, paygov, vietqr),
// the domain types they speak, and the interface through which a dialect's callback handler hands
// a verified confirmation to the payment state machine.
//
// A dialect does three things: it tells the citizen how to pay (Provider.Create: a payment URL or
// a VietQR payload), it answers "what happened to this payment?" when no callback came
// (Provider.Query), and it receives the provider's callbacks in the provider's own format,
// verifies their signature, and passes what they say to a Settler, answering the provider in the
// way the provider expects. The dialect never decides a payment's state: the Settler does, in one
// atomic step (internal/payments).
//
// Amounts are whole VND (int64) everywhere in this package; only the dialects convert to their
// wire formats (VNPay's × 100, PayGov's decimal strings).
package bank

import (
	"context"
	"errors"
	"time"
)

// Provider names, as they appear in the API (`provider`), in configuration and in metric labels.
const (
	ProviderVNPay  = "vnpay"
	ProviderPayGov = "paygov"
	ProviderVietQR = "vietqr"
)

// Providers is the closed set of provider names.
var Providers = []string{ProviderVNPay, ProviderPayGov, ProviderVietQR}

// Sentinel errors of the kind.
var (
	// ErrInvalidSignature: a callback or an answer whose signature does not verify.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrNotFound: the provider does not know the payment (it was never paid or never opened).
	ErrNotFound = errors.New("payment not known to the provider")
	// ErrQueryUnsupported: the provider offers no status query (a VietQR transfer has none).
	ErrQueryUnsupported = errors.New("provider has no status query")
	// ErrRejected: the provider refused to create the payment for its content (permanent).
	ErrRejected = errors.New("provider rejected the payment")
	// ErrTransactionsUnsupported: the provider (or its configuration) offers no list of a day's
	// transactions.
	ErrTransactionsUnsupported = errors.New("provider has no transaction list")
)

// State is a payment's state in the gateway. Pending is the only state that changes; the other
// four are final (the state machine is monotonic).
type State string

// The payment states.
const (
	StatePending   State = "pending"
	StatePaid      State = "paid"
	StateFailed    State = "failed"
	StateExpired   State = "expired"
	StateCancelled State = "cancelled"
)

// Final reports whether s can no longer change.
func (s State) Final() bool { return s != StatePending }

// FeeLine is one fee or charge of a payment (phí or lệ phí).
type FeeLine struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Kind   string `json:"kind"` // "phi" or "le_phi"
	Amount int64  `json:"amount"`
}

// Fee kinds.
const (
	FeeKindCharge = "phi"    // phí: a charge for a service
	FeeKindFee    = "le_phi" // lệ phí: a state fee
)

// Payer is who pays. Personal data: never logged, never in metric labels or errors.
type Payer struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number,omitempty"`
	Address  string `json:"address,omitempty"`
}

// Payment is what a dialect needs to tell the citizen how to pay.
type Payment struct {
	// ID is the gateway's payment id; Reference the short reference the provider and the citizen
	// see (VNPay vnp_TxnRef, PayGov transaction_id, the VietQR purpose): letters and digits.
	ID        string
	Reference string
	// DossierCode (MaHoSo), ProcedureCode (MaTTHC) and AgencyCode (MaDonVi) say what is paid for.
	DossierCode   string
	ProcedureCode string
	AgencyCode    string
	Amount        int64
	FeeLines      []FeeLine
	Payer         Payer
	// Description is what the citizen sees; dialects strip what their wire format refuses.
	Description string
	// ReturnURL is where the citizen's browser goes after paying (VNPay, PayGov).
	ReturnURL string
	// ClientIP is the citizen's address when known (VNPay's vnp_IpAddr).
	ClientIP  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Instructions are what the citizen needs now.
type Instructions struct {
	// PaymentURL is where to send the citizen (VNPay, PayGov); QRPayload the VietQR string to
	// render (VietQR). Exactly one is set.
	PaymentURL string
	QRPayload  string
	// ProviderRef is the provider's own reference when it gives one at creation.
	ProviderRef string
	// Account is the beneficiary account ("BIN:account") a VietQR transfer must reach; empty for
	// the other providers.
	Account string
	// ExpiresAt is when the provider stops accepting the payment.
	ExpiresAt time.Time
}

// Status is what a provider says about a payment when asked.
type Status struct {
	// Outcome is OutcomePaid, OutcomeFailed, or OutcomePending when the payment is still open
	// (or the citizen has not finished).
	Outcome Outcome
	// Amount is what the provider says was paid, whole VND.
	Amount                int64
	ProviderTransactionID string
	PaidAt                time.Time
	// Code is the provider's own status code, for the history (no personal data).
	Code string
}

// Outcome is what a provider reports about a payment.
type Outcome string

// Outcomes.
const (
	OutcomePaid    Outcome = "paid"
	OutcomeFailed  Outcome = "failed"
	OutcomePending Outcome = "pending"
)

// Query identifies the payment a status query asks about.
type Query struct {
	Reference             string
	Amount                int64
	CreatedAt             time.Time
	ProviderTransactionID string
}

// Provider is one payment provider.
type Provider interface {
	// Name is the provider's name (one of Providers).
	Name() string
	// Create tells the citizen how to pay. Errors are classified by internal/failure: a
	// rejection is permanent, an outage transient.
	Create(ctx context.Context, p Payment) (Instructions, error)
	// Query asks the provider what happened to a payment whose callback never came. It returns
	// ErrNotFound when the provider has no such payment and ErrQueryUnsupported when the
	// provider has no status query.
	Query(ctx context.Context, q Query) (Status, error)
	// Transactions lists what the provider settled on day (Vietnam's calendar, internal/vntime):
	// every paid or failed transaction, a reference paid twice appearing twice. It returns
	// ErrTransactionsUnsupported when the provider offers no such list.
	Transactions(ctx context.Context, day time.Time) ([]Transaction, error)
}

// Transaction is one transaction in a provider's list of a day, for reconciliation.
type Transaction struct {
	// Reference is our payment reference as the provider holds it; empty when the provider's
	// record carries none (a bank credit without a recognisable reference).
	Reference string
	// Candidates, when Reference is empty, are the references the record may carry (a bank
	// credit's free text), most likely first; reconciliation takes the first that names a payment.
	Candidates            []string
	ProviderTransactionID string
	// Outcome is OutcomePaid or OutcomeFailed.
	Outcome Outcome
	// Amount is whole VND.
	Amount int64
	At     time.Time
}

// Settlement is what a verified callback (or a status query) says about one payment.
type Settlement struct {
	Provider  string
	Reference string
	// Outcome is OutcomePaid or OutcomeFailed.
	Outcome Outcome
	// Amount is the amount the provider states, whole VND; negative when it states none.
	Amount                int64
	ProviderTransactionID string
	// Account is the beneficiary account credited ("BIN:account"); empty when the provider does
	// not say. A transfer to another account than the payment's never settles it.
	Account string
	PaidAt  time.Time
	// Reason goes into the payment's history, e.g. "vnpay IPN vnp_ResponseCode 00". No personal
	// data.
	Reason string
}

// Result is the state machine's verdict on a Settlement, in the order VNPay's IPN checks them.
type Result int

// Results.
const (
	// Applied: the payment moved from pending to the settlement's outcome.
	Applied Result = iota
	// NotFound: no payment with this reference for this provider (and account).
	NotFound
	// AmountMismatch: the amount differs from the payment's, by any amount.
	AmountMismatch
	// AlreadySettled: the payment already has this outcome from this transaction (a duplicate
	// callback); nothing changed.
	AlreadySettled
	// Conflict: the payment is already final with another outcome (a failure after paid, or a
	// second provider transaction paying it again); nothing changed.
	Conflict
	// Closed: the payment expired or was cancelled before the callback; nothing changed.
	Closed
)

func (r Result) String() string {
	switch r {
	case Applied:
		return "applied"
	case NotFound:
		return "not_found"
	case AmountMismatch:
		return "amount_mismatch"
	case AlreadySettled:
		return "already_settled"
	case Conflict:
		return "conflict"
	case Closed:
		return "closed"
	}
	return "unknown"
}

// Settler applies a verified settlement to the payment it names. Implemented by
// internal/payments; dialects' callback handlers call it.
type Settler interface {
	Settle(ctx context.Context, s Settlement) (Result, error)
}

// Bill is a payable bill as the payment platform's bill look-up wants it.
type Bill struct {
	Payment Payment
	// LookupAt stamps the look-up code (MaTraCuuTT).
	LookupAt time.Time
}

// BillStatus is the answer to "which bill does this dossier have?".
type BillStatus int

// Bill look-up verdicts.
const (
	// BillPayable: a payment of the dossier is pending (Bill is set).
	BillPayable BillStatus = iota
	// BillNothingToPay: the dossier is known and nothing is pending (none asked, or paid).
	BillNothingToPay
	// BillUnknownDossier: the gateway knows nothing of the dossier.
	BillUnknownDossier
)

// Bills answers the payment platform's bill look-up from the payment intents.
type Bills interface {
	PayableBill(ctx context.Context, provider, dossierCode string) (Bill, BillStatus, error)
}

// Rejection reasons: why a callback or a payment request was refused. A closed set, used as a
// metric label; every rejection is counted under exactly one.
const (
	ReasonBadSignature        = "bad_signature"
	ReasonMalformed           = "malformed"
	ReasonStaleTimestamp      = "stale_timestamp"
	ReasonReplayed            = "replayed" // a verified notification again inside its timestamp window
	ReasonUnknownReference    = "unknown_reference"
	ReasonAmountMismatch      = "amount_mismatch"
	ReasonAlreadySettled      = "already_settled"
	ReasonConflict            = "conflict"
	ReasonClosed              = "closed"
	ReasonUnknownBank         = "unknown_bank"
	ReasonUnknownAccount      = "unknown_account"
	ReasonNotConfigured       = "not_configured"
	ReasonUnavailable         = "unavailable"
	ReasonInvalidAmount       = "invalid_amount"
	ReasonFeeSumMismatch      = "fee_sum_mismatch"
	ReasonUnknownProvider     = "unknown_provider"
	ReasonInvalidInput        = "invalid_input"
	ReasonMissingIdempotency  = "missing_idempotency_key"
	ReasonIdempotencyConflict = "idempotency_conflict"
)

// CallbackReasons are the reasons a provider callback can be refused for.
var CallbackReasons = []string{
	ReasonBadSignature, ReasonMalformed, ReasonStaleTimestamp, ReasonUnknownReference, ReasonAmountMismatch,
	ReasonAlreadySettled, ReasonConflict, ReasonClosed, ReasonUnknownBank, ReasonUnknownAccount,
	ReasonNotConfigured, ReasonUnavailable, ReasonReplayed,
}

// RequestReasons are the reasons POST /v1/payments can be refused for.
var RequestReasons = []string{
	ReasonInvalidAmount, ReasonFeeSumMismatch, ReasonUnknownProvider, ReasonInvalidInput,
	ReasonMissingIdempotency, ReasonIdempotencyConflict, ReasonUnavailable,
}

// Observer counts what happens at the callback endpoints. Implemented with Prometheus by
// internal/observability; the endpoint names a closed set ("vnpay_ipn", "paygov_confirm",
// "paygov_bill", "bank_transactions").
type Observer interface {
	// CallbackRejected counts a refused callback under one reason (one of CallbackReasons).
	CallbackRejected(endpoint, reason string)
	// CallbackAccepted counts a callback that settled a payment or was a harmless duplicate.
	CallbackAccepted(endpoint string, r Result)
}

// ReasonFor maps a state machine verdict that refuses a callback to its rejection reason.
func ReasonFor(r Result) string {
	switch r {
	case NotFound:
		return ReasonUnknownReference
	case AmountMismatch:
		return ReasonAmountMismatch
	case AlreadySettled:
		return ReasonAlreadySettled
	case Conflict:
		return ReasonConflict
	case Closed:
		return ReasonClosed
	}
	return ReasonMalformed
}

// Reconciliation mismatch classes: how a provider's list of a day and the gateway's payments can
// disagree (the report's `kind`). A closed set, used as a metric label and in the report.
const (
	// MismatchStatus: paid at the provider, but pending, failed, expired or cancelled here.
	MismatchStatus = "status_mismatch"
	// MismatchMissingInGateway: paid at the provider, and no payment here has the reference.
	MismatchMissingInGateway = "missing_in_gateway"
	// MismatchMissingAtProvider: paid here, but the provider lists no paid transaction for it.
	MismatchMissingAtProvider = "missing_at_provider"
	// MismatchAmount: the provider's amount differs from the payment's.
	MismatchAmount = "amount_mismatch"
	// MismatchDuplicate: the provider lists the reference paid more than once.
	MismatchDuplicate = "duplicate_transaction"
)

// MismatchClasses is the closed set of mismatch classes.
var MismatchClasses = []string{MismatchStatus, MismatchMissingInGateway, MismatchMissingAtProvider, MismatchAmount, MismatchDuplicate}

// Callback endpoints, as named in metrics.
const (
	EndpointVNPayIPN         = "vnpay_ipn"
	EndpointPayGovConfirm    = "paygov_confirm"
	EndpointPayGovBill       = "paygov_bill"
	EndpointBankTransactions = "bank_transactions"
)

// Endpoints is the closed set of callback endpoints.
var Endpoints = []string{EndpointVNPayIPN, EndpointPayGovConfirm, EndpointPayGovBill, EndpointBankTransactions}

// Event is what the state machine writes to its outbox stream with every transition, in the same
// atomic step as the transition itself. Routing turns it into a notification to the one-stop
// system and a progress step for the portal.
type Event struct {
	PaymentID             string `json:"payment_id"`
	Reference             string `json:"reference"`
	DossierCode           string `json:"dossier_code"`
	ProcedureCode         string `json:"procedure_code"`
	AgencyCode            string `json:"agency_code"`
	Provider              string `json:"provider"`
	Amount                int64  `json:"amount"`
	From                  State  `json:"from"`
	To                    State  `json:"to"`
	At                    string `json:"at"` // RFC 3339
	Reason                string `json:"reason"`
	ProviderTransactionID string `json:"provider_transaction_id,omitempty"`
	PaidAt                string `json:"paid_at,omitempty"` // RFC 3339
}
