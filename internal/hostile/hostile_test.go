package hostile_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank/paygov"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
)

// corpusDir holds the cases: one JSONL file per category, one case per line.
var corpusDir = filepath.Join("..", "..", "testdata", "hostile")

// Case is one hostile request (see testdata/hostile/README.md for the fields).
type Case struct {
	Name     string `json:"name"`
	Category string `json:"-"`
	// Listener is "api" (default) or "admin".
	Listener string            `json:"listener"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body"`
	// Fill repeats a string where the body, path or a header says {{FILL}}.
	Fill *struct {
		S string `json:"s"`
		N int    `json:"n"`
	} `json:"fill"`
	// Raw sends Body as the whole request over TCP, byte for byte (for what net/http refuses to send).
	Raw bool `json:"raw"`
	// Sign signs the request as a partner would: "vnpay" (the query of Path), "paygov" (the JSON
	// body's check_sum), "bank" (X-Timestamp and X-Signature).
	Sign *Signing `json:"sign"`
	// Prime sends the request once before the state is taken: the case is its repetition.
	Prime  bool   `json:"prime"`
	Expect Expect `json:"expect"`
	// Unchanged names the state the case must not change; every case is checked against all of it.
	Unchanged []string `json:"unchanged"`
}

// Signing says how to sign a case.
type Signing struct {
	// Secret is "good" (the dev profile's) or anything else (used as the secret itself).
	Secret string `json:"secret"`
	// TSOffset is added to now for the bank timestamp, in seconds.
	TSOffset int64 `json:"ts_offset"`
	// Over, when set, is what the signature covers instead of the body (bank) or the fields.
	Over string `json:"over"`
	// After are query parameters appended after signing (vnpay).
	After string `json:"after"`
}

// Expect is the answer a case must get.
type Expect struct {
	Status int `json:"status"`
	// Problem is the suffix of the problem document's type (application/problem+json).
	Problem string `json:"problem"`
	// VNPay is the RspCode; PayGov the return_code; Bill the error_code; BankResult the result of
	// the (only) movement of a bank acknowledgement.
	VNPay      string `json:"vnpay"`
	PayGov     *int   `json:"paygov"`
	Bill       *int   `json:"bill"`
	BankResult string `json:"bank_result"`
}

// noRedirects reports a redirect as the answer it is.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// fixtures are the payments the cases aim at, and their values substituted as {{NAME}}.
type fixtures map[string]string

func TestHostileCorpus(t *testing.T) {
	cases := load(t)
	if len(cases) < 200 {
		t.Fatalf("the corpus holds %d cases, want at least 200", len(cases))
	}
	cfg := apptest.Config(t, apptest.Embedded)
	// A rotation of the admin token is under way: the old one still opens the admin listener.
	cfg.Admin.OldTokens = []string{"demo-admin-token-previous"}
	logs := &syncBuffer{}
	gw := apptest.StartLogged(t, cfg, logs)
	fx := setup(t, gw)
	if status, _ := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/deadletters", "demo-admin-token-previous", "", ""); status != http.StatusOK {
		t.Fatalf("the previous admin token during a rotation: %d", status)
	}
	// The dossier's and the payments' views, to the one-stop system and to ops, name neither the
	// payer nor a secret.
	for _, u := range []struct{ url, token string }{
		{gw.API + "/v1/dossiers/" + fx["DOSSIER"], config.DemoClientToken},
		{gw.Admin + "/admin/v1/dossiers/" + fx["DOSSIER"], config.DemoAdminToken},
		{gw.API + "/v1/payments/" + fx["PAID_ID"], config.DemoClientToken},
		{gw.API + "/v1/payments/" + fx["VNPAY_ID"], config.DemoClientToken},
	} {
		status, body := apptest.Do(t, http.MethodGet, u.url, u.token, "", "")
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", u.url, status)
		}
		checkNoLeak(t, http.Header{}, body)
	}

	counts := map[string]int{}
	for _, c := range cases {
		t.Run(c.Category+"/"+c.Name, func(t *testing.T) {
			if c.Prime {
				send(t, gw, fx, c)
				waitQuiet(t, gw)
			}
			before := snapshot(t, gw)
			status, header, body := send(t, gw, fx, c)
			checkAnswer(t, c, status, header, body)
			checkNoLeak(t, header, body)
			after := waitQuiet(t, gw)
			if diff := before.diff(after); diff != "" {
				t.Fatalf("state changed (%s): %s", strings.Join(c.Unchanged, ", "), diff)
			}
			counts[c.Category]++
		})
	}
	// Nothing the cases sent that is secret or personal reached the log or the metrics.
	_, metrics := apptest.Do(t, http.MethodGet, gw.Admin+"/metrics", "", "", "")
	if !strings.Contains(logs.String(), "bank notification refused") || !strings.Contains(string(metrics), "gateway_payment_callbacks_rejected_total") {
		t.Fatal("the log or the metrics do not show the refusals: the leak check below would prove nothing")
	}
	for _, where := range []struct {
		name string
		text string
	}{{"log", logs.String()}, {"metrics", string(metrics)}} {
		for _, s := range append(secretsAndPersonalData, "Nguyen Van B", "Tran Thi C", "flood-token") {
			if strings.Contains(where.text, s) {
				t.Errorf("the %s holds %q", where.name, s)
			}
		}
	}
	cats := make([]string, 0, len(counts))
	total := 0
	for k, n := range counts {
		cats = append(cats, k)
		total += n
	}
	sort.Strings(cats)
	var b strings.Builder
	for _, k := range cats {
		fmt.Fprintf(&b, "  %-28s %3d\n", k, counts[k])
	}
	t.Logf("hostile corpus: %d cases run, state unchanged after each:\n%s", total, b.String())
	fmt.Printf("hostile corpus: %d cases run by category:\n%s", total, b.String())
}

