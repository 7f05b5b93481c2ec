package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/vntime"
	"github.com/egov-vn/gateway/routing"
)

// Goals of the ipn scenario.
const (
	ipnMinRatio = 0.6                   // gateway IPNs/s over baseline requests/s
	ipnMaxP99   = 10 * time.Millisecond // gateway p99
)

// ipnAmount is every payment's amount (VND).
const ipnAmount = 150_000

// ipnOptions are the ipn scenario's own flags.
type ipnOptions struct {
	payments   int
	duplicates float64
	bad        float64
	gatewayFlags
}

func newIPN() *scenario {
	o := &ipnOptions{}
	return &scenario{
		name:    "ipn",
		summary: "GET /v1/callbacks/vnpay/ipn: a bare net/http + one Redis round trip baseline, then the gateway, same IPNs",
		phases:  2,
		flags:   o.register,
		check:   o.validate,
		bound: func(sh shape) time.Duration {
			// Creating the payments comes on top of the two phases; a create takes far less
			// than 10 ms even on a loaded machine.
			return 2*(sh.Warmup+sh.Duration+requestTimeout) + setupAllowance + time.Duration(o.payments)*10*time.Millisecond
		},
		run: o.run,
	}
}

func (o *ipnOptions) register(fs *flag.FlagSet) {
	fs.IntVar(&o.payments, "payments", 40000, "VNPay payments created through POST /v1/payments before the load")
	fs.Float64Var(&o.duplicates, "duplicates", 0.2, "share of IPNs that repeat an IPN already sent")
	fs.Float64Var(&o.bad, "bad-signatures", 0.1, "share of IPNs with a wrong vnp_SecureHash")
	o.gatewayFlags.register(fs)
}

func (o *ipnOptions) validate() error {
	var errs []error
	if o.payments < 1 || o.payments > 1_000_000 {
		errs = append(errs, fmt.Errorf("-payments %d is outside 1..1000000", o.payments))
	}
	if o.duplicates < 0 || o.bad < 0 || o.duplicates+o.bad > 1 {
		errs = append(errs, fmt.Errorf("-duplicates %v and -bad-signatures %v must be shares (0..1) that add up to at most 1", o.duplicates, o.bad))
	}
	errs = append(errs, checkConsumers(o.consumers), o.checkRole())
	return errors.Join(errs...)
}

// ipnPayment is one payment created for the run, with its IPN signed in advance so that the
// load generator spends no CPU on signing during the measurement.
type ipnPayment struct {
	id, reference string
	valid         string // the query string, signed as VNPay would
	// forgeAt is the index in valid of the hash digit a forged copy changes: the forged query is
	// built when sent (in the URL's own concatenation) rather than kept, which halves the memory
	// the load generator holds for its payments (two query strings of ~450 bytes each).
	forgeAt int
}

// forged returns the forged copy's hash digit at forgeAt, one bit changed and query-escaped
// ('a' becomes '`', written %60) as url.Values.Encode writes it.
func (p *ipnPayment) forged() string {
	return url.QueryEscape(string(rune(p.valid[p.forgeAt] ^ 1)))
}

// target is the URL of an IPN of kind k about p, built in one allocation.
func (p *ipnPayment) target(base string, k ipnKind) string {
	if k == ipnBad {
		return base + "?" + p.valid[:p.forgeAt] + p.forged() + p.valid[p.forgeAt+1:]
	}
	return base + "?" + p.valid
}

// ipnKind is what an IPN of the mix is, and so which answer it must get.
type ipnKind int

const (
	ipnFirst     ipnKind = iota // the first valid IPN of a payment: 00 (or 02 when a repeat got there first)
	ipnDuplicate                // a repeat of a valid IPN already sent: 02 (or 00 when it overtook the first)
	ipnBad                      // a wrong signature: 97
)

func (k ipnKind) String() string {
	return [...]string{"first", "duplicate", "bad_signature"}[k]
}

// ipnMix hands out the IPNs of a phase and counts their answers.
type ipnMix struct {
	pays            []ipnPayment
	duplicates, bad float64
	next            atomic.Int64 // next payment whose first IPN goes out
	// answers counts every answer of the phase (warmup and tail included) by kind and RspCode.
	mu      sync.Mutex
	answers map[string]int64
	// confirmed counts 00 answers; each must be one payment becoming paid.
	confirmed atomic.Int64
	// validSent marks the payments a valid IPN was sent for.
	validSent []atomic.Bool
}

