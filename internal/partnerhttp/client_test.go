package partnerhttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/sony/gobreaker/v2"

	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

const testPartner = "dvcqg"

// fakePartner is a partner whose answers the test sets per path, and which counts the requests
// that reach it, so a test can tell a refused call from one the partner answered.
type fakePartner struct {
	srv *httptest.Server

	mu      sync.Mutex
	answers map[string]func(w http.ResponseWriter, r *http.Request)
	hits    map[string]int
	methods map[string][]string
	arrived chan string
}

func newFakePartner(t *testing.T) *fakePartner {
	t.Helper()
	p := &fakePartner{
		answers: map[string]func(http.ResponseWriter, *http.Request){},
		hits:    map[string]int{},
		methods: map[string][]string{},
		arrived: make(chan string, 1024),
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.hits[r.URL.Path]++
		p.methods[r.URL.Path] = append(p.methods[r.URL.Path], r.Method)
		answer := p.answers[r.URL.Path]
		p.mu.Unlock()
		p.arrived <- r.URL.Path
		if answer == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		answer(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// answer makes path answer with a fixed status code.
func (p *fakePartner) answer(path string, code int) {
	p.answerWith(path, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
}

func (p *fakePartner) answerWith(path string, f func(w http.ResponseWriter, r *http.Request)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[path] = f
}

func (p *fakePartner) hitsOf(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

func (p *fakePartner) methodsOf(path string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.methods[path])
}

// dropConnection closes the connection without an answer: a network failure.
func dropConnection(t *testing.T) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijacking the connection: %v", err)
			return
		}
		conn.Close()
	}
}

type call struct{ operation, outcome string }

type transition struct {
	operation string
	from, to  gobreaker.State
}

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu          sync.Mutex
	partners    []string
	calls       []call
	transitions []transition
}

func (r *recorder) ObserveCall(partner, operation, outcome string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partners = append(r.partners, partner)
	r.calls = append(r.calls, call{operation, outcome})
}

func (r *recorder) ObserveBreakerTransition(partner, operation string, from, to gobreaker.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partners = append(r.partners, partner)
	r.transitions = append(r.transitions, transition{operation, from, to})
}

func (r *recorder) outcomes() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) changes() []transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.transitions)
}

// pauser is a Pauser the test switches.
type pauser struct{ on atomic.Bool }

func (p *pauser) Paused(partner string) bool { return partner == testPartner && p.on.Load() }

func newClient(t *testing.T, p *fakePartner, cfg partnerhttp.Config, opts ...partnerhttp.Option) *partnerhttp.Client {
	t.Helper()
	cfg.Partner = testPartner
	cfg.BaseURL = p.srv.URL
	if cfg.BreakerOpenFor == 0 {
		// Long enough that an open breaker stays open for the whole test unless it sets less.
		cfg.BreakerOpenFor = time.Hour
	}
	c, err := partnerhttp.New(cfg, opts...)
	if err != nil {
		t.Fatalf("partnerhttp.New: %v", err)
	}
	return c
}

// get calls operation as a GET of /operation.
func get(ctx context.Context, c *partnerhttp.Client, operation string) (*resty.Response, error) {
	return c.Do(ctx, operation, func(r *resty.Request) (*resty.Response, error) {
		return r.Get("/" + operation)
	})
}

func stateOf(c *partnerhttp.Client, operation string) gobreaker.State {
	return c.BreakerStates()[operation]
}

