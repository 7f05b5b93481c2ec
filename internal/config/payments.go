package config

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// PaymentsConfig is the fee payment providers and the payment state machine's timings. A
// provider is enabled when its identifying setting is present (VNPay's tmn_code, PayGov's
// client_id, VietQR's default account); its secrets then must come from the environment.
type PaymentsConfig struct {
	// TTL is how long a payment can be paid, for providers without their own ttl.
	TTL time.Duration `yaml:"ttl"`
	// QueryAfter: a payment without callback this long after creation is asked about; then every
	// QueryInterval, until its expiry plus ExpireGrace, when it expires. SweepInterval is how
	// often due payments are looked at.
	QueryAfter    time.Duration `yaml:"query_after"`
	QueryInterval time.Duration `yaml:"query_interval"`
	ExpireGrace   time.Duration `yaml:"expire_grace"`
	SweepInterval time.Duration `yaml:"sweep_interval"`
	// BankTimestampWindow bounds the age of a bank notification's timestamp (replays).
	BankTimestampWindow time.Duration `yaml:"bank_timestamp_window"`
	// ReconcileAt is when the daily reconciliation of the previous day runs, "hh:mm" on
	// Vietnam's clock (one replica runs it).
	ReconcileAt string `yaml:"reconcile_at"`
	// ReturnURL is where providers send the citizen back when the request names none.
	ReturnURL string                        `yaml:"return_url"`
	VNPay     VNPaySettings                 `yaml:"vnpay"`
	PayGov    PayGovSettings                `yaml:"paygov"`
	VietQR    VietQRSettings                `yaml:"vietqr"`
	Banks     map[string]BankNotifySettings `yaml:"banks"`
}

// VNPaySettings is the VNPay merchant terminal.
type VNPaySettings struct {
	TmnCode string `yaml:"tmn_code"`
	// PayURL is VNPay's payment page; APIURL its querydr endpoint.
	PayURL    string        `yaml:"pay_url"`
	APIURL    string        `yaml:"api_url"`
	TTL       time.Duration `yaml:"ttl"`
	OrderType string        `yaml:"order_type"`
	Locale    string        `yaml:"locale"`
	// ServerIP is the gateway's public address (vnp_IpAddr of querydr).
	ServerIP string `yaml:"server_ip"`
	// TransactionsURL is the terminal's list of a day's transactions (reconciliation).
	TransactionsURL string `yaml:"transactions_url"`
	Secret          string `yaml:"-"` // GATEWAY_PAYMENTS_VNPAY_SECRET ("new,old" during a change)
	// OldSecrets still verify IPNs and querydr answers during a change of secret.
	OldSecrets []string `yaml:"-"`
}

// Enabled reports whether VNPay is configured.
func (v VNPaySettings) Enabled() bool { return v.TmnCode != "" }

// PayGovSettings is the gateway's account at the national payment platform.
type PayGovSettings struct {
	ClientID   string        `yaml:"client_id"`
	BaseURL    string        `yaml:"base_url"`
	CreatePath string        `yaml:"create_path"`
	DetailPath string        `yaml:"detail_path"`
	TTL        time.Duration `yaml:"ttl"`
	// The beneficiary account of the bills (TKThuHuong, MaNHThuHuong, TenTKThuHuong) and the
	// collecting agency's name (TenDonVi).
	BeneficiaryAccount string `yaml:"beneficiary_account"`
	BeneficiaryBank    string `yaml:"beneficiary_bank"`
	BeneficiaryName    string `yaml:"beneficiary_name"`
	AgencyName         string `yaml:"agency_name"`
	// BillAllowedNets, when set, are the only addresses the bill look-up answers (CIDRs).
	BillAllowedNets []string `yaml:"bill_allowed_nets"`
	Key1            string   `yaml:"-"` // GATEWAY_PAYMENTS_PAYGOV_KEY1
	Key2            string   `yaml:"-"` // GATEWAY_PAYMENTS_PAYGOV_KEY2
}

// Enabled reports whether PayGov is configured.
func (p PayGovSettings) Enabled() bool { return p.ClientID != "" }

// AccountSettings is a collection account.
type AccountSettings struct {
	BIN    string `yaml:"bin"`
	Number string `yaml:"number"`
	Name   string `yaml:"name"`
}

// VietQRSettings says where VietQR transfers go.
type VietQRSettings struct {
	TTL            time.Duration              `yaml:"ttl"`
	DefaultAccount AccountSettings            `yaml:"default_account"`
	Accounts       map[string]AccountSettings `yaml:"accounts"` // by agency code
}

// Enabled reports whether VietQR is configured.
func (v VietQRSettings) Enabled() bool { return v.DefaultAccount.Number != "" }

