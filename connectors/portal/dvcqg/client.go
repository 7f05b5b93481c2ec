package dvcqg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/go-resty/resty/v2"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

// Operation names reported to partnerhttp: a closed set, used as metric labels.
const (
	opLogin    = "login"
	opLookup   = "lookup_dossier"
	opSync     = "sync_dossier"
	opProgress = "add_progress"
)

// Partner codes with a meaning of their own (see the package documentation). Compared in
// canonical form, so "01" and 1 are codeSession.
const (
	codeSession  = "1"
	codeRejected = "10"
	codeUnknown  = "11"
)

// Config is the DVCQG adapter account of one province.
type Config struct {
	// AuthPath is the login endpoint, relative to the partner client's base URL (or absolute).
	AuthPath string
	// IntegrationPath is the endpoint of every service, relative to the base URL (or absolute).
	IntegrationPath string
	// Username and Password are the adapter account; Password is a secret.
	Username string
	Password string
	// DstCode is sent in the dstcode header of every request.
	DstCode string
	// MaDonVi is the province's unit code (madonvi in every service call), e.g. 000.00.00.H37.
	MaDonVi string
}

// Validate reports every problem of the settings at once. It never echoes the password.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"auth path", c.AuthPath},
		{"integration path", c.IntegrationPath},
		{"username", c.Username},
		{"password", c.Password},
		{"dstcode", c.DstCode},
		{"madonvi", c.MaDonVi},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("dvcqg: %s is empty", f.name))
		}
	}
	return errors.Join(errs...)
}

// Client is the DVCQG portal dialect. It is safe for concurrent use.
type Client struct {
	cfg      Config
	http     *partnerhttp.Client
	sessions sessionCache
	// dstcode is the dstcode header's value, built once (see request).
	dstcode []string
}

var _ portal.Portal = (*Client)(nil)

// New builds the dialect on the partner's HTTP client, through which every call goes.
func New(cfg Config, c *partnerhttp.Client) (*Client, error) {
	err := cfg.Validate()
	if c == nil {
		err = errors.Join(err, errors.New("dvcqg: partner HTTP client is nil"))
	}
	if err != nil {
		return nil, err
	}
	cl := &Client{cfg: cfg, http: c, dstcode: []string{cfg.DstCode}}
	cl.sessions.login = cl.login
	return cl, nil
}

// UpsertDossier sends the dossier's whole current state: TraCuuHoSo tells whether the portal
// knows it, then DongBoHoSoMC creates or updates it.
func (c *Client) UpsertDossier(ctx context.Context, d portal.Dossier) error {
	dto, err := dossierToWire(d)
	if err != nil {
		return err
	}
	var found reply
	err = c.integrate(ctx, opLookup, serviceLookup, func(env envelope) any {
		return lookupRequest{envelope: env, MaHoSo: dto.MaHoSo}
	}, &found)
	if err != nil {
		return fmt.Errorf("looking up dossier with %s: %w", serviceLookup, err)
	}
	updating := isUpdatingFalse
	if nonEmpty(found.Result) {
		updating = isUpdatingTrue
	}
	return c.syncDossier(ctx, dto, updating)
}

// UpdateDossier sends the whole current state of a dossier the portal already holds (one the
// gateway synced before) with DongBoHoSoMC isUpdating "True", without looking it up first: one
// call instead of two for every status change after a dossier's first.
func (c *Client) UpdateDossier(ctx context.Context, d portal.Dossier) error {
	dto, err := dossierToWire(d)
	if err != nil {
		return err
	}
	return c.syncDossier(ctx, dto, isUpdatingTrue)
}

// syncDossier sends one dossier's state with DongBoHoSoMC and the given isUpdating.
func (c *Client) syncDossier(ctx context.Context, dto dossierDTO, updating string) error {
	err := c.integrate(ctx, opSync, serviceSync, func(env envelope) any {
		return syncRequest{envelope: env, IsUpdating: updating, Data: []dossierDTO{dto}}
	}, nil)
	if err != nil {
		return fmt.Errorf("syncing dossier with %s: %w", serviceSync, err)
	}
	return nil
}

