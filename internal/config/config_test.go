package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envFrom(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDevProfileIsValid(t *testing.T) {
	t.Parallel()
	c, err := Load("", envFrom(nil))
	if err != nil {
		t.Fatalf("dev profile: %v", err)
	}
	if !c.Redis.Embedded || c.Admin.Token != DemoAdminToken || c.Clients["onestop"][0] != DemoClientToken {
		t.Fatalf("dev profile lacks its embedded store or demo credentials: %+v", c)
	}
	if c.Portal.BaseURL != "http://127.0.0.1:8080/sandbox/dvcqg" {
		t.Fatalf("dev portal URL %q", c.Portal.BaseURL)
	}
}

func TestProductionProfileTakesSecretsFromEnvironment(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "configs", "production.yaml")
	_, err := Load(path, envFrom(nil))
	if err == nil {
		t.Fatal("production profile without secrets must not load")
	}
	for _, want := range []string{"admin token", "redis", "client tokens", "portal credentials", "onestop secrets"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("missing-secret errors do not mention %q (every problem must be listed at once):\n%v", want, err)
		}
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, envFrom(map[string]string{
		"GATEWAY_REDIS_URL": "redis://127.0.0.1:6379/0", "GATEWAY_ADMIN_TOKEN": "adm",
		"GATEWAY_CLIENT_TOKENS": "onestop:a,onestop:b", "GATEWAY_PORTAL_PASSWORD_FILE": pwFile,
		"GATEWAY_ONESTOP_SECRETS": DemoOnestopSecret, "GATEWAY_HTTP_ADDR": "127.0.0.1:18080",
		"GATEWAY_ROUTING_IN_FLIGHT_PER_CONSUMER": "8",
	}))
	if err != nil {
		t.Fatalf("production profile with secrets: %v", err)
	}
	if c.Portal.Password != "s3cret" || len(c.Clients["onestop"]) != 2 || c.HTTP.Addr != "127.0.0.1:18080" || c.Redis.Embedded {
		t.Fatalf("environment not applied: %+v", c)
	}
	if c.Routing.InFlightPerConsumer != 8 {
		t.Fatalf("in flight per consumer %d, want 8 from the environment", c.Routing.InFlightPerConsumer)
	}
	if got := c.RetrySchedule("dvcqg"); len(got) != 13 {
		t.Fatalf("retry schedule has %d steps", len(got))
	}
}

func TestSecretsInYAMLAreRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte("admin:\n  token: x\nportal:\n  password: y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, envFrom(nil))
	if err == nil || !strings.Contains(err.Error(), "admin.token") || !strings.Contains(err.Error(), "portal.password") {
		t.Fatalf("secrets in YAML: %v", err)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	c := DevProfile()
	c.fillDerived()
	c.Routing.ConsumersPerHandler = 0
	c.Routing.InFlightPerConsumer = 0
	c.Routing.MaxIdleTime = c.Routing.HandlerTimeout // far under twice the worst delivery
	c.Log.Level = "loud"
	c.Onestop.Secrets = []string{"plain"}
	err := c.Validate()
	for _, want := range []string{"consumers_per_handler", "in_flight_per_consumer", "max_idle_time", "log.level", "whsec_"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate does not report %q: %v", want, err)
		}
	}
}

func TestUnknownYAMLKeyIsAnError(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("routing:\n  consumers: 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, envFrom(nil)); err == nil || !strings.Contains(err.Error(), "consumers") {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestMaintenanceWindows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		start, end time.Duration
		wantErr    bool
	}{
		{"night window across midnight", "23:30-01:00", 23*time.Hour + 30*time.Minute, time.Hour, false},
		{"same day", "02:00-04:15", 2 * time.Hour, 4*time.Hour + 15*time.Minute, false},
		{"empty window", "02:00-02:00", 0, 0, true},
		{"no dash", "02:00", 0, 0, true},
		{"bad hour", "25:00-01:00", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, e, err := ParseWindow(tt.in)
			if (err != nil) != tt.wantErr || (!tt.wantErr && (s != tt.start || e != tt.end)) {
				t.Fatalf("ParseWindow(%q) = %v, %v, %v", tt.in, s, e, err)
			}
		})
	}
	c := DevProfile()
	c.fillDerived()
	c.Partners = map[string]PartnerConfig{"dvcqg": {MaintenanceWindows: []string{"22:00-23:00", "bad"}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "partners.dvcqg.maintenance_windows[1]") {
		t.Fatalf("Validate does not name the bad window: %v", err)
	}
}