// waitHalfOpen polls the breaker until BreakerOpenFor has passed and it reports half-open.
func waitHalfOpen(t *testing.T, c *partnerhttp.Client, operation string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for stateOf(c, operation) != gobreaker.StateHalfOpen {
		if time.Now().After(deadline) {
			t.Fatalf("breaker of %s never became half-open (state %v)", operation, stateOf(c, operation))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServerErrorsTripTheEndpointBreaker: N consecutive partner-side failures open the breaker of
// that endpoint only; the next call is refused before any request is sent, as a transient error.
func TestServerErrorsTripTheEndpointBreaker(t *testing.T) {
	t.Parallel()
	const n = 3
	tests := []struct {
		name   string
		answer func(t *testing.T) func(http.ResponseWriter, *http.Request)
	}{
		{name: "500", answer: status(http.StatusInternalServerError)},
		{name: "502", answer: status(http.StatusBadGateway)},
		{name: "503", answer: status(http.StatusServiceUnavailable)},
		{name: "504", answer: status(http.StatusGatewayTimeout)},
		{name: "429 overloaded", answer: status(http.StatusTooManyRequests)},
		{name: "dropped connection", answer: dropConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newFakePartner(t)
			p.answerWith("/sync_dossier", tt.answer(t))
			rec := &recorder{}
			c := newClient(t, p, partnerhttp.Config{BreakerFailures: n}, partnerhttp.WithObserver(rec))
			ctx := t.Context()

			for i := range n {
				if got := stateOf(c, "sync_dossier"); i > 0 && got != gobreaker.StateClosed {
					t.Fatalf("breaker %v after %d failures, want closed until %d", got, i, n)
				}
				_, err := get(ctx, c, "sync_dossier")
				if err == nil {
					t.Fatalf("call %d: no error", i+1)
				}
				if errors.Is(err, partnerhttp.ErrBreakerOpen) {
					t.Fatalf("call %d refused by the breaker before %d failures: %v", i+1, n, err)
				}
				if k := failure.Classify(err); k != failure.Transient {
					t.Fatalf("call %d: classified %v, want transient: %v", i+1, k, err)
				}
			}
			if got := p.hitsOf("/sync_dossier"); got != n {
				t.Fatalf("partner saw %d requests, want %d", got, n)
			}
			if got := stateOf(c, "sync_dossier"); got != gobreaker.StateOpen {
				t.Fatalf("breaker %v after %d consecutive failures, want open", got, n)
			}

			_, err := get(ctx, c, "sync_dossier")
			if !errors.Is(err, partnerhttp.ErrBreakerOpen) {
				t.Fatalf("call on an open breaker: %v, want ErrBreakerOpen", err)
			}
			if !errors.Is(err, gobreaker.ErrOpenState) {
				t.Errorf("refusal does not wrap gobreaker's reason: %v", err)
			}
			if k := failure.Classify(err); k != failure.Transient {
				t.Errorf("refusal classified %v, want transient (the message must wait, not dead-letter)", k)
			}
			if got := p.hitsOf("/sync_dossier"); got != n {
				t.Errorf("a refused call reached the partner: %d requests, want %d", got, n)
			}

			// One breaker per endpoint: the partner's other operations are not affected.
			if _, err := get(ctx, c, "login"); err != nil {
				t.Fatalf("another operation of the same partner: %v", err)
			}
			if got := p.hitsOf("/login"); got != 1 {
				t.Errorf("login reached the partner %d times, want 1", got)
			}
			states := c.BreakerStates()
			if states["sync_dossier"] != gobreaker.StateOpen || states["login"] != gobreaker.StateClosed {
				t.Errorf("breaker states %v, want sync_dossier open and login closed", states)
			}
			calls := rec.outcomes()
			if refused := calls[len(calls)-2]; refused != (call{"sync_dossier", partnerhttp.OutcomeBreakerOpen}) {
				t.Errorf("refused call recorded as %+v, want breaker_open", refused)
			}
		})
	}
}

func status(code int) func(*testing.T) func(http.ResponseWriter, *http.Request) {
	return func(*testing.T) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
	}
}

// TestSuccessResetsConsecutiveFailures: the breaker counts consecutive failures, so failures
// separated by a success do not trip it.
func TestSuccessResetsConsecutiveFailures(t *testing.T) {
	t.Parallel()
	p := newFakePartner(t)
	c := newClient(t, p, partnerhttp.Config{BreakerFailures: 3})
	for range 4 {
		p.answer("/sync_dossier", http.StatusServiceUnavailable)
		for range 2 {
			if _, err := get(t.Context(), c, "sync_dossier"); err == nil || errors.Is(err, partnerhttp.ErrBreakerOpen) {
				t.Fatalf("failing call: %v, want a 503 that reached the partner", err)
			}
		}
		p.answer("/sync_dossier", http.StatusOK)
		if _, err := get(t.Context(), c, "sync_dossier"); err != nil {
			t.Fatalf("successful call: %v", err)
		}
	}
	if got := stateOf(c, "sync_dossier"); got != gobreaker.StateClosed {
		t.Errorf("breaker %v, want closed: no 3 failures were consecutive", got)
	}
}

// TestClientErrorsNeverTripTheBreaker: a 4xx means the partner is up and refused this request; it
// comes back as a permanent *failure.StatusError and never opens the breaker, however many.
func TestClientErrorsNeverTripTheBreaker(t *testing.T) {
	t.Parallel()
	const n = 2
	for _, code := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			p := newFakePartner(t)
			p.answer("/sync_dossier", code)
			rec := &recorder{}
			c := newClient(t, p, partnerhttp.Config{BreakerFailures: n, BreakerMinRequests: n}, partnerhttp.WithObserver(rec))
			const calls = 10 * n
			for i := range calls {
				resp, err := get(t.Context(), c, "sync_dossier")
				var se *failure.StatusError
				if !errors.As(err, &se) {
					t.Fatalf("call %d: %v, want a *failure.StatusError", i+1, err)
				}
				if se.StatusCode != code || se.Partner != testPartner || se.Operation != "sync_dossier" {
					t.Fatalf("call %d: status error %+v, want %s sync_dossier %d", i+1, se, testPartner, code)
				}
				if k := failure.Classify(err); k != failure.Permanent {
					t.Fatalf("call %d: classified %v, want permanent", i+1, k)
				}
				if resp == nil || resp.StatusCode() != code {
					t.Fatalf("call %d: the response does not come back with the error", i+1)
				}
			}
			if got := p.hitsOf("/sync_dossier"); got != calls {
				t.Errorf("partner saw %d of %d requests: the breaker refused some", got, calls)
			}
			if got := stateOf(c, "sync_dossier"); got != gobreaker.StateClosed {
				t.Errorf("breaker %v after %d answers %d, want closed", got, calls, code)
			}
			for _, cl := range rec.outcomes() {
				if cl.outcome != partnerhttp.OutcomePermanent {
					t.Fatalf("call recorded as %q, want %q", cl.outcome, partnerhttp.OutcomePermanent)
				}
			}
			if tr := rec.changes(); len(tr) != 0 {
				t.Errorf("breaker transitions on permanent answers: %+v", tr)
			}
		})
	}
}