// AddProgress appends one processing step with CapNhatTienDoHoSoMC.
func (c *Client) AddProgress(ctx context.Context, s portal.Step) error {
	dto, err := stepToWire(s)
	if err != nil {
		return err
	}
	err = c.integrate(ctx, opProgress, serviceProgress, func(env envelope) any {
		return progressRequest{envelope: env, Data: []stepDTO{dto}}
	}, nil)
	if err != nil {
		return fmt.Errorf("adding progress with %s: %w", serviceProgress, err)
	}
	return nil
}

// errSession marks an answer meaning the session is invalid or expired.
var errSession = errors.New("session invalid or expired")

// errMalformedReply is a 2xx answer that is not the adapter's JSON. Its details are dropped on
// purpose: a decoder's message can quote the body.
var errMalformedReply = errors.New("malformed reply")

// integrate calls one service with the cached session. When the adapter says the session is no
// longer valid it logs in again and repeats the call once: a request the adapter refused for its
// session was not carried out, so repeating it cannot apply it twice.
func (c *Client) integrate(ctx context.Context, operation, service string, build func(envelope) any, out *reply) error {
	for attempt := 1; ; attempt++ {
		session, err := c.sessions.get(ctx)
		if err != nil {
			return fmt.Errorf("logging in: %w", err)
		}
		body := build(envelope{Session: session, MaDonVi: c.cfg.MaDonVi, Service: service})
		err = c.post(ctx, operation, body, out)
		if attempt == 1 && isAuthError(err) {
			c.sessions.invalidate(session)
			continue
		}
		return err
	}
}

// post sends one body to the integration endpoint and interprets the answer.
func (c *Client) post(ctx context.Context, operation string, body any, out *reply) error {
	payload, err := encodeBody(body)
	if err != nil {
		return fmt.Errorf("encoding request: %w", err)
	}
	// The answer is read once, from partnerhttp's pooled buffer, by decodeReply; a decoding or
	// error_code failure is returned after the call was recorded a success at the HTTP level,
	// as before: the breaker never counts the adapter's error codes.
	err = c.http.DoRead(ctx, operation, func(r *resty.Request) (*resty.Response, error) {
		return c.request(r, payload).Post(c.cfg.IntegrationPath)
	}, func(b []byte) error {
		return c.decodeReply(operation, b, out)
	})
	if err != nil {
		var se *failure.StatusError
		if errors.As(err, &se) {
			switch se.StatusCode {
			case http.StatusUnauthorized:
				return fmt.Errorf("%w: %w", errSession, err)
			case http.StatusBadRequest, http.StatusUnprocessableEntity:
				return fmt.Errorf("%w: %w", portal.ErrRejected, err)
			}
		}
		return err
	}
	return nil
}

// decodeReply reads an integration answer: its error_code, and its result only when the caller
// wants it (out), which is set only on success. The plain answers every adapter sends are read by
// scanReply without reflection; any other goes through encoding/json as before, a caller without
// out decoding into a struct without result (which encoding/json skips without copying). Both
// accept and refuse exactly the bodies a decode into reply does.
func (c *Client) decodeReply(operation string, body []byte, out *reply) error {
	code, hasCode, result, handled, err := scanReply(body, out != nil)
	if !handled {
		return c.decodeReplyReflect(operation, body, out)
	}
	if err != nil || !hasCode {
		return fmt.Errorf("decoding reply: %w", errMalformedReply)
	}
	if err := c.codeError(operation, code); err != nil {
		return err
	}
	if out != nil {
		// result is a copy, so it outlives body.
		*out = reply{ErrorCode: &code, Result: result}
	}
	return nil
}

// decodeReplyReflect is decodeReply with encoding/json, for answers scanReply leaves.
func (c *Client) decodeReplyReflect(operation string, body []byte, out *reply) error {
	if out == nil {
		var rep struct {
			ErrorCode *resultCode `json:"error_code"`
		}
		if err := json.Unmarshal(body, &rep); err != nil || rep.ErrorCode == nil {
			return fmt.Errorf("decoding reply: %w", errMalformedReply)
		}
		return c.codeError(operation, *rep.ErrorCode)
	}
	var rep reply
	if err := json.Unmarshal(body, &rep); err != nil || rep.ErrorCode == nil {
		return fmt.Errorf("decoding reply: %w", errMalformedReply)
	}
	if err := c.codeError(operation, *rep.ErrorCode); err != nil {
		return err
	}
	// rep.Result is a copy (json.RawMessage copies what it decodes), so it outlives body.
	*out = rep
	return nil
}

