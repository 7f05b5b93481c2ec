package config

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// Hardening is the API listener's protection, under http: in the YAML file.
type Hardening struct {
	// TLSCertFile and TLSKeyFile (PEM), when set, make the API listener speak HTTPS only.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// ClientCAFile (PEM), when set, asks clients for a certificate signed by one of its CAs (the
	// one-stop system's). ClientAuth: "optional" (the default: a certificate given must verify,
	// partners without one still connect) or "require" (no connection without one).
	ClientCAFile string `yaml:"client_ca_file"`
	ClientAuth   string `yaml:"client_auth"`
	// ClientCertClients are the clients (of GATEWAY_CLIENT_TOKENS) whose tokens are accepted only
	// with a verified client certificate, so a stolen token alone is useless.
	ClientCertClients []string `yaml:"client_cert_clients"`
	// RateLimit is per client (a known token's client, else the remote address), per replica.
	RateLimit RateLimitConfig `yaml:"rate_limit"`
	// CallbackAllowedNets are the only networks each partner's callbacks are accepted from
	// ("vnpay", "paygov", "bank" for every bank or "bank:<name>" for one); CIDRs or addresses.
	// A partner not listed is not restricted.
	CallbackAllowedNets map[string][]string `yaml:"callback_allowed_nets"`
}

// RateLimitConfig is a token bucket per client; PerSecond 0 disables it.
type RateLimitConfig struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// defaultHardening: a limit far above what one province's one-stop system sends, to stop a
// runaway or hostile client without touching normal traffic.
func defaultHardening() Hardening {
	return Hardening{RateLimit: RateLimitConfig{PerSecond: 500, Burst: 1000}}
}

// devHardening: the dev profile's sandboxes call back from the loopback interface, and its
// demos and load measurements run without a rate limit.
func devHardening(h *Hardening) {
	loopback := []string{"127.0.0.0/8", "::1/128"}
	h.CallbackAllowedNets = map[string][]string{"vnpay": loopback, "paygov": loopback, "bank": loopback}
	h.RateLimit = RateLimitConfig{}
}

// applyHardeningEnv overlays GATEWAY_HTTP_TLS_CERT_FILE, GATEWAY_HTTP_TLS_KEY_FILE,
// GATEWAY_HTTP_CLIENT_CA_FILE, GATEWAY_HTTP_CLIENT_AUTH, GATEWAY_HTTP_CLIENT_CERT_CLIENTS (comma
// separated) and GATEWAY_HTTP_RATE_LIMIT ("per_second" or "per_second/burst").
func applyHardeningEnv(h *Hardening, get func(string) (string, bool)) []error {
	var errs []error
	for name, dst := range map[string]*string{
		"GATEWAY_HTTP_TLS_CERT_FILE": &h.TLSCertFile, "GATEWAY_HTTP_TLS_KEY_FILE": &h.TLSKeyFile,
		"GATEWAY_HTTP_CLIENT_CA_FILE": &h.ClientCAFile, "GATEWAY_HTTP_CLIENT_AUTH": &h.ClientAuth,
	} {
		if v, ok := get(name); ok {
			*dst = v
		}
	}
	if v, ok := get("GATEWAY_HTTP_CLIENT_CERT_CLIENTS"); ok {
		h.ClientCertClients = splitList(v)
	}
	if v, ok := get("GATEWAY_HTTP_RATE_LIMIT"); ok {
		rps, burst, _ := strings.Cut(v, "/")
		r, err := strconv.ParseFloat(rps, 64)
		if err != nil {
			errs = append(errs, errors.New("GATEWAY_HTTP_RATE_LIMIT: want per_second or per_second/burst"))
		}
		h.RateLimit.PerSecond = r
		if burst != "" {
			b, err := strconv.Atoi(burst)
			if err != nil {
				errs = append(errs, errors.New("GATEWAY_HTTP_RATE_LIMIT: the burst is not a whole number"))
			}
			h.RateLimit.Burst = b
		} else if h.RateLimit.Burst < int(r) {
			h.RateLimit.Burst = int(2 * r)
		}
	}
	return errs
}

func validateHardening(h Hardening, bad func(string, ...any)) {
	if (h.TLSCertFile == "") != (h.TLSKeyFile == "") {
		bad("http.tls_cert_file and http.tls_key_file: give both or neither")
	}
	if h.ClientCAFile != "" && h.TLSCertFile == "" {
		bad("http.client_ca_file: client certificates need TLS (http.tls_cert_file)")
	}
	switch h.ClientAuth {
	case "", "optional", "require":
	default:
		bad("http.client_auth: %q is neither optional nor require", h.ClientAuth)
	}
	if h.ClientAuth != "" && h.ClientCAFile == "" {
		bad("http.client_auth: needs http.client_ca_file")
	}
	if len(h.ClientCertClients) > 0 && h.ClientCAFile == "" {
		bad("http.client_cert_clients: needs http.client_ca_file")
	}
	if h.RateLimit.PerSecond < 0 || h.RateLimit.Burst < 0 || (h.RateLimit.PerSecond > 0 && h.RateLimit.Burst < 1) {
		bad("http.rate_limit: per_second and burst must not be negative, and a limit needs a burst of at least 1")
	}
	for partner, nets := range h.CallbackAllowedNets {
		if partner != "vnpay" && partner != "paygov" && partner != "bank" && !strings.HasPrefix(partner, "bank:") {
			bad("http.callback_allowed_nets: %q is not vnpay, paygov, bank or bank:<name>", partner)
		}
		for _, n := range nets {
			if _, err := netip.ParsePrefix(n); err != nil {
				if _, err := netip.ParseAddr(n); err != nil {
					bad("http.callback_allowed_nets.%s: %q is neither a CIDR nor an address", partner, n)
				}
			}
		}
	}
}
