// Package sandbox holds the fake payment providers: VNPay (payment page, IPN, querydr), the
// national payment platform PayGov (create transaction, confirmation callback, detail query,
// bill look-up) and banks that notify account movements for VietQR transfers. Each speaks its
// partner's wire format and signs like the real one, using the primitives of the dialect
// packages; tests, the dev profile (mounted under /sandbox/) and partnersim use them.
//
// Citizen actions (api.md, "Sandbox partners"):
//
//	POST /sandbox/vnpay/pay            {"reference" or "payment_url", "outcome": "success"|"failed"}
//	POST /sandbox/paygov/pay           {"reference" or "payment_url", "outcome": "success"|"failed"}
//	POST /sandbox/bank/{bank}/transfer {"qr_payload"} or {"reference", "amount"[, "account_number", "description"]}
//
// make the partner send its signed callback to the gateway, as the real one would after the
// citizen pays. Like a real provider, a sandbox keeps sending a callback that got no usable
// answer (no connection, a 5xx, an answer it cannot read), with growing pauses, until it gets
// one or runs out of attempts. The first attempt is made before the action answers, so its
// result is in the answer; the others run in the background.
//
// Each sandbox lists what it did for a day (GET .../transactions?date=yyyy-mm-dd, Vietnam's
// calendar), which reconciliation compares with the gateway's payments, and takes faults at
// PUT .../faults (internal/faults; duplicate_callbacks sends every callback twice).
package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// Retry says how a sandbox repeats a callback that got no usable answer.
type Retry struct {
	// Interval is the first pause (500 ms when zero); it doubles up to MaxInterval (10 s).
	Interval    time.Duration
	MaxInterval time.Duration
	// Attempts is how many times a callback is sent at most (10 when zero).
	Attempts int
}

func (r Retry) withDefaults() Retry {
	if r.Interval <= 0 {
		r.Interval = 500 * time.Millisecond
	}
	if r.MaxInterval <= 0 {
		r.MaxInterval = 10 * time.Second
	}
	if r.Attempts <= 0 {
		r.Attempts = 10
	}
	return r
}

// Attempt is one delivery of a callback, as the sandbox saw it.
type Attempt struct {
	At     time.Time       `json:"at"`
	Status int             `json:"status,omitempty"`
	Answer json.RawMessage `json:"answer,omitempty"`
	Error  string          `json:"error,omitempty"`
	// Usable says whether the answer stopped the retries.
	Usable bool `json:"usable"`
}

// request is one callback to deliver.
type request struct {
	method, url string
	header      http.Header
	body        []byte
}

// sender delivers callbacks with retries; Close stops the retries under way.
type sender struct {
	client *http.Client
	retry  Retry
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newSender(r Retry) *sender {
	ctx, cancel := context.WithCancel(context.Background())
	return &sender{client: &http.Client{Timeout: 10 * time.Second}, retry: r.withDefaults(), ctx: ctx, cancel: cancel}
}

// deliver sends req once now and, when the answer is not usable, again in the background.
// usable judges an answer (status and body); record receives every attempt. The first attempt is
// returned.
func (s *sender) deliver(req request, usable func(status int, body []byte) bool, record func(Attempt)) Attempt {
	first := s.attempt(req, usable)
	record(first)
	if first.Usable {
		return first
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		pause := s.retry.Interval
		for n := 2; n <= s.retry.Attempts; n++ {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(pause):
			}
			a := s.attempt(req, usable)
			record(a)
			if a.Usable {
				return
			}
			pause = min(pause*2, s.retry.MaxInterval)
		}
	}()
	return first
}

func (s *sender) attempt(req request, usable func(int, []byte) bool) Attempt {
	a := Attempt{At: time.Now().UTC()}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url, bytes.NewReader(req.body))
	if err != nil {
		a.Error = err.Error()
		return a
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	resp, err := s.client.Do(hr)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	a.Status = resp.StatusCode
	if json.Valid(body) {
		a.Answer = body
	}
	a.Usable = usable(resp.StatusCode, body)
	return a
}

// close stops the background retries and waits for them.
func (s *sender) close() {
	s.cancel()
	s.wg.Wait()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// decodeAction reads a citizen action's body.
func decodeAction(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid body: "+err.Error())
		return false
	}
	return true
}
