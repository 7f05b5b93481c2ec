package app

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/httpapi"
	"github.com/egov-vn/gateway/internal/httpguard"
)

// tlsListener makes ln speak TLS when the configuration names a certificate, asking for client
// certificates when it names client CAs. It closes ln when the files cannot be used.
func tlsListener(ln net.Listener, h config.Hardening) (net.Listener, error) {
	if h.TLSCertFile == "" {
		return ln, nil
	}
	cfg, err := tlsConfig(h)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return tls.NewListener(ln, cfg), nil
}

func tlsConfig(h config.Hardening) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(h.TLSCertFile, h.TLSKeyFile)
	if err != nil {
		// The error names the files, never their content.
		return nil, fmt.Errorf("loading the API listener's TLS certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if h.ClientCAFile != "" {
		pem, err := os.ReadFile(h.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading http.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("http.client_ca_file %s holds no PEM certificate", h.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		if h.ClientAuth == "require" {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return cfg, nil
}

// callbackPartners names the partner of each callback route, for the allow-lists.
var callbackPartners = map[string]string{
	httpapi.RouteVNPayIPN:         "vnpay",
	httpapi.RoutePayGovConfirm:    "paygov",
	httpapi.RoutePayGovBill:       "paygov",
	httpapi.RouteBankTransactions: "bank",
}

// guardAPI sets the callback allow-lists on apiCfg and returns the wrapper that puts the API
// listener's handler behind the per-client rate limit.
func (a *App) guardAPI(apiCfg *httpapi.APIConfig) (func(http.Handler) http.Handler, error) {
	h := a.cfg.HTTP.Hardening
	allow := &httpguard.AllowList{Nets: map[string][]netip.Prefix{}}
	for partner, cidrs := range h.CallbackAllowedNets {
		nets, err := httpguard.ParseNets(cidrs)
		if err != nil {
			return nil, fmt.Errorf("http.callback_allowed_nets.%s: %w", partner, err)
		}
		allow.Nets[partner] = nets
	}
	apiCfg.Wrap = func(route string, next http.Handler) http.Handler {
		if partner, ok := callbackPartners[route]; ok {
			return allow.Wrap(partner, next)
		}
		return next
	}
	// Registered whether or not the limit is on, so the series exist (at zero) on every gateway.
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_http_rate_limited_total",
		Help: "Requests refused with 429 by the per-client rate limit of the API listener, by how the client was known.",
	}, []string{"client"})
	for _, kind := range []string{"token", "address"} {
		limited.WithLabelValues(kind)
	}
	if err := a.Metrics.Registry.Register(limited); err != nil {
		return nil, fmt.Errorf("registering the rate limit's metric: %w", err)
	}
	limiter := httpguard.NewLimiter(httpguard.RateLimit{PerSecond: h.RateLimit.PerSecond, Burst: h.RateLimit.Burst,
		Clients: a.cfg.Clients, OnLimited: func(client string) {
			kind := "address"
			if strings.HasPrefix(client, "client:") {
				kind = "token"
			}
			limited.WithLabelValues(kind).Inc()
		}})
	binding := httpguard.NewCertBinding(h.ClientCertClients, a.cfg.Clients)
	return func(next http.Handler) http.Handler { return limiter.Wrap(binding.Wrap(next)) }, nil
}
