// Package httpapi serves the gateway's HTTP surfaces: the API listener (the one-stop system's
// /v1 endpoints; partner callbacks) and the admin listener (health, metrics, /admin/v1). Errors
// carry a type, and exactly one place here maps them to status codes and problem documents
// (RFC 9457); handlers never log and answer both.
package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/egov-vn/gateway/internal/events"
)

// Problem is an RFC 9457 problem document, with the list of bad fields.
type Problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Instance string              `json:"instance,omitempty"`
	Errors   []events.FieldError `json:"errors,omitempty"`
}

const problemBase = "https://egov-gateway.invalid/problems/"

func writeProblem(w http.ResponseWriter, r *http.Request, status int, kind, title, detail string, fields []events.FieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type: problemBase + kind, Title: title, Status: status, Detail: detail, Instance: r.URL.Path, Errors: fields,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func badRequest(w http.ResponseWriter, r *http.Request, err error) {
	var fe events.FieldErrors
	if errors.As(err, &fe) {
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "The request has invalid fields", "", fe)
		return
	}
	writeProblem(w, r, http.StatusBadRequest, "invalid-input", "The request is invalid", err.Error(), nil)
}

func unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="gateway"`)
	writeProblem(w, r, http.StatusUnauthorized, "unauthorized", "A valid bearer token is required", "", nil)
}

func unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	writeProblem(w, r, http.StatusServiceUnavailable, "store-unavailable", "The store is unavailable; nothing was stored, try again", "", nil)
}

func notFound(w http.ResponseWriter, r *http.Request, what string) {
	writeProblem(w, r, http.StatusNotFound, "not-found", what+" not found", "", nil)
}
