package payments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/events"
)

// MaxAmount is the largest payment, whole VND: the smallest limit among the providers (VNPay's
// vnp_Amount carries 12 digits of VND × 100).
const MaxAmount int64 = 9_999_999_999

// Limits of the request's fields.
const (
	maxCodeLen        = 64
	maxNameLen        = 255
	maxFeeLines       = 50
	maxIDNumberLen    = 32
	maxAddressLen     = 500
	maxDescriptionLen = 255
	maxReturnURLLen   = 255
)

// Request is the body of POST /v1/payments (api.md), after validation.
type Request struct {
	DossierCode   string         `json:"dossier_code"`
	ProcedureCode string         `json:"procedure_code"`
	AgencyCode    string         `json:"agency_code"`
	Provider      string         `json:"provider"`
	Amount        int64          `json:"amount"`
	FeeLines      []bank.FeeLine `json:"fee_lines"`
	Payer         bank.Payer     `json:"payer"`
	Description   string         `json:"description,omitempty"`
	ReturnURL     string         `json:"return_url,omitempty"`
}

// Hash identifies the request's content for the Idempotency-Key check: the same content (in
// any JSON spelling: key order, white space) gives the same hash.
func (r Request) Hash() string {
	b, _ := json.Marshal(r)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// wireRequest reads the body with numbers kept as written, so a fractional or out-of-range
// amount is reported on its field instead of failing the whole decode.
type wireRequest struct {
	DossierCode   any `json:"dossier_code"`
	ProcedureCode any `json:"procedure_code"`
	AgencyCode    any `json:"agency_code"`
	Provider      any `json:"provider"`
	Amount        any `json:"amount"`
	FeeLines      any `json:"fee_lines"`
	Payer         any `json:"payer"`
	Description   any `json:"description"`
	ReturnURL     any `json:"return_url"`
}

// InvalidRequest is a request that failed validation: every bad field, and the one reason it is
// counted under (metrics).
type InvalidRequest struct {
	Fields events.FieldErrors
	Reason string
}

func (e *InvalidRequest) Error() string { return "invalid payment request: " + e.Fields.Error() }

// ParseRequest reads and validates a POST /v1/payments body. enabled tells which providers are
// configured. It names every bad field at once.
func ParseRequest(body []byte, enabled func(provider string) bool) (Request, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var w wireRequest
	if err := dec.Decode(&w); err != nil || dec.More() {
		return Request{}, &InvalidRequest{Reason: bank.ReasonInvalidInput,
			Fields: events.FieldErrors{{Field: "", Message: "the body must be one JSON object"}}}
	}
	v := validator{}
	r := Request{
		DossierCode:   v.code("dossier_code", w.DossierCode),
		ProcedureCode: v.code("procedure_code", w.ProcedureCode),
		AgencyCode:    v.code("agency_code", w.AgencyCode),
		Provider:      v.str("provider", w.Provider, true, 16),
		Description:   v.str("description", w.Description, false, maxDescriptionLen),
		ReturnURL:     v.str("return_url", w.ReturnURL, false, maxReturnURLLen),
	}
	var amountOK bool
	r.Amount, amountOK = v.amount("amount", w.Amount)
	if r.Provider != "" {
		switch {
		case !slices.Contains(bank.Providers, r.Provider):
			v.bad(bank.ReasonUnknownProvider, "provider", "must be one of vnpay, paygov, vietqr")
		case !enabled(r.Provider):
			v.bad(bank.ReasonUnknownProvider, "provider", "is not configured on this gateway")
		}
	}
	if r.ReturnURL != "" {
		if u, err := url.Parse(r.ReturnURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.bad(bank.ReasonInvalidInput, "return_url", "must be an absolute http(s) URL")
		}
	}
	linesOK := true
	switch lines := w.FeeLines.(type) {
	case nil:
		v.bad(bank.ReasonInvalidInput, "fee_lines", "is required")
		linesOK = false
	case []any:
		if len(lines) == 0 || len(lines) > maxFeeLines {
			v.bad(bank.ReasonInvalidInput, "fee_lines", fmt.Sprintf("must hold 1 to %d lines", maxFeeLines))
			linesOK = false
		}
		for i, raw := range lines {
			f := fmt.Sprintf("fee_lines[%d]", i)
			line, ok := raw.(map[string]any)
			if !ok {
				v.bad(bank.ReasonInvalidInput, f, "must be an object")
				linesOK = false
				continue
			}
			fl := bank.FeeLine{
				Code: v.text(f+".code", line["code"], true, maxCodeLen),
				Name: v.text(f+".name", line["name"], true, maxNameLen),
				Kind: v.str(f+".kind", line["kind"], true, 8),
			}
			if fl.Kind != "" && fl.Kind != bank.FeeKindCharge && fl.Kind != bank.FeeKindFee {
				v.bad(bank.ReasonInvalidInput, f+".kind", `must be "phi" or "le_phi"`)
			}
			var ok2 bool
			if fl.Amount, ok2 = v.amount(f+".amount", line["amount"]); !ok2 {
				linesOK = false
			}
			r.FeeLines = append(r.FeeLines, fl)
		}
	default:
		v.bad(bank.ReasonInvalidInput, "fee_lines", "must be an array")
		linesOK = false
	}
	if amountOK && linesOK {
		var sum int64
		for _, fl := range r.FeeLines {
			sum += fl.Amount
		}
		if sum != r.Amount {
			v.bad(bank.ReasonFeeSumMismatch, "amount", fmt.Sprintf("must equal the sum of fee_lines (%d), got %d", sum, r.Amount))
		}
	}
	switch p := w.Payer.(type) {
	case map[string]any:
		r.Payer = bank.Payer{
			Name:     v.text("payer.name", p["name"], true, maxNameLen),
			IDNumber: v.text("payer.id_number", p["id_number"], false, maxIDNumberLen),
			Address:  v.text("payer.address", p["address"], false, maxAddressLen),
		}
	case nil:
		v.bad(bank.ReasonInvalidInput, "payer", "is required")
	default:
		v.bad(bank.ReasonInvalidInput, "payer", "must be an object")
	}
	if len(v.errs) > 0 {
		return Request{}, &InvalidRequest{Fields: v.errs, Reason: v.reason()}
	}
	return r, nil
}

type validator struct {
	errs    events.FieldErrors
	reasons []string
}

func (v *validator) bad(reason, field, msg string) {
	v.errs = append(v.errs, events.FieldError{Field: field, Message: msg})
	v.reasons = append(v.reasons, reason)
}

// reason is the one reason a refused request is counted under: money problems first.
func (v *validator) reason() string {
	for _, r := range []string{bank.ReasonInvalidAmount, bank.ReasonFeeSumMismatch, bank.ReasonUnknownProvider} {
		if slices.Contains(v.reasons, r) {
			return r
		}
	}
	return bank.ReasonInvalidInput
}

func (v *validator) str(field string, raw any, required bool, max int) string {
	switch s := raw.(type) {
	case nil:
		if required {
			v.bad(bank.ReasonInvalidInput, field, "is required")
		}
		return ""
	case string:
		if s == "" && required {
			v.bad(bank.ReasonInvalidInput, field, "must not be empty")
		}
		if len(s) > max {
			v.bad(bank.ReasonInvalidInput, field, fmt.Sprintf("must be at most %d bytes", max))
			return ""
		}
		return s
	default:
		v.bad(bank.ReasonInvalidInput, field, "must be a string")
		return ""
	}
}

// text is a string of valid UTF-8 without control characters (names, addresses).
func (v *validator) text(field string, raw any, required bool, max int) string {
	s := v.str(field, raw, required, max)
	if !utf8.ValidString(s) {
		v.bad(bank.ReasonInvalidInput, field, "must be valid UTF-8")
		return ""
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			v.bad(bank.ReasonInvalidInput, field, "must not contain control characters")
			return ""
		}
	}
	return s
}

