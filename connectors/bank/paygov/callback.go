package paygov

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/jsonstrict"
)

// maxCallbackBody bounds a callback body: the platform's confirmations and look-ups are small.
const maxCallbackBody = 64 << 10

// ConfirmHandler serves the platform's payment confirmation (POST, JSON) and answers
// {"return_code","return_msg"} with HTTP 200: 0 when the confirmation was applied or repeats one
// already applied (so the platform stops sending it), -1 when it is refused. It refuses, leaving
// the payment as it was: a body that is not a confirmation, a check_sum that does not verify under
// key 2 (fields reordered, another key, another client_id), an unknown transaction_id, an amount
// that differs, and a payment that is already final with another outcome, expired or cancelled.
// When the store cannot be reached it answers -1 too, and the platform sends the confirmation
// again.
type ConfirmHandler struct {
	ClientID string
	Key2     string
	Settler  bank.Settler
	Observer bank.Observer
	Log      *slog.Logger
}

// Reply messages.
const (
	msgSuccess          = "Success"
	msgAlreadyConfirmed = "Already confirmed"
	msgBadChecksum      = "Invalid checksum"
	msgMalformed        = "Invalid request"
	msgNotFound         = "Transaction not found"
	msgAmount           = "Invalid amount"
	msgSettled          = "Transaction already settled"
	msgUnavailable      = "Temporarily unavailable, send again"
)

func (h *ConfirmHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, msg, reason, ref := h.handle(w, r)
	if reason != "" {
		h.Observer.CallbackRejected(bank.EndpointPayGovConfirm, reason)
		if h.Log != nil {
			h.Log.Warn("paygov confirmation refused", "partner", bank.ProviderPayGov, "reason", reason, "reference", ref)
		}
	}
	writeJSON(w, ConfirmationReply{ReturnCode: code, ReturnMsg: msg})
}

func (h *ConfirmHandler) handle(w http.ResponseWriter, r *http.Request) (code int, msg, reason, ref string) {
	if h.Key2 == "" {
		return ReturnError, msgBadChecksum, bank.ReasonNotConfigured, ""
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		return ReturnError, msgMalformed, bank.ReasonMalformed, ""
	}
	var c ConfirmationCallback
	if err := strictJSON(body); err != nil || json.Unmarshal(body, &c) != nil {
		return ReturnError, msgMalformed, bank.ReasonMalformed, ""
	}
	if (c.ClientID != "" && string(c.ClientID) != h.ClientID) || !c.Verify(h.Key2, h.ClientID) {
		return ReturnError, msgBadChecksum, bank.ReasonBadSignature, ""
	}
	ref = safeRef(string(c.TransactionID))
	amount, err := c.Amount()
	// A zero amount or an empty transaction_id can match no payment: refuse it before the store.
	if err != nil || amount <= 0 || c.TransactionID == "" || c.Command != CommandPay {
		return ReturnError, msgMalformed, bank.ReasonMalformed, ref
	}
	s := bank.Settlement{
		Provider: bank.ProviderPayGov, Reference: string(c.TransactionID), Outcome: bank.OutcomeFailed,
		Amount: amount, ProviderTransactionID: string(c.TransactionCode),
		Reason: "paygov confirmation status " + safeRef(string(c.Status)),
	}
	if c.Paid() {
		s.Outcome = bank.OutcomePaid
	}
	res, err := h.Settler.Settle(r.Context(), s)
	if err != nil {
		return ReturnError, msgUnavailable, bank.ReasonUnavailable, ref
	}
	switch res {
	case bank.Applied:
		h.Observer.CallbackAccepted(bank.EndpointPayGovConfirm, res)
		return ReturnOK, msgSuccess, "", ref
	case bank.AlreadySettled:
		h.Observer.CallbackAccepted(bank.EndpointPayGovConfirm, res)
		return ReturnOK, msgAlreadyConfirmed, "", ref
	case bank.NotFound:
		return ReturnError, msgNotFound, bank.ReasonFor(res), ref
	case bank.AmountMismatch:
		return ReturnError, msgAmount, bank.ReasonFor(res), ref
	default:
		return ReturnError, msgSettled, bank.ReasonFor(res), ref
	}
}

// BillHandler serves the platform's bill look-up by dossier (POST {"MaHoSo"}), answered from the
// payment intents: error_code 1 with the bill of the dossier's pending PayGov payment, 0 when the
// gateway knows the dossier and nothing is payable (no payment asked, or already paid), -1 for an
// unknown dossier or a request it cannot read.
//
// The look-up carries no signature in the public material, so the answer holds the least personal
// data a bill needs (the payer's name, never the ID number or address), and AllowedNets, when
// set, admits only the platform's addresses.
type BillHandler struct {
	Client      *Client
	Bills       bank.Bills
	AllowedNets []netip.Prefix
	Observer    bank.Observer
	Now         func() time.Time
}

// Bill look-up texts (no diacritics, as OpenCPS writes them).
const (
	msgNothingToPay   = "Ho so khong co khoan phai thanh toan"
	msgUnknownDossier = "Khong tim thay ho so"
	msgBadLookup      = "Yeu cau khong hop le"
	msgLookupDown     = "He thong tam thoi gian doan"
)

func (h *BillHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep, reason := h.handle(w, r)
	if reason != "" {
		h.Observer.CallbackRejected(bank.EndpointPayGovBill, reason)
	}
	writeJSON(w, rep)
}

func (h *BillHandler) handle(w http.ResponseWriter, r *http.Request) (BillLookupReply, string) {
	if len(h.AllowedNets) > 0 && !allowed(h.AllowedNets, r.RemoteAddr) {
		return BillLookupReply{ErrorCode: BillError, Message: msgBadLookup}, bank.ReasonBadSignature
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		return BillLookupReply{ErrorCode: BillError, Message: msgBadLookup}, bank.ReasonMalformed
	}
	var req BillLookupRequest
	if err := strictJSON(body); err != nil || json.Unmarshal(body, &req) != nil || req.MaHoSo == "" || len(req.MaHoSo) > 64 || !isCode(req.MaHoSo) {
		return BillLookupReply{ErrorCode: BillError, Message: msgBadLookup}, bank.ReasonMalformed
	}
	bill, status, err := h.Bills.PayableBill(r.Context(), bank.ProviderPayGov, req.MaHoSo)
	if err != nil {
		return BillLookupReply{ErrorCode: BillError, Message: msgLookupDown}, bank.ReasonUnavailable
	}
	switch status {
	case bank.BillPayable:
		now := time.Now
		if h.Now != nil {
			now = h.Now
		}
		b := h.Client.Bill(bill.Payment, now(), false)
		return BillLookupReply{ErrorCode: BillPayable, Bill: &b}, ""
	case bank.BillNothingToPay:
		return BillLookupReply{ErrorCode: BillNothingToPay, Message: msgNothingToPay}, ""
	default:
		return BillLookupReply{ErrorCode: BillError, Message: msgUnknownDossier}, bank.ReasonUnknownReference
	}
}

func allowed(nets []netip.Prefix, remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, n := range nets {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

// strictJSON refuses a body with a key given twice (another parser would read another value)
// or nested deeper than any callback is.
func strictJSON(body []byte) error {
	if err := jsonstrict.Check(body, 8); err != nil && !errors.Is(err, jsonstrict.ErrSyntax) {
		return err
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// isCode accepts plain ASCII codes: letters, digits, '.', '_' and '-'.
func isCode(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// safeRef keeps a value fit for a log line or a history entry.
func safeRef(s string) string {
	if len(s) > 40 || !isCode(s) {
		return "(invalid)"
	}
	return s
}
