// Command gatewayctl is the ops CLI: it calls the gateway's admin listener.
//
//	gatewayctl [-admin URL] [-token TOKEN] health
//	gatewayctl [-admin URL] [-token TOKEN] dossier show CODE
//
// The admin URL defaults to GATEWAY_ADMIN_URL or http://127.0.0.1:9090; the token to
// GATEWAY_ADMIN_TOKEN (the dev profile's is demo-admin-token).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gatewayctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	admin := fs.String("admin", envOr("GATEWAY_ADMIN_URL", "http://127.0.0.1:9090"), "admin listener URL")
	token := fs.String("token", os.Getenv("GATEWAY_ADMIN_TOKEN"), "admin bearer token")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c := client{base: *admin, token: *token, http: &http.Client{Timeout: 15 * time.Second}, out: stdout}
	rest := fs.Args()
	usage := func() int {
		fmt.Fprintln(stderr, "usage: gatewayctl [-admin URL] [-token TOKEN] health | dossier show CODE")
		return 2
	}
	if len(rest) == 0 {
		return usage()
	}
	var err error
	switch {
	case rest[0] == "health":
		err = c.get("/readyz")
	case len(rest) == 3 && rest[0] == "dossier" && rest[1] == "show":
		err = c.get("/admin/v1/dossiers/" + url.PathEscape(rest[2]))
	default:
		return usage()
	}
	if err != nil {
		fmt.Fprintln(stderr, "gatewayctl:", err)
		return 1
	}
	return 0
}

type client struct {
	base, token string
	http        *http.Client
	out         io.Writer
}

func (c client) get(path string) error { return c.do(http.MethodGet, path, nil) }

func (c client) do(method, path string, body any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling admin listener: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") == nil {
		raw = append(pretty.Bytes(), '\n')
	}
	_, _ = c.out.Write(raw)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
