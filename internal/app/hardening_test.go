package app_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate and key (PEM) for a server on 127.0.0.1 or a client.
func (ca *testCA) issue(t *testing.T, name string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestListenerTLSAndClientCertificates: with a certificate configured the API listener speaks
// HTTPS only; with the one-stop system's CA it verifies a client certificate when one is given
// (partners without one still connect), refuses one from another CA, accepts the one-stop
// system's token only with its certificate, and with client_auth "require" refuses a connection
// without one.
func TestListenerTLSAndClientCertificates(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, rogueCA := newCA(t, "server CA"), newCA(t, "one-stop CA"), newCA(t, "rogue CA")
	sc, sk := serverCA.issue(t, "gateway", true)
	cc, ck := clientCA.issue(t, "onestop", false)
	rc, rk := rogueCA.issue(t, "onestop", false)
	good, err := tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := tls.X509KeyPair(rc, rk)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(serverCA.cert)

	for _, mode := range []string{"optional", "require"} {
		t.Run(mode, func(t *testing.T) {
			cfg := apptest.Config(t, apptest.Embedded)
			cfg.HTTP.TLSCertFile = writeFile(t, dir, "server.pem", sc)
			cfg.HTTP.TLSKeyFile = writeFile(t, dir, "server.key", sk)
			cfg.HTTP.ClientCAFile = writeFile(t, dir, "clients.pem", clientCA.pem)
			cfg.HTTP.ClientAuth = mode
			// The one-stop system's token counts only with its certificate.
			cfg.HTTP.ClientCertClients = []string{"onestop"}
			gw := apptest.Start(t, cfg)
			addr := gw.APIAddr()
			get := func(certs ...tls.Certificate) (int, error) {
				tc := &tls.Config{RootCAs: roots}
				if len(certs) > 0 {
					// Sent whatever CAs the server names, as a misconfigured or hostile client would.
					tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
				}
				c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
				req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/v1/dossiers/000.00.37.H37-251126-0001", nil)
				req.Header.Set("Authorization", "Bearer "+config.DemoClientToken)
				resp, err := c.Do(req)
				if err != nil {
					return 0, err
				}
				defer resp.Body.Close()
				return resp.StatusCode, nil
			}
			if code, err := get(good); err != nil || code != http.StatusNotFound {
				t.Fatalf("with the one-stop system's certificate: %d %v, want the gateway's 404", code, err)
			}
			if _, err := get(rogue); err == nil {
				t.Fatal("a certificate from another CA was accepted")
			}
			code, err := get()
			if mode == "optional" && (err != nil || code != http.StatusUnauthorized) {
				t.Fatalf("the one-stop token without its certificate (optional): %d %v, want 401", code, err)
			}
			if mode == "require" && err == nil {
				t.Fatal("without a certificate (require): the connection was accepted")
			}
			if mode == "optional" {
				// A partner's callback needs no certificate (the IPN answers in VNPay's format).
				c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
				resp, err := c.Get("https://" + addr + "/v1/callbacks/vnpay/ipn?vnp_TxnRef=X")
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("a callback without a certificate: %v %v", resp, err)
				}
				resp.Body.Close()
			}
			resp, err := http.Get("http://" + addr + "/v1/dossiers/x")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("plain HTTP on the TLS listener answered %d", resp.StatusCode)
				}
			}
		})
	}
}

