// Package failure is the one classifier that decides, for every partner call and every handler,
// whether an error is transient (retry later: the partner is down, slow or overloaded) or
// permanent (retrying cannot help: bad data, a rejected request). Routing dead-letters permanent
// errors at once and parks transient ones in the retry schedule; a partner outage must never
// dead-letter a message, so anything this package does not recognise is transient.
package failure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Kind is the verdict of Classify.
type Kind int

const (
	// Transient errors are retried later.
	Transient Kind = iota
	// Permanent errors go to the dead-letter stream at once.
	Permanent
	// Shutdown means the work was interrupted by the process stopping: the message is returned
	// to the stream untouched, never dead-lettered and never counted as a partner failure.
	Shutdown
)

func (k Kind) String() string {
	switch k {
	case Permanent:
		return "permanent"
	case Shutdown:
		return "shutdown"
	default:
		return "transient"
	}
}

type markedError struct {
	kind Kind
	err  error
}

func (e *markedError) Error() string { return e.err.Error() }
func (e *markedError) Unwrap() error { return e.err }

// MarkPermanent marks err as permanent whatever it wraps.
func MarkPermanent(err error) error {
	if err == nil {
		return nil
	}
	return &markedError{kind: Permanent, err: err}
}

// MarkTransient marks err as transient whatever it wraps.
func MarkTransient(err error) error {
	if err == nil {
		return nil
	}
	return &markedError{kind: Transient, err: err}
}

// Permanentf is fmt.Errorf marked permanent.
func Permanentf(format string, args ...any) error {
	return MarkPermanent(fmt.Errorf(format, args...))
}

// StatusError is a partner's HTTP answer that was not a success. It carries no body: partner
// bodies may echo personal data.
type StatusError struct {
	Partner    string
	Operation  string
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d", e.Partner, e.Operation, e.StatusCode)
}

// ProtocolError is a partner answer that arrived with HTTP success but reports an application
// error code (DVCQG's error_code, PayGov's error, ...).
type ProtocolError struct {
	Partner   string
	Operation string
	Code      string
	// Retryable says whether the partner's code means "try again later".
	Retryable bool
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("%s %s: error code %s", e.Partner, e.Operation, e.Code)
}

// ErrPartnerPaused is returned when a partner is paused by ops or in a maintenance window.
var ErrPartnerPaused = errors.New("partner paused")

// ErrBreakerOpen is returned, wrapped, while a partner endpoint's circuit breaker refuses calls.
// It is transient; retrying it in-process is pointless (the breaker stays open for a while), so
// such a message goes straight to the retry schedule.
var ErrBreakerOpen = errors.New("circuit breaker open")

// Classify decides whether err is transient, permanent or a shutdown. The first explicit mark
// found in the chain wins; then context cancellation, then typed partner errors; anything
// unknown is transient.
func Classify(err error) Kind {
	if err == nil {
		return Transient
	}
	var m *markedError
	if errors.As(err, &m) {
		return m.kind
	}
	if errors.Is(err, context.Canceled) {
		return Shutdown
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrPartnerPaused) {
		return Transient
	}
	var se *StatusError
	if errors.As(err, &se) {
		return classifyStatus(se.StatusCode)
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		if pe.Retryable {
			return Transient
		}
		return Permanent
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return Transient
	}
	return Transient
}

func classifyStatus(code int) Kind {
	switch {
	case code >= 500:
		return Transient
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout,
		code == http.StatusConflict, code == http.StatusLocked, code == http.StatusTooEarly:
		return Transient
	case code == http.StatusUnauthorized:
		// A dialect re-authenticates on 401 itself; one that still fails is a credential problem
		// that ops must fix, and the message must survive until they do.
		return Transient
	case code >= 400:
		return Permanent
	default:
		return Transient
	}
}

// IsPermanent reports whether Classify(err) is Permanent.
func IsPermanent(err error) bool { return err != nil && Classify(err) == Permanent }

// CountsAgainstPartner reports whether err should count as a failure in the partner's circuit
// breaker: transient partner-side failures do; permanent (4xx, bad data), shutdowns and pauses do
// not.
func CountsAgainstPartner(err error) bool {
	if err == nil || errors.Is(err, ErrPartnerPaused) {
		return false
	}
	return Classify(err) == Transient
}