func load(t *testing.T) []Case {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files in %s: %v", corpusDir, err)
	}
	var out []Case
	names := map[string]bool{}
	for _, f := range files {
		cat := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "//") {
				continue
			}
			var c Case
			dec := json.NewDecoder(strings.NewReader(text))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("%s:%d: %v", f, line, err)
			}
			c.Category = cat
			if c.Name == "" || names[cat+"/"+c.Name] || c.Expect.Status == 0 || len(c.Unchanged) == 0 {
				t.Fatalf("%s:%d: a case needs a unique name, an expected status and the state it must not change", f, line)
			}
			names[cat+"/"+c.Name] = true
			out = append(out, c)
		}
	}
	return out
}

// setup creates the payments the cases aim at: one pending per provider, and one VNPay payment
// already paid (for repeated and regressing callbacks).
func setup(t *testing.T, gw *apptest.Gateway) fixtures {
	t.Helper()
	fx := fixtures{"DOSSIER": "000.00.37.H37-251126-0001"}
	// The dossier exists at the portal, so the paid fixture's processing step is delivered and
	// nothing is left retrying in the background while the cases run.
	status, out := apptest.Do(t, http.MethodPost, gw.API+"/v1/events", config.DemoClientToken, "application/cloudevents+json",
		`{"specversion":"1.0","id":"evt-hostile-setup","source":"/onestop/langson","type":"vn.gov.dossier.status_changed",
		"subject":"000.00.37.H37-251126-0001","data":{"version":6,"dossier":{"MaHoSo":"000.00.37.H37-251126-0001","MaTTHC":"1.011442",
		"TenTTHC":"Cap giay phep xay dung","ChuHoSo":"Nguyen Van A","LoaiDoiTuong":1,"TrangThaiHoSo":6,"NgayTiepNhan":"20251126083000"}}}`)
	if status != http.StatusAccepted {
		t.Fatalf("the fixture dossier: %d %s", status, out)
	}
	apptest.Eventually(t, 10*time.Second, "the fixture dossier at the portal", func() bool {
		_, ok := gw.Sandboxes.Portal.Dossier(fx["DOSSIER"])
		return ok
	})
	create := func(provider, key string, amount int64) map[string]any {
		body := fmt.Sprintf(`{"dossier_code":%q,"procedure_code":"1.011442","agency_code":"000.00.00.H37","provider":%q,"amount":%d,
			"fee_lines":[{"code":"LP01","name":"Lệ phí","kind":"le_phi","amount":%d}],"payer":{"name":"Nguyễn Văn A","id_number":"020123456789"}}`,
			fx["DOSSIER"], provider, amount, amount)
		req, _ := http.NewRequest(http.MethodPost, gw.API+"/v1/payments", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+config.DemoClientToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("creating the %s fixture: %d %v", provider, resp.StatusCode, err)
		}
		return out
	}
	v := create("vnpay", "hostile-vnpay", 150000)
	fx["VNPAY_REF"], fx["VNPAY_ID"] = v["reference"].(string), v["payment_id"].(string)
	q := create("vietqr", "hostile-vietqr", 50000)
	fx["VIETQR_REF"] = q["reference"].(string)
	p := create("paygov", "hostile-paygov", 30000)
	fx["PAYGOV_REF"] = p["reference"].(string)
	paid := create("vnpay", "hostile-vnpay-paid", 20000)
	fx["PAID_REF"], fx["PAID_ID"] = paid["reference"].(string), paid["payment_id"].(string)
	status, out = apptest.Do(t, http.MethodPost, gw.API+"/sandbox/vnpay/pay", "", "application/json",
		fmt.Sprintf(`{"payment_url":%q,"outcome":"success"}`, paid["payment_url"]))
	var payResult struct {
		TransactionNo string `json:"transaction_no"`
		Outcome       string `json:"outcome"`
	}
	if status != http.StatusOK || json.Unmarshal(out, &payResult) != nil || payResult.Outcome != "paid" {
		t.Fatalf("paying the fixture: %d %s", status, out)
	}
	fx["PAID_TXN"] = payResult.TransactionNo
	// The VietQR reference disguised: full-width letters and digits, a zero-width space in the
	// middle, a combining mark on its last character; and the VNPay one in lower case.
	var full strings.Builder
	for _, r := range fx["VIETQR_REF"] {
		full.WriteRune(r - 0x21 + 0xFF01)
	}
	ref := fx["VIETQR_REF"]
	fx["VIETQR_REF_FULLWIDTH"] = full.String()
	fx["VIETQR_REF_ZWSP"] = ref[:5] + "\u200b" + ref[5:]
	fx["VIETQR_REF_COMBINING"] = ref[:5] + "\u0301" + ref[5:]
	fx["VIETQR_REF_NBSP"] = ref[:5] + "\u00a0" + ref[5:]
	fx["VNPAY_REF_LOWER"] = strings.ToLower(fx["VNPAY_REF"])
	apptest.Eventually(t, 10*time.Second, "the paid fixture's notification and processing step", func() bool {
		rec, _ := gw.Sandboxes.Portal.Dossier(fx["DOSSIER"])
		return len(gw.Sandboxes.Onestop.Unique("payment.succeeded")) == 1 && len(rec.Steps) > 0
	})
	waitQuiet(t, gw)
	return fx
}