// BankNotifySettings is a bank that notifies account movements.
type BankNotifySettings struct {
	// BIN is the bank's NAPAS BIN: the VietQR accounts with it are the accounts it reports on.
	BIN string `yaml:"bin"`
	// StatementURL is the bank's list of a day's movements on the collection accounts
	// (reconciliation).
	StatementURL string `yaml:"statement_url"`
	Secret       string `yaml:"-"` // GATEWAY_PAYMENTS_BANK_SECRETS=name:secret,...
	// OldSecrets are accepted too during a rotation: name:new,name:old lists the new one first.
	OldSecrets []string `yaml:"-"`
}

// Demo payment credentials of the dev profile (api.md).
const (
	DemoVNPayTmnCode = "DEMOTMN1"
	DemoVNPaySecret  = "DEMOVNPAYSECRET0123456789ABCDEF"
	DemoPayGovClient = "DEMOPAYGOV"
	DemoPayGovKey1   = "DEMOPAYGOVKEY1"
	DemoPayGovKey2   = "DEMOPAYGOVKEY2"
	// DemoBank and DemoBankSecret: the dev profile's bank notifying VietQR transfers.
	DemoBank       = "vietcombank"
	DemoBankSecret = "demo-bank-webhook-secret"
	DemoBankBIN    = "970436"
	DemoAccount    = "0011001234567"
)

func defaultPayments() PaymentsConfig {
	return PaymentsConfig{
		TTL: 15 * time.Minute, QueryAfter: 10 * time.Minute, QueryInterval: 5 * time.Minute,
		ExpireGrace: 5 * time.Minute, SweepInterval: 5 * time.Second, BankTimestampWindow: 5 * time.Minute,
		VietQR: VietQRSettings{TTL: 24 * time.Hour}, ReconcileAt: "01:30",
	}
}

func devPayments(p *PaymentsConfig) {
	p.VNPay.TmnCode, p.VNPay.Secret = DemoVNPayTmnCode, DemoVNPaySecret
	p.PayGov.ClientID, p.PayGov.Key1, p.PayGov.Key2 = DemoPayGovClient, DemoPayGovKey1, DemoPayGovKey2
	p.PayGov.BeneficiaryAccount, p.PayGov.BeneficiaryBank, p.PayGov.BeneficiaryName = DemoAccount, DemoBankBIN, "UBND TINH LANG SON"
	p.PayGov.AgencyName = "UBND tỉnh Lạng Sơn"
	p.VietQR.DefaultAccount = AccountSettings{BIN: DemoBankBIN, Number: DemoAccount, Name: "UBND TINH LANG SON"}
	p.Banks = map[string]BankNotifySettings{DemoBank: {BIN: DemoBankBIN, Secret: DemoBankSecret}}
}

// FillDevPaymentURLs points the dev profile's providers whose URLs are empty at the sandboxes on
// the API listener reached at public.
func FillDevPaymentURLs(p *PaymentsConfig, public string) {
	if p.VNPay.PayURL == "" {
		p.VNPay.PayURL = public + "/sandbox/vnpay/paymentv2/vpcpay.html"
	}
	if p.VNPay.APIURL == "" {
		p.VNPay.APIURL = public + "/sandbox/vnpay/merchant_webapi/api/transaction"
	}
	if p.VNPay.TransactionsURL == "" {
		p.VNPay.TransactionsURL = public + "/sandbox/vnpay/transactions"
	}
	if p.PayGov.BaseURL == "" {
		p.PayGov.BaseURL = public + "/sandbox/paygov"
	}
	for name, b := range p.Banks {
		if b.StatementURL == "" {
			b.StatementURL = public + "/sandbox/bank/" + name + "/transactions"
			p.Banks[name] = b
		}
	}
	if p.ReturnURL == "" {
		p.ReturnURL = public + "/sandbox/onestop/payments/return"
	}
}

// RewritePaymentURLs replaces old (the public URL the configuration was built with) by public in
// the payment URLs that were derived from it: the dev profile learns its real address only once
// its listener is bound.
func (p *PaymentsConfig) RewritePaymentURLs(old, public string) {
	for _, u := range []*string{&p.VNPay.PayURL, &p.VNPay.APIURL, &p.VNPay.TransactionsURL, &p.PayGov.BaseURL, &p.ReturnURL} {
		if strings.HasPrefix(*u, old+"/sandbox/") {
			*u = public + strings.TrimPrefix(*u, old)
		}
	}
	for name, b := range p.Banks {
		if strings.HasPrefix(b.StatementURL, old+"/sandbox/") {
			b.StatementURL = public + strings.TrimPrefix(b.StatementURL, old)
			p.Banks[name] = b
		}
	}
}

