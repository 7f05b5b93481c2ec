package dvcqg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/connectors/portal/dvcqg"
	"github.com/egov-vn/gateway/connectors/portal/portaltest"
	"github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

const (
	testUsername = "gateway-h37"
	testPassword = "sandbox-password-H37"
	testDstCode  = "DVCQG-SANDBOX"
	testMaDonVi  = "000.00.00.H37"
	// mountPath is where the dev profile mounts the sandbox.
	mountPath = "/sandbox/dvcqg"
)

func testConfig() dvcqg.Config {
	return dvcqg.Config{
		AuthPath:        "/auth",
		IntegrationPath: "/integration",
		Username:        testUsername,
		Password:        testPassword,
		DstCode:         testDstCode,
		MaDonVi:         testMaDonVi,
	}
}

// newClient builds the dialect on a partner client pointed at baseURL.
func newClient(t *testing.T, baseURL string) *dvcqg.Client {
	t.Helper()
	hc, err := partnerhttp.New(partnerhttp.Config{Partner: "dvcqg", BaseURL: baseURL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("building partner client: %v", err)
	}
	c, err := dvcqg.New(testConfig(), hc)
	if err != nil {
		t.Fatalf("building dialect: %v", err)
	}
	return c
}

// newDialect mounts a fresh sandbox where the dev profile does and points the dialect at it.
func newDialect(t *testing.T) (portal.Portal, *sandbox.Sandbox) {
	t.Helper()
	sb := sandbox.New(sandbox.Config{Username: testUsername, Password: testPassword, DstCode: testDstCode})
	mux := http.NewServeMux()
	mux.Handle(mountPath+"/", http.StripPrefix(mountPath, sb.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL+mountPath), sb
}

func TestContract(t *testing.T) {
	t.Parallel()
	portaltest.RunContract(t, newDialect)
}

func TestSandboxRejectionIsPartnerCode10(t *testing.T) {
	t.Parallel()
	p, sb := newDialect(t)
	d := portaltest.Dossier("H37-RJ-0010")
	d.ProcedureCode = "" // the dialect sends it; the sandbox refuses it
	err := p.UpsertDossier(t.Context(), d)
	var pe *failure.ProtocolError
	if !errors.As(err, &pe) || pe.Code != "10" || pe.Operation != "sync_dossier" || pe.Partner != "dvcqg" {
		t.Fatalf("error %v, want the partner's code 10 on sync_dossier", err)
	}
	if !failure.IsPermanent(err) || !errors.Is(err, portal.ErrRejected) {
		t.Fatalf("error %v must be permanent and wrap portal.ErrRejected", err)
	}
	if !strings.Contains(err.Error(), "DongBoHoSoMC") {
		t.Errorf("error %q does not name the service", err)
	}
	if got := sb.Logins(); got != 1 {
		t.Errorf("logins = %d, want 1: a data rejection must not trigger a re-login", got)
	}
}

func TestStepForUnknownDossierIsTransient(t *testing.T) {
	t.Parallel()
	p, _ := newDialect(t)
	err := p.AddProgress(t.Context(), portaltest.Step("H37-UNKNOWN-0001", "Thẩm định"))
	var pe *failure.ProtocolError
	if !errors.As(err, &pe) || pe.Code != "11" {
		t.Fatalf("error %v, want the partner's code 11", err)
	}
	if got := failure.Classify(err); got != failure.Transient {
		t.Fatalf("classified %s, want transient: the dossier's sync may still land", got)
	}
}

func TestSessionTTLExpiryIsTransparent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)
	sb := sandbox.New(sandbox.Config{
		Username: testUsername, Password: testPassword, DstCode: testDstCode,
		SessionTTL: time.Minute,
		Now:        func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL)
	d := portaltest.Dossier("H37-TTL-0001")
	if err := c.UpsertDossier(t.Context(), d); err != nil {
		t.Fatalf("creating dossier: %v", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if err := c.AddProgress(t.Context(), portaltest.Step(d.Code, "Thẩm định")); err != nil {
		t.Fatalf("adding step after the TTL: %v", err)
	}
	if got := sb.Logins(); got != 2 {
		t.Fatalf("logins = %d, want 2", got)
	}
}

func TestLoginRefusedIsTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      sandbox.Config
		wantCode string
	}{
		{name: "wrong password", cfg: sandbox.Config{Username: testUsername, Password: "another", DstCode: testDstCode}, wantCode: "02"},
		{name: "wrong username", cfg: sandbox.Config{Username: "someone", Password: testPassword, DstCode: testDstCode}, wantCode: "02"},
		{name: "wrong dstcode", cfg: sandbox.Config{Username: testUsername, Password: testPassword, DstCode: "OTHER"}, wantCode: "03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(sandbox.New(tt.cfg).Handler())
			t.Cleanup(srv.Close)
			err := newClient(t, srv.URL).UpsertDossier(t.Context(), portaltest.Dossier("H37-LG-0001"))
			var pe *failure.ProtocolError
			if !errors.As(err, &pe) || pe.Code != tt.wantCode || pe.Operation != "login" {
				t.Fatalf("error %v, want code %s on login", err, tt.wantCode)
			}
			if got := failure.Classify(err); got != failure.Transient {
				t.Fatalf("classified %s, want transient: credentials are fixed by ops while messages wait", got)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Fatalf("error %q carries the password", err)
			}
		})
	}
}