func newIPNMix(pays []ipnPayment, duplicates, bad float64) *ipnMix {
	return &ipnMix{pays: pays, duplicates: duplicates, bad: bad, answers: map[string]int64{}, validSent: make([]atomic.Bool, len(pays))}
}

// pick chooses the next IPN: its kind and payment. Once every payment had its first IPN, valid
// IPNs are repeats.
func (m *ipnMix) pick() (ipnKind, int) {
	r := rand.Float64()
	switch {
	case r < m.bad:
		return ipnBad, rand.IntN(len(m.pays))
	case r < m.bad+m.duplicates:
		if sent := min(m.next.Load(), int64(len(m.pays))); sent > 0 {
			return ipnDuplicate, int(rand.Int64N(sent))
		}
	}
	i := m.next.Add(1) - 1
	if i >= int64(len(m.pays)) {
		return ipnDuplicate, rand.IntN(len(m.pays))
	}
	return ipnFirst, int(i)
}

// expected reports whether code is a right answer to an IPN of kind k.
func (k ipnKind) expected(code string) bool {
	switch k {
	case ipnBad:
		return code == vnpay.RspInvalidChecksum
	default:
		return code == vnpay.RspConfirmed || code == vnpay.RspAlreadyConfirmed
	}
}

func (m *ipnMix) count(k ipnKind, code string) {
	m.mu.Lock()
	m.answers[k.String()+":"+code]++
	m.mu.Unlock()
}

func (m *ipnMix) snapshot() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(m.answers))
	for k, v := range m.answers {
		out[k] = v
	}
	return out
}

// answerError is an IPN answered with a code its kind must not get; the report names it
// "rsp_<code>".
type answerError struct{ code string }

func (e answerError) Error() string { return "unexpected RspCode " + e.code }
func (e answerError) Class() string { return "rsp_" + e.code }

// ipnSender is the op of a phase: one IPN of the mix to one URL.
type ipnSender struct {
	client *loadClient
	url    string
	mix    *ipnMix
	// anyCode takes every 200 answer as right: the baseline verifies nothing, so it cannot
	// tell a forged IPN from a valid one.
	anyCode bool
}

func (s *ipnSender) do(ctx context.Context) outcome {
	kind, i := s.mix.pick()
	if kind != ipnBad {
		s.mix.validSent[i].Store(true)
	}
	status, _, reply, err := getIPN(ctx, s.client, s.mix.pays[i].target(s.url, kind))
	switch {
	case err != nil:
		return outcome{Status: status, Err: err}
	case status != http.StatusOK:
		return outcome{Status: status}
	case reply == nil:
		return outcome{Status: status, Err: answerError{code: "unreadable"}}
	}
	s.mix.count(kind, reply.RspCode)
	if !s.anyCode && !kind.expected(reply.RspCode) {
		return outcome{Status: status, Err: answerError{code: reply.RspCode}}
	}
	o := outcome{Status: status}
	if reply.RspCode == vnpay.RspConfirmed && kind != ipnBad {
		s.mix.confirmed.Add(1)
		o.Events = 1 // a payment became paid
	}
	return o
}

// getIPN sends one IPN (a GET of target, as VNPay sends it) and reads the answer: the HTTP
// status (0 when no answer came), the body, and VNPay's reply when the status is 200 and the body
// decodes (nil otherwise).
func getIPN(ctx context.Context, client *loadClient, target string) (status int, body []byte, reply *vnpay.IPNReply, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp.StatusCode, body, nil, err
	}
	var r vnpay.IPNReply
	if json.Unmarshal(body, &r) != nil {
		return resp.StatusCode, body, nil, nil
	}
	return resp.StatusCode, body, &r, nil
}

