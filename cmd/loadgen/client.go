package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// requestTimeout bounds one request, so a phase always ends: the tail after the window waits
// for at most this long.
const requestTimeout = 10 * time.Second

// loadClient is the one HTTP client of a run, shared by every phase and worker. Its transport
// opens at most one connection per worker and keeps them all alive, so the load reuses
// connections instead of churning them; it counts the connections it opens so that churn would
// show in the report.
type loadClient struct {
	*http.Client
	dials atomic.Int64
}

func newLoadClient(concurrency int) *loadClient {
	c := &loadClient{}
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c.dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        2 * concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	c.Client = &http.Client{Transport: tr, Timeout: requestTimeout}
	return c
}

// poster is an op that POSTs generated bodies to one URL.
type poster struct {
	client      *loadClient
	url         string
	token       string
	contentType string
	body        func() []byte
	// accepted says how many events an answer accepted; only called for 2xx answers.
	accepted func(status int, body []byte) int
}

func (p *poster) do(ctx context.Context) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(p.body()))
	if err != nil {
		return outcome{Err: err}
	}
	req.Header.Set("Content-Type", p.contentType)
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return outcome{Err: err}
	}
	// Read the answer to its end, so the connection goes back to the pool.
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return outcome{Status: resp.StatusCode, Err: err}
	}
	o := outcome{Status: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		o.Events = p.accepted(resp.StatusCode, b)
	}
	return o
}

// checkLoopback refuses a target that is not on this machine's loopback: the harness only ever
// sends traffic to 127.0.0.1.
func checkLoopback(what, hostport string) error {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s %q is not a loopback address: the load generator only sends to 127.0.0.1", what, hostport)
}

// checkLoopbackURL is checkLoopback for an http(s) URL.
func checkLoopbackURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%s %q is not an http(s) URL", what, raw)
	}
	return checkLoopback(what, u.Host)
}

// measureHTTP runs one phase of p's requests and adds the connections it opened to its stats.
func measureHTTP(ctx context.Context, sh shape, client *loadClient, p *poster, profile io.Writer) (*phaseStats, error) {
	dials := client.dials.Load()
	st, err := runLoad(ctx, sh, p.do, profile)
	client.CloseIdleConnections()
	if st != nil {
		st.Connections = client.dials.Load() - dials
	}
	return st, err
}
