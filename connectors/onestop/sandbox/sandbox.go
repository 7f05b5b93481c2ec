// Package sandbox is a fake one-stop system that receives the gateway's Standard Webhooks
// notifications (api.md, "Gateway → one-stop system" and "Sandbox partners"). Tests, the
// gateway's dev profile (mounted at /sandbox/onestop/) and partnersim use it. It verifies each
// webhook as a careful receiver would, records every attempt with its verdict, and can be told to
// fail through the shared faults endpoint.
//
// Paths are relative to the mount point (the caller strips its prefix with http.StripPrefix):
//
//	POST   /notifications   receive a webhook: 204 accepted (a repeated webhook-id too),
//	                        401 bad signature, 415 not JSON, 400 body not {"type","data"},
//	                        413 body over 1 MiB; faults apply here only
//	GET    /notifications   what arrived, oldest first; ?type= filters
//	DELETE /notifications   forget what arrived (faults stay)
//	GET    /faults          current fault settings
//	PUT    /faults          replace fault settings (internal/faults.Settings)
//
// Every attempt is recorded, rejected ones included, so an integrator can see why a webhook was
// refused. A record is a duplicate when it carries a valid signature and a webhook-id that an
// earlier validly signed webhook already carried: a receiver deduplicates only what it has
// authenticated, so a forged webhook cannot make the genuine one look like a repeat.
package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/internal/signing/webhooks"
)

// MaxBodyBytes bounds the body of a received webhook.
const MaxBodyBytes = 1 << 20

// maxRecords bounds memory in long load runs: past it the oldest records are dropped. The set of
// webhook-ids seen is kept whole, so duplicates are still recognised.
const maxRecords = 100_000

// Record is one webhook attempt as the sandbox received it.
type Record struct {
	WebhookID string          `json:"webhook_id"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	// Timestamp is the webhook-timestamp header as sent (Unix seconds).
	Timestamp      string    `json:"webhook_timestamp"`
	ReceivedAt     time.Time `json:"received_at"`
	SignatureValid bool      `json:"signature_valid"`
	// Reason says why the webhook was refused; empty when it was accepted.
	Reason string `json:"reason,omitempty"`
	// Duplicate marks an accepted webhook whose webhook-id was already accepted before.
	Duplicate bool `json:"duplicate"`
	// Status is the HTTP status the sandbox answered.
	Status int `json:"status"`
}

// Accepted reports whether the sandbox answered the attempt with success.
func (r Record) Accepted() bool { return r.Reason == "" }

// Sandbox is the fake one-stop receiver. It is safe for concurrent use.
type Sandbox struct {
	verifier  *webhooks.Verifier
	secretErr error
	faults    *faults.Injector

	mu      sync.Mutex
	records []Record
	seen    map[string]bool
}

// New builds a sandbox that accepts webhooks signed with any of secrets. Bad secrets do not stop
// it: every webhook is then refused with a reason saying the sandbox's secret is invalid, which
// is what an integrator would see from a misconfigured receiver.
func New(secrets ...string) *Sandbox {
	s := &Sandbox{faults: &faults.Injector{}, seen: map[string]bool{}}
	v, err := webhooks.NewVerifier(webhooks.VerifierConfig{Secrets: secrets})
	if err != nil {
		s.secretErr = fmt.Errorf("sandbox receiver is misconfigured: %w", err)
	} else {
		s.verifier = v
	}
	return s
}

// Handler serves the sandbox's paths relative to its mount point.
func (s *Sandbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /notifications", s.faults.Wrap(http.HandlerFunc(s.receive)))
	mux.HandleFunc("GET /notifications", s.list)
	mux.HandleFunc("DELETE /notifications", s.clear)
	mux.Handle("/faults", s.faults)
	return mux
}

// Faults is the sandbox's fault injector.
func (s *Sandbox) Faults() *faults.Injector { return s.faults }

// Received returns every attempt recorded, oldest first.
func (s *Sandbox) Received() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// Unique returns the accepted, non-duplicate webhooks of type typ (every type when typ is
// empty), oldest first: what a deduplicating receiver would act upon.
func (s *Sandbox) Unique(typ string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.records {
		if r.Accepted() && !r.Duplicate && (typ == "" || r.Type == typ) {
			out = append(out, r)
		}
	}
	return out
}

// Reset forgets every record and webhook-id and clears the faults.
func (s *Sandbox) Reset() {
	s.clearRecords()
	s.faults.Set(faults.Settings{})
}

func (s *Sandbox) clearRecords() {
	s.mu.Lock()
	s.records = nil
	s.seen = map[string]bool{}
	s.mu.Unlock()
}

// wireBody is the notification body the gateway sends.
type wireBody struct {
	Type *string         `json:"type"`
	Data json.RawMessage `json:"data"`
}

func (s *Sandbox) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "body over 1 MiB", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading body", http.StatusBadRequest)
		return
	}
	rec := Record{
		WebhookID:  r.Header.Get(webhooks.HeaderID),
		Timestamp:  r.Header.Get(webhooks.HeaderTimestamp),
		ReceivedAt: time.Now().UTC(),
	}
	// Decoded even when the signature is bad, so the listing shows what the refused webhook said.
	var wb wireBody
	bodyErr := json.Unmarshal(body, &wb)
	if bodyErr == nil && wb.Type != nil {
		rec.Type = *wb.Type
		rec.Data = wb.Data
	}

	verr := s.secretErr
	if verr == nil {
		verr = s.verifier.Verify(r.Header, body)
	}
	rec.SignatureValid = verr == nil
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case verr != nil:
		rec.Status, rec.Reason = http.StatusUnauthorized, verr.Error()
	case mediaType != "application/json":
		rec.Status, rec.Reason = http.StatusUnsupportedMediaType, "content type is not application/json"
	case bodyErr != nil:
		rec.Status, rec.Reason = http.StatusBadRequest, "body is not a JSON object with a string type"
	case wb.Type == nil || *wb.Type == "":
		rec.Status, rec.Reason = http.StatusBadRequest, "body has no type"
	case wb.Data == nil:
		rec.Status, rec.Reason = http.StatusBadRequest, "body has no data"
	default:
		rec.Status = http.StatusNoContent
	}
	s.record(&rec)
	if rec.Reason != "" {
		http.Error(w, rec.Reason, rec.Status)
		return
	}
	w.WriteHeader(rec.Status)
}

// record appends rec, deciding under the lock whether it is a duplicate.
func (s *Sandbox) record(rec *Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.Accepted() {
		rec.Duplicate = s.seen[rec.WebhookID]
		s.seen[rec.WebhookID] = true
	}
	if len(s.records) >= maxRecords {
		drop := maxRecords / 10
		s.records = append(s.records[:0], s.records[drop:]...)
	}
	s.records = append(s.records, *rec)
}

// listing is the answer of GET /notifications.
type listing struct {
	Notifications []Record `json:"notifications"`
}

func (s *Sandbox) list(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	out := listing{Notifications: []Record{}}
	for _, rec := range s.Received() {
		if typ == "" || rec.Type == typ {
			out.Notifications = append(out.Notifications, rec)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Sandbox) clear(w http.ResponseWriter, _ *http.Request) {
	s.clearRecords()
	w.WriteHeader(http.StatusNoContent)
}