func (fx fixtures) expand(s string, c Case) string {
	if c.Fill != nil && strings.Contains(s, "{{FILL}}") {
		s = strings.ReplaceAll(s, "{{FILL}}", strings.Repeat(c.Fill.S, c.Fill.N))
	}
	if !strings.Contains(s, "{{") {
		return s
	}
	for k, v := range fx {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return strings.ReplaceAll(s, "{{NOW}}", strconv.FormatInt(time.Now().Unix(), 10))
}

// send builds and sends the case's request and returns the answer.
func send(t *testing.T, gw *apptest.Gateway, fx fixtures, c Case) (int, http.Header, []byte) {
	t.Helper()
	base := gw.API
	if c.Listener == "admin" {
		base = gw.Admin
	}
	path, body := fx.expand(c.Path, c), fx.expand(c.Body, c)
	headers := map[string]string{}
	for k, v := range c.Headers {
		headers[k] = fx.expand(v, c)
	}
	if s := c.Sign; s != nil {
		path, body = sign(t, s, fx, c, path, body, headers)
	}
	if c.Raw {
		return sendRaw(t, strings.TrimPrefix(base, "http://"), body)
	}
	req, err := http.NewRequest(c.Method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("building the request: %v", err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.Method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, b
}

func sign(t *testing.T, s *Signing, fx fixtures, c Case, path, body string, headers map[string]string) (string, string) {
	t.Helper()
	secret := func(good string) string {
		if s.Secret == "good" {
			return good
		}
		return s.Secret
	}
	switch {
	case strings.Contains(path, "/vnpay/"):
		p, q, _ := strings.Cut(path, "?")
		params, err := url.ParseQuery(q)
		if err != nil {
			t.Fatalf("vnpay case query: %v", err)
		}
		signed := params
		if s.Over != "" {
			if signed, err = url.ParseQuery(fx.expand(s.Over, c)); err != nil {
				t.Fatal(err)
			}
		}
		params.Set(vnpay.ParamSecureHash, vnpay.Sign(secret(config.DemoVNPaySecret), signed))
		q = params.Encode()
		if s.After != "" {
			q += "&" + fx.expand(s.After, c)
		}
		return p + "?" + q, body
	case strings.Contains(path, "/paygov/"):
		var cb paygov.ConfirmationCallback
		over := body
		if s.Over != "" {
			over = fx.expand(s.Over, c)
		}
		if err := json.Unmarshal([]byte(over), &cb); err != nil {
			t.Fatalf("paygov case body: %v", err)
		}
		cb.Sign(secret(config.DemoPayGovKey2), config.DemoPayGovClient)
		// The check_sum goes into the body as sent, which may differ from what was signed.
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("paygov case body: %v", err)
		}
		m["check_sum"] = string(cb.CheckSum)
		b, _ := json.Marshal(m)
		return path, string(b)
	default:
		ts := time.Now().Unix() + s.TSOffset
		over := body
		if s.Over != "" {
			over = fx.expand(s.Over, c)
		}
		if _, ok := headers[vietqr.HeaderTimestamp]; !ok {
			headers[vietqr.HeaderTimestamp] = strconv.FormatInt(ts, 10)
		}
		headers[vietqr.HeaderSignature] = vietqr.SignNotification(secret(config.DemoBankSecret), ts, []byte(over))
		return path, body
	}
}

// sendRaw writes req over TCP and reads the answer; a closed connection without one is status 0.
func sendRaw(t *testing.T, addr, req string) (int, http.Header, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		return 0, http.Header{}, nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, http.Header{}, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, b
}

func checkAnswer(t *testing.T, c Case, status int, header http.Header, body []byte) {
	t.Helper()
	e := c.Expect
	if status != e.Status {
		t.Fatalf("status %d, want %d; body %.300s", status, e.Status, body)
	}
	if e.Problem != "" {
		var p struct {
			Type   string `json:"type"`
			Title  string `json:"title"`
			Status int    `json:"status"`
		}
		if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("content type %q, want a problem document; body %.300s", ct, body)
		}
		if err := json.Unmarshal(body, &p); err != nil || !strings.HasSuffix(p.Type, "/"+e.Problem) || p.Status != status || p.Title == "" {
			t.Fatalf("problem %.300s, want type …/%s with status %d and a title", body, e.Problem, status)
		}
	}
	partner := func(v any) {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("answer %.300s is not the partner's format: %v", body, err)
		}
	}
	if e.VNPay != "" {
		var r vnpay.IPNReply
		partner(&r)
		if r.RspCode != e.VNPay || vnpay.Reply(r.RspCode) != r {
			t.Fatalf("RspCode %+v, want %s", r, e.VNPay)
		}
	}
	if e.PayGov != nil {
		var r paygov.ConfirmationReply
		partner(&r)
		if r.ReturnCode != *e.PayGov || r.ReturnMsg == "" {
			t.Fatalf("return_code %+v, want %d", r, *e.PayGov)
		}
	}
	if e.Bill != nil {
		var r struct {
			ErrorCode int `json:"error_code"`
		}
		partner(&r)
		if r.ErrorCode != *e.Bill {
			t.Fatalf("error_code %d, want %d", r.ErrorCode, *e.Bill)
		}
	}
	if e.BankResult != "" {
		var a vietqr.Ack
		partner(&a)
		if len(a.Results) == 0 || slices.ContainsFunc(a.Results, func(r vietqr.TransactionResult) bool { return r.Result != e.BankResult }) {
			t.Fatalf("bank acknowledgement %.300s, want every result %q", body, e.BankResult)
		}
	}
}

