package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoleDefaultsToAllAndComesFromTheEnvironment(t *testing.T) {
	t.Parallel()
	c, err := Load("", envFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Role != RoleAll || !c.ServesAPI() || !c.RunsWorkers() {
		t.Fatalf("default role %q (serves API %v, runs workers %v), want all doing both", c.Role, c.ServesAPI(), c.RunsWorkers())
	}
	c, err = Load("", envFrom(map[string]string{"GATEWAY_ROLE": "api"}))
	if err != nil {
		t.Fatalf("GATEWAY_ROLE=api: %v", err)
	}
	if c.Role != RoleAPI || !c.ServesAPI() || c.RunsWorkers() {
		t.Fatalf("role %q (serves API %v, runs workers %v), want api serving the API only", c.Role, c.ServesAPI(), c.RunsWorkers())
	}
}

func TestBadRoleIsRefused(t *testing.T) {
	t.Parallel()
	for _, role := range []string{"consumer", "API", " all", "both"} {
		_, err := Load("", envFrom(map[string]string{"GATEWAY_ROLE": role}))
		if err == nil || !strings.Contains(err.Error(), "role: ") || !strings.Contains(err.Error(), "all, api, worker") {
			t.Errorf("GATEWAY_ROLE=%q: %v, want a refusal naming role and the valid values", role, err)
		}
	}
	c := DevProfile()
	c.fillDerived()
	c.Role = ""
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "role: ") {
		t.Errorf("an empty role: %v, want a refusal", err)
	}
}

// The production profile's file carries the role; a worker there calls real partners.
func TestRoleFromTheConfigFile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "configs", "production.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "\nrole: all\n") {
		t.Fatal("configs/production.yaml does not set role: all at the top level")
	}
	env := envFrom(map[string]string{
		"GATEWAY_REDIS_URL": "redis://127.0.0.1:6379/0", "GATEWAY_ADMIN_TOKEN": "adm",
		"GATEWAY_CLIENT_TOKENS": "onestop:a", "GATEWAY_PORTAL_PASSWORD": "pw", "GATEWAY_ONESTOP_SECRETS": DemoOnestopSecret,
	})
	for _, role := range []string{RoleWorker, RoleAPI, "sidecar"} {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(strings.Replace(string(raw), "\nrole: all\n", "\nrole: "+role+"\n", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, env)
		if role == RoleWorker {
			// A worker serves no API: it needs no client tokens, an api process does.
			noClients := envFrom(map[string]string{
				"GATEWAY_REDIS_URL": "redis://127.0.0.1:6379/0", "GATEWAY_ADMIN_TOKEN": "adm",
				"GATEWAY_PORTAL_PASSWORD": "pw", "GATEWAY_ONESTOP_SECRETS": DemoOnestopSecret,
			})
			if _, err := Load(p, noClients); err != nil {
				t.Errorf("a worker without client tokens: %v", err)
			}
			if _, err := Load(p, func(k string) string {
				if k == "GATEWAY_ROLE" {
					return RoleAPI
				}
				return noClients(k)
			}); err == nil || !strings.Contains(err.Error(), "client tokens") {
				t.Errorf("an api process without client tokens: %v, want a refusal", err)
			}
		}
		if role == "sidecar" {
			if err == nil || !strings.Contains(err.Error(), `role: "sidecar"`) {
				t.Errorf("role: sidecar in the file: %v, want a refusal", err)
			}
			continue
		}
		if err != nil || c.Role != role {
			t.Errorf("role: %s in the file: role %q, %v", role, c.Role, err)
		}
	}
}

// A worker serves no API listener, where the dev profile's sandboxes live.
func TestDevWorkerNeedsSandboxesElsewhere(t *testing.T) {
	t.Parallel()
	_, err := Load("", envFrom(map[string]string{"GATEWAY_ROLE": "worker"}))
	if err == nil {
		t.Fatal("role worker with the dev profile's own sandboxes was accepted")
	}
	for _, want := range []string{"role: worker", "sandbox", "portal.base_url", "onestop.url", "payments.paygov.base_url",
		"payments.banks." + DemoBank + ".statement_url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal does not name %q:\n%v", want, err)
		}
	}

	// The sandboxes of another process (an api gateway of the dev profile, or partnersim).
	c := DevProfile()
	c.Role = RoleWorker
	c.fillDerived() // nothing to fill after this: every partner URL is set below
	other := "http://127.0.0.1:18080"
	c.Portal.BaseURL = other + "/sandbox/dvcqg"
	c.Onestop.URL = other + "/sandbox/onestop/notifications"
	c.Payments.RewritePaymentURLs(c.HTTP.PublicURL, other)
	c.Postal.RewritePostalURL(c.HTTP.PublicURL, other)
	if err := c.Validate(); err != nil {
		t.Fatalf("a dev worker pointed at another process's sandboxes: %v", err)
	}
	c.Payments.PayGov.BaseURL = c.HTTP.PublicURL + "/sandbox/paygov"
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "payments.paygov.base_url") || strings.Contains(err.Error(), "portal.base_url") {
		t.Fatalf("one partner URL left on the worker's own sandboxes: %v, want a refusal naming only it", err)
	}
	if err := c.CheckRole(); err == nil {
		t.Fatal("CheckRole accepted what Validate refuses")
	}

	// The public URL naming an api gateway's listener on another port: every derived partner URL
	// points at that gateway's sandboxes.
	c2, err := Load("", envFrom(map[string]string{"GATEWAY_ROLE": "worker", "GATEWAY_HTTP_ADDR": "127.0.0.1:18089",
		"GATEWAY_HTTP_PUBLIC_URL": "http://127.0.0.1:18080"}))
	if err != nil {
		t.Fatalf("a dev worker whose public URL names an api gateway: %v", err)
	}
	if c2.Portal.BaseURL != "http://127.0.0.1:18080/sandbox/dvcqg" {
		t.Errorf("portal URL %q, want the api gateway's sandbox", c2.Portal.BaseURL)
	}
	// The same with the public URL naming its own, unserved listener: refused.
	if _, err := Load("", envFrom(map[string]string{"GATEWAY_ROLE": "worker", "GATEWAY_HTTP_ADDR": "127.0.0.1:18089",
		"GATEWAY_HTTP_PUBLIC_URL": "http://127.0.0.1:18089"})); err == nil || !strings.Contains(err.Error(), "GATEWAY_HTTP_PUBLIC_URL") {
		t.Errorf("a dev worker whose public URL is its own unserved listener: %v, want a refusal that says what to set", err)
	}
}