// fakeAdapter is a scripted adapter for what the sandbox never does on its own: odd reply
// shapes, HTTP 401, replies echoing the request.
type fakeAdapter struct {
	// login answers the n-th login (from 1); nil answers {"session":"s<n>","error_code":0}.
	login func(n int) (int, string)
	// integrate answers the n-th integration call (from 1); nil answers success with an empty
	// result.
	integrate func(n int, req captured) (int, string)
	// loginStarted, when set, is signalled (without blocking) when a login arrives; loginGate,
	// when set, holds every login until it is closed.
	loginStarted chan struct{}
	loginGate    chan struct{}

	mu       sync.Mutex
	logins   int
	requests []captured
}

// captured is one request the fake adapter received.
type captured struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Service      string
	Session      string
}

func (f *fakeAdapter) start(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		f.capture(t, r)
		if f.loginStarted != nil {
			select {
			case f.loginStarted <- struct{}{}:
			default:
			}
		}
		if f.loginGate != nil {
			<-f.loginGate
		}
		f.mu.Lock()
		f.logins++
		n := f.logins
		f.mu.Unlock()
		status, body := http.StatusOK, `{"session":"s`+strconv.Itoa(n)+`","error_code":0}`
		if f.login != nil {
			status, body = f.login(n)
		}
		write(w, status, body)
	})
	mux.HandleFunc("/integration", func(w http.ResponseWriter, r *http.Request) {
		req := f.capture(t, r)
		f.mu.Lock()
		n := 0
		for _, c := range f.requests {
			if c.Path == "/integration" {
				n++
			}
		}
		f.mu.Unlock()
		status, body := http.StatusOK, `{"error_code":"00","result":[]}`
		if f.integrate != nil {
			status, body = f.integrate(n, req)
		}
		write(w, status, body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (f *fakeAdapter) capture(t *testing.T, r *http.Request) captured {
	t.Helper()
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(r.Body)
	var env struct {
		Service string `json:"service"`
		Session string `json:"session"`
	}
	_ = json.Unmarshal(body.Bytes(), &env)
	c := captured{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body.Bytes(), Service: env.Service, Session: env.Session}
	f.mu.Lock()
	f.requests = append(f.requests, c)
	f.mu.Unlock()
	return c
}

func (f *fakeAdapter) snapshot() (logins int, integration []captured) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.requests {
		if c.Path == "/integration" {
			integration = append(integration, c)
		}
	}
	return f.logins, integration
}

func write(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// echo answers code with a message quoting the whole request, as some adapters do.
func echo(code string) func(int, captured) (int, string) {
	return func(_ int, req captured) (int, string) {
		msg, _ := json.Marshal("invalid request: " + string(req.Body))
		return http.StatusOK, `{"error_code":` + code + `,"message":` + string(msg) + `}`
	}
}

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		status       int
		body         string
		wantErr      bool
		wantKind     failure.Kind
		wantRejected bool
		wantUnknown  bool   // wraps portal.ErrUnknownDossier
		wantCode     string // the ProtocolError's code, when one is expected
	}{
		{name: "success string 00", status: 200, body: `{"error_code":"00"}`},
		{name: "success number 0", status: 200, body: `{"error_code":0}`},
		{name: "success string 0", status: 200, body: `{"error_code":"0"}`},
		{name: "data rejected 10", status: 200, body: `"10"`, wantErr: true, wantKind: failure.Permanent, wantRejected: true, wantCode: "10"},
		{name: "data rejected number 10", status: 200, body: `10`, wantErr: true, wantKind: failure.Permanent, wantRejected: true, wantCode: "10"},
		{name: "dossier unknown 11", status: 200, body: `"11"`, wantErr: true, wantKind: failure.Transient, wantUnknown: true, wantCode: "11"},
		{name: "dossier unknown number 11", status: 200, body: `11`, wantErr: true, wantKind: failure.Transient, wantUnknown: true, wantCode: "11"},
		{name: "unit not accepted 03", status: 200, body: `"03"`, wantErr: true, wantKind: failure.Transient, wantCode: "03"},
		{name: "adapter failure 99", status: 200, body: `"99"`, wantErr: true, wantKind: failure.Transient, wantCode: "99"},
		{name: "unknown code 57", status: 200, body: `"57"`, wantErr: true, wantKind: failure.Transient, wantCode: "57"},
		{name: "negative code", status: 200, body: `-1`, wantErr: true, wantKind: failure.Transient, wantCode: "-1"},
		{name: "http 400", status: 400, body: `{"error_code":"10"}`, wantErr: true, wantKind: failure.Permanent, wantRejected: true},
		{name: "http 422", status: 422, body: `{}`, wantErr: true, wantKind: failure.Permanent, wantRejected: true},
		{name: "http 500", status: 500, body: `{}`, wantErr: true, wantKind: failure.Transient},
		{name: "http 503", status: 503, body: `{}`, wantErr: true, wantKind: failure.Transient},
		{name: "html error page", status: 200, body: `<html>Bad gateway</html>`, wantErr: true, wantKind: failure.Transient},
		{name: "no error_code", status: 200, body: `{"result":[]}`, wantErr: true, wantKind: failure.Transient},
		{name: "boolean error_code", status: 200, body: `{"error_code":true}`, wantErr: true, wantKind: failure.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fa := &fakeAdapter{integrate: func(n int, req captured) (int, string) {
				if strings.HasPrefix(tt.body, "{") || strings.HasPrefix(tt.body, "<") {
					return tt.status, tt.body
				}
				return echo(tt.body)(n, req)
			}}
			err := newClient(t, fa.start(t)).AddProgress(t.Context(), portaltest.Step("H37-EC-0001", "Thẩm định"))
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got := failure.Classify(err); got != tt.wantKind {
				t.Errorf("error %q classified %s, want %s", err, got, tt.wantKind)
			}
			if got := errors.Is(err, portal.ErrRejected); got != tt.wantRejected {
				t.Errorf("errors.Is(err, portal.ErrRejected) = %v, want %v (error %q)", got, tt.wantRejected, err)
			}
			if got := errors.Is(err, portal.ErrUnknownDossier); got != tt.wantUnknown {
				t.Errorf("errors.Is(err, portal.ErrUnknownDossier) = %v, want %v (error %q)", got, tt.wantUnknown, err)
			}
			if tt.wantCode != "" {
				var pe *failure.ProtocolError
				if !errors.As(err, &pe) || pe.Code != tt.wantCode || pe.Operation != "add_progress" {
					t.Errorf("error %q, want a ProtocolError with code %s on add_progress", err, tt.wantCode)
				}
				if !strings.Contains(err.Error(), "CapNhatTienDoHoSoMC") {
					t.Errorf("error %q does not name the service", err)
				}
			}
			for _, pii := range []string{"Trần Thị Bình", "invalid request", "Thẩm định"} {
				if strings.Contains(err.Error(), pii) {
					t.Errorf("error %q carries the reply's message or personal data", err)
				}
			}
			if logins, calls := fa.snapshot(); logins != 1 || len(calls) != 1 {
				t.Errorf("logins=%d calls=%d, want 1/1: only an auth error is retried", logins, len(calls))
			}
		})
	}
}

