// Package partnerhttp is the one HTTP client every partner dialect calls through. For each call it
// applies, from the outside in: the partner's pause switch (ops or a maintenance window), the
// circuit breaker of the endpoint (partner + operation, gobreaker v2), metrics, and a resty request
// on a transport tuned for the partner's concurrency. It never retries by itself: retries belong to
// routing (short in-process retries, then the delayed-retry schedule), so a non-idempotent partner
// call is never repeated behind the caller's back.
//
// A non-2xx answer becomes a *failure.StatusError, so the shared classifier decides what it means;
// permanent answers (4xx) and cancellations do not count against the breaker.
package partnerhttp

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/sony/gobreaker/v2"

	"github.com/egov-vn/gateway/internal/failure"
)

// Config is one partner's client settings.
type Config struct {
	// Partner is the partner's name as it appears in metrics and the admin API (closed set).
	Partner string
	// BaseURL is prefixed to every request path.
	BaseURL string
	// Timeout bounds one call, connection and body included.
	Timeout time.Duration
	// MaxConnsPerHost sizes the idle pool to the number of concurrent callers.
	MaxConnsPerHost int
	// Breaker trips after BreakerFailures consecutive failures, or when at least
	// BreakerMinRequests calls in BreakerInterval fail at BreakerFailureRatio or more.
	BreakerFailures     uint32
	BreakerMinRequests  uint32
	BreakerFailureRatio float64
	BreakerInterval     time.Duration
	// BreakerOpenFor is how long an open breaker refuses calls before one probe goes through.
	BreakerOpenFor time.Duration
}

func (c *Config) setDefaults() {
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxConnsPerHost == 0 {
		c.MaxConnsPerHost = 32
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = 5
	}
	if c.BreakerMinRequests == 0 {
		c.BreakerMinRequests = 20
	}
	if c.BreakerFailureRatio == 0 {
		c.BreakerFailureRatio = 0.5
	}
	if c.BreakerInterval == 0 {
		c.BreakerInterval = 60 * time.Second
	}
	if c.BreakerOpenFor == 0 {
		c.BreakerOpenFor = 30 * time.Second
	}
}

// Validate reports every problem of the settings at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Partner == "" {
		errs = append(errs, errors.New("partner name is empty"))
	}
	if c.BaseURL == "" {
		errs = append(errs, fmt.Errorf("partner %s: base URL is empty", c.Partner))
	}
	if c.BreakerFailureRatio < 0 || c.BreakerFailureRatio > 1 {
		errs = append(errs, fmt.Errorf("partner %s: breaker failure ratio must be within 0..1", c.Partner))
	}
	return errors.Join(errs...)
}

// Pauser tells whether a partner is paused now (by ops or a maintenance window).
type Pauser interface {
	Paused(partner string) bool
}

// Observer receives one record per call and every breaker transition; the observability package
// implements it with Prometheus metrics.
type Observer interface {
	ObserveCall(partner, operation, outcome string, d time.Duration)
	ObserveBreakerTransition(partner, operation string, from, to gobreaker.State)
}

// Outcomes recorded per call (a closed set used as a metric label).
const (
	OutcomeOK          = "ok"
	OutcomeTransient   = "transient_error"
	OutcomePermanent   = "permanent_error"
	OutcomeBreakerOpen = "breaker_open"
	OutcomePaused      = "paused"
	OutcomeCanceled    = "canceled"
)

// ErrBreakerOpen is returned, wrapped, while an endpoint's breaker refuses calls.
var ErrBreakerOpen = failure.ErrBreakerOpen

// Client calls one partner.
type Client struct {
	cfg      Config
	resty    *resty.Client
	pauser   Pauser
	observer Observer

	mu       sync.Mutex
	breakers map[string]*gobreaker.CircuitBreaker[*resty.Response]
}

// Option adjusts a Client.
type Option func(*Client)

// WithPauser makes the client refuse calls while the partner is paused.
func WithPauser(p Pauser) Option { return func(c *Client) { c.pauser = p } }