// TestSlowClientsAndFloodLeaveOthersServed: on loopback, 200 slow-loris connections (headers
// trickled a byte at a time), 20 slow bodies and a client flooding the API from 4 connections,
// all for a bounded time, while an honest client keeps working: every one of its requests gets
// the gateway's answer, the flood is cut to its rate with 429, and the slow connections are
// closed by the server's timeouts.
func TestSlowClientsAndFloodLeaveOthersServed(t *testing.T) {
	cfg := apptest.Config(t, apptest.Embedded)
	cfg.HTTP.ReadHeaderTimeout = time.Second
	cfg.HTTP.ReadTimeout = 2 * time.Second
	cfg.HTTP.RateLimit = config.RateLimitConfig{PerSecond: 20, Burst: 20}
	cfg.Clients["flooder"] = []string{"flood-token"}
	gw := apptest.Start(t, cfg)
	addr := gw.APIAddr()
	const attackFor = 4 * time.Second

	var wg sync.WaitGroup
	var closedByServer, slowOpened atomic.Int64
	// Slow loris: the request line and then one header byte every 200 ms.
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer conn.Close()
			slowOpened.Add(1)
			deadline := time.Now().Add(attackFor + 2*time.Second)
			if _, err := io.WriteString(conn, "GET /v1/dossiers/x HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
				return
			}
			for time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond)
				if _, err := conn.Write([]byte("a")); err != nil {
					closedByServer.Add(1)
					return
				}
			}
		}()
	}
	// Slow bodies: complete headers, then one body byte every 300 ms.
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer conn.Close()
			slowOpened.Add(1)
			fmt.Fprintf(conn, "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer flood-token\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 100000\r\n\r\n")
			deadline := time.Now().Add(attackFor + 2*time.Second)
			for time.Now().Before(deadline) {
				time.Sleep(300 * time.Millisecond)
				if _, err := conn.Write([]byte("{")); err != nil {
					closedByServer.Add(1)
					return
				}
			}
		}()
	}
	// Flood: 4 connections sending as fast as they can.
	var flooded, limited atomic.Int64
	floodStart := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second}
			for time.Since(floodStart) < attackFor {
				req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/dossiers/000.00.37.H37-251126-0001", nil)
				req.Header.Set("Authorization", "Bearer flood-token")
				resp, err := c.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					limited.Add(1)
				} else {
					flooded.Add(1)
				}
			}
		}()
	}

	// The honest client, during the attack: 15 requests, one every 200 ms.
	honest := &http.Client{Timeout: 5 * time.Second}
	var answers []string
	for range 15 {
		time.Sleep(200 * time.Millisecond)
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/dossiers/000.00.37.H37-251126-0001", nil)
		req.Header.Set("Authorization", "Bearer "+config.DemoClientToken)
		resp, err := honest.Do(req)
		if err != nil {
			t.Fatalf("the honest client got no answer during the attack: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers = append(answers, fmt.Sprint(resp.StatusCode))
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "not-found") {
			t.Fatalf("the honest client got %d %s during the attack, want the gateway's 404", resp.StatusCode, b)
		}
	}
	floodElapsed := time.Since(floodStart)
	wg.Wait()

	if slowOpened.Load() < 200 {
		t.Fatalf("only %d slow connections opened", slowOpened.Load())
	}
	if got := closedByServer.Load(); got != slowOpened.Load() {
		t.Fatalf("the server closed %d of %d slow connections within %v", got, slowOpened.Load(), attackFor+2*time.Second)
	}
	maxAllowed := int64(20 + 20*(floodElapsed+time.Second).Seconds())
	if limited.Load() == 0 || flooded.Load() > maxAllowed {
		t.Fatalf("flood: %d answered, %d limited; at most %d should pass", flooded.Load(), limited.Load(), maxAllowed)
	}
	_, metrics := apptest.Do(t, http.MethodGet, gw.Admin+"/metrics", "", "", "")
	if strings.Contains(string(metrics), `gateway_http_rate_limited_total{client="token"} 0`) ||
		!strings.Contains(string(metrics), `gateway_http_rate_limited_total{client="token"}`) {
		t.Fatal("the flood's refusals are not counted in gateway_http_rate_limited_total")
	}
	t.Logf("honest answers %v; flood %d answered, %d refused with 429; %d slow connections closed by the server",
		answers, flooded.Load(), limited.Load(), closedByServer.Load())

	// After the attack the gateway still serves on a fresh connection.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /v1/dossiers/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", config.DemoClientToken)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode == http.StatusTooManyRequests {
		t.Fatalf("after the attack: %v %v", resp, err)
	}
}