// TestCancelledCallsNeverTripTheBreaker: a call cancelled by the caller (a shutdown) says nothing
// about the partner: classified Shutdown, not counted, the breaker stays closed.
func TestCancelledCallsNeverTripTheBreaker(t *testing.T) {
	t.Parallel()
	const n = 2
	tests := []struct {
		name string
		// cancelled runs one call that the caller cancels.
		cancelled func(t *testing.T, p *fakePartner, c *partnerhttp.Client) error
		reaches   bool
	}{
		{
			name: "cancelled before the call",
			cancelled: func(t *testing.T, _ *fakePartner, c *partnerhttp.Client) error {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				_, err := get(ctx, c, "sync_dossier")
				return err
			},
		},
		{
			name: "cancelled while the partner is answering",
			cancelled: func(t *testing.T, p *fakePartner, c *partnerhttp.Client) error {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				go func() {
					<-p.arrived
					cancel()
				}()
				_, err := get(ctx, c, "sync_dossier")
				return err
			},
			reaches: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newFakePartner(t)
			// The partner is slow: it answers only when the caller has gone.
			p.answerWith("/sync_dossier", func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			rec := &recorder{}
			c := newClient(t, p, partnerhttp.Config{BreakerFailures: n, BreakerMinRequests: n}, partnerhttp.WithObserver(rec))
			const calls = 5 * n
			for i := range calls {
				err := tt.cancelled(t, p, c)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("call %d: %v, want context.Canceled", i+1, err)
				}
				if errors.Is(err, partnerhttp.ErrBreakerOpen) {
					t.Fatalf("call %d refused by the breaker: cancellations were counted", i+1)
				}
				if k := failure.Classify(err); k != failure.Shutdown {
					t.Fatalf("call %d: classified %v, want shutdown", i+1, k)
				}
			}
			if got := stateOf(c, "sync_dossier"); got != gobreaker.StateClosed {
				t.Errorf("breaker %v after %d cancelled calls, want closed", got, calls)
			}
			if tt.reaches {
				if got := p.hitsOf("/sync_dossier"); got != calls {
					t.Errorf("partner saw %d requests, want %d", got, calls)
				}
			}
			for _, cl := range rec.outcomes() {
				if cl.outcome != partnerhttp.OutcomeCanceled {
					t.Fatalf("call recorded as %q, want %q", cl.outcome, partnerhttp.OutcomeCanceled)
				}
			}
			// The breaker still counts from zero: the next N-1 real failures do not trip it.
			p.answer("/sync_dossier", http.StatusServiceUnavailable)
			for range n - 1 {
				_, _ = get(t.Context(), c, "sync_dossier")
			}
			if got := stateOf(c, "sync_dossier"); got != gobreaker.StateClosed {
				t.Errorf("breaker %v after %d real failures, want closed", got, n-1)
			}
		})
	}
}

