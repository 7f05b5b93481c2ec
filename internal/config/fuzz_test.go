package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSecrets are the secret variables of FuzzLoad, each holding a marker that must never show
// in an error. They win over the fuzzed environment.
var fuzzSecrets = map[string]string{
	"GATEWAY_ADMIN_TOKEN":                "adm1n-M4RKER-secret-value",
	"GATEWAY_CLIENT_TOKENS":              "onestop:cl1ent-M4RKER-secret-value,onestop:cl1ent-M4RKER-rolled-value",
	"GATEWAY_REDIS_URL":                  "redis://:red1s-M4RKER-secret-value@127.0.0.1:6379/0",
	"GATEWAY_PORTAL_PASSWORD":            "p0rtal-M4RKER-secret-value",
	"GATEWAY_ONESTOP_SECRETS":            "whsec_ZGVtby1vbmVzdG9wLXdlYmhvb2stc2VjcmV0",
	"GATEWAY_PAYMENTS_VNPAY_SECRET":      "vnp4y-M4RKER-secret-value",
	"GATEWAY_PAYMENTS_PAYGOV_KEY1":       "p4ygov1-M4RKER-secret-value",
	"GATEWAY_PAYMENTS_PAYGOV_KEY2":       "p4ygov2-M4RKER-secret-value",
	"GATEWAY_PAYMENTS_BANK_SECRETS":      "vietcombank:b4nk-M4RKER-secret-value",
	"GATEWAY_PAYMENTS_BANKS":             "vietcombank:970436",
	"GATEWAY_ADMIN_TOKEN_FILE":           "",
	"GATEWAY_CLIENT_TOKENS_FILE":         "",
	"GATEWAY_PORTAL_PASSWORD_FILE":       "",
	"GATEWAY_ONESTOP_SECRETS_FILE":       "",
	"GATEWAY_REDIS_URL_FILE":             "",
	"GATEWAY_PAYMENTS_VNPAY_SECRET_FILE": "",
}

// FuzzLoad loads arbitrary YAML files with an arbitrary environment (KEY=value lines) on top of
// fixed secrets. Load never panics, refuses secrets written in the file, and whatever it answers,
// no error ever repeats a secret; a configuration it accepts holds the secrets it was given.
// Seeds live in testdata/fuzz/FuzzLoad (the production file among them).
func FuzzLoad(f *testing.F) {
	if prod, err := os.ReadFile(filepath.Join("..", "..", "configs", "production.yaml")); err == nil {
		f.Add(string(prod), "")
	}
	f.Add("", "GATEWAY_PROFILE=dev")
	f.Add("admin:\n  token: x\n", "")
	f.Add("http:\n  addr: [\n", "GATEWAY_HTTP_MAX_BODY_BYTES=-1")
	f.Add("routing:\n  handler_timeout: 1y\n", "GATEWAY_RETRY_SCHEDULE=1s,,-5s")
	f.Add("profile: production\nunknown: 1\n", "GATEWAY_PAYMENTS_BANKS=vietcombank:970436")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, yaml, envLines string) {
		if strings.Contains(yaml+envLines, "M4RKER") {
			return // an input that names a marker could make an error repeat it honestly
		}
		env := map[string]string{}
		for _, line := range strings.Split(envLines, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		for k, v := range fuzzSecrets {
			env[k] = v
		}
		file, err := os.CreateTemp(dir, "config-*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(file.Name())
		if _, err := file.WriteString(yaml); err != nil {
			t.Fatal(err)
		}
		file.Close()
		c, err := Load(file.Name(), func(k string) string { return env[k] })
		if err != nil {
			// No input names a marker, so an error that holds one repeats a secret.
			if strings.Contains(err.Error(), "M4RKER") {
				t.Fatalf("an error repeats a secret: %v", err)
			}
			return
		}
		if c.Admin.Token != fuzzSecrets["GATEWAY_ADMIN_TOKEN"] || len(c.Clients["onestop"]) != 2 ||
			c.Portal.Password != fuzzSecrets["GATEWAY_PORTAL_PASSWORD"] {
			t.Fatalf("an accepted configuration lost its secrets")
		}
	})
}

// TestFuzzLoadSeedLoads makes sure FuzzLoad's accepted branch is reached: the production file
// with the fuzzer's secrets loads.
func TestFuzzLoadSeedLoads(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	for k, v := range fuzzSecrets {
		env[k] = v
	}
	_, err := Load(filepath.Join("..", "..", "configs", "production.yaml"), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the production file with every secret: %v", err)
	}
}

// TestRolledSecrets: during a rotation the admin token, a bank's notification secret and the VNPay
// terminal's secret are given as "new,old": the first is the current one, the others stay
// accepted.
func TestRolledSecrets(t *testing.T) {
	t.Parallel()
	c, err := Load("", envFrom(map[string]string{
		"GATEWAY_ADMIN_TOKEN":           "admin-new-token, admin-old-token",
		"GATEWAY_PAYMENTS_BANK_SECRETS": "vietcombank:bank-new-secret,vietcombank:bank-old-secret",
		"GATEWAY_PAYMENTS_VNPAY_SECRET": "VNPAYNEWSECRET, VNPAYOLDSECRET",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin.Token != "admin-new-token" || len(c.Admin.OldTokens) != 1 || c.Admin.OldTokens[0] != "admin-old-token" {
		t.Fatalf("admin tokens %q, %q", c.Admin.Token, c.Admin.OldTokens)
	}
	b := c.Payments.Banks[DemoBank]
	if b.Secret != "bank-new-secret" || len(b.OldSecrets) != 1 || b.OldSecrets[0] != "bank-old-secret" {
		t.Fatalf("bank secrets %q, %q", b.Secret, b.OldSecrets)
	}
	if c.Payments.VNPay.Secret != "VNPAYNEWSECRET" || len(c.Payments.VNPay.OldSecrets) != 1 || c.Payments.VNPay.OldSecrets[0] != "VNPAYOLDSECRET" {
		t.Fatalf("vnpay secrets %q, %q", c.Payments.VNPay.Secret, c.Payments.VNPay.OldSecrets)
	}
	c, err = Load("", envFrom(map[string]string{"GATEWAY_PAYMENTS_BANK_SECRETS": "vietcombank:only-secret"}))
	if err != nil || c.Payments.Banks[DemoBank].Secret != "only-secret" || len(c.Payments.Banks[DemoBank].OldSecrets) != 0 {
		t.Fatalf("one secret replaces the dev one: %v %+v", err, c.Payments.Banks[DemoBank])
	}
}