func TestReloginOnAuthError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		first      func() (int, string) // answer to the first call
		later      func() (int, string) // answer to every later call
		wantErr    bool
		wantLogins int
		wantCalls  int
	}{
		{
			name:  "http 401 once",
			first: func() (int, string) { return http.StatusUnauthorized, `{}` },
			later: ok, wantLogins: 2, wantCalls: 2,
		},
		{
			name:  "error_code 01 once",
			first: func() (int, string) { return http.StatusOK, `{"error_code":"01","message":"Session het han"}` },
			later: ok, wantLogins: 2, wantCalls: 2,
		},
		{
			name:  "error_code 1 as a number once",
			first: func() (int, string) { return http.StatusOK, `{"error_code":1}` },
			later: ok, wantLogins: 2, wantCalls: 2,
		},
		{
			name:    "error_code 01 every time: re-login once, then give up",
			first:   func() (int, string) { return http.StatusOK, `{"error_code":"01"}` },
			later:   func() (int, string) { return http.StatusOK, `{"error_code":"01"}` },
			wantErr: true, wantLogins: 2, wantCalls: 2,
		},
		{
			name:    "http 401 every time: re-login once, then give up",
			first:   func() (int, string) { return http.StatusUnauthorized, `{}` },
			later:   func() (int, string) { return http.StatusUnauthorized, `{}` },
			wantErr: true, wantLogins: 2, wantCalls: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fa := &fakeAdapter{integrate: func(n int, _ captured) (int, string) {
				if n == 1 {
					return tt.first()
				}
				return tt.later()
			}}
			err := newClient(t, fa.start(t)).AddProgress(t.Context(), portaltest.Step("H37-RL-0001", "Thẩm định"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && failure.Classify(err) != failure.Transient {
				t.Errorf("persistent auth error %q classified %s, want transient", err, failure.Classify(err))
			}
			logins, calls := fa.snapshot()
			if logins != tt.wantLogins || len(calls) != tt.wantCalls {
				t.Fatalf("logins=%d calls=%d, want %d/%d", logins, len(calls), tt.wantLogins, tt.wantCalls)
			}
			if calls[0].Session != "s1" || calls[1].Session != "s2" {
				t.Errorf("sessions used = %q, %q; want s1 then the new s2", calls[0].Session, calls[1].Session)
			}
		})
	}
}

