// Package faults lets a sandbox partner misbehave on purpose: added latency, a share of errors,
// a full outage (connections dropped) and duplicate callbacks. Every sandbox mounts the same
// control endpoint, `PUT /sandbox/{partner}/faults`, so tests, load runs and integrators drive
// faults the same way for every partner.
package faults

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Settings is the body of `PUT /sandbox/{partner}/faults`.
type Settings struct {
	// LatencyMS is added before every answer.
	LatencyMS int `json:"latency_ms"`
	// ErrorRate in [0,1] is the share of requests answered with Status.
	ErrorRate float64 `json:"error_rate"`
	// Status answers the failed share; 503 when zero.
	Status int `json:"status"`
	// Down drops every connection without an answer, as a partner that is off would.
	Down bool `json:"down"`
	// DuplicateCallbacks makes a sandbox that calls back send each callback twice.
	DuplicateCallbacks bool `json:"duplicate_callbacks"`
}

// Injector holds the current settings of one sandbox partner. The zero value injects nothing.
type Injector struct {
	mu sync.RWMutex
	s  Settings
}

// Set replaces the settings.
func (i *Injector) Set(s Settings) {
	i.mu.Lock()
	i.s = s
	i.mu.Unlock()
}

// Get returns the current settings.
func (i *Injector) Get() Settings {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.s
}

// ServeHTTP answers GET (current settings) and PUT (replace settings) on the faults endpoint.
func (i *Injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut, http.MethodPost:
		var s Settings
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			http.Error(w, "invalid fault settings: "+err.Error(), http.StatusBadRequest)
			return
		}
		if s.ErrorRate < 0 || s.ErrorRate > 1 || s.LatencyMS < 0 || (s.Status != 0 && (s.Status < 400 || s.Status > 599)) {
			http.Error(w, "invalid fault settings: error_rate in [0,1], latency_ms >= 0, status 400..599", http.StatusBadRequest)
			return
		}
		i.Set(s)
	default:
		w.Header().Set("Allow", "GET, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(i.Get())
}

// Wrap applies the current faults to every request that reaches next.
func (i *Injector) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := i.Get()
		if s.Down {
			drop(w)
			return
		}
		if s.LatencyMS > 0 {
			select {
			case <-time.After(time.Duration(s.LatencyMS) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		if s.ErrorRate > 0 && rand.Float64() < s.ErrorRate {
			status := s.Status
			if status == 0 {
				status = http.StatusServiceUnavailable
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// drop closes the connection without writing an answer; where the writer cannot be hijacked
// (HTTP/2, a recorder) it answers 503 instead.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	http.Error(w, "partner down", http.StatusServiceUnavailable)
}
