package config

import (
	"slices"
	"strings"
	"time"
)

// PostalConfig is the postal partner (VNPost) used for postal delivery of results and collection
// of dossiers. Postal delivery is off when Dialect is empty (the production default until
// configured): delivery requests then wait in their stream.
type PostalConfig struct {
	// Dialect is the partner API: myvnpost (MyVNPost partner API) or ngsp (MITC/NGSP API).
	Dialect string `yaml:"dialect"`
	BaseURL string `yaml:"base_url"`
	// Username and Password are the MyVNPost account (Password: GATEWAY_POSTAL_PASSWORD).
	Username string `yaml:"username"`
	Password string `yaml:"-"`
	// ClientID, ClientSecret and CustomerCode are the NGSP OAuth2 client and customer
	// (ClientSecret: GATEWAY_POSTAL_CLIENT_SECRET).
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"-"`
	CustomerCode string `yaml:"customer_code"`
	// AddressFiles are extra GSO → postal code mapping files (other provinces), next to the
	// embedded ones.
	AddressFiles []string `yaml:"address_files"`
	// PollInterval is how often tracking is polled; PollTimeout bounds one poll.
	PollInterval time.Duration `yaml:"poll_interval"`
	PollTimeout  time.Duration `yaml:"poll_timeout"`
	// DefaultService is the service of a request that names none (CTN001, ETN011, ETN013);
	// DefaultWeightGrams the weight of one that gives none.
	DefaultService     string `yaml:"default_service"`
	DefaultWeightGrams int    `yaml:"default_weight_grams"`
	// Agency is the other party of every shipment: it sends results and receives dossiers.
	Agency PostalAgency `yaml:"agency"`
}

// PostalAgency is the agency's side of a shipment (public data of the agency, not personal).
type PostalAgency struct {
	Name         string `yaml:"name"`
	Phone        string `yaml:"phone"`
	Address      string `yaml:"address"`
	ProvinceCode string `yaml:"province_code"`
	CommuneCode  string `yaml:"commune_code"`
	DistrictCode string `yaml:"district_code"`
}

// Enabled reports whether postal delivery is configured.
func (p PostalConfig) Enabled() bool { return p.Dialect != "" }

// Postal dialects.
const (
	PostalMyVNPost = "myvnpost"
	PostalNGSP     = "ngsp"
)

// Demo postal credentials of the dev profile (accepted by the VNPost sandbox).
const (
	DemoVNPostUser         = "demo-vnpost"
	DemoVNPostPassword     = "demo-vnpost-password"
	DemoNGSPClientID       = "demo-ngsp-client"
	DemoNGSPClientSecret   = "demo-ngsp-secret"
	DemoNGSPCustomerCode   = "DEMOLSN"
	devPostalSandboxPrefix = "/sandbox/vnpost/"
)

func defaultPostal() PostalConfig {
	return PostalConfig{PollInterval: 30 * time.Second, PollTimeout: 20 * time.Second, DefaultService: "CTN001", DefaultWeightGrams: 500}
}

func devPostal(p *PostalConfig) {
	p.Dialect = PostalMyVNPost
	p.Username, p.Password = DemoVNPostUser, DemoVNPostPassword
	p.ClientID, p.ClientSecret, p.CustomerCode = DemoNGSPClientID, DemoNGSPClientSecret, DemoNGSPCustomerCode
	p.PollInterval = 2 * time.Second
	p.Agency = PostalAgency{Name: "Trung tam Phuc vu hanh chinh cong tinh Lang Son", Phone: "0912345020",
		Address: "So 2 duong Hoang Van Thu", ProvinceCode: "20", CommuneCode: "05977"}
}

// FillDevPostalURL points an empty postal base URL at the VNPost sandbox on the API listener
// reached at public, in the path of the configured dialect.
func FillDevPostalURL(p *PostalConfig, public string) {
	if p.BaseURL == "" && p.Enabled() {
		p.BaseURL = public + devPostalSandboxPrefix + p.Dialect
	}
}

// RewritePostalURL replaces old by public in a postal base URL derived from it (see
// RewritePaymentURLs).
func (p *PostalConfig) RewritePostalURL(old, public string) {
	if strings.HasPrefix(p.BaseURL, old+"/sandbox/") {
		p.BaseURL = public + strings.TrimPrefix(p.BaseURL, old)
	}
}

func applyPostalEnv(p *PostalConfig, get func(string) (string, bool), secret func(string) (string, bool), dur func(string, *time.Duration)) {
	str := func(name string, dst *string) {
		if v, ok := get(name); ok {
			*dst = v
		}
	}
	str("GATEWAY_POSTAL_DIALECT", &p.Dialect)
	str("GATEWAY_POSTAL_BASE_URL", &p.BaseURL)
	str("GATEWAY_POSTAL_USERNAME", &p.Username)
	str("GATEWAY_POSTAL_CLIENT_ID", &p.ClientID)
	str("GATEWAY_POSTAL_CUSTOMER_CODE", &p.CustomerCode)
	if v, ok := secret("GATEWAY_POSTAL_PASSWORD"); ok {
		p.Password = v
	}
	if v, ok := secret("GATEWAY_POSTAL_CLIENT_SECRET"); ok {
		p.ClientSecret = v
	}
	dur("GATEWAY_POSTAL_POLL_INTERVAL", &p.PollInterval)
}

// postalSecretYAMLKeys names secrets found under postal: in a YAML file.
func postalSecretYAMLKeys(m map[string]any) []string {
	p, ok := m["postal"].(map[string]any)
	if !ok {
		return nil
	}
	var out []string
	for _, k := range []string{"password", "client_secret", "secret"} {
		if _, ok := p[k]; ok {
			out = append(out, "postal."+k)
		}
	}
	return out
}

// validatePostal checks the postal section when postal delivery is on. In the dev profile an
// empty base URL means the sandbox on the API listener.
func validatePostal(p PostalConfig, dev bool, bad func(string, ...any)) {
	if !p.Enabled() {
		return
	}
	switch p.Dialect {
	case PostalMyVNPost:
		if p.Username == "" || p.Password == "" {
			bad("postal credentials: username (postal.username) and password (GATEWAY_POSTAL_PASSWORD) are required by myvnpost")
		}
	case PostalNGSP:
		if p.ClientID == "" || p.ClientSecret == "" || p.CustomerCode == "" {
			bad("postal credentials: postal.client_id, postal.customer_code and GATEWAY_POSTAL_CLIENT_SECRET are required by ngsp")
		}
	default:
		bad("postal.dialect: %q is unknown (known: myvnpost, ngsp)", p.Dialect)
	}
	if !isHTTPURL(p.BaseURL) && !(dev && p.BaseURL == "") {
		bad("postal.base_url: %q is not an http(s) URL", p.BaseURL)
	}
	if p.PollInterval <= 0 {
		bad("postal.poll_interval: must be positive")
	}
	if p.PollTimeout <= 0 {
		bad("postal.poll_timeout: must be positive")
	}
	if !slices.Contains([]string{"CTN001", "ETN011", "ETN013"}, p.DefaultService) {
		bad("postal.default_service: %q is unknown (known: CTN001, ETN011, ETN013)", p.DefaultService)
	}
	if p.DefaultWeightGrams < 1 || p.DefaultWeightGrams > 100000 {
		bad("postal.default_weight_grams: %d is outside 1..100000", p.DefaultWeightGrams)
	}
	a := p.Agency
	if a.Name == "" || a.Phone == "" || a.Address == "" {
		bad("postal.agency: name, phone and address are required")
	}
	if len(a.ProvinceCode) != 2 || !digits(a.ProvinceCode) {
		bad("postal.agency.province_code: %q is not a 2-digit GSO code", a.ProvinceCode)
	}
	if len(a.CommuneCode) != 5 || !digits(a.CommuneCode) {
		bad("postal.agency.commune_code: %q is not a 5-digit GSO code", a.CommuneCode)
	}
}