// code is a plain ASCII code (dossier, procedure, agency), so look-alike Unicode cannot make
// two codes that print the same.
func (v *validator) code(field string, raw any) string {
	s := v.str(field, raw, true, maxCodeLen)
	if s != "" && !events.IsCode(s) {
		v.bad(bank.ReasonInvalidInput, field, "must contain only ASCII letters, digits, '.', '_' and '-'")
		return ""
	}
	return s
}

// amount is a whole number of VND, positive, at most MaxAmount.
func (v *validator) amount(field string, raw any) (int64, bool) {
	n, ok := raw.(json.Number)
	if !ok {
		if raw == nil {
			v.bad(bank.ReasonInvalidAmount, field, "is required")
		} else {
			v.bad(bank.ReasonInvalidAmount, field, "must be a number")
		}
		return 0, false
	}
	a, err := strconv.ParseInt(n.String(), 10, 64)
	switch {
	case err != nil:
		v.bad(bank.ReasonInvalidAmount, field, "must be a whole number of VND")
		return 0, false
	case a <= 0:
		v.bad(bank.ReasonInvalidAmount, field, "must be positive")
		return 0, false
	case a > MaxAmount:
		v.bad(bank.ReasonInvalidAmount, field, fmt.Sprintf("must be at most %d VND", MaxAmount))
		return 0, false
	}
	return a, true
}
