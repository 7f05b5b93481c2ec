package vnpay

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/egov-vn/gateway/connectors/bank"
)

// maxIPNQuery bounds the IPN's query string: every VNPay field together stays far below it.
const maxIPNQuery = 4096

// IPNHandler serves VNPay's IPN (GET, result in the query string) and answers with the
// {"RspCode","Message"} VNPay expects, always with HTTP 200. The checks run in VNPay's documented
// order, each answered with its own code:
//
//	97  the checksum does not verify (or the gateway has no secret configured)
//	01  no payment with this vnp_TxnRef (for this terminal)
//	04  vnp_Amount/100 differs from the payment's amount
//	02  the payment is no longer pending (already confirmed, failed, expired or cancelled)
//	00  the payment became paid (vnp_ResponseCode and vnp_TransactionStatus "00") or failed
//	99  anything else (the store unreachable): VNPay calls again
//
// Only the last step changes anything, and it does so through the Settler in one atomic step.
type IPNHandler struct {
	// TmnCode and Secret are the terminal's; an empty Secret refuses every IPN (97).
	TmnCode string
	Secret  string
	// OldSecrets are accepted too while VNPay and the gateway change the terminal's secret.
	OldSecrets []string
	Settler    bank.Settler
	// Observer counts accepted and refused IPNs; Log records refusals (no personal data).
	Observer bank.Observer
	Log      *slog.Logger
}

func (h *IPNHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := h.handle(r)
	if reason != "" {
		h.Observer.CallbackRejected(bank.EndpointVNPayIPN, reason)
		if h.Log != nil {
			h.Log.Warn("vnpay IPN refused", "partner", bank.ProviderVNPay, "reason", reason, "rsp_code", code,
				"reference", safeRef(r.URL.Query().Get("vnp_TxnRef")))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(Reply(code))
}

// handle returns the RspCode and, for a refusal, its reason.
func (h *IPNHandler) handle(r *http.Request) (code, reason string) {
	if h.Secret == "" {
		return RspInvalidChecksum, bank.ReasonNotConfigured
	}
	if len(r.URL.RawQuery) > maxIPNQuery {
		return RspInvalidChecksum, bank.ReasonMalformed
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || !verifyAny(h.Secret, h.OldSecrets, params) {
		return RspInvalidChecksum, bank.ReasonBadSignature
	}
	n, err := ParseIPN(params)
	if err != nil {
		if errors.Is(err, ErrInvalidAmount) {
			return RspInvalidAmount, bank.ReasonMalformed
		}
		return RspUnknownError, bank.ReasonMalformed
	}
	if n.TmnCode != h.TmnCode {
		return RspOrderNotFound, bank.ReasonUnknownReference
	}
	s := bank.Settlement{
		Provider: bank.ProviderVNPay, Reference: n.TxnRef, Outcome: bank.OutcomeFailed, Amount: n.Amount,
		ProviderTransactionID: n.TransactionNo, PaidAt: n.PayDate,
		Reason: "vnpay IPN vnp_ResponseCode " + n.ResponseCode + " vnp_TransactionStatus " + n.TransactionStatus,
	}
	if n.Paid() {
		s.Outcome = bank.OutcomePaid
	}
	res, err := h.Settler.Settle(r.Context(), s)
	if err != nil {
		return RspUnknownError, bank.ReasonUnavailable
	}
	switch res {
	case bank.Applied:
		h.Observer.CallbackAccepted(bank.EndpointVNPayIPN, res)
		return RspConfirmed, ""
	case bank.NotFound:
		return RspOrderNotFound, bank.ReasonFor(res)
	case bank.AmountMismatch:
		return RspInvalidAmount, bank.ReasonFor(res)
	case bank.AlreadySettled:
		// A repeat of what was applied: VNPay stops calling; nothing changed.
		h.Observer.CallbackAccepted(bank.EndpointVNPayIPN, res)
		return RspAlreadyConfirmed, ""
	default:
		return RspAlreadyConfirmed, bank.ReasonFor(res)
	}
}

// safeRef keeps a reference fit for a log line: our references are short letters and digits.
func safeRef(s string) string {
	if len(s) > 40 || !isRefChars(s) {
		return "(invalid)"
	}
	return s
}

// verifyAny reports whether params carry the signature of secret or of one of the old secrets (a
// change of secret in progress). Each check is constant-time; an empty old secret verifies nothing.
func verifyAny(secret string, old []string, params url.Values) bool {
	if Verify(secret, params) {
		return true
	}
	for _, o := range old {
		if o != "" && Verify(o, params) {
			return true
		}
	}
	return false
}
