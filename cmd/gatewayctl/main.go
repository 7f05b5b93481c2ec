// Command gatewayctl is the ops CLI: it calls the gateway's admin listener.
//
//	gatewayctl [-admin URL] [-token TOKEN] COMMAND
//
//	health                                         readiness of the gateway
//	dossier show CODE                              a dossier's timeline and sync state
//	deadletters list [-partner P] [-type T] [-dossier CODE] [-topic T] [-limit N]
//	deadletters show ID                            one dead letter, personal data masked
//	deadletters replay ID... [-reason R]           put messages back on their topic
//	deadletters replay -all [filters] [-reason R]  every dead letter matching the filters
//	deadletters discard ID -reason R               drop a dead letter for good (audited)
//	breakers                                       every partner endpoint's breaker
//	partner pause NAME [-until RFC3339] [-reason R]
//	partner resume NAME [-reason R]
//	evidence list [-date D] [-limit N] [-cursor C] the payment callbacks received on a day
//	evidence verify [-date D]                      check the day's evidence hash chain
//	sync verify [-date D] [-stored]                the day's drift report against the portal
//	sync replay -since T | -dossiers FILE [-wait]  re-send the last synced state of dossiers
//	sync replay -job ID                            a re-sync job's progress
//
// The admin URL defaults to GATEWAY_ADMIN_URL or http://127.0.0.1:9090; the token to
// GATEWAY_ADMIN_TOKEN (the dev profile's is demo-admin-token).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/egov-vn/gateway/internal/vntime"
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
	if len(rest) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	err := dispatch(c, rest, stderr)
	if errors.Is(err, errUsage) {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "gatewayctl:", err)
		return 1
	}
	return 0
}

const usage = `usage: gatewayctl [-admin URL] [-token TOKEN] COMMAND
  health
  dossier show CODE
  deadletters list [-partner P] [-type T] [-dossier CODE] [-topic T] [-limit N]
  deadletters show ID
  deadletters replay ID... [-reason R] | deadletters replay -all [filters] [-reason R]
  deadletters discard ID -reason R
  breakers
  partner pause NAME [-until RFC3339] [-reason R]
  partner resume NAME [-reason R]
  reconcile [-date yyyy-mm-dd] [-stored]   run a day's reconciliation now (yesterday in Vietnam by
                                           default); -stored prints the stored report instead
  evidence list [-date yyyy-mm-dd] [-limit N] [-cursor C]   the payment callbacks received on a day
                                           (today in Vietnam by default), as kept in the evidence log
  evidence verify [-date yyyy-mm-dd]       check the day's hash chain; exit 1 when it is broken
  sync verify [-date yyyy-mm-dd] [-stored] compare the dossiers synced on a day (yesterday in Vietnam by
                                           default) with the portal now; -stored prints the stored report
  sync replay -since RFC3339|yyyy-mm-dd | -dossiers FILE [-wait] [-actor A]
                                           re-send the last synced state of those dossiers to the portal
                                           (FILE: one code a line, - for stdin); -wait follows the job
  sync replay -job ID                      a re-sync job's progress` + catalogUsage

var errUsage = errors.New("usage")

func dispatch(c client, args []string, stderr io.Writer) error {
	cmd := args[0]
	if len(args) > 1 {
		cmd += " " + args[1]
	}
	switch {
	case args[0] == "health":
		return c.get("/readyz")
	case args[0] == "breakers":
		return c.get("/admin/v1/breakers")
	case cmd == "dossier show" && len(args) == 3:
		return c.get("/admin/v1/dossiers/" + url.PathEscape(args[2]))
	case cmd == "deadletters list":
		f, q, err := filterFlags(args[2:], stderr)
		if err != nil || f.NArg() != 0 {
			return errUsage
		}
		return c.get("/admin/v1/deadletters?" + q.Encode())
	case cmd == "deadletters show" && len(args) == 3:
		return c.get("/admin/v1/deadletters/" + url.PathEscape(args[2]))
	case cmd == "deadletters replay":
		return replay(c, args[2:], stderr)
	case cmd == "deadletters discard":
		fs := flag.NewFlagSet("discard", flag.ContinueOnError)
		fs.SetOutput(stderr)
		reason := fs.String("reason", "", "why the dead letter is dropped (required)")
		ids, err := parseInterspersed(fs, args[2:])
		if err != nil || len(ids) != 1 || *reason == "" {
			return errUsage
		}
		return c.do(http.MethodDelete, "/admin/v1/deadletters/"+url.PathEscape(ids[0]), map[string]string{"reason": *reason})
	case args[0] == "reconcile":
		path, stored, err := dayReport("reconcile", "/admin/v1/reconciliation/", "run nothing", args[1:], stderr)
		if err != nil {
			return err
		}
		if stored {
			return c.get(path)
		}
		return c.do(http.MethodPost, path, nil)
	case args[0] == "catalog":
		return catalogCmd(c, args[1:], stderr)
	case args[0] == "sync":
		return syncCmd(c, args[1:], stderr)
	case cmd == "evidence list" || cmd == "evidence verify":
		return evidence(c, args[1], args[2:], stderr)
	case cmd == "partner pause" || cmd == "partner resume":
		fs := flag.NewFlagSet("partner", flag.ContinueOnError)
		fs.SetOutput(stderr)
		reason := fs.String("reason", "", "why")
		until := fs.String("until", "", "resume by itself at this RFC 3339 time (pause only)")
		names, err := parseInterspersed(fs, args[2:])
		if err != nil || len(names) != 1 || (args[1] == "resume" && *until != "") {
			return errUsage
		}
		body := map[string]string{"reason": *reason}
		if *until != "" {
			body["until"] = *until
		}
		return c.do(http.MethodPost, "/admin/v1/partners/"+url.PathEscape(names[0])+"/"+args[1], body)
	}
	return errUsage
}