func applyPaymentsEnv(p *PaymentsConfig, get func(string) (string, bool), secret func(string) (string, bool), dur func(string, *time.Duration)) []error {
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := get(name); ok {
			*dst = v
		}
	}
	dur("GATEWAY_PAYMENTS_TTL", &p.TTL)
	dur("GATEWAY_PAYMENTS_QUERY_AFTER", &p.QueryAfter)
	dur("GATEWAY_PAYMENTS_QUERY_INTERVAL", &p.QueryInterval)
	dur("GATEWAY_PAYMENTS_EXPIRE_GRACE", &p.ExpireGrace)
	dur("GATEWAY_PAYMENTS_SWEEP_INTERVAL", &p.SweepInterval)
	dur("GATEWAY_PAYMENTS_BANK_TIMESTAMP_WINDOW", &p.BankTimestampWindow)
	str("GATEWAY_PAYMENTS_RETURN_URL", &p.ReturnURL)
	str("GATEWAY_PAYMENTS_RECONCILE_AT", &p.ReconcileAt)
	str("GATEWAY_PAYMENTS_VNPAY_TMN_CODE", &p.VNPay.TmnCode)
	str("GATEWAY_PAYMENTS_VNPAY_PAY_URL", &p.VNPay.PayURL)
	str("GATEWAY_PAYMENTS_VNPAY_API_URL", &p.VNPay.APIURL)
	str("GATEWAY_PAYMENTS_VNPAY_TRANSACTIONS_URL", &p.VNPay.TransactionsURL)
	if v, ok := secret("GATEWAY_PAYMENTS_VNPAY_SECRET"); ok {
		// "new,old" during a change of secret: the new one signs, both verify.
		p.VNPay.Secret, p.VNPay.OldSecrets = v, nil
		if first, rest, found := strings.Cut(v, ","); found {
			p.VNPay.Secret = strings.TrimSpace(first)
			for _, o := range strings.Split(rest, ",") {
				if o = strings.TrimSpace(o); o != "" {
					p.VNPay.OldSecrets = append(p.VNPay.OldSecrets, o)
				}
			}
		}
	}
	str("GATEWAY_PAYMENTS_PAYGOV_CLIENT_ID", &p.PayGov.ClientID)
	str("GATEWAY_PAYMENTS_PAYGOV_BASE_URL", &p.PayGov.BaseURL)
	if v, ok := secret("GATEWAY_PAYMENTS_PAYGOV_KEY1"); ok {
		p.PayGov.Key1 = v
	}
	if v, ok := secret("GATEWAY_PAYMENTS_PAYGOV_KEY2"); ok {
		p.PayGov.Key2 = v
	}
	str("GATEWAY_PAYMENTS_VIETQR_BIN", &p.VietQR.DefaultAccount.BIN)
	str("GATEWAY_PAYMENTS_VIETQR_ACCOUNT", &p.VietQR.DefaultAccount.Number)
	str("GATEWAY_PAYMENTS_VIETQR_ACCOUNT_NAME", &p.VietQR.DefaultAccount.Name)
	if v, ok := get("GATEWAY_PAYMENTS_BANKS"); ok {
		for _, item := range splitList(v) {
			name, bin, ok := strings.Cut(item, ":")
			if !ok || name == "" || bin == "" {
				errs = append(errs, errors.New(`GATEWAY_PAYMENTS_BANKS: want "name:BIN,name:BIN"`))
				continue
			}
			if p.Banks == nil {
				p.Banks = map[string]BankNotifySettings{}
			}
			b := p.Banks[name]
			b.BIN = bin
			p.Banks[name] = b
		}
	}
	if v, ok := secret("GATEWAY_PAYMENTS_BANK_SECRETS"); ok {
		seen := map[string]bool{}
		for _, item := range splitList(v) {
			name, s, ok := strings.Cut(item, ":")
			if !ok || name == "" || s == "" {
				errs = append(errs, errors.New(`GATEWAY_PAYMENTS_BANK_SECRETS: want "name:secret,name:secret"`))
				continue
			}
			if p.Banks == nil {
				p.Banks = map[string]BankNotifySettings{}
			}
			b := p.Banks[name]
			if !seen[name] {
				b.Secret, b.OldSecrets = s, nil
			} else {
				b.OldSecrets = append(b.OldSecrets, s)
			}
			seen[name] = true
			p.Banks[name] = b
		}
	}
	return errs
}