func ok() (int, string) { return http.StatusOK, `{"error_code":"00"}` }

func TestLoginReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		body     string
		wantErr  bool
		wantCode string
	}{
		{name: "integer 0", status: 200, body: `{"session":"s1","error_code":0}`},
		{name: "string 00", status: 200, body: `{"session":"s1","error_code":"00"}`},
		{name: "wrong credentials", status: 200, body: `{"error_code":"02","message":"sai mat khau sandbox-password-H37"}`, wantErr: true, wantCode: "02"},
		{name: "success without session", status: 200, body: `{"error_code":0}`, wantErr: true},
		{name: "no error_code", status: 200, body: `{"session":"s1"}`, wantErr: true},
		{name: "http 503", status: 503, body: ``, wantErr: true},
		{name: "not JSON", status: 200, body: `Service Unavailable`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fa := &fakeAdapter{login: func(int) (int, string) { return tt.status, tt.body }}
			err := newClient(t, fa.start(t)).AddProgress(t.Context(), portaltest.Step("H37-LR-0001", "Thẩm định"))
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if _, calls := fa.snapshot(); len(calls) != 1 || calls[0].Session != "s1" {
					t.Fatalf("calls = %+v, want one call with session s1", calls)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got := failure.Classify(err); got != failure.Transient {
				t.Errorf("error %q classified %s, want transient", err, got)
			}
			if tt.wantCode != "" {
				var pe *failure.ProtocolError
				if !errors.As(err, &pe) || pe.Code != tt.wantCode || pe.Operation != "login" {
					t.Errorf("error %q, want a ProtocolError with code %s on login", err, tt.wantCode)
				}
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error %q carries the password", err)
			}
			if _, calls := fa.snapshot(); len(calls) != 0 {
				t.Errorf("%d integration calls without a session, want 0", len(calls))
			}
		})
	}
}