// evidence lists a day's callback evidence or verifies its chain.
func evidence(c client, sub string, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("evidence", flag.ContinueOnError)
	fs.SetOutput(stderr)
	date := fs.String("date", time.Now().In(vntime.Zone).Format(time.DateOnly), "the day, yyyy-mm-dd (Vietnam)")
	limit := fs.Int("limit", 0, "records per page, 1..500 (list)")
	cursor := fs.String("cursor", "", "the next_cursor of the previous page (list)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || (sub == "verify" && (*limit != 0 || *cursor != "")) {
		return errUsage
	}
	path := "/admin/v1/evidence/" + url.PathEscape(*date)
	if sub == "list" {
		q := url.Values{}
		if *limit != 0 {
			q.Set("limit", strconv.Itoa(*limit))
		}
		if *cursor != "" {
			q.Set("cursor", *cursor)
		}
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		return c.get(path)
	}
	resp, err := c.send(http.MethodGet, path+"/verify", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") == nil {
		raw = append(pretty.Bytes(), '\n')
	}
	_, _ = c.out.Write(raw)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/verify: HTTP %d", path, resp.StatusCode)
	}
	var v struct {
		Valid bool `json:"valid"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	if !v.Valid {
		return fmt.Errorf("the evidence chain of %s is broken", *date)
	}
	return nil
}

// filterFlags reads the dead-letter filters into a query.
func filterFlags(args []string, stderr io.Writer) (*flag.FlagSet, url.Values, error) {
	fs := flag.NewFlagSet("filters", flag.ContinueOnError)
	fs.SetOutput(stderr)
	partner := fs.String("partner", "", "partner")
	typ := fs.String("type", "", "event type")
	dossier := fs.String("dossier", "", "dossier code")
	topic := fs.String("topic", "", "topic")
	limit := fs.Int("limit", 100, "at most this many (1..500)")
	all := fs.Bool("all", false, "replay every dead letter matching the filters")
	reason := fs.String("reason", "", "why (recorded in the audit stream)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	for k, v := range map[string]string{"partner": *partner, "type": *typ, "dossier_code": *dossier, "topic": *topic} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", fmt.Sprint(*limit))
	if *all {
		q.Set("all", "true")
	}
	if *reason != "" {
		q.Set("reason", *reason)
	}
	return fs, q, nil
}

// replay replays the named dead letters, or with -all every one matching the filters, page by page.
func replay(c client, args []string, stderr io.Writer) error {
	var ids []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		ids = append(ids, args[0])
		args = args[1:]
	}
	_, q, err := filterFlags(args, stderr)
	if err != nil {
		return errUsage
	}
	all := q.Get("all") == "true"
	body := map[string]string{"reason": q.Get("reason")}
	q.Del("all")
	q.Del("reason")
	if all == (len(ids) > 0) {
		return errUsage
	}
	if all {
		// Replayed entries leave the stream, so the first page is always the next one to do.
		for {
			var page struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			if err := c.getJSON("/admin/v1/deadletters?"+q.Encode(), &page); err != nil {
				return err
			}
			if len(page.Items) == 0 {
				return nil
			}
			for _, it := range page.Items {
				if err := c.do(http.MethodPost, "/admin/v1/deadletters/"+url.PathEscape(it.ID)+"/replay", body); err != nil {
					return err
				}
			}
		}
	}
	for _, id := range ids {
		if err := c.do(http.MethodPost, "/admin/v1/deadletters/"+url.PathEscape(id)+"/replay", body); err != nil {
			return err
		}
	}
	return nil
}

// parseInterspersed parses flags that may come after positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

type client struct {
	base, token string
	http        *http.Client
	out         io.Writer
}

func (c client) get(path string) error { return c.do(http.MethodGet, path, nil) }

// getJSON reads an answer into v without printing it.
func (c client) getJSON(path string, v any) error {
	resp, err := c.send(http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v); err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	return nil
}

// do sends a request and prints the answer, indented when it is JSON.
func (c client) do(method, path string, body any) error {
	resp, err := c.send(method, path, body)
	if err != nil {
		return err
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

func (c client) send(method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encoding request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling admin listener: %w", err)
	}
	return resp, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
