package httpguard_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/httpguard"
)

func request(remote, token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/dossiers/x", nil)
	r.RemoteAddr = remote
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// TestLimiterPerClient: each client has its own bucket; a known token's client is the same from
// any address, and unknown tokens fall back to the address (no fresh bucket per invented token).
func TestLimiterPerClient(t *testing.T) {
	t.Parallel()
	l := httpguard.NewLimiter(httpguard.RateLimit{PerSecond: 1, Burst: 2, Clients: map[string][]string{"onestop": {"tok-a", "tok-b"}}})
	if got := l.Client(request("10.0.0.1:1234", "tok-b")); got != "client:onestop" {
		t.Fatalf("client of a rolled token: %q", got)
	}
	if got := l.Client(request("10.0.0.1:1234", "invented")); got != "ip:10.0.0.1" {
		t.Fatalf("client of an unknown token: %q", got)
	}
	if got := l.Client(request("[::ffff:10.0.0.2]:80", "")); got != "ip:10.0.0.2" {
		t.Fatalf("client of a mapped IPv4 address: %q", got)
	}
	now := time.Unix(1_700_000_000, 0)
	for i, want := range []bool{true, true, false} {
		if got := l.Allow("client:onestop", now); got != want {
			t.Fatalf("request %d at once: %v, want %v", i+1, got, want)
		}
	}
	if !l.Allow("ip:10.0.0.1", now) {
		t.Fatal("another client was limited by the first one's burst")
	}
	if !l.Allow("client:onestop", now.Add(time.Second)) || l.Allow("client:onestop", now.Add(time.Second)) {
		t.Fatal("one second later the client gets exactly one more request")
	}
	if httpguard.NewLimiter(httpguard.RateLimit{}) != nil {
		t.Fatal("a zero rate must disable the limiter")
	}
}

// TestLimiterWrap answers 429 with a problem document and Retry-After past the burst.
func TestLimiterWrap(t *testing.T) {
	t.Parallel()
	l := httpguard.NewLimiter(httpguard.RateLimit{PerSecond: 0.001, Burst: 1})
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	codes := []int{}
	for range 3 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request("192.0.2.7:5555", ""))
		codes = append(codes, w.Code)
		if w.Code == http.StatusTooManyRequests && (w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("Retry-After") == "") {
			t.Fatalf("429 without a problem document or Retry-After: %v", w.Header())
		}
	}
	if codes[0] != http.StatusNoContent || codes[1] != http.StatusTooManyRequests || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("codes %v", codes)
	}
}

// TestLimiterBoundedClients: past MaxClients, new clients share one bucket instead of growing
// the map without bound.
func TestLimiterBoundedClients(t *testing.T) {
	t.Parallel()
	l := httpguard.NewLimiter(httpguard.RateLimit{PerSecond: 1, Burst: 1, MaxClients: 2})
	now := time.Unix(1_700_000_000, 0)
	if !l.Allow("a", now) || !l.Allow("b", now) {
		t.Fatal("the first two clients")
	}
	if !l.Allow("c", now) || l.Allow("d", now) {
		t.Fatal("clients past the bound share one bucket")
	}
}

// TestAllowList: a listed partner's route admits only its networks; a bank's own entry wins
// over the banks' one; partners not listed are not restricted.
func TestAllowList(t *testing.T) {
	t.Parallel()
	loop, err := httpguard.ParseNets([]string{"127.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	vcb, _ := httpguard.ParseNets([]string{"203.0.113.0/24"})
	a := &httpguard.AllowList{Nets: map[string][]netip.Prefix{"bank": loop, "bank:vietcombank": vcb, "vnpay": loop}}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux := http.NewServeMux()
	mux.Handle("POST /v1/callbacks/bank/{bank}/transactions", a.Wrap("bank", ok))
	mux.Handle("GET /v1/callbacks/vnpay/ipn", a.Wrap("vnpay", ok))
	mux.Handle("POST /v1/callbacks/paygov/confirm", a.Wrap("paygov", ok))
	for _, tc := range []struct {
		method, path, remote string
		want                 int
	}{
		{"POST", "/v1/callbacks/bank/acb/transactions", "127.0.0.1:1", http.StatusOK},
		{"POST", "/v1/callbacks/bank/acb/transactions", "198.51.100.1:1", http.StatusForbidden},
		{"POST", "/v1/callbacks/bank/vietcombank/transactions", "203.0.113.9:1", http.StatusOK},
		{"POST", "/v1/callbacks/bank/vietcombank/transactions", "127.0.0.1:1", http.StatusForbidden},
		{"GET", "/v1/callbacks/vnpay/ipn", "[::1]:1", http.StatusOK},
		{"GET", "/v1/callbacks/vnpay/ipn", "[2001:db8::1]:1", http.StatusForbidden},
		{"GET", "/v1/callbacks/vnpay/ipn", "garbage", http.StatusForbidden},
		{"POST", "/v1/callbacks/paygov/confirm", "198.51.100.1:1", http.StatusOK},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		r.RemoteAddr = tc.remote
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s %s from %s: %d, want %d", tc.method, tc.path, tc.remote, w.Code, tc.want)
		}
	}
	if _, err := httpguard.ParseNets([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("a bad CIDR parsed")
	}
}

// TestCertBinding: a bound client's token needs a verified client certificate; other tokens and
// requests without one pass.
func TestCertBinding(t *testing.T) {
	t.Parallel()
	b := httpguard.NewCertBinding([]string{"onestop"}, map[string][]string{"onestop": {"tok-a", "tok-b"}, "ops": {"tok-ops"}})
	h := b.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	verified := &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{}}}}
	for _, tc := range []struct {
		token string
		tls   *tls.ConnectionState
		want  int
	}{
		{"tok-b", nil, http.StatusUnauthorized},
		{"tok-a", &tls.ConnectionState{}, http.StatusUnauthorized},
		{"tok-a", verified, http.StatusNoContent},
		{"tok-ops", nil, http.StatusNoContent},
		{"", nil, http.StatusNoContent},
		{"invented", nil, http.StatusNoContent},
	} {
		r := request("10.0.0.1:1", tc.token)
		r.TLS = tc.tls
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("token %q, TLS %v: %d, want %d", tc.token, tc.tls != nil, w.Code, tc.want)
		}
	}
	if httpguard.NewCertBinding(nil, nil) != nil {
		t.Fatal("no client named must bind nothing")
	}
}