// WithObserver records calls and breaker transitions.
func WithObserver(o Observer) Option { return func(c *Client) { c.observer = o } }

// New builds the client of one partner.
func New(cfg Config, opts ...Option) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.MaxConnsPerHost * 2,
		MaxIdleConnsPerHost: cfg.MaxConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	rc := resty.New().
		SetTransport(transport).
		SetBaseURL(cfg.BaseURL).
		SetTimeout(cfg.Timeout).
		SetRetryCount(0).
		SetHeader("User-Agent", "egov-gateway/1")
	c := &Client{cfg: cfg, resty: rc, breakers: map[string]*gobreaker.CircuitBreaker[*resty.Response]{}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Partner is the partner's name.
func (c *Client) Partner() string { return c.cfg.Partner }

// Resty exposes the underlying client for dialect-specific settings (auth, TLS). Calls must still
// go through Do.
func (c *Client) Resty() *resty.Client { return c.resty }

// Do runs one call of operation (a closed-set name such as "login" or "sync_dossier") through the
// pause switch, the endpoint's breaker and metrics. build fills and sends the request; an answer
// outside 2xx comes back as a *failure.StatusError together with the response.
func (c *Client) Do(ctx context.Context, operation string, build func(r *resty.Request) (*resty.Response, error)) (*resty.Response, error) {
	return c.do(ctx, operation, build, nil)
}

// DoRead is Do for a caller that reads a 2xx answer's body once, as bytes, and needs nothing
// else of the response. resty hands the body over unread (SetDoNotParseResponse), so it neither
// copies it into a fresh slice nor runs its response middleware (the content-type match of
// SetResult and SetError, which DoRead's callers do not use); DoRead reads it into a pooled
// buffer within the breaker, bounded by the client's timeout like resty's own read, so an answer
// whose body fails to arrive counts against the breaker exactly as it does through Do. Any
// resty ResponseBodyLimit set on the client applies as well.
//
// read runs after the breaker and the metrics have recorded the call, only for a 2xx answer, and
// its error is returned as is. body is valid only during read: read must copy what it keeps. Any
// other outcome is returned as Do returns it (a *failure.StatusError for an answer outside 2xx,
// whose body is read and dropped, so the connection can be reused).
func (c *Client) DoRead(ctx context.Context, operation string, build func(r *resty.Request) (*resty.Response, error), read func(body []byte) error) error {
	buf := bodyPool.Get().(*bytes.Buffer)
	defer putBody(buf)
	if _, err := c.do(ctx, operation, build, buf); err != nil {
		return err
	}
	return read(buf.Bytes())
}

// bodyPool holds the buffers DoRead reads answers into.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody bounds the buffers kept for reuse, so one large answer does not pin its memory.
const maxPooledBody = 64 << 10

func putBody(b *bytes.Buffer) {
	if b.Cap() > maxPooledBody {
		return
	}
	b.Reset()
	bodyPool.Put(b)
}

// do is Do; with a non-nil body it is DoRead's call, the answer's body read into body.
func (c *Client) do(ctx context.Context, operation string, build func(r *resty.Request) (*resty.Response, error), body *bytes.Buffer) (*resty.Response, error) {
	start := time.Now()
	if c.pauser != nil && c.pauser.Paused(c.cfg.Partner) {
		c.observe(operation, OutcomePaused, 0)
		return nil, fmt.Errorf("calling %s %s: %w", c.cfg.Partner, operation, failure.ErrPartnerPaused)
	}
	cb := c.breaker(operation)
	resp, err := cb.Execute(func() (*resty.Response, error) {
		r := c.resty.R().SetContext(ctx)
		if body != nil {
			r.SetDoNotParseResponse(true)
		}
		resp, err := build(r)
		if err == nil && body != nil {
			err = c.readBody(resp, body)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("calling %s %s: %w", c.cfg.Partner, operation, ctx.Err())
			}
			return nil, fmt.Errorf("calling %s %s: %w", c.cfg.Partner, operation, err)
		}
		if !resp.IsSuccess() {
			return resp, &failure.StatusError{Partner: c.cfg.Partner, Operation: operation, StatusCode: resp.StatusCode()}
		}
		return resp, nil
	})
	outcome := OutcomeOK
	switch {
	case err == nil:
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		outcome = OutcomeBreakerOpen
		err = fmt.Errorf("calling %s %s: %w: %w", c.cfg.Partner, operation, ErrBreakerOpen, err)
	default:
		switch failure.Classify(err) {
		case failure.Permanent:
			outcome = OutcomePermanent
		case failure.Shutdown:
			outcome = OutcomeCanceled
		default:
			outcome = OutcomeTransient
		}
	}
	c.observe(operation, outcome, time.Since(start))
	return resp, err
}

