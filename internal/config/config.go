// Package config loads the gateway's settings: defaults, then a YAML file, then the environment
// (GATEWAY_<SECTION>_<FIELD>), then Validate, which lists every problem at once.
//
// Secrets (tokens, passwords, signing keys) are never read from the YAML file: each comes from an
// environment variable or from a file named by the same variable with a _FILE suffix (for Docker
// and Kubernetes secrets). The dev profile alone carries the documented demo credentials.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Profiles.
const (
	ProfileDev        = "dev"
	ProfileProduction = "production"
)

// Config is everything the gateway needs to start.
type Config struct {
	Profile string `yaml:"profile"`
	// Role is what this process runs: all (the default), api or worker (role.go).
	Role  string      `yaml:"role"`
	Log   LogConfig   `yaml:"log"`
	HTTP  HTTPConfig  `yaml:"http"`
	Admin AdminConfig `yaml:"admin"`
	Redis RedisConfig `yaml:"redis"`
	// Clients maps a one-stop client's name to its bearer tokens (secret: environment only,
	// GATEWAY_CLIENT_TOKENS="name:token,name:token2"). Two tokens of one client are valid at once
	// during a rotation.
	Clients  map[string][]string      `yaml:"-"`
	Routing  RoutingConfig            `yaml:"routing"`
	Retry    RetryConfig              `yaml:"retry"`
	Portal   PortalConfig             `yaml:"portal"`
	Onestop  OnestopConfig            `yaml:"onestop"`
	Partners map[string]PartnerConfig `yaml:"partners"`
	Payments PaymentsConfig           `yaml:"payments"`
	Postal   PostalConfig             `yaml:"postal"`
	// PortalSync tunes the status reconciliation with the portal and the bulk re-sync.
	PortalSync PortalSyncConfig `yaml:"portal_sync"`
}

// LogConfig sets the logger.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json
}

