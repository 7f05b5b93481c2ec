// Package httpguard protects the API listener before any handler runs: a rate limit per client
// and per-partner address allow-lists for the callback routes. TLS and the slow-client limits
// (timeouts, header size) are the http.Server's (internal/app).
//
// The rate limit is a token bucket per client, kept in memory by each replica: with N replicas
// behind a load balancer a client may get up to N times the configured rate. A client is the
// name behind a known bearer token ("client:onestop"), or else the remote address ("ip:…"), so
// inventing tokens does not buy fresh buckets.
package httpguard

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit configures the per-client limit.
type RateLimit struct {
	// PerSecond is the sustained rate of requests per client; 0 disables the limit.
	PerSecond float64
	// Burst is how many requests a client may send at once above the rate.
	Burst int
	// Clients are the known bearer tokens by client name (the same as the API's).
	Clients map[string][]string
	// MaxClients bounds the buckets kept; past it new clients share one bucket. 10000 when zero.
	MaxClients int
	// OnLimited, when set, is called for every refused request (a metric).
	OnLimited func(client string)
}

// Limiter is a per-client token bucket limiter.
type Limiter struct {
	cfg     RateLimit
	tokens  []tokenDigest
	mu      sync.Mutex
	buckets map[string]*bucket
	shared  *rate.Limiter
	calls   int
}

type tokenDigest struct {
	name   string
	digest [32]byte
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// idleAfter is how long an unused bucket is kept.
const idleAfter = 10 * time.Minute

// NewLimiter builds a limiter; nil when cfg.PerSecond is 0 (no limit).
func NewLimiter(cfg RateLimit) *Limiter {
	if cfg.PerSecond <= 0 {
		return nil
	}
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 10000
	}
	l := &Limiter{cfg: cfg, buckets: map[string]*bucket{}, shared: rate.NewLimiter(rate.Limit(cfg.PerSecond), cfg.Burst)}
	for name, ts := range cfg.Clients {
		for _, t := range ts {
			l.tokens = append(l.tokens, tokenDigest{name: name, digest: sha256.Sum256([]byte(t))})
		}
	}
	return l
}

// Client names the client of r: the name behind its bearer token when the token is known
// (compared in constant time), else its remote address.
func (l *Limiter) Client(r *http.Request) string {
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		d := sha256.Sum256([]byte(strings.TrimSpace(h[7:])))
		name := ""
		for _, t := range l.tokens {
			if subtle.ConstantTimeCompare(d[:], t.digest[:]) == 1 {
				name = t.name
			}
		}
		if name != "" {
			return "client:" + name
		}
	}
	return "ip:" + RemoteIP(r).String()
}

// Allow takes a token from the client's bucket.
func (l *Limiter) Allow(client string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%1024 == 0 {
		for k, b := range l.buckets {
			if now.Sub(b.last) > idleAfter {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[client]
	if !ok {
		if len(l.buckets) >= l.cfg.MaxClients {
			return l.shared.AllowN(now, 1)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.cfg.PerSecond), l.cfg.Burst)}
		l.buckets[client] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

// Wrap refuses, with 429 and a problem document, the requests of a client over its rate.
func (l *Limiter) Wrap(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := l.Client(r)
		if !l.Allow(client, time.Now()) {
			if l.cfg.OnLimited != nil {
				l.cfg.OnLimited(client)
			}
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter(l.cfg.PerSecond)))
			problem(w, r, http.StatusTooManyRequests, "rate-limited", "Too many requests; slow down")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func retryAfter(perSecond float64) int {
	if perSecond >= 1 {
		return 1
	}
	return int(1/perSecond) + 1
}

// AllowList admits a partner's callbacks only from its networks.
type AllowList struct {
	// Nets are the networks of each partner ("vnpay", "paygov", "bank" for every bank, or
	// "bank:<name>" for one); a partner without an entry is not restricted.
	Nets map[string][]netip.Prefix
}

// Wrap admits requests to a route of partner only from its networks; others get 403.
// For the bank route, partner is "bank" and the {bank} path value picks "bank:<name>" first.
func (a *AllowList) Wrap(partner string, next http.Handler) http.Handler {
	if a == nil || len(a.Nets) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nets, ok := a.Nets[partner]
		if name := r.PathValue("bank"); partner == "bank" && name != "" {
			if own, found := a.Nets["bank:"+name]; found {
				nets, ok = own, true
			}
		}
		if ok && !Contains(nets, RemoteIP(r)) {
			problem(w, r, http.StatusForbidden, "forbidden", "This address may not call this route")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Contains reports whether addr is in one of nets.
func Contains(nets []netip.Prefix, addr netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseNets parses CIDRs (a plain address is a single host).
func ParseNets(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		if !strings.Contains(c, "/") {
			a, err := netip.ParseAddr(c)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// RemoteIP is the address of the connection's peer. Forwarding headers are not trusted: put the
// gateway's listener where partners connect to it directly, or list the proxy's address.
func RemoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func problem(w http.ResponseWriter, r *http.Request, status int, kind, title string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "https://egov-gateway.invalid/problems/" + kind, "title": title, "status": status, "instance": r.URL.Path,
	})
}

// CertBinding accepts the bearer tokens of some clients only over a connection that presented a
// verified client certificate: a stolen token alone is then useless. Other clients and the
// partners' callbacks are not affected.
type CertBinding struct {
	tokens []tokenDigest
}

// NewCertBinding binds the tokens of the named clients (from all clients' tokens); nil when no
// client is named.
func NewCertBinding(names []string, clients map[string][]string) *CertBinding {
	if len(names) == 0 {
		return nil
	}
	b := &CertBinding{}
	for _, name := range names {
		for _, t := range clients[name] {
			b.tokens = append(b.tokens, tokenDigest{name: name, digest: sha256.Sum256([]byte(t))})
		}
	}
	return b
}

// Wrap answers 401 to a request that carries a bound client's token without a verified client
// certificate.
func (b *CertBinding) Wrap(next http.Handler) http.Handler {
	if b == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			d := sha256.Sum256([]byte(strings.TrimSpace(h[7:])))
			bound := 0
			for _, t := range b.tokens {
				bound |= subtle.ConstantTimeCompare(d[:], t.digest[:])
			}
			if bound == 1 && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gateway"`)
				problem(w, r, http.StatusUnauthorized, "client-certificate-required",
					"This client's token is accepted only with its client certificate")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