func (o *ipnOptions) run(ctx context.Context, e *env) (any, error) {
	rdb, err := newRedisClient(ctx, e.redisURL)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	client := newLoadClient(e.shape.Concurrency)
	defer client.CloseIdleConnections()
	res := &ipnResult{
		Scenario: "ipn", Mode: e.shape.mode(), Rate: e.shape.Rate, Concurrency: e.shape.Concurrency,
		Payments: o.payments, Duplicates: o.duplicates, BadSignatures: o.bad, Role: o.role, Setup: o.describe(),
		DurationS: e.shape.Duration.Seconds(), WarmupS: e.shape.Warmup.Seconds(),
	}

	prefix := "loadgen" + e.runID
	defer func() {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		n, derr := deleteKeys(cctx, rdb, prefix)
		if derr != nil {
			fmt.Fprintf(e.progress, "gateway: deleting keys: %v\n", derr)
		}
		fmt.Fprintf(e.progress, "gateway: deleted %d keys under %s\n", n, prefix)
	}()
	cfg, err := gatewayConfig(e.redisURL, prefix, "loadgen-"+e.runID, o.consumers)
	if err != nil {
		return nil, err
	}
	if err := o.configure(&cfg); err != nil {
		return nil, err
	}
	if o.role != config.RoleAPI {
		res.Consumers = o.consumers
	}
	g, err := startGateway(ctx, cfg)
	if err != nil {
		return nil, err
	}
	stopped := false
	stopGateway := func() error {
		if stopped {
			return nil
		}
		stopped = true
		return g.stop()
	}
	defer func() { _ = stopGateway() }()
	apiBase := "http://" + g.app.APIAddr()
	fmt.Fprintf(e.progress, "gateway: in process (%s), %s, key prefix %s\n", o.describe(), apiBase, prefix)

	// The payments exist before either phase, so both phases send the same IPNs.
	t0 := time.Now()
	pays, err := createIPNPayments(ctx, client, apiBase, e.runID, o.payments, e.shape.Concurrency, cfg.Payments.VNPay)
	if err != nil {
		return nil, err
	}
	res.CreateS = round(time.Since(t0).Seconds(), 2)
	res.PaymentsHeldMiB = round(float64(heldBytes(pays))/(1<<20), 1)
	fmt.Fprintf(e.progress, "gateway: %d VNPay payments created in %.1fs\n", len(pays), res.CreateS)

	base, err := o.baselinePhase(ctx, e, rdb, client, pays)
	if err != nil {
		return nil, err
	}
	res.Baseline = newPhaseResult(base)

	mix := newIPNMix(pays, o.duplicates, o.bad)
	gw, err := o.gatewayPhase(ctx, e, client, apiBase+"/v1/callbacks/vnpay/ipn", mix)
	if err != nil {
		return nil, err
	}
	res.Gateway = newPhaseResult(gw)
	res.Answers = mix.snapshot()
	// Stop the gateway before reading the store, so nothing changes while it is read.
	if err := stopGateway(); err != nil {
		return nil, err
	}
	check, err := checkExactlyOnce(ctx, rdb, prefix, pays, mix)
	if err != nil {
		return nil, err
	}
	res.Check = check
	res.judge()
	if err := res.report(e); err != nil {
		return res, err
	}
	if !check.Pass {
		return res, fmt.Errorf("exactly-once check failed: %s", strings.Join(check.Problems, "; "))
	}
	return res, nil
}

// heldBytes is the memory pays holds: the slice and the strings it points to.
func heldBytes(pays []ipnPayment) int64 {
	n := int64(cap(pays)) * int64(unsafe.Sizeof(ipnPayment{}))
	for _, p := range pays {
		n += int64(len(p.id) + len(p.reference) + len(p.valid))
	}
	return n
}