// HTTPConfig is the API listener (one-stop system, partner callbacks, dev sandboxes).
type HTTPConfig struct {
	Addr              string        `yaml:"addr"`
	MaxBodyBytes      int64         `yaml:"max_body_bytes"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
	// PublicURL is how partners reach this listener (callback and sandbox URLs); defaults to
	// http://Addr.
	PublicURL string `yaml:"public_url"`
	// Hardening: TLS, client certificates, the rate limit and the callback allow-lists.
	Hardening `yaml:",inline"`
}

// AdminConfig is the ops listener.
type AdminConfig struct {
	Addr  string `yaml:"addr"`
	Token string `yaml:"-"` // GATEWAY_ADMIN_TOKEN
	// OldTokens are accepted too during a rotation: GATEWAY_ADMIN_TOKEN=new,old (the first is Token).
	OldTokens []string `yaml:"-"`
}

// RedisConfig selects the store.
type RedisConfig struct {
	// Embedded runs an in-process Redis-compatible store (dev profile): data lives in memory.
	Embedded bool `yaml:"embedded"`
	// URL is a redis:// or rediss:// URL (GATEWAY_REDIS_URL); may carry a password, so it is
	// treated as a secret and taken from the environment only.
	URL string `yaml:"-"`
	// Addrs, MasterName: Sentinel or Cluster through go-redis's universal client.
	Addrs      []string `yaml:"addrs"`
	MasterName string   `yaml:"master_name"`
	// KeyPrefix namespaces every key, so several gateways (or test runs) can share one Redis.
	KeyPrefix string `yaml:"key_prefix"`
}

// RoutingConfig tunes the consumers.
type RoutingConfig struct {
	// Replica names this process in consumer groups; stable across restarts of the same replica
	// (defaults to the host name), so a restarted replica picks up its own pending messages.
	Replica             string `yaml:"replica"`
	ConsumersPerHandler int    `yaml:"consumers_per_handler"`
	// InFlightPerConsumer is how many messages one consumer may have in its handler at once; each
	// consumer reads and acknowledges that many in one round trip. Handler concurrency per replica
	// is consumers_per_handler × in_flight_per_consumer.
	InFlightPerConsumer int           `yaml:"in_flight_per_consumer"`
	HandlerTimeout      time.Duration `yaml:"handler_timeout"`
	ShortRetries        int           `yaml:"short_retries"`
	ShortRetryInterval  time.Duration `yaml:"short_retry_interval"`
	// MaxIdleTime is how long a delivered, unacknowledged message waits before another consumer
	// claims it. It must stay well above one delivery's worst case (timeout × attempts + backoff).
	MaxIdleTime   time.Duration `yaml:"max_idle_time"`
	ClaimInterval time.Duration `yaml:"claim_interval"`
	// IdempotencyTTL is how long an event's source+id (and a handled message) is remembered.
	IdempotencyTTL time.Duration `yaml:"idempotency_ttl"`
	ShutdownGrace  time.Duration `yaml:"shutdown_grace"`
	// StreamRetention keeps acknowledged stream entries at least this long before trimming
	// (entries a consumer group still needs are never trimmed).
	StreamRetention time.Duration `yaml:"stream_retention"`
}

// RetryConfig is the delayed-retry schedule for transient failures.
type RetryConfig struct {
	Schedule     []time.Duration `yaml:"schedule"`
	PollInterval time.Duration   `yaml:"poll_interval"`
}

// PartnerConfig tunes one partner's client and retry schedule.
type PartnerConfig struct {
	Timeout         time.Duration   `yaml:"timeout"`
	MaxConnsPerHost int             `yaml:"max_conns_per_host"`
	BreakerFailures uint32          `yaml:"breaker_failures"`
	BreakerOpenFor  time.Duration   `yaml:"breaker_open_for"`
	RetrySchedule   []time.Duration `yaml:"retry_schedule"`
	// MaintenanceWindows are daily windows "HH:MM-HH:MM" in Asia/Ho_Chi_Minh (may span
	// midnight) during which the partner is paused: messages wait, breakers do not count.
	MaintenanceWindows []string `yaml:"maintenance_windows"`
}

// ParseWindow reads a daily window "HH:MM-HH:MM" as offsets from local midnight.
func ParseWindow(s string) (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not HH:MM-HH:MM", s)
	}
	clock := func(v string) (time.Duration, error) {
		t, err := time.Parse("15:04", strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not HH:MM-HH:MM", s)
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
	}
	if start, err = clock(a); err != nil {
		return 0, 0, err
	}
	if end, err = clock(b); err != nil {
		return 0, 0, err
	}
	if start == end {
		return 0, 0, fmt.Errorf("%q is empty (start equals end)", s)
	}
	return start, end, nil
}

// PortalConfig is the national portal (DVCQG) connection.
type PortalConfig struct {
	Dialect         string `yaml:"dialect"`
	BaseURL         string `yaml:"base_url"`
	AuthPath        string `yaml:"auth_path"`
	IntegrationPath string `yaml:"integration_path"`
	Username        string `yaml:"username"`
	Password        string `yaml:"-"` // GATEWAY_PORTAL_PASSWORD
	DstCode         string `yaml:"dstcode"`
	MaDonVi         string `yaml:"madonvi"`
	// Agencies (DonViXuLy codes) whose dossiers submitted on the portal are delivered to the
	// one-stop system; others are counted and left at the portal (national.go).
	Agencies    []string          `yaml:"agencies"`
	Submissions SubmissionsConfig `yaml:"submissions"`
	Catalog     CatalogConfig     `yaml:"catalog"`
}

// OnestopConfig is where notifications to the one-stop system go.
type OnestopConfig struct {
	Dialect string `yaml:"dialect"`
	URL     string `yaml:"url"`
	// Secrets sign notifications (Standard Webhooks, whsec_...); during a rotation both are used.
	Secrets []string `yaml:"-"` // GATEWAY_ONESTOP_SECRETS (comma separated)
}

// Demo credentials of the dev profile, as documented in the API contract.
const (
	DemoClientToken    = "demo-onestop-token"
	DemoAdminToken     = "demo-admin-token"
	DemoPortalUser     = "demo-portal"
	DemoPortalPassword = "demo-portal-password"
	DemoDstCode        = "000.00.00.H37"
	// DemoOnestopSecret is "whsec_" + base64("demo-onestop-webhook-secret").
	DemoOnestopSecret = "whsec_ZGVtby1vbmVzdG9wLXdlYmhvb2stc2VjcmV0"
)

// Defaults returns the settings every profile starts from.
func Defaults() Config {
	host, _ := os.Hostname()
	if host == "" {
		host = "gateway"
	}
	c := Config{
		Profile: ProfileDev,
		Role:    RoleAll,
		Log:     LogConfig{Level: "info", Format: "text"},
		HTTP: HTTPConfig{
			Addr:              "127.0.0.1:8080",
			MaxBodyBytes:      1 << 20,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    32 << 10,
		},
		Admin: AdminConfig{Addr: "127.0.0.1:9090"},
		Redis: RedisConfig{KeyPrefix: "gw"},
		Routing: RoutingConfig{
			Replica:             host,
			ConsumersPerHandler: 4,
			InFlightPerConsumer: 4,
			HandlerTimeout:      10 * time.Second,
			ShortRetries:        2,
			ShortRetryInterval:  200 * time.Millisecond,
			MaxIdleTime:         2 * time.Minute,
			ClaimInterval:       10 * time.Second,
			IdempotencyTTL:      7 * 24 * time.Hour,
			ShutdownGrace:       20 * time.Second,
			StreamRetention:     24 * time.Hour,
		},
		Retry: RetryConfig{
			Schedule: []time.Duration{
				5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
				time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour,
				24 * time.Hour, 24 * time.Hour, 24 * time.Hour,
			},
			PollInterval: time.Second,
		},
		Portal: PortalConfig{
			Dialect:         "dvcqg",
			AuthPath:        "/auth",
			IntegrationPath: "/integration",
			Submissions:     defaultSubmissions(),
			Catalog:         defaultCatalog(),
		},
		Onestop:    OnestopConfig{Dialect: "webhook"},
		Payments:   defaultPayments(),
		Postal:     defaultPostal(),
		PortalSync: defaultPortalSync(),
	}
	c.HTTP.Hardening = defaultHardening()
	return c
}

// DevProfile returns the defaults completed with the dev profile: embedded store, sandbox
// partners on the API listener, demo credentials.
func DevProfile() Config {
	c := Defaults()
	c.Profile = ProfileDev
	c.Redis.Embedded = true
	c.Admin.Token = DemoAdminToken
	c.Clients = map[string][]string{"onestop": {DemoClientToken}}
	c.Portal.Username = DemoPortalUser
	c.Portal.Password = DemoPortalPassword
	c.Portal.DstCode = DemoDstCode
	c.Portal.MaDonVi = DemoDstCode
	c.Portal.Agencies = append([]string(nil), DevAgencies...)
	c.Portal.Submissions.Interval = 5 * time.Second
	c.Onestop.Secrets = []string{DemoOnestopSecret}
	devPayments(&c.Payments)
	devHardening(&c.HTTP.Hardening)
	devPostal(&c.Postal)
	// Short first steps so a demo sees a retry happen; the tail is the production schedule.
	c.Retry.Schedule = append([]time.Duration{time.Second, 5 * time.Second}, c.Retry.Schedule[1:]...)
	return c
}

// Load builds the configuration: the dev profile when path is empty, else defaults overlaid by
// the YAML file at path; then the environment; then Validate.
func Load(path string, env func(string) string) (Config, error) {
	if env == nil {
		env = os.Getenv
	}
	var c Config
	if path == "" {
		c = DevProfile()
	} else {
		c = Defaults()
		c.Profile = ProfileProduction
		raw, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("reading config: %w", err)
		}
		if err := decodeYAML(raw, &c); err != nil {
			return c, fmt.Errorf("parsing config %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, env); err != nil {
		return c, err
	}
	c.fillDerived()
	return c, c.Validate()
}

func decodeYAML(raw []byte, c *Config) error {
	// Refuse secrets in the file outright, naming the key, rather than ignoring them silently.
	var probe map[string]any
	if err := yaml.Unmarshal(raw, &probe); err != nil {
		return err
	}
	var errs []error
	for _, k := range slices.Concat(secretYAMLKeys(probe), paymentSecretYAMLKeys(probe), postalSecretYAMLKeys(probe)) {
		errs = append(errs, fmt.Errorf("%s: secrets are not read from the config file; use the environment or a _FILE variable", k))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && err.Error() != "EOF" {
		return err
	}
	return nil
}

func secretYAMLKeys(m map[string]any) []string {
	secret := map[string]map[string]bool{
		"admin":   {"token": true},
		"redis":   {"url": true, "password": true},
		"portal":  {"password": true},
		"onestop": {"secret": true, "secrets": true},
		"":        {"clients": true},
	}
	var out []string
	for k, v := range m {
		if secret[""][k] {
			out = append(out, k)
		}
		sub, ok := v.(map[string]any)
		if !ok {
			continue
		}
		for sk := range sub {
			if secret[k][sk] {
				out = append(out, k+"."+sk)
			}
		}
	}
	return out
}

// applyEnv overlays GATEWAY_* variables. A secret variable X may be given as X_FILE instead.
func applyEnv(c *Config, env func(string) string) error {
	var errs []error
	get := func(name string) (string, bool) {
		if v := env(name); v != "" {
			return v, true
		}
		return "", false
	}
	secret := func(name string) (string, bool) {
		if v, ok := get(name); ok {
			return v, true
		}
		if f, ok := get(name + "_FILE"); ok {
			b, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: reading secret file: %w", name, err))
				return "", false
			}
			return strings.TrimSpace(string(b)), true
		}
		return "", false
	}
	str := func(name string, dst *string) {
		if v, ok := get(name); ok {
			*dst = v
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v, ok := get(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = d
		}
	}
	integer := func(name string, dst *int) {
		if v, ok := get(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: not a whole number", name))
				return
			}
			*dst = n
		}
	}
	str("GATEWAY_PROFILE", &c.Profile)
	str("GATEWAY_ROLE", &c.Role)
	str("GATEWAY_LOG_LEVEL", &c.Log.Level)
	str("GATEWAY_LOG_FORMAT", &c.Log.Format)
	str("GATEWAY_HTTP_ADDR", &c.HTTP.Addr)
	str("GATEWAY_HTTP_PUBLIC_URL", &c.HTTP.PublicURL)
	if v, ok := get("GATEWAY_HTTP_MAX_BODY_BYTES"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, errors.New("GATEWAY_HTTP_MAX_BODY_BYTES: not a whole number"))
		}
		c.HTTP.MaxBodyBytes = n
	}
	str("GATEWAY_ADMIN_ADDR", &c.Admin.Addr)
	if v, ok := secret("GATEWAY_ADMIN_TOKEN"); ok {
		c.Admin.Token, c.Admin.OldTokens = v, nil
		if tokens := splitList(v); len(tokens) > 0 {
			c.Admin.Token, c.Admin.OldTokens = tokens[0], tokens[1:]
		}
	}
	if v, ok := secret("GATEWAY_REDIS_URL"); ok {
		c.Redis.URL = v
		c.Redis.Embedded = false
	}
	str("GATEWAY_REDIS_KEY_PREFIX", &c.Redis.KeyPrefix)
	if v, ok := secret("GATEWAY_CLIENT_TOKENS"); ok {
		clients, err := parseClientTokens(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("GATEWAY_CLIENT_TOKENS: %w", err))
		}
		c.Clients = clients
	}
	str("GATEWAY_ROUTING_REPLICA", &c.Routing.Replica)
	integer("GATEWAY_ROUTING_CONSUMERS_PER_HANDLER", &c.Routing.ConsumersPerHandler)
	integer("GATEWAY_ROUTING_IN_FLIGHT_PER_CONSUMER", &c.Routing.InFlightPerConsumer)
	dur("GATEWAY_ROUTING_HANDLER_TIMEOUT", &c.Routing.HandlerTimeout)
	dur("GATEWAY_ROUTING_MAX_IDLE_TIME", &c.Routing.MaxIdleTime)
	dur("GATEWAY_ROUTING_CLAIM_INTERVAL", &c.Routing.ClaimInterval)
	dur("GATEWAY_RETRY_POLL_INTERVAL", &c.Retry.PollInterval)
	if v, ok := get("GATEWAY_RETRY_SCHEDULE"); ok {
		s, err := parseDurations(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("GATEWAY_RETRY_SCHEDULE: %w", err))
		}
		c.Retry.Schedule = s
	}
	str("GATEWAY_PORTAL_BASE_URL", &c.Portal.BaseURL)
	str("GATEWAY_PORTAL_USERNAME", &c.Portal.Username)
	str("GATEWAY_PORTAL_DSTCODE", &c.Portal.DstCode)
	str("GATEWAY_PORTAL_MADONVI", &c.Portal.MaDonVi)
	if v, ok := secret("GATEWAY_PORTAL_PASSWORD"); ok {
		c.Portal.Password = v
	}
	str("GATEWAY_ONESTOP_URL", &c.Onestop.URL)
	if v, ok := secret("GATEWAY_ONESTOP_SECRETS"); ok {
		c.Onestop.Secrets = splitList(v)
	}
	errs = append(errs, applyPaymentsEnv(&c.Payments, get, secret, dur)...)
	applyNationalEnv(&c.Portal, get, dur)
	applyPostalEnv(&c.Postal, get, secret, dur)
	errs = append(errs, applyPortalSyncEnv(&c.PortalSync, get)...)
	errs = append(errs, applyHardeningEnv(&c.HTTP.Hardening, get)...)
	return errors.Join(errs...)
}

func parseClientTokens(v string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, item := range splitList(v) {
		name, token, ok := strings.Cut(item, ":")
		if !ok || name == "" || token == "" {
			return out, errors.New(`want "name:token,name:token"`)
		}
		out[name] = append(out[name], token)
	}
	return out, nil
}

func parseDurations(v string) ([]time.Duration, error) {
	var out []time.Duration
	for _, item := range splitList(v) {
		d, err := time.ParseDuration(item)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *Config) fillDerived() {
	if c.HTTP.PublicURL == "" && c.HTTP.Addr != "" {
		c.HTTP.PublicURL = "http://" + c.HTTP.Addr
	}
	if c.Profile == ProfileDev {
		// Dev sandboxes live on the API listener itself.
		if c.Portal.BaseURL == "" {
			c.Portal.BaseURL = c.HTTP.PublicURL + "/sandbox/dvcqg"
		}
		if c.Onestop.URL == "" {
			c.Onestop.URL = c.HTTP.PublicURL + "/sandbox/onestop/notifications"
		}
		FillDevPaymentURLs(&c.Payments, c.HTTP.PublicURL)
		FillDevPostalURL(&c.Postal, c.HTTP.PublicURL)
	}
}

// RetrySchedule returns the retry schedule of a partner: its own when configured, else the
// default.
func (c *Config) RetrySchedule(partner string) []time.Duration {
	if p, ok := c.Partners[partner]; ok && len(p.RetrySchedule) > 0 {
		return p.RetrySchedule
	}
	return c.Retry.Schedule
}

// Validate returns every problem at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Profile != ProfileDev && c.Profile != ProfileProduction {
		bad("profile: %q is neither %q nor %q", c.Profile, ProfileDev, ProfileProduction)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format: %q is neither text nor json", c.Log.Format)
	}
	for name, addr := range map[string]string{"http.addr": c.HTTP.Addr, "admin.addr": c.Admin.Addr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad("%s: %q is not host:port", name, addr)
		}
	}
	if c.HTTP.MaxBodyBytes <= 0 {
		bad("http.max_body_bytes: must be positive")
	}
	if c.Admin.Token == "" {
		bad("admin token: missing (GATEWAY_ADMIN_TOKEN or GATEWAY_ADMIN_TOKEN_FILE)")
	}
	if !c.Redis.Embedded && c.Redis.URL == "" && len(c.Redis.Addrs) == 0 {
		bad("redis: no store (GATEWAY_REDIS_URL, or redis.addrs for Sentinel/Cluster)")
	}
	if c.Redis.Embedded && c.Profile == ProfileProduction {
		bad("redis.embedded: the production profile needs a real Redis (data in the embedded store is lost on exit)")
	}
	if c.Redis.KeyPrefix == "" || strings.ContainsAny(c.Redis.KeyPrefix, "{} ") {
		bad("redis.key_prefix: must be non-empty without braces or spaces")
	}
	// A worker serves no API, so it takes no client tokens: it need not hold that secret.
	if len(c.Clients) == 0 && c.ServesAPI() {
		bad("client tokens: none (GATEWAY_CLIENT_TOKENS=name:token)")
	}
	r := c.Routing
	if r.Replica == "" || strings.ContainsAny(r.Replica, " {}") {
		bad("routing.replica: must be a non-empty name without spaces or braces")
	}
	if r.ConsumersPerHandler < 1 || r.ConsumersPerHandler > 256 {
		bad("routing.consumers_per_handler: %d is outside 1..256", r.ConsumersPerHandler)
	}
	if r.InFlightPerConsumer < 1 || r.InFlightPerConsumer > 256 {
		bad("routing.in_flight_per_consumer: %d is outside 1..256", r.InFlightPerConsumer)
	}
	if r.HandlerTimeout <= 0 {
		bad("routing.handler_timeout: must be positive")
	}
	if r.ShortRetries < 0 {
		bad("routing.short_retries: must not be negative")
	}
	// One delivery's worst case must stay well under MaxIdleTime, or another consumer claims a
	// message that is still being handled and it is processed twice.
	if worst := r.WorstDelivery(); r.MaxIdleTime < 2*worst {
		bad("routing.max_idle_time: %s must be at least twice one delivery's worst case (%s = handler_timeout × (short_retries+1) + backoff)", r.MaxIdleTime, worst)
	}
	if r.StreamRetention < time.Minute {
		bad("routing.stream_retention: %s is too short (at least 1m)", r.StreamRetention)
	}
	if r.IdempotencyTTL < time.Hour {
		bad("routing.idempotency_ttl: %s is too short (at least 1h)", r.IdempotencyTTL)
	}
	if len(c.Retry.Schedule) == 0 {
		bad("retry.schedule: empty")
	}
	for i, d := range c.Retry.Schedule {
		if d <= 0 {
			bad("retry.schedule[%d]: must be positive", i)
		}
	}
	if c.Retry.PollInterval <= 0 {
		bad("retry.poll_interval: must be positive")
	}
	for name, p := range c.Partners {
		for i, w := range p.MaintenanceWindows {
			if _, _, err := ParseWindow(w); err != nil {
				bad("partners.%s.maintenance_windows[%d]: %v", name, i, err)
			}
		}
		for i, d := range p.RetrySchedule {
			if d <= 0 {
				bad("partners.%s.retry_schedule[%d]: must be positive", name, i)
			}
		}
	}
	if c.Portal.Dialect != "dvcqg" {
		bad("portal.dialect: %q is unknown (known: dvcqg)", c.Portal.Dialect)
	}
	if u, err := url.Parse(c.Portal.BaseURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		bad("portal.base_url: %q is not an http(s) URL", c.Portal.BaseURL)
	}
	if c.Portal.Username == "" || c.Portal.Password == "" {
		bad("portal credentials: username (portal.username) and password (GATEWAY_PORTAL_PASSWORD) are required")
	}
	if c.Portal.DstCode == "" || c.Portal.MaDonVi == "" {
		bad("portal.dstcode and portal.madonvi are required")
	}
	if c.Onestop.Dialect != "webhook" {
		bad("onestop.dialect: %q is unknown (known: webhook)", c.Onestop.Dialect)
	}
	if u, err := url.Parse(c.Onestop.URL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		bad("onestop.url: %q is not an http(s) URL", c.Onestop.URL)
	}
	if len(c.Onestop.Secrets) == 0 {
		bad("onestop secrets: none (GATEWAY_ONESTOP_SECRETS=whsec_...)")
	}
	for i, s := range c.Onestop.Secrets {
		if !strings.HasPrefix(s, "whsec_") {
			bad("onestop secret %d: must start with whsec_", i+1)
		}
	}
	validateRole(c, bad)
	validatePayments(c.Payments, c.Profile == ProfileDev, bad)
	validateNational(c.Portal, bad)
	validatePostal(c.Postal, c.Profile == ProfileDev, bad)
	validatePortalSync(c.PortalSync, bad)
	validateHardening(c.HTTP.Hardening, bad)
	return errors.Join(errs...)
}

// WorstDelivery is the longest one delivery of a message can take in-process: every attempt
// timing out, plus the backoff between attempts (doubling, capped at 5 s).
func (r RoutingConfig) WorstDelivery() time.Duration {
	worst := r.HandlerTimeout * time.Duration(r.ShortRetries+1)
	backoff := r.ShortRetryInterval
	for i := 0; i < r.ShortRetries; i++ {
		worst += backoff
		backoff = min(backoff*2, 5*time.Second)
	}
	return worst
}
