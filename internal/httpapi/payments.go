package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/jsonstrict"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/payments"
)

// maxPaymentBody bounds a payment request: fee lines and a payer fit in a few KiB.
const maxPaymentBody = 64 << 10

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// Payments serves POST /v1/payments and GET /v1/payments/{payment_id}.
type Payments struct {
	Service *payments.Service
	Metrics *observability.PaymentMetrics
	Log     *slog.Logger
}

// Create serves POST /v1/payments.
func (p *Payments) Create(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > maxIdempotencyKey || !printableASCII(key) {
		p.Metrics.RequestRejected("", bank.ReasonMissingIdempotency)
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "An Idempotency-Key header is required", "",
			[]events.FieldError{{Field: "Idempotency-Key", Message: "must be 1 to 255 printable ASCII characters"}})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		p.Metrics.RequestRejected("", bank.ReasonInvalidInput)
		writeProblem(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported content type", "send application/json", nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPaymentBody))
	if err != nil {
		var mbe *http.MaxBytesError
		p.Metrics.RequestRejected("", bank.ReasonInvalidInput)
		if errors.As(err, &mbe) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "too-large", "The body is too large", "at most 65536 bytes", nil)
			return
		}
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "The body could not be read", "", nil)
		return
	}
	if err := jsonstrict.Check(body, maxJSONDepth); err != nil && !errors.Is(err, jsonstrict.ErrSyntax) {
		// As for any invalid body, a key already used is answered as such first.
		if used, uerr := p.Service.KeyUsed(r.Context(), clientFrom(r.Context()), key); uerr == nil && used {
			p.Metrics.RequestRejected("", bank.ReasonIdempotencyConflict)
			writeProblem(w, r, http.StatusConflict, "idempotency-conflict", "The Idempotency-Key was used with a different body", "", nil)
			return
		}
		p.Metrics.RequestRejected("", bank.ReasonInvalidInput)
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "The body is ambiguous JSON", err.Error(), nil)
		return
	}
	req, err := payments.ParseRequest(body, p.Service.Enabled)
	if err != nil {
		var ir *payments.InvalidRequest
		errors.As(err, &ir)
		// A key already used: this body is not the one it was used with (that one was valid),
		// and api.md's rule for a key with another body comes first. The store unreadable: the
		// body's own problems are still worth answering.
		if used, uerr := p.Service.KeyUsed(r.Context(), clientFrom(r.Context()), key); uerr == nil && used {
			p.Metrics.RequestRejected(providerOf(body), bank.ReasonIdempotencyConflict)
			writeProblem(w, r, http.StatusConflict, "idempotency-conflict", "The Idempotency-Key was used with a different body", "", nil)
			return
		}
		p.Metrics.RequestRejected(providerOf(body), ir.Reason)
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "The payment request has invalid fields", "", ir.Fields)
		return
	}
	created, outcome, err := p.Service.Create(r.Context(), clientFrom(r.Context()), key, req, clientIP(r))
	switch {
	case errors.Is(err, payments.ErrIdempotencyConflict):
		p.Metrics.RequestRejected(req.Provider, bank.ReasonIdempotencyConflict)
		writeProblem(w, r, http.StatusConflict, "idempotency-conflict", "The Idempotency-Key was used with a different body", "", nil)
		return
	case errors.Is(err, bank.ErrRejected):
		p.Metrics.RequestRejected(req.Provider, bank.ReasonUnavailable)
		// The refusal's text may quote the request's description: only its class is logged.
		p.Log.Warn("provider refused a payment", "partner", req.Provider, "dossier_code", req.DossierCode, "class", failure.Classify(err).String())
		writeProblem(w, r, http.StatusBadGateway, "provider-rejected", "The payment provider refused the payment",
			"the intent is kept pending and expires; ask again later or choose another provider", nil)
		return
	case err != nil:
		p.Metrics.RequestRejected(req.Provider, bank.ReasonUnavailable)
		p.Log.Warn("creating payment", "partner", req.Provider, "dossier_code", req.DossierCode, "class", failure.Classify(err).String(), "err", err)
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, http.StatusServiceUnavailable, "unavailable",
			"The store or the payment provider is unavailable; send the same request again with the same Idempotency-Key", "", nil)
		return
	}
	result := "created"
	if outcome == payments.OutcomeReplayed {
		result = "replayed"
	}
	p.Metrics.Requests.WithLabelValues(req.Provider, result).Inc()
	writeJSONPlain(w, http.StatusCreated, created)
}

// Get serves GET /v1/payments/{payment_id}.
func (p *Payments) Get(w http.ResponseWriter, r *http.Request) {
	v, err := p.Service.Get(r.Context(), clientFrom(r.Context()), r.PathValue("payment_id"))
	switch {
	case errors.Is(err, payments.ErrNotFound):
		notFound(w, r, "Payment")
	case err != nil:
		unavailable(w, r)
	default:
		writeJSONPlain(w, http.StatusOK, v)
	}
}

// providerOf reads the provider of a refused request for its metric label (the metric keeps
// only known providers).
func providerOf(body []byte) string {
	var probe struct {
		Provider any `json:"provider"`
	}
	_ = json.Unmarshal(body, &probe)
	s, _ := probe.Provider.(string)
	return s
}

// clientIP is the caller's address, as VNPay's vnp_IpAddr wants the citizen's: the one-stop
// system may pass it in X-Citizen-IP; otherwise the gateway's own address is used by the dialect.
func clientIP(r *http.Request) string {
	if ip := strings.TrimSpace(r.Header.Get("X-Citizen-IP")); ip != "" && net.ParseIP(ip) != nil {
		return ip
	}
	return ""
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// writeJSONPlain writes v without escaping '&', '<' and '>', so a payment URL reads as sent.
func writeJSONPlain(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