func TestConcurrentCallersShareOneLogin(t *testing.T) {
	t.Parallel()
	fa := &fakeAdapter{loginStarted: make(chan struct{}, 1), loginGate: make(chan struct{})}
	c := newClient(t, fa.start(t))

	// The first caller starts the login, then gives up while it is in flight.
	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leaderErr := make(chan error, 1)
	go func() { leaderErr <- c.AddProgress(leaderCtx, portaltest.Step("H37-SF-0000", "Thẩm định")) }()
	select {
	case <-fa.loginStarted:
	case <-time.After(5 * time.Second):
		t.Fatal("no login started")
	}

	const followers = 8
	errs := make(chan error, followers)
	for i := range followers {
		go func() {
			errs <- c.AddProgress(t.Context(), portaltest.Step("H37-SF-000"+strconv.Itoa(i+1), "Thẩm định"))
		}()
	}
	cancelLeader()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader error = %v, want its own cancellation", err)
	}
	close(fa.loginGate)
	for range followers {
		if err := <-errs; err != nil {
			t.Fatalf("follower: %v (one caller giving up must not fail the others)", err)
		}
	}
	logins, calls := fa.snapshot()
	if logins != 1 {
		t.Fatalf("logins = %d, want 1", logins)
	}
	if len(calls) != followers {
		t.Fatalf("integration calls = %d, want %d", len(calls), followers)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mutate   func(c *dvcqg.Config)
		wantErrs []string
	}{
		{name: "complete", mutate: func(*dvcqg.Config) {}},
		{
			name:     "empty",
			mutate:   func(c *dvcqg.Config) { *c = dvcqg.Config{} },
			wantErrs: []string{"auth path", "integration path", "username", "password", "dstcode", "madonvi"},
		},
		{name: "no password", mutate: func(c *dvcqg.Config) { c.Password = "" }, wantErrs: []string{"password"}},
		{name: "no madonvi", mutate: func(c *dvcqg.Config) { c.MaDonVi = "" }, wantErrs: []string{"madonvi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			if len(tt.wantErrs) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.wantErrs {
				if !strings.Contains(err.Error(), want+" is empty") {
					t.Errorf("error %q does not report %q", err, want)
				}
			}
			if got := strings.Count(err.Error(), "is empty"); got != len(tt.wantErrs) {
				t.Errorf("error %q reports %d problems, want %d", err, got, len(tt.wantErrs))
			}
			hc, herr := partnerhttp.New(partnerhttp.Config{Partner: "dvcqg", BaseURL: "http://127.0.0.1:1"})
			if herr != nil {
				t.Fatal(herr)
			}
			if _, err := dvcqg.New(cfg, hc); err == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestNewRejectsNilClient(t *testing.T) {
	t.Parallel()
	if _, err := dvcqg.New(testConfig(), nil); err == nil || !strings.Contains(err.Error(), "client is nil") {
		t.Fatalf("New with a nil client: error %v", err)
	}
}

// Golden request bodies: testdata/<name>.json holds what the dialect sends, pretty-printed.
// UPDATE_GOLDEN=1 go test ./connectors/portal/dvcqg/ regenerates them.

var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

// goldenCalls is the order of the requests of goldenScenario, by golden file name.
var goldenCalls = []struct {
	name, path, service string
}{
	{name: "login", path: "/auth"},
	{name: "TraCuuHoSo", path: "/integration", service: "TraCuuHoSo"},
	{name: "DongBoHoSoMC_create", path: "/integration", service: "DongBoHoSoMC"},
	{name: "TraCuuHoSo_existing", path: "/integration", service: "TraCuuHoSo"},
	{name: "DongBoHoSoMC_update", path: "/integration", service: "DongBoHoSoMC"},
	{name: "CapNhatTienDoHoSoMC", path: "/integration", service: "CapNhatTienDoHoSoMC"},
}

// goldenScenario creates a dossier, updates it and adds a step against an adapter that
// remembers nothing but whether the dossier exists, and returns every request.
func goldenScenario(t *testing.T) []captured {
	t.Helper()
	var (
		mu     sync.Mutex
		exists bool
	)
	fa := &fakeAdapter{
		login: func(int) (int, string) { return http.StatusOK, `{"session":"golden-session","error_code":0}` },
		integrate: func(_ int, req captured) (int, string) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case req.Service == "TraCuuHoSo" && exists:
				return http.StatusOK, `{"error_code":"00","result":[{"MaHoSo":"000.00.00.H37-250303-0001"}]}`
			case req.Service == "DongBoHoSoMC":
				exists = true
			}
			return http.StatusOK, `{"error_code":"00","result":[]}`
		},
	}
	c := newClient(t, fa.start(t))
	ctx := t.Context()
	d := portaltest.Dossier("000.00.00.H37-250303-0001")
	if err := c.UpsertDossier(ctx, d); err != nil {
		t.Fatalf("creating dossier: %v", err)
	}
	d.Status = portal.StatusFinished
	d.ReturnedAt = time.Date(2025, 3, 14, 3, 0, 0, 0, time.UTC)
	d.Results = []portal.Document{{Code: "KQ1", Name: "Giấy phép xây dựng", URL: "https://files.example.vn/kq1.pdf"}}
	if err := c.UpsertDossier(ctx, d); err != nil {
		t.Fatalf("updating dossier: %v", err)
	}
	s := portaltest.Step(d.Code, "Thẩm định hồ sơ")
	s.DueAt = time.Time{}
	if err := c.AddProgress(ctx, s); err != nil {
		t.Fatalf("adding step: %v", err)
	}
	fa.mu.Lock()
	defer fa.mu.Unlock()
	return slices.Clone(fa.requests)
}