// paymentSecretYAMLKeys names secrets found under payments: in a YAML file.
func paymentSecretYAMLKeys(m map[string]any) []string {
	p, ok := m["payments"].(map[string]any)
	if !ok {
		return nil
	}
	var out []string
	for provider, keys := range map[string][]string{"vnpay": {"secret"}, "paygov": {"key1", "key2", "key_1", "key_2"}} {
		sub, _ := p[provider].(map[string]any)
		for _, k := range keys {
			if _, ok := sub[k]; ok {
				out = append(out, "payments."+provider+"."+k)
			}
		}
	}
	banks, _ := p["banks"].(map[string]any)
	for name, b := range banks {
		if sub, ok := b.(map[string]any); ok {
			if _, ok := sub["secret"]; ok {
				out = append(out, "payments.banks."+name+".secret")
			}
		}
	}
	return out
}

// validatePayments checks the payments section. In the dev profile an empty provider URL or
// return URL is allowed: it means the sandbox on the API listener, filled in once the listener is
// bound (FillDevPaymentURLs).
func validatePayments(p PaymentsConfig, dev bool, bad func(string, ...any)) {
	urlOK := func(s string) bool { return isHTTPURL(s) || (dev && s == "") }
	for name, d := range map[string]time.Duration{
		"ttl": p.TTL, "query_after": p.QueryAfter, "query_interval": p.QueryInterval, "expire_grace": p.ExpireGrace,
		"sweep_interval": p.SweepInterval, "bank_timestamp_window": p.BankTimestampWindow,
	} {
		if d <= 0 {
			bad("payments.%s: must be positive", name)
		}
	}
	if t, err := time.Parse("15:04", p.ReconcileAt); err != nil || t.Format("15:04") != p.ReconcileAt {
		bad("payments.reconcile_at: %q is not a time of day hh:mm", p.ReconcileAt)
	}
	anyEnabled := p.VNPay.Enabled() || p.PayGov.Enabled() || p.VietQR.Enabled()
	if anyEnabled && !urlOK(p.ReturnURL) {
		bad("payments.return_url: %q is not an http(s) URL", p.ReturnURL)
	}
	if v := p.VNPay; v.Enabled() {
		if len(v.TmnCode) != 8 {
			bad("payments.vnpay.tmn_code: must be 8 letters or digits")
		}
		if v.Secret == "" {
			bad("payments.vnpay: secret missing (GATEWAY_PAYMENTS_VNPAY_SECRET or _FILE)")
		}
		if !urlOK(v.PayURL) || !urlOK(v.APIURL) {
			bad("payments.vnpay.pay_url and api_url: must be http(s) URLs")
		}
		if v.Locale != "" && v.Locale != "vn" && v.Locale != "en" {
			bad("payments.vnpay.locale: %q is neither vn nor en", v.Locale)
		}
		if v.ServerIP != "" {
			if _, err := netip.ParseAddr(v.ServerIP); err != nil {
				bad("payments.vnpay.server_ip: %q is not an IP address", v.ServerIP)
			}
		}
	}
	if g := p.PayGov; g.Enabled() {
		if g.Key1 == "" || g.Key2 == "" {
			bad("payments.paygov: key 1 and key 2 missing (GATEWAY_PAYMENTS_PAYGOV_KEY1, _KEY2 or _FILE)")
		}
		if !urlOK(g.BaseURL) {
			bad("payments.paygov.base_url: %q is not an http(s) URL", g.BaseURL)
		}
		for i, n := range g.BillAllowedNets {
			if _, err := netip.ParsePrefix(n); err != nil {
				bad("payments.paygov.bill_allowed_nets[%d]: %q is not a CIDR", i, n)
			}
		}
	}
	checkAccount := func(name string, a AccountSettings) {
		if len(a.BIN) != 6 || !digits(a.BIN) || a.Number == "" || len(a.Number) > 19 || !alnum(a.Number) {
			bad("payments.vietqr.%s: want a 6-digit bin and an account number of 1 to 19 letters or digits", name)
		}
	}
	if p.VietQR.Enabled() {
		checkAccount("default_account", p.VietQR.DefaultAccount)
		for agency, a := range p.VietQR.Accounts {
			checkAccount("accounts."+agency, a)
		}
	}
	for name, b := range p.Banks {
		if name == "" || strings.ContainsAny(name, "/ {}") || len(name) > 32 {
			bad("payments.banks: %q is not a plain bank name", name)
		}
		if len(b.BIN) != 6 || !digits(b.BIN) {
			bad("payments.banks.%s.bin: want 6 digits", name)
		}
		if b.Secret == "" {
			bad("payments.banks.%s: secret missing (GATEWAY_PAYMENTS_BANK_SECRETS=%s:... or _FILE)", name, name)
		}
	}
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https")
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