// createIPNPayments creates n VNPay payments through POST /v1/payments with workers workers and
// signs each one's IPN (paid) and a forged copy.
func createIPNPayments(ctx context.Context, client *loadClient, apiBase, runID string, n, workers int, v config.VNPaySettings) ([]ipnPayment, error) {
	pays := make([]ipnPayment, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				p, err := createIPNPayment(ctx, client, apiBase, runID, i)
				if err != nil {
					errs <- err
					next.Store(int64(n)) // stop the others
					return
				}
				if p, err = signIPN(p, i, v); err != nil {
					errs <- err
					next.Store(int64(n))
					return
				}
				pays[i] = p
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(<-errs, ctx.Err()); err != nil {
		return nil, fmt.Errorf("creating payments: %w", err)
	}
	return pays, nil
}

// signIPN signs payment p's IPN (paid), as VNPay would, and marks where its forged copy differs.
func signIPN(p ipnPayment, i int, v config.VNPaySettings) (ipnPayment, error) {
	ipn := vnpay.IPN{
		TmnCode: v.TmnCode, Amount: ipnAmount, BankCode: "NCB", BankTranNo: "VNP" + leftPad(strconv.Itoa(i), 8),
		CardType: "ATM", OrderInfo: "Thanh toan phi ho so " + p.reference, PayDate: time.Now().In(vntime.Zone),
		ResponseCode: vnpay.ResponseCodeSuccess, TransactionNo: strconv.Itoa(20_000_000 + i),
		TransactionStatus: vnpay.ResponseCodeSuccess, TxnRef: p.reference,
	}
	params := ipn.Params()
	sig := vnpay.Sign(v.Secret, params)
	params.Set(vnpay.ParamSecureHash, sig)
	p.valid = params.Encode()
	// A forged hash: the right length, its middle digit changed (see target).
	at := strings.Index(p.valid, vnpay.ParamSecureHash+"=")
	if at < 0 {
		return p, fmt.Errorf("payment %d: no %s in the signed query", i, vnpay.ParamSecureHash)
	}
	p.forgeAt = at + len(vnpay.ParamSecureHash) + 1 + len(sig)/2
	return p, nil
}

func createIPNPayment(ctx context.Context, client *loadClient, apiBase, runID string, i int) (ipnPayment, error) {
	body := fmt.Sprintf(`{"dossier_code":"LG%s-%s","procedure_code":"1.011442","agency_code":"000.00.00.H37",`+
		`"provider":"vnpay","amount":%d,"fee_lines":[{"code":"LP01","name":"Le phi","kind":"le_phi","amount":%d}],`+
		`"payer":{"name":"Nguyen Van Tai"}}`, runID, leftPad(strconv.Itoa(i%1000), 5), ipnAmount, ipnAmount)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiBase+"/v1/payments", strings.NewReader(body))
	if err != nil {
		return ipnPayment{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+config.DemoClientToken)
	req.Header.Set("Idempotency-Key", "lg-"+runID+"-"+strconv.Itoa(i))
	resp, err := client.Do(req)
	if err != nil {
		return ipnPayment{}, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return ipnPayment{}, err
	}
	if resp.StatusCode != http.StatusCreated {
		return ipnPayment{}, fmt.Errorf("POST /v1/payments answered %d: %.200s", resp.StatusCode, b)
	}
	var c struct {
		PaymentID string `json:"payment_id"`
		Reference string `json:"reference"`
		Amount    int64  `json:"amount"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.PaymentID == "" || c.Reference == "" || c.Amount != ipnAmount {
		return ipnPayment{}, fmt.Errorf("POST /v1/payments answered an unexpected body: %.200s", b)
	}
	return ipnPayment{id: c.PaymentID, reference: c.Reference}, nil
}

func (o *ipnOptions) baselinePhase(ctx context.Context, e *env, rdb *redis.Client, client *loadClient, pays []ipnPayment) (st *phaseStats, err error) {
	b, err := startIPNBaseline(rdb, "loadgen:"+e.runID+":ipn-baseline")
	if err != nil {
		return nil, err
	}
	defer func() {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		err = errors.Join(err, b.stop(cctx))
	}()
	fmt.Fprintf(e.progress, "baseline: %s, one HSETNX per IPN; warming up %s, measuring %s\n", b.url(), e.shape.Warmup, e.shape.Duration)
	s := &ipnSender{client: client, url: b.url(), mix: newIPNMix(pays, o.duplicates, o.bad), anyCode: true}
	dials := client.dials.Load()
	st, err = runLoad(ctx, e.shape, s.do, nil)
	client.CloseIdleConnections()
	if err != nil {
		return nil, fmt.Errorf("measuring baseline: %w", err)
	}
	st.Connections = client.dials.Load() - dials
	return st, nil
}

func (o *ipnOptions) gatewayPhase(ctx context.Context, e *env, client *loadClient, url string, mix *ipnMix) (st *phaseStats, err error) {
	profile, closeProfile, perr := openProfile(o.cpuprofile) // profile: a nil interface without -cpuprofile
	if perr != nil {
		return nil, perr
	}
	defer func() {
		if cerr := closeProfile(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	fmt.Fprintf(e.progress, "gateway: %s; warming up %s, measuring %s\n", url, e.shape.Warmup, e.shape.Duration)
	s := &ipnSender{client: client, url: url, mix: mix}
	dials := client.dials.Load()
	st, err = runLoad(ctx, e.shape, s.do, profile)
	client.CloseIdleConnections()
	if err != nil {
		return nil, fmt.Errorf("measuring gateway: %w", err)
	}
	st.Connections = client.dials.Load() - dials
	return st, nil
}

// ipnBaseline is the least an IPN endpoint can do: read the query, make one Redis round trip
// (HSETNX of the reference in a hash of its own, deleted afterwards) and answer VNPay's JSON,
// on the gateway's HTTP server settings, the same Redis and the same client library.
type ipnBaseline struct {
	rdb  *redis.Client
	key  string
	srv  *http.Server
	ln   net.Listener
	done chan error
}

func startIPNBaseline(rdb *redis.Client, key string) (*ipnBaseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("binding baseline listener: %w", err)
	}
	c := config.Defaults().HTTP
	b := &ipnBaseline{rdb: rdb, key: key, ln: ln, done: make(chan error, 1)}
	b.srv = &http.Server{
		Handler: b, ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout,
		WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout, MaxHeaderBytes: c.MaxHeaderBytes,
	}
	go func() { b.done <- b.srv.Serve(ln) }()
	return b, nil
}

func (b *ipnBaseline) url() string {
	return "http://" + b.ln.Addr().String() + "/v1/callbacks/vnpay/ipn"
}

func (b *ipnBaseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code := vnpay.RspInvalidChecksum
	if q.Get("vnp_TxnRef") != "" {
		set, err := b.rdb.HSetNX(r.Context(), b.key, q.Get("vnp_TxnRef"), q.Get(vnpay.ParamSecureHash)).Result()
		switch {
		case err != nil:
			code = vnpay.RspUnknownError
		case set:
			code = vnpay.RspConfirmed
		default:
			code = vnpay.RspAlreadyConfirmed
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(vnpay.Reply(code))
}

func (b *ipnBaseline) stop(ctx context.Context) error {
	err := b.srv.Shutdown(ctx)
	if serr := <-b.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if derr := b.rdb.Del(ctx, b.key).Err(); derr != nil {
		err = errors.Join(err, fmt.Errorf("deleting baseline hash: %w", derr))
	}
	return err
}

// ipnCheck is the exactly-once verdict read from the store after the load.
type ipnCheck struct {
	Payments   int `json:"payments"`
	ValidSent  int `json:"valid_sent"` // payments at least one valid IPN was sent for
	Paid       int `json:"paid"`
	Pending    int `json:"pending"`
	OutboxPaid int `json:"outbox_paid"` // payment.settled entries to paid
	// Redelivered counts the entries the retry schedule put back (a consumer failed), not counted
	// above.
	Redelivered int `json:"redelivered"`
	Confirmed00 int `json:"confirmed_00"`
	// Problems lists the first few payments that break the rule, and count mismatches.
	Problems []string `json:"problems,omitempty"`
	Pass     bool     `json:"pass"`
}

// checkExactlyOnce reads every payment of the run and the outbox stream: a payment a valid IPN
// was sent for is paid with exactly one transition to paid in its history and exactly one
// payment.settled entry; the others are still pending with no entry; and the 00 answers are as
// many as the paid payments.
func checkExactlyOnce(ctx context.Context, rdb redis.UniversalClient, prefix string, pays []ipnPayment, mix *ipnMix) (*ipnCheck, error) {
	base := prefix + ":{" + routing.TopicPaymentSettled + "}"
	c := &ipnCheck{Payments: len(pays), Confirmed00: int(mix.confirmed.Load())}
	problem := func(format string, a ...any) {
		if len(c.Problems) < 10 {
			c.Problems = append(c.Problems, fmt.Sprintf(format, a...))
		}
	}
	// The outbox: count the entries to paid per payment id.
	outbox := map[string]int{}
	start := "-"
	for {
		msgs, err := rdb.XRangeN(ctx, base, start, "+", 1000).Result()
		if err != nil {
			return nil, fmt.Errorf("reading the outbox stream: %w", err)
		}
		for _, m := range msgs {
			uuid, _ := m.Values["uuid"].(string)
			// The retry schedule puts a message whose handling failed back on the stream with its
			// attempt in the metadata: a redelivery, not a second event of the state machine.
			var md map[string]string
			raw, _ := m.Values["metadata"].(string)
			if json.Unmarshal([]byte(raw), &md) == nil && md[routing.MetaAttempt] != "" {
				c.Redelivered++
				continue
			}
			if id, ok := strings.CutSuffix(uuid, "/paid"); ok {
				outbox[id]++
				c.OutboxPaid++
			}
		}
		if len(msgs) < 1000 {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	const batch = 1000
	for from := 0; from < len(pays); from += batch {
		chunk := pays[from:min(from+batch, len(pays))]
		status := make([]*redis.StringCmd, len(chunk))
		hist := make([]*redis.StringSliceCmd, len(chunk))
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, pay := range chunk {
				status[i] = p.HGet(ctx, base+":payment:"+pay.reference, "status")
				hist[i] = p.LRange(ctx, base+":payment:"+pay.reference+":history", 0, -1)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("reading payments: %w", err)
		}
		for i, pay := range chunk {
			sent := mix.validSent[from+i].Load()
			st := status[i].Val()
			toPaid := 0
			for _, h := range hist[i].Val() {
				if strings.Contains(h, `"to":"paid"`) {
					toPaid++
				}
			}
			switch st {
			case "paid":
				c.Paid++
			case "pending":
				c.Pending++
			}
			if sent {
				c.ValidSent++
				if st != "paid" || toPaid != 1 || outbox[pay.id] != 1 {
					problem("payment %s: status %q, %d transitions to paid, %d outbox entries; want paid, 1, 1", pay.id, st, toPaid, outbox[pay.id])
				}
			} else if st != "pending" || toPaid != 0 || outbox[pay.id] != 0 {
				problem("payment %s (no valid IPN sent): status %q, %d transitions to paid, %d outbox entries; want pending, 0, 0", pay.id, st, toPaid, outbox[pay.id])
			}
		}
	}
	if c.Paid != c.Confirmed00 {
		problem("%d payments paid but %d IPNs answered 00", c.Paid, c.Confirmed00)
	}
	if c.OutboxPaid != c.Paid {
		problem("%d payment.settled entries to paid for %d paid payments", c.OutboxPaid, c.Paid)
	}
	if c.ValidSent == 0 {
		problem("no valid IPN was sent")
	}
	c.Pass = len(c.Problems) == 0
	return c, nil
}

// ipnResult is the RESULT line of the ipn scenario.
type ipnResult struct {
	Scenario      string  `json:"scenario"`
	Mode          string  `json:"mode"`
	Rate          float64 `json:"rate"`
	Concurrency   int     `json:"concurrency"`
	Payments      int     `json:"payments"`
	Duplicates    float64 `json:"duplicates"`
	BadSignatures float64 `json:"bad_signatures"`
	Role          string  `json:"role"`
	Consumers     int     `json:"consumers,omitempty"` // role all only
	// Setup says what the in-process gateway ran (its role and consumers), for the report.
	Setup     string  `json:"gateway_setup"`
	DurationS float64 `json:"duration_s"`
	WarmupS   float64 `json:"warmup_s"`
	CreateS   float64 `json:"create_s"` // creating the payments, before the phases
	// PaymentsHeldMiB is what the load generator holds for its payments (ids, references and
	// signed IPNs) through both phases: part of the process's RSS that is not the gateway's.
	PaymentsHeldMiB float64 `json:"payments_held_mib"`
	// RSSOverBaselineMiB is the gateway phase's RSS less the baseline phase's: what running the
	// gateway under load adds to the process (the idle gateway and the load generator's payments
	// are in both).
	RSSOverBaselineMiB float64 `json:"rss_over_baseline_mib"`

	// Requests of a phase are IPNs answered as their kind must be (00 or 02 for a valid one,
	// 97 for a forged one); its events are the 00 answers (payments that became paid).
	Baseline phaseResult `json:"baseline"`
	Gateway  phaseResult `json:"gateway"`
	// Answers counts the gateway's answers by kind and RspCode, warmup and tail included.
	Answers map[string]int64 `json:"answers"`
	// Ratio is the gateway's IPNs/s over the baseline's.
	Ratio float64   `json:"ratio"`
	Goal  goal      `json:"goal"`
	Check *ipnCheck `json:"exactly_once"`
}

func (r *ipnResult) judge() {
	r.RSSOverBaselineMiB = round(r.Gateway.RSSMiB-r.Baseline.RSSMiB, 1)
	if r.Baseline.RequestsPerS > 0 {
		r.Ratio = round(r.Gateway.RequestsPerS/r.Baseline.RequestsPerS, 3)
	}
	r.Goal = judgeGoal(ipnMinRatio, ipnMaxP99, r.Ratio, r.Gateway, r.Mode == "open")
}

func (r *ipnResult) report(e *env) error {
	if e.json {
		return writeJSON(e.out, r)
	}
	var b bytes.Buffer
	load := loadLine(r.Mode, r.Rate, r.Concurrency)
	fmt.Fprintf(&b, "scenario ipn: %s, %d VNPay payments (created in %gs), %.0f%% duplicates, %.0f%% bad signatures, "+
		"%gs measured after %gs warmup, in-process gateway (%s)\n\n",
		load, r.Payments, r.CreateS, 100*r.Duplicates, 100*r.BadSignatures, r.DurationS, r.WarmupS, r.Setup)
	fmt.Fprintln(&b, "phase     IPNs/s  paid/s  p50 ms  p90 ms  p99 ms  p99.9 ms  max ms  errors  conns  CPU s  CPU ms/1k IPN  RSS MiB  peak MiB")
	for _, p := range []struct {
		name string
		r    phaseResult
	}{{"baseline", r.Baseline}, {"gateway", r.Gateway}} {
		perK := 0.0
		if p.r.Requests > 0 {
			perK = p.r.CPUS * 1000 * 1000 / float64(p.r.Requests)
		}
		fmt.Fprintf(&b, "%-8s %7.0f %7.0f %7.2f %7.2f %7.2f %9.2f %7.2f %7d %6d %6.2f %14.1f %8.0f %9.0f\n",
			p.name, p.r.RequestsPerS, p.r.EventsPerS, p.r.P50Ms, p.r.P90Ms, p.r.P99Ms, p.r.P999Ms, p.r.MaxMs,
			p.r.Errors, p.r.Connections, p.r.CPUS, perK, p.r.RSSMiB, p.r.RSSPeakMiB)
	}
	for _, p := range []struct {
		name string
		r    phaseResult
	}{{"baseline", r.Baseline}, {"gateway", r.Gateway}} {
		if len(p.r.ErrorsByStatus) > 0 {
			fmt.Fprintf(&b, "%s errors: %v\n", p.name, p.r.ErrorsByStatus)
		}
		if p.r.Missed > 0 {
			fmt.Fprintf(&b, "%s: %d scheduled sends never went out (the offered rate was not sustained)\n", p.name, p.r.Missed)
		}
	}
	fmt.Fprintf(&b, "gateway answers (kind:RspCode, whole phase): %v\n", r.Answers)
	what := "IPN path, evidence log and the consumers notifying the one-stop system and the portal"
	if r.Role == config.RoleAPI {
		what = "IPN path and evidence log; role api runs no consumers"
	}
	b.WriteString("CPU and RSS are this whole process: the load generator in both phases, the in-process gateway\n" +
		"(" + what + ") in the second.\n")
	fmt.Fprintf(&b, "RSS: the load generator holds %.1f MiB for its payments in both phases; the gateway phase's RSS is %.1f MiB over the baseline phase's\n",
		r.PaymentsHeldMiB, r.RSSOverBaselineMiB)
	if c := r.Check; c != nil {
		v := "PASS"
		if !c.Pass {
			v = "FAIL"
		}
		fmt.Fprintf(&b, "exactly once: %d payments, %d sent a valid IPN, %d paid, %d pending, %d outbox entries to paid (and %d redeliveries), %d answers 00: %s\n",
			c.Payments, c.ValidSent, c.Paid, c.Pending, c.OutboxPaid, c.Redelivered, c.Confirmed00, v)
		for _, p := range c.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	fmt.Fprintf(&b, "goal IPNs/s ≥ %.2f× baseline: %s (%.2f×)\n", r.Goal.MinRatio, r.Goal.Throughput, r.Ratio)
	fmt.Fprintf(&b, "goal p99 ≤ %g ms: %s (%.2f ms)\n", r.Goal.MaxP99Ms, r.Goal.P99, r.Gateway.P99Ms)
	fmt.Fprintf(&b, "verdict: %s\n", r.Goal.Verdict)
	if _, err := e.out.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
