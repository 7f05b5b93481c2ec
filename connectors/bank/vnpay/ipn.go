package vnpay

import (
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

	// settled remembers the IPNs this process saw settled (see settledSet).
	settled settledSet
}

func (h *IPNHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason, params := h.handle(r)
	if reason != "" {
		h.Observer.CallbackRejected(bank.EndpointVNPayIPN, reason)
		if h.Log != nil {
			if params == nil { // refused before the query was parsed
				params = r.URL.Query()
			}
			h.Log.Warn("vnpay IPN refused", "partner", bank.ProviderVNPay, "reason", reason, "rsp_code", code,
				"reference", safeRef(params.Get("vnp_TxnRef")))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(replyBody(code))
}

// handle returns the RspCode and, for a refusal, its reason, with the query as parsed (nil when
// it was refused before).
func (h *IPNHandler) handle(r *http.Request) (code, reason string, params url.Values) {
	if h.Secret == "" {
		return RspInvalidChecksum, bank.ReasonNotConfigured, nil
	}
	if len(r.URL.RawQuery) > maxIPNQuery {
		return RspInvalidChecksum, bank.ReasonMalformed, nil
	}
	params, err := parseQuery(r.URL.RawQuery)
	if err != nil || !verifyAny(h.Secret, h.OldSecrets, params) {
		return RspInvalidChecksum, bank.ReasonBadSignature, params
	}
	// A repeat of an IPN already settled here: the same signed fields, so the same verdict the
	// state machine gave then, which cannot change (paid and failed are final).
	sig, remembered := signatureKey(params)
	if remembered && h.settled.seen(sig) {
		h.Observer.CallbackAccepted(bank.EndpointVNPayIPN, bank.AlreadySettled)
		return RspAlreadyConfirmed, "", params
	}
	n, err := ParseIPN(params)
	if err != nil {
		if errors.Is(err, ErrInvalidAmount) {
			return RspInvalidAmount, bank.ReasonMalformed, params
		}
		return RspUnknownError, bank.ReasonMalformed, params
	}
	if n.TmnCode != h.TmnCode {
		return RspOrderNotFound, bank.ReasonUnknownReference, params
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
		return RspUnknownError, bank.ReasonUnavailable, params
	}
	switch res {
	case bank.Applied:
		if remembered {
			h.settled.add(sig)
		}
		h.Observer.CallbackAccepted(bank.EndpointVNPayIPN, res)
		return RspConfirmed, "", params
	case bank.NotFound:
		return RspOrderNotFound, bank.ReasonFor(res), params
	case bank.AmountMismatch:
		return RspInvalidAmount, bank.ReasonFor(res), params
	case bank.AlreadySettled:
		// A repeat of what was applied: VNPay stops calling; nothing changed.
		if remembered {
			h.settled.add(sig)
		}
		h.Observer.CallbackAccepted(bank.EndpointVNPayIPN, res)
		return RspAlreadyConfirmed, "", params
	default:
		return RspAlreadyConfirmed, bank.ReasonFor(res), params
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