func TestGoldenRequests(t *testing.T) {
	t.Parallel()
	reqs := goldenScenario(t)
	if len(reqs) != len(goldenCalls) {
		t.Fatalf("%d requests, want %d", len(reqs), len(goldenCalls))
	}
	for i, call := range goldenCalls {
		req := reqs[i]
		t.Run(call.name, func(t *testing.T) {
			if req.Method != http.MethodPost || req.Path != call.path || req.Service != call.service {
				t.Fatalf("request %d = %s %s service %q, want POST %s service %q", i, req.Method, req.Path, req.Service, call.path, call.service)
			}
			if got := req.Header.Get("dstcode"); got != testDstCode {
				t.Errorf("dstcode header = %q, want %q", got, testDstCode)
			}
			if got := req.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, req.Body, "", "  "); err != nil {
				t.Fatalf("request body is not JSON: %v", err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", call.name+".json")
			if updateGolden {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading %s: %v (create it with UPDATE_GOLDEN=1 go test ./connectors/portal/dvcqg/)", path, err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("%s is stale; if the change is intended, regenerate with UPDATE_GOLDEN=1 go test ./connectors/portal/dvcqg/\n--- got\n%s\n--- want\n%s", path, pretty.Bytes(), want)
			}
		})
	}
}

// TestGoldenFilesAreAllUsed fails on a golden file that no request produces any more.
func TestGoldenFilesAreAllUsed(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 && !updateGolden {
		t.Fatal("no golden files in testdata; create them with UPDATE_GOLDEN=1 go test ./connectors/portal/dvcqg/")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if !slices.ContainsFunc(goldenCalls, func(c struct{ name, path, service string }) bool { return c.name == name }) {
			t.Errorf("%s matches no request of the golden scenario; delete it", f)
		}
	}
}

// TestUpdateDossierSkipsTheLookUp: a dossier the portal holds is sent with one call, the same
// DongBoHoSoMC update (isUpdating "True") as the golden scenario's second upsert, with no
// TraCuuHoSo before it.
func TestUpdateDossierSkipsTheLookUp(t *testing.T) {
	t.Parallel()
	fa := &fakeAdapter{login: func(int) (int, string) { return http.StatusOK, `{"session":"golden-session","error_code":0}` }}
	c := newClient(t, fa.start(t))
	d := portaltest.Dossier("000.00.00.H37-250303-0001")
	d.Status = portal.StatusFinished
	d.ReturnedAt = time.Date(2025, 3, 14, 3, 0, 0, 0, time.UTC)
	d.Results = []portal.Document{{Code: "KQ1", Name: "Giấy phép xây dựng", URL: "https://files.example.vn/kq1.pdf"}}
	if err := c.UpdateDossier(t.Context(), d); err != nil {
		t.Fatalf("UpdateDossier: %v", err)
	}
	_, reqs := fa.snapshot()
	if len(reqs) != 1 || reqs[0].Service != "DongBoHoSoMC" {
		t.Fatalf("requests %v, want one DongBoHoSoMC", reqs)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, reqs[0].Body, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	want, err := os.ReadFile(filepath.Join("testdata", "DongBoHoSoMC_update.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("update body differs from the golden update\n--- got\n%s\n--- want\n%s", pretty.Bytes(), want)
	}
}
