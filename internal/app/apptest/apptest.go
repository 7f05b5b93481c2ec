// Package apptest boots a whole gateway in process for tests and load runs: the dev profile on
// free loopback ports, with either the embedded store or a real Redis, a unique key prefix, and
// fast retry schedules.
package apptest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/app"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/testredis"
)

// Store selects the store of a test gateway.
type Store int

const (
	// Embedded is the dev profile's in-process store.
	Embedded Store = iota
	// RealRedis is the test Redis (testredis.URL).
	RealRedis
)

func (s Store) String() string {
	if s == RealRedis {
		return "redis"
	}
	return "embedded"
}

// Stores lists both, for tests that run on each.
var Stores = []Store{Embedded, RealRedis}

// Gateway is a running test gateway.
type Gateway struct {
	*app.App
	API   string // http://host:port of the API listener ("" for a worker, which serves none)
	Admin string // http://host:port of the admin listener

	stop func() error
}

// Stop shuts the gateway down gracefully and returns what Run returned; later calls do nothing.
func (g *Gateway) Stop() error { return g.stop() }

// Config returns a dev-profile configuration for tests; tune it before Start.
func Config(t testing.TB, s Store) config.Config {
	t.Helper()
	cfg := config.DevProfile()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Admin.Addr = "127.0.0.1:0"
	cfg.HTTP.PublicURL = ""
	cfg.Portal.BaseURL = ""
	cfg.Onestop.URL = ""
	cfg.Routing.Replica = "t" + strings.ReplaceAll(t.Name(), "/", "_")
	if len(cfg.Routing.Replica) > 40 {
		cfg.Routing.Replica = cfg.Routing.Replica[:40]
	}
	cfg.Routing.HandlerTimeout = 3 * time.Second
	cfg.Routing.ShortRetryInterval = 50 * time.Millisecond
	cfg.Routing.MaxIdleTime = 30 * time.Second
	cfg.Routing.ClaimInterval = time.Second
	cfg.Routing.ShutdownGrace = 5 * time.Second
	cfg.Retry.Schedule = []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	cfg.Retry.PollInterval = 50 * time.Millisecond
	cfg.Payments.SweepInterval = 100 * time.Millisecond
	// Nothing calls the portal by itself: no submissions polled, no catalogue refreshed at start
	// (tests that need them turn them on).
	cfg.Portal.Agencies = nil
	cfg.Portal.Catalog.OnStart = false
	if s == RealRedis {
		c := testredis.Client(t)
		cfg.Redis.Embedded = false
		cfg.Redis.URL = testredis.URL()
		cfg.Redis.KeyPrefix = testredis.Prefix(t, c)
	}
	return cfg
}

// Start boots a gateway with cfg and stops it when the test ends. Its log goes to stderr when
// GATEWAY_TEST_LOG is set.
func Start(t testing.TB, cfg config.Config) *Gateway {
	t.Helper()
	var out io.Writer = io.Discard
	if os.Getenv("GATEWAY_TEST_LOG") != "" {
		out = os.Stderr
	}
	return StartLogged(t, cfg, out)
}

// StartLogged is Start with the gateway's JSON log, at debug level, written to out.
func StartLogged(t testing.TB, cfg config.Config, out io.Writer) *Gateway {
	t.Helper()
	if err := finish(&cfg); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("starting gateway: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("gateway did not stop within 30s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stopping gateway: %v", err)
		}
	})
	select {
	case <-a.Ready():
	case <-time.After(10 * time.Second):
		t.Fatalf("gateway (role %s) did not start within 10s", a.Role())
	}
	g := &Gateway{App: a, Admin: "http://" + a.AdminAddr(), stop: stop}
	if addr := a.APIAddr(); addr != "" {
		g.API = "http://" + addr
	}
	return g
}

func finish(cfg *config.Config) error {
	// The dev sandboxes' URLs depend on the bound port; app.New fills them in. Validation here
	// needs placeholders with the right shape.
	if cfg.Portal.BaseURL == "" {
		cfg.HTTP.PublicURL = "http://" + cfg.HTTP.Addr
		cfg.Portal.BaseURL = cfg.HTTP.PublicURL + "/sandbox/dvcqg"
		cfg.Onestop.URL = cfg.HTTP.PublicURL + "/sandbox/onestop/notifications"
		config.FillDevPaymentURLs(&cfg.Payments, cfg.HTTP.PublicURL)
	}
	return cfg.Validate()
}

// Eventually polls cond every 20 ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// Do sends a request and returns the status and body.
func Do(t testing.TB, method, url, token, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