// TestCancellationIsNeitherSuccessNorFailure: a cancelled call is left out of the breaker's
// counts altogether. Counted as a success it would reset the consecutive failures, and as a
// half-open probe it would close the breaker on no evidence that the partner is back.
func TestCancellationIsNeitherSuccessNorFailure(t *testing.T) {
	t.Parallel()
	cancelledCall := func(t *testing.T, c *partnerhttp.Client) {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := get(ctx, c, "sync_dossier"); failure.Classify(err) != failure.Shutdown {
			t.Fatalf("cancelled call: %v, want a shutdown", err)
		}
	}

	t.Run("closed: failures around a cancellation are still consecutive", func(t *testing.T) {
		t.Parallel()
		p := newFakePartner(t)
		p.answer("/sync_dossier", http.StatusServiceUnavailable)
		c := newClient(t, p, partnerhttp.Config{BreakerFailures: 3})
		_, _ = get(t.Context(), c, "sync_dossier")
		_, _ = get(t.Context(), c, "sync_dossier")
		cancelledCall(t, c)
		_, _ = get(t.Context(), c, "sync_dossier")
		if got := stateOf(c, "sync_dossier"); got != gobreaker.StateOpen {
			t.Errorf("breaker %v after 3 failures around a cancellation, want open", got)
		}
	})

	t.Run("half-open: a cancelled probe neither closes it nor uses up the probe", func(t *testing.T) {
		t.Parallel()
		p := newFakePartner(t)
		p.answer("/sync_dossier", http.StatusServiceUnavailable)
		c := newClient(t, p, partnerhttp.Config{BreakerFailures: 1, BreakerOpenFor: 100 * time.Millisecond})
		_, _ = get(t.Context(), c, "sync_dossier")
		waitHalfOpen(t, c, "sync_dossier")
		cancelledCall(t, c)
		if got := stateOf(c, "sync_dossier"); got != gobreaker.StateHalfOpen {
			t.Fatalf("breaker %v after a cancelled probe, want still half-open", got)
		}
		p.answer("/sync_dossier", http.StatusOK)
		if _, err := get(t.Context(), c, "sync_dossier"); err != nil {
			t.Fatalf("the real probe after a cancelled one: %v", err)
		}
		if got := stateOf(c, "sync_dossier"); got != gobreaker.StateClosed {
			t.Errorf("breaker %v after a successful probe, want closed", got)
		}
	})
}

// TestBreakerRecovers: once BreakerOpenFor has passed the breaker is half-open and lets one probe
// through; the probe's result closes or reopens it.
func TestBreakerRecovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		probe int
		want  gobreaker.State
	}{
		{name: "a successful probe closes it", probe: http.StatusOK, want: gobreaker.StateClosed},
		{name: "a permanent answer closes it (the partner is up)", probe: http.StatusNotFound, want: gobreaker.StateClosed},
		{name: "a failed probe opens it again", probe: http.StatusServiceUnavailable, want: gobreaker.StateOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newFakePartner(t)
			p.answer("/sync_dossier", http.StatusServiceUnavailable)
			c := newClient(t, p, partnerhttp.Config{BreakerFailures: 2, BreakerOpenFor: 100 * time.Millisecond})
			for range 2 {
				_, _ = get(t.Context(), c, "sync_dossier")
			}
			if got := stateOf(c, "sync_dossier"); got != gobreaker.StateOpen {
				t.Fatalf("breaker %v, want open", got)
			}

			waitHalfOpen(t, c, "sync_dossier")
			p.answer("/sync_dossier", tt.probe)
			_, _ = get(t.Context(), c, "sync_dossier")
			if got := p.hitsOf("/sync_dossier"); got != 3 {
				t.Fatalf("partner saw %d requests, want 3 (two failures and the probe)", got)
			}
			if got := stateOf(c, "sync_dossier"); got != tt.want {
				t.Fatalf("breaker %v after a probe answered %d, want %v", got, tt.probe, tt.want)
			}

			_, err := get(t.Context(), c, "sync_dossier")
			if refused := errors.Is(err, partnerhttp.ErrBreakerOpen); refused != (tt.want == gobreaker.StateOpen) {
				t.Errorf("call after the probe: %v (breaker %v)", err, tt.want)
			}
		})
	}
}

