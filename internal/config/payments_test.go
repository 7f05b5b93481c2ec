package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// productionBase is a production profile with every secret of the other sections given.
func productionBase(extra map[string]string) map[string]string {
	env := map[string]string{
		"GATEWAY_REDIS_URL": "redis://127.0.0.1:6379/0", "GATEWAY_ADMIN_TOKEN": "adm", "GATEWAY_CLIENT_TOKENS": "onestop:a",
		"GATEWAY_PORTAL_PASSWORD": "pw", "GATEWAY_ONESTOP_SECRETS": DemoOnestopSecret,
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func writeYAML(t *testing.T, body string) string {
	t.Helper()
	base, err := os.ReadFile(filepath.Join("..", "..", "configs", "production.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, append(base, []byte("\n"+body)...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDevProfileHasEveryProvider(t *testing.T) {
	t.Parallel()
	c, err := Load("", envFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Payments
	if !p.VNPay.Enabled() || !p.PayGov.Enabled() || !p.VietQR.Enabled() || p.Banks[DemoBank].Secret != DemoBankSecret {
		t.Fatalf("dev payments %+v", p)
	}
	if p.VNPay.Secret != DemoVNPaySecret || p.PayGov.Key1 != DemoPayGovKey1 || p.PayGov.Key2 != DemoPayGovKey2 {
		t.Fatal("dev profile lacks api.md's demo payment credentials")
	}
	if p.VNPay.PayURL != "http://127.0.0.1:8080/sandbox/vnpay/paymentv2/vpcpay.html" || p.PayGov.BaseURL != "http://127.0.0.1:8080/sandbox/paygov" {
		t.Fatalf("dev payment URLs %q %q", p.VNPay.PayURL, p.PayGov.BaseURL)
	}
	if p.VNPay.TransactionsURL != "http://127.0.0.1:8080/sandbox/vnpay/transactions" ||
		p.Banks[DemoBank].StatementURL != "http://127.0.0.1:8080/sandbox/bank/"+DemoBank+"/transactions" || p.ReconcileAt != "01:30" {
		t.Fatalf("dev reconciliation settings: %q %q %q", p.VNPay.TransactionsURL, p.Banks[DemoBank].StatementURL, p.ReconcileAt)
	}
}

func TestProductionPaymentsFromYAMLAndEnvironment(t *testing.T) {
	t.Parallel()
	if c, err := Load(filepath.Join("..", "..", "configs", "production.yaml"), envFrom(productionBase(nil))); err != nil {
		t.Fatalf("production without payments: %v", err)
	} else if c.Payments.VNPay.Enabled() || c.Payments.PayGov.Enabled() || c.Payments.VietQR.Enabled() {
		t.Fatal("a provider is enabled without being configured")
	}
	path := writeYAML(t, `payments:
  return_url: https://motcua.langson.example/thanh-toan
  query_after: 20m
  vnpay: {tmn_code: LSTMN001, pay_url: https://pay.vnpay.vn/vpcpay.html, api_url: https://merchant.vnpay.vn/merchant_webapi/api/transaction}
  paygov: {client_id: LANGSON, base_url: https://api.paygov.example/v3, bill_allowed_nets: [203.0.113.0/24]}
  vietqr:
    default_account: {bin: "970436", number: "0011001234567", name: UBND TINH LANG SON}
    accounts: {"000.00.00.G12": {bin: "970418", number: "1234567890"}}
  banks: {vietcombank: {bin: "970436"}}
`)
	_, err := Load(path, envFrom(productionBase(nil)))
	if err == nil {
		t.Fatal("enabled providers without secrets must not load")
	}
	for _, want := range []string{"GATEWAY_PAYMENTS_VNPAY_SECRET", "GATEWAY_PAYMENTS_PAYGOV_KEY1", "payments.banks.vietcombank: secret missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the errors do not name %s (every problem at once):\n%v", want, err)
		}
	}
	keyFile := filepath.Join(t.TempDir(), "key2")
	if err := os.WriteFile(keyFile, []byte("k2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, envFrom(productionBase(map[string]string{
		"GATEWAY_PAYMENTS_VNPAY_SECRET": "vs", "GATEWAY_PAYMENTS_PAYGOV_KEY1": "k1", "GATEWAY_PAYMENTS_PAYGOV_KEY2_FILE": keyFile,
		"GATEWAY_PAYMENTS_BANK_SECRETS": "vietcombank:bs", "GATEWAY_PAYMENTS_EXPIRE_GRACE": "7m",
	})))
	if err != nil {
		t.Fatalf("with secrets: %v", err)
	}
	p := c.Payments
	if p.VNPay.Secret != "vs" || p.PayGov.Key2 != "k2" || p.Banks["vietcombank"].Secret != "bs" || p.ExpireGrace.Minutes() != 7 || p.QueryAfter.Minutes() != 20 {
		t.Fatalf("payments %+v", p)
	}
	if p.VietQR.Accounts["000.00.00.G12"].BIN != "970418" || len(p.PayGov.BillAllowedNets) != 1 {
		t.Fatalf("vietqr accounts or bill nets not read: %+v", p)
	}
}

func TestPaymentSecretsInYAMLAreRefused(t *testing.T) {
	t.Parallel()
	path := writeYAML(t, `payments:
  vnpay: {tmn_code: LSTMN001, secret: oops}
  paygov: {client_id: LANGSON, key1: oops}
  banks: {vietcombank: {bin: "970436", secret: oops}}
`)
	_, err := Load(path, envFrom(productionBase(nil)))
	if err == nil {
		t.Fatal("secrets in the YAML file were accepted")
	}
	for _, want := range []string{"payments.vnpay.secret", "payments.paygov.key1", "payments.banks.vietcombank.secret"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal does not name %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "oops") {
		t.Errorf("the refusal echoes the secret: %v", err)
	}
}

func TestPaymentSettingsAreValidated(t *testing.T) {
	t.Parallel()
	path := writeYAML(t, `payments:
  ttl: 0s
  reconcile_at: "1:30am"
  vnpay: {tmn_code: TOOLONGCODE, pay_url: "ftp://x", api_url: "", locale: fr}
  vietqr:
    default_account: {bin: "97043", number: "00-11"}
`)
	_, err := Load(path, envFrom(productionBase(map[string]string{"GATEWAY_PAYMENTS_VNPAY_SECRET": "vs"})))
	if err == nil {
		t.Fatal("bad payment settings were accepted")
	}
	for _, want := range []string{"payments.ttl", "payments.vnpay.tmn_code", "pay_url and api_url", "payments.vnpay.locale", "payments.vietqr.default_account", "payments.return_url", "payments.reconcile_at"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the errors do not name %s:\n%v", want, err)
		}
	}
}