// codeError turns the adapter's error_code into nil (success) or a classified error.
func (c *Client) codeError(operation string, code resultCode) error {
	if code.ok() {
		return nil
	}
	pe := &failure.ProtocolError{Partner: c.http.Partner(), Operation: operation, Code: string(code), Retryable: true}
	switch code.canonical() {
	case codeSession:
		return fmt.Errorf("%w: %w", errSession, pe)
	case codeRejected:
		pe.Retryable = false
		return failure.MarkPermanent(fmt.Errorf("%w: %w", portal.ErrRejected, pe))
	case codeUnknown:
		return fmt.Errorf("%w: %w", portal.ErrUnknownDossier, pe)
	default:
		return pe
	}
}

func isAuthError(err error) bool { return errors.Is(err, errSession) }

// JSON media type of every request body and answer, as a ready header value. resty copies a
// request's header map before sending and only ever replaces values, never appends to them, so
// the same slice can go into every request.
var jsonHeaderValue = []string{"application/json"}

// request sets what every request to the adapter carries: the dstcode, Content-Type and Accept
// headers (set straight into the header map with their canonical keys, as SetHeader would) and
// the body, as a *bytes.Reader, which net/http sizes (Content-Length) and rewinds (GetBody) by
// itself, so resty sends payload as it is instead of copying it into buffers first.
func (c *Client) request(r *resty.Request, payload []byte) *resty.Request {
	r.Header["Dstcode"] = c.dstcode
	r.Header["Content-Type"] = jsonHeaderValue
	r.Header["Accept"] = jsonHeaderValue
	return r.SetBody(bytes.NewReader(payload))
}

// login opens a new session.
func (c *Client) login(ctx context.Context) (string, error) {
	payload, err := json.Marshal(loginRequest{Username: c.cfg.Username, Password: c.cfg.Password})
	if err != nil {
		return "", fmt.Errorf("encoding login: %w", err)
	}
	var session string
	err = c.http.DoRead(ctx, opLogin, func(r *resty.Request) (*resty.Response, error) {
		return c.request(r, payload).Post(c.cfg.AuthPath)
	}, func(body []byte) error {
		var rep loginReply
		if err := json.Unmarshal(body, &rep); err != nil || rep.ErrorCode == nil {
			return fmt.Errorf("decoding login reply: %w", errMalformedReply)
		}
		if !rep.ErrorCode.ok() {
			// Wrong credentials or an unknown dstcode: an operator must act, and the messages
			// waiting for the portal must survive until then, so every login refusal is transient.
			return &failure.ProtocolError{Partner: c.http.Partner(), Operation: opLogin, Code: string(*rep.ErrorCode), Retryable: true}
		}
		if rep.Session == "" {
			return fmt.Errorf("decoding login reply: session is empty: %w", errMalformedReply)
		}
		session = rep.Session
		return nil
	})
	if err != nil {
		return "", err
	}
	return session, nil
}

// sessionCache holds the adapter session shared by every caller. When there is none, the first
// caller starts one login and every concurrent caller waits for that same login.
type sessionCache struct {
	login func(ctx context.Context) (string, error)

	mu      sync.Mutex
	session string
	flight  *loginFlight
}

// loginFlight is one login in progress; token and err are set before done is closed.
type loginFlight struct {
	done  chan struct{}
	token string
	err   error
}

// get returns the cached session, logging in when there is none. The login runs detached from
// the caller's cancellation (it stays bounded by the partner client's timeout), so one caller
// giving up does not fail the others waiting for the same login; each caller still stops
// waiting when its own context ends.
func (s *sessionCache) get(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.session != "" {
		session := s.session
		s.mu.Unlock()
		return session, nil
	}
	f := s.flight
	if f == nil {
		f = &loginFlight{done: make(chan struct{})}
		s.flight = f
		go s.run(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (s *sessionCache) run(ctx context.Context, f *loginFlight) {
	token, err := s.login(ctx)
	s.mu.Lock()
	if err == nil {
		s.session = token
	}
	s.flight = nil
	s.mu.Unlock()
	f.token, f.err = token, err
	close(f.done)
}

// invalidate forgets stale, unless another caller has already replaced it: concurrent callers
// that all saw the same session rejected then share one new login.
func (s *sessionCache) invalidate(stale string) {
	s.mu.Lock()
	if s.session == stale {
		s.session = ""
	}
	s.mu.Unlock()
}