// TestHalfOpenLetsOneProbeThrough: while the probe is in flight, other calls of the endpoint are
// refused without reaching the partner.
func TestHalfOpenLetsOneProbeThrough(t *testing.T) {
	t.Parallel()
	p := newFakePartner(t)
	p.answer("/sync_dossier", http.StatusServiceUnavailable)
	c := newClient(t, p, partnerhttp.Config{BreakerFailures: 1, BreakerOpenFor: 100 * time.Millisecond})
	_, _ = get(t.Context(), c, "sync_dossier")
	<-p.arrived
	waitHalfOpen(t, c, "sync_dossier")

	release := make(chan struct{})
	p.answerWith("/sync_dossier", func(w http.ResponseWriter, _ *http.Request) {
		<-release
		w.WriteHeader(http.StatusOK)
	})
	probe := make(chan error, 1)
	go func() {
		_, err := get(t.Context(), c, "sync_dossier")
		probe <- err
	}()
	<-p.arrived // the probe is at the partner

	_, err := get(t.Context(), c, "sync_dossier")
	if !errors.Is(err, partnerhttp.ErrBreakerOpen) || !errors.Is(err, gobreaker.ErrTooManyRequests) {
		t.Errorf("second call during the probe: %v, want ErrBreakerOpen (too many requests)", err)
	}
	if k := failure.Classify(err); k != failure.Transient {
		t.Errorf("refusal classified %v, want transient", k)
	}
	close(release)
	if err := <-probe; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if got := p.hitsOf("/sync_dossier"); got != 2 {
		t.Errorf("partner saw %d requests, want 2 (the failure and the probe)", got)
	}
	if got := stateOf(c, "sync_dossier"); got != gobreaker.StateClosed {
		t.Errorf("breaker %v after a successful probe, want closed", got)
	}
}

// TestPausedPartnerIsRefused: while paused, no request is built or sent, the error is a transient
// ErrPartnerPaused, and the refusals do not count against the breaker.
func TestPausedPartnerIsRefused(t *testing.T) {
	t.Parallel()
	p := newFakePartner(t)
	pz := &pauser{}
	pz.on.Store(true)
	rec := &recorder{}
	c := newClient(t, p, partnerhttp.Config{BreakerFailures: 2, BreakerMinRequests: 2},
		partnerhttp.WithPauser(pz), partnerhttp.WithObserver(rec))
	c.Prepare("sync_dossier")

	for i := range 10 {
		built := false
		_, err := c.Do(t.Context(), "sync_dossier", func(r *resty.Request) (*resty.Response, error) {
			built = true
			return r.Get("/sync_dossier")
		})
		if !errors.Is(err, failure.ErrPartnerPaused) {
			t.Fatalf("call %d while paused: %v, want ErrPartnerPaused", i+1, err)
		}
		if k := failure.Classify(err); k != failure.Transient {
			t.Fatalf("call %d: classified %v, want transient", i+1, k)
		}
		if built {
			t.Fatalf("call %d: the request was built while paused", i+1)
		}
	}
	if got := p.hitsOf("/sync_dossier"); got != 0 {
		t.Errorf("a paused partner received %d requests", got)
	}
	if got := stateOf(c, "sync_dossier"); got != gobreaker.StateClosed {
		t.Errorf("breaker %v after refusals while paused, want closed", got)
	}

	pz.on.Store(false)
	if _, err := get(t.Context(), c, "sync_dossier"); err != nil {
		t.Fatalf("call after the pause: %v", err)
	}
	calls := rec.outcomes()
	if len(calls) != 11 {
		t.Fatalf("recorded %d calls, want 11", len(calls))
	}
	for _, cl := range calls[:10] {
		if cl.outcome != partnerhttp.OutcomePaused {
			t.Fatalf("call while paused recorded as %q, want %q", cl.outcome, partnerhttp.OutcomePaused)
		}
	}
	if calls[10].outcome != partnerhttp.OutcomeOK {
		t.Errorf("call after the pause recorded as %q, want ok", calls[10].outcome)
	}
}