// syncBuffer is the gateway's log, written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// secretsAndPersonalData must never appear in an answer.
var secretsAndPersonalData = []string{
	config.DemoClientToken, config.DemoAdminToken, config.DemoPortalPassword, config.DemoOnestopSecret,
	config.DemoVNPaySecret, config.DemoPayGovKey1, config.DemoPayGovKey2, config.DemoBankSecret,
	"Nguyễn Văn A", "Nguy\\u1ec5n", "020123456789",
}

func checkNoLeak(t *testing.T, header http.Header, body []byte) {
	t.Helper()
	var all strings.Builder
	all.Write(body)
	for k, vs := range header {
		all.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		if strings.EqualFold(k, "Set-Cookie") || strings.EqualFold(k, "Injected") {
			t.Fatalf("the answer carries a header the request injected: %s", k)
		}
	}
	for _, s := range secretsAndPersonalData {
		if strings.Contains(all.String(), s) {
			t.Fatalf("the answer repeats a secret or personal data: %q", s)
		}
	}
}

// state is what a case must leave as it was: every key of the gateway's store (its type and a
// digest of its content; streams by length and last entry) but the evidence log, which records
// every callback by design, and the sandbox partners' records.
type state map[string]string

func snapshot(t *testing.T, gw *apptest.Gateway) state {
	t.Helper()
	ctx := t.Context()
	c := gw.Store.Client
	s := state{}
	prefix := gw.Store.Keys.Prefix
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		// The evidence log records every callback and the replay memory every verified one, by
		// design; neither is state a refused request may not change.
		// Locks are leases that background work takes and drops on its own clock.
		if strings.HasPrefix(k, prefix+":evidence:") || strings.HasPrefix(k, prefix+":replay:") || strings.HasSuffix(k, ":lock") {
			continue
		}
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatalf("TYPE %s: %v", k, err)
		}
		var v any
		switch typ {
		case "string":
			v, err = c.Get(ctx, k).Result()
		case "hash":
			v, err = c.HGetAll(ctx, k).Result()
		case "set":
			var m []string
			m, err = c.SMembers(ctx, k).Result()
			sort.Strings(m)
			v = m
		case "zset":
			v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "list":
			v, err = c.LRange(ctx, k, 0, -1).Result()
		case "stream":
			var n int64
			n, err = c.XLen(ctx, k).Result()
			if err == nil {
				last, _ := c.XRevRangeN(ctx, k, "+", "-", 1).Result()
				v = fmt.Sprint(n, last)
			}
		case "none":
			continue
		}
		if errors.Is(err, redis.Nil) {
			continue // expired between SCAN and the read
		}
		if err != nil {
			t.Fatalf("reading %s: %v", k, err)
		}
		b, _ := json.Marshal(v)
		d := sha256.Sum256(b)
		s[k] = typ + ":" + hex.EncodeToString(d[:8])
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	sb := gw.Sandboxes
	now := time.Now()
	s["sandbox:onestop"] = strconv.Itoa(len(sb.Onestop.Received()))
	s["sandbox:dvcqg"] = fmt.Sprint(sb.Portal.Dossiers())
	s["sandbox:vnpay"] = strconv.Itoa(len(sb.VNPay.Transactions(now)))
	s["sandbox:paygov"] = strconv.Itoa(len(sb.PayGov.Transactions(now)))
	s["sandbox:bank"] = strconv.Itoa(len(sb.Banks.Transactions(config.DemoBank, now)))
	return s
}

func (s state) diff(o state) string {
	var out []string
	for k, v := range s {
		if o[k] != v {
			out = append(out, fmt.Sprintf("%s: %s -> %s", k, v, o[k]))
		}
	}
	for k, v := range o {
		if _, ok := s[k]; !ok {
			out = append(out, fmt.Sprintf("%s: new %s", k, v))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// waitQuiet returns the state once two readings 50 ms apart agree (background work of an
// earlier step, such as a notification on its way, has settled), or the last reading after 5 s.
func waitQuiet(t *testing.T, gw *apptest.Gateway) state {
	t.Helper()
	prev := snapshot(t, gw)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		cur := snapshot(t, gw)
		if cur.diff(prev) == "" {
			return cur
		}
		prev = cur
	}
	return prev
}
