package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHardeningSettings: the YAML keys under http:, the environment overlay, the defaults of
// each profile, and every refusal named at once.
func TestHardeningSettings(t *testing.T) {
	t.Parallel()
	if d := Defaults().HTTP.RateLimit; d.PerSecond <= 0 || d.Burst < 1 {
		t.Fatalf("production defaults without a rate limit: %+v", d)
	}
	dev := DevProfile().HTTP
	if dev.RateLimit.PerSecond != 0 || len(dev.CallbackAllowedNets["vnpay"]) == 0 {
		t.Fatalf("dev profile: %+v", dev.Hardening)
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "configs", "production.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The production file's own rate limit line, if any, gives way to the test's.
	var kept []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "  rate_limit:") {
			kept = append(kept, line)
		}
	}
	prod := strings.Join(kept, "\n")
	yaml := strings.Replace(prod, "http:\n", "http:\n  tls_cert_file: /etc/gateway/tls/cert.pem\n  tls_key_file: /etc/gateway/tls/key.pem\n"+
		"  client_ca_file: /etc/gateway/tls/onestop-ca.pem\n  client_auth: optional\n  rate_limit: {per_second: 50, burst: 100}\n"+
		"  callback_allowed_nets: {vnpay: [113.160.92.0/24], bank:vietcombank: [203.0.113.5]}\n", 1)
	if yaml == prod {
		t.Fatal("configs/production.yaml has no http: section")
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range fuzzSecrets {
		env[k] = v
	}
	c, err := Load(path, envFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	h := c.HTTP.Hardening
	if h.TLSKeyFile != "/etc/gateway/tls/key.pem" || h.ClientAuth != "optional" || h.RateLimit.PerSecond != 50 ||
		h.RateLimit.Burst != 100 || h.CallbackAllowedNets["bank:vietcombank"][0] != "203.0.113.5" {
		t.Fatalf("hardening read from YAML: %+v", h)
	}
	env["GATEWAY_HTTP_RATE_LIMIT"] = "7/9"
	env["GATEWAY_HTTP_CLIENT_CERT_CLIENTS"] = "onestop, other"
	if c, err = Load(path, envFrom(env)); err != nil || c.HTTP.RateLimit != (RateLimitConfig{PerSecond: 7, Burst: 9}) ||
		strings.Join(c.HTTP.ClientCertClients, ",") != "onestop,other" {
		t.Fatalf("GATEWAY_HTTP_RATE_LIMIT, GATEWAY_HTTP_CLIENT_CERT_CLIENTS: %v %+v %q", err, c.HTTP.RateLimit, c.HTTP.ClientCertClients)
	}

	var errs []string
	validateHardening(Hardening{TLSCertFile: "c.pem", ClientAuth: "sometimes", RateLimit: RateLimitConfig{PerSecond: 5},
		CallbackAllowedNets: map[string][]string{"momo": {"x"}, "bank": {"10.0.0.0/33"}}},
		func(f string, a ...any) { errs = append(errs, f) })
	// The key without the certificate, the client_auth value, client_auth without a CA, the
	// burst, the partner's name, and each of the two bad networks.
	if len(errs) != 7 {
		t.Fatalf("want 7 problems, got %d: %q", len(errs), errs)
	}
}