// TestObserverSeesOutcomesAndTransitions: every call is recorded once with its outcome, and the
// breaker's life closed → open → half-open → closed is reported in order.
func TestObserverSeesOutcomesAndTransitions(t *testing.T) {
	t.Parallel()
	p := newFakePartner(t)
	pz := &pauser{}
	rec := &recorder{}
	c := newClient(t, p, partnerhttp.Config{BreakerFailures: 2, BreakerOpenFor: 100 * time.Millisecond},
		partnerhttp.WithPauser(pz), partnerhttp.WithObserver(rec))
	ctx := t.Context()
	const op = "sync_dossier"

	p.answer("/"+op, http.StatusOK)
	_, _ = get(ctx, c, op)
	p.answer("/"+op, http.StatusUnprocessableEntity)
	_, _ = get(ctx, c, op)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = get(cancelled, c, op)
	pz.on.Store(true)
	_, _ = get(ctx, c, op)
	pz.on.Store(false)
	p.answer("/"+op, http.StatusBadGateway)
	_, _ = get(ctx, c, op)
	_, _ = get(ctx, c, op) // second consecutive failure: opens
	_, _ = get(ctx, c, op) // refused
	waitHalfOpen(t, c, op)
	p.answer("/"+op, http.StatusOK)
	_, _ = get(ctx, c, op) // the probe closes it

	wantCalls := []call{
		{op, partnerhttp.OutcomeOK},
		{op, partnerhttp.OutcomePermanent},
		{op, partnerhttp.OutcomeCanceled},
		{op, partnerhttp.OutcomePaused},
		{op, partnerhttp.OutcomeTransient},
		{op, partnerhttp.OutcomeTransient},
		{op, partnerhttp.OutcomeBreakerOpen},
		{op, partnerhttp.OutcomeOK},
	}
	if got := rec.outcomes(); !slices.Equal(got, wantCalls) {
		t.Errorf("recorded calls\n got %+v\nwant %+v", got, wantCalls)
	}
	wantTransitions := []transition{
		{op, gobreaker.StateClosed, gobreaker.StateOpen},
		{op, gobreaker.StateOpen, gobreaker.StateHalfOpen},
		{op, gobreaker.StateHalfOpen, gobreaker.StateClosed},
	}
	if got := rec.changes(); !slices.Equal(got, wantTransitions) {
		t.Errorf("recorded transitions\n got %+v\nwant %+v", got, wantTransitions)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, partner := range rec.partners {
		if partner != testPartner {
			t.Fatalf("observer told partner %q, want %q", partner, testPartner)
		}
	}
}

// TestFailingPostIsSentOnce: the client never retries behind the caller's back, so a failing
// non-idempotent call reaches the partner exactly once per Do, even on a reused connection.
func TestFailingPostIsSentOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func(t *testing.T) func(http.ResponseWriter, *http.Request)
	}{
		{name: "500", answer: status(http.StatusInternalServerError)},
		{name: "503", answer: status(http.StatusServiceUnavailable)},
		{name: "429", answer: status(http.StatusTooManyRequests)},
		{name: "dropped connection", answer: dropConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newFakePartner(t)
			c := newClient(t, p, partnerhttp.Config{BreakerFailures: 100})
			// Warm a keep-alive connection, so a dropped one is a reused one (the case Go's
			// transport would replay for idempotent requests).
			if _, err := get(t.Context(), c, "login"); err != nil {
				t.Fatalf("login: %v", err)
			}
			p.answerWith("/submit", tt.answer(t))
			for i := 1; i <= 3; i++ {
				_, err := c.Do(t.Context(), "submit", func(r *resty.Request) (*resty.Response, error) {
					return r.SetBody(map[string]string{"MaHoSo": "000.00.00.H00-250101-0001"}).Post("/submit")
				})
				if err == nil {
					t.Fatalf("call %d: no error", i)
				}
				if got := p.hitsOf("/submit"); got != i {
					t.Fatalf("after %d calls the partner saw %d POSTs", i, got)
				}
			}
			for _, m := range p.methodsOf("/submit") {
				if m != http.MethodPost {
					t.Errorf("method %s, want POST", m)
				}
			}
		})
	}
}