// readBody reads and closes the unread body of an answer resty handed over (DoRead), as resty
// itself would have read it: gunzipped when it arrives gzipped (net/http leaves a body
// compressed when the caller set Accept-Encoding itself), and within the client's response body
// limit.
func (c *Client) readBody(resp *resty.Response, into *bytes.Buffer) error {
	raw := resp.RawResponse
	if raw == nil || raw.Body == nil {
		return nil
	}
	defer raw.Body.Close()
	var src io.Reader = raw.Body
	if strings.EqualFold(raw.Header.Get("Content-Encoding"), "gzip") && raw.ContentLength != 0 {
		if _, ok := raw.Body.(*gzip.Reader); !ok {
			zr, err := gzip.NewReader(raw.Body)
			if err != nil {
				return err
			}
			defer zr.Close()
			src = zr
		}
	}
	if limit := c.resty.ResponseBodyLimit; limit > 0 {
		n, err := into.ReadFrom(io.LimitReader(src, int64(limit)+1))
		if err != nil {
			return err
		}
		if n > int64(limit) {
			return resty.ErrResponseBodyTooLarge
		}
		return nil
	}
	_, err := into.ReadFrom(src)
	return err
}

// Prepare creates the breakers of the given operations now, so they are reported (closed) before
// their first call.
func (c *Client) Prepare(operations ...string) {
	for _, op := range operations {
		c.breaker(op)
	}
}

// BreakerStates returns the current state of every endpoint breaker of this partner, read now
// (open → half-open happens on read, so this is what the next call would see).
func (c *Client) BreakerStates() map[string]gobreaker.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]gobreaker.State, len(c.breakers))
	for op, cb := range c.breakers {
		out[op] = cb.State()
	}
	return out
}

func (c *Client) observe(operation, outcome string, d time.Duration) {
	if c.observer != nil {
		c.observer.ObserveCall(c.cfg.Partner, operation, outcome, d)
	}
}

func (c *Client) breaker(operation string) *gobreaker.CircuitBreaker[*resty.Response] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cb, ok := c.breakers[operation]; ok {
		return cb
	}
	cfg := c.cfg
	cb := gobreaker.NewCircuitBreaker[*resty.Response](gobreaker.Settings{
		Name:        cfg.Partner + "/" + operation,
		MaxRequests: 1,
		Interval:    cfg.BreakerInterval,
		Timeout:     cfg.BreakerOpenFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			if counts.ConsecutiveFailures >= cfg.BreakerFailures {
				return true
			}
			return counts.Requests >= cfg.BreakerMinRequests &&
				float64(counts.TotalFailures)/float64(counts.Requests) >= cfg.BreakerFailureRatio
		},
		// A permanent answer means the partner is up and said no: not a partner failure.
		IsSuccessful: func(err error) bool { return !failure.CountsAgainstPartner(err) },
		// A cancelled call says nothing about the partner.
		IsExcluded: func(err error) bool { return failure.Classify(err) == failure.Shutdown },
		// Runs under the breaker's lock: record only, never call back into the breaker.
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if c.observer != nil {
				c.observer.ObserveBreakerTransition(cfg.Partner, operation, from, to)
			}
		},
	})
	c.breakers[operation] = cb
	return cb
}
