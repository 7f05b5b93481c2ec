package observability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/egov-vn/gateway/connectors/bank"
	banksandbox "github.com/egov-vn/gateway/connectors/bank/sandbox"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/internal/observability/dashboards"
	"github.com/egov-vn/gateway/internal/testredis"
	"github.com/egov-vn/gateway/internal/vntime"
	"github.com/egov-vn/gateway/routing"
)

// liveRateInterval stands in for Grafana's $__rate_interval: four of the live check's 1 s scrapes
// would do; a wider window keeps every rate defined through the whole check.
const liveRateInterval = "15s"

// liveFor replaces every alert's `for:` in the live check's copy of the rules, so alerts fire
// within a short run. Expressions and thresholds are the production ones; the promtool unit tests
// prove the real `for:` durations.
const liveFor = "1s"

// Alerts the scenario must make fire, and alerts it cannot honestly trigger in under a minute
// (their thresholds are minutes of age) that must therefore stay quiet. GatewayConsumerLagGrowing
// is in neither list: its expression is run and its series proven, but a momentary backlog may
// or may not make it fire.
var (
	expectFiring = []string{
		"GatewayBreakerOpen", "GatewayDeadLettersPresent", "GatewayRetriesParkedTooLong",
		"GatewayIngestErrorRatio", "GatewayTargetDown", "GatewayPortalSyncFailing",
		"GatewayPaymentCallbacksRejected", "GatewayReconciliationMismatches", "GatewayPaymentStatusQueriesFailing",
		"GatewayPaymentsPendingTooLong", "GatewayPortalNotSyncedBeforeDeadline",
		"GatewayDeliveriesFailing", "GatewayPostalTrackingFailing", "GatewayPortalDrift",
		"GatewayPortalSubmissionsNotAcknowledged", "GatewayCatalogRefreshFailing", "GatewayEvidenceRecordsLost",
	}
	expectQuiet = []string{"GatewayOldestPendingTooOld", "GatewayRetryOverdue"}
)

// TestLiveCheck proves the dashboards and alerts against a real Prometheus (Debian's 2.42) scraping
// a gateway that runs a scenario with faults injected:
//
//   - dossiers that sync; Redis unreachable for a moment (ingest and readiness answer 503);
//   - a dossier the portal refuses (422), which is dead-lettered and notified;
//   - the portal going down until the dvcqg breaker opens, with messages parked for a retry;
//     these two dossiers never reach the portal, and their NgayHenTra (2025-12-10) has passed;
//   - ingest requests the gateway rejects (400) and a stream of traffic until the end;
//   - a second gateway target that does not answer;
//   - a VNPay payment paid through the sandbox, one VNPay cannot be asked about (its status query
//     answers 503) and that stays pending past its (short) time to live and grace, forged IPNs
//     until the end, and a reconciliation of today that finds a VNPay transaction no payment has;
//   - VNPost failing from the start, then three results ordered for home delivery: one walked by
//     the sandbox to delivered, one to delivery failed and returning, one to pickup failed; then
//     VNPost failing again until the end (tracking polls fail; delivery requests are parked);
//   - a dossier update the portal drops, found by today's drift report, then re-synced;
//   - a catalogue refresh that gets a truncated procedures catalogue;
//   - a dossier submitted on the national portal while the one-stop system is down (queued, its
//     notification parked, never acknowledged);
//   - a callback answered while Redis is unreachable, whose evidence record is lost.
//
// Prometheus scrapes every second and evaluates a copy of the rules whose `for:` is 1 s. Once the
// expected alerts fire, every panel query of every committed dashboard (with $__rate_interval set
// to 15s) and every alert expression is run through the HTTP API: each must succeed and return
// data, and every series it selects must exist. The list of what was proved is logged (and
// written to $GATEWAY_LIVECHECK_REPORT when set, which make test prints).
func TestLiveCheck(t *testing.T) {
	t.Parallel()
	start := time.Now()
	promBin := tool(t, "prometheus")

	cfg := apptest.Config(t, apptest.RealRedis)
	// The gateway reaches Redis through a proxy the scenario can cut.
	proxy := startRedisProxy(t)
	cfg.Redis.URL = proxy.url
	// Parked messages stay parked for the whole check.
	cfg.Retry.Schedule = []time.Duration{30 * time.Second, time.Minute}
	cfg.Partners = map[string]config.PartnerConfig{
		routing.PartnerPortal: {BreakerFailures: 3, BreakerOpenFor: 2 * time.Second},
		routing.PartnerPostal: {BreakerFailures: 3, BreakerOpenFor: time.Second},
		// A notification parked for the one-stop system stays parked for the whole check.
		routing.PartnerOnestop: {RetrySchedule: []time.Duration{10 * time.Minute}},
	}
	// Tracking is polled five times a second; national submissions are polled too.
	cfg.Postal.PollInterval = 200 * time.Millisecond
	cfg.Postal.PollTimeout = 3 * time.Second
	cfg.Portal.Agencies = config.DevAgencies
	cfg.Portal.Submissions.Interval = 500 * time.Millisecond
	// Payments without a callback are asked about at once and then often.
	cfg.Payments.QueryAfter = 200 * time.Millisecond
	cfg.Payments.QueryInterval = 300 * time.Millisecond
	cfg.Payments.SweepInterval = 200 * time.Millisecond
	// VNPay payments can be paid for 3 s, and a late payment is waited for 1 s more: the payment
	// VNPay cannot be asked about (below) is overdue within seconds, as it would be after 20
	// minutes with the production settings, and stays pending because no answer came.
	cfg.Payments.VNPay.TTL = 3 * time.Second
	cfg.Payments.ExpireGrace = time.Second
	gw := apptest.Start(t, cfg)
	portalFaults := gw.Sandboxes.Portal.Faults()
	vnpostFailing(gw)

	prom := startPrometheus(t, promBin, gw.AdminAddr())
	// Prometheus holds every counter at its start value before the scenario moves it: increase()
	// over an alert's long window then counts what the scenario did, not nothing.
	prom.waitForScrapes(t, gw.AdminAddr(), 2)

	// 1. Healthy traffic that syncs.
	for i := 1; i <= 3; i++ {
		mustPost(t, gw, statusEvent(fmt.Sprintf("live-ok-%d", i), dossierCode(i), 1, 1), http.StatusAccepted)
	}
	waitCounter(t, gw, "gateway_portal_syncs_total", map[string]string{"result": "synced"}, 3)

	// 1b. Payments: one paid through the VNPay sandbox; then VNPay's status query fails, and a
	// second payment that is never paid is asked about in vain; a forged IPN is refused; a VNPay
	// transaction no payment has is planted and today's reconciliation finds it.
	paid := livePayment(t, gw, "live-pay-1", 150000)
	livePay(t, gw, paid)
	waitCounter(t, gw, "gateway_payment_transitions_total", map[string]string{"provider": bank.ProviderVNPay, "to": "paid"}, 1)
	gw.Sandboxes.VNPay.Faults().Set(faults.Settings{ErrorRate: 1, Status: http.StatusServiceUnavailable})
	livePayment(t, gw, "live-pay-2", 90000)
	waitCounter(t, gw, "gateway_payment_status_queries_total", map[string]string{"provider": bank.ProviderVNPay, "outcome": "error"}, 1)
	sendForgedIPN(context.Background(), http.DefaultClient, gw)
	waitCounter(t, gw, "gateway_payment_callbacks_rejected_total", map[string]string{"endpoint": bank.EndpointVNPayIPN, "reason": bank.ReasonBadSignature}, 1)
	gw.Sandboxes.VNPay.Plant(banksandbox.VNPayTransaction{TxnRef: "QLIVEUNKNOWN", Amount: 10000, Status: "paid", PaidAt: time.Now()})
	day := time.Now().In(vntime.Zone).Format(time.DateOnly)
	if code, raw := apptest.Do(t, http.MethodPost, gw.Admin+"/admin/v1/reconciliation/"+day, config.DemoAdminToken, "", ""); code != http.StatusOK {
		t.Fatalf("running today's reconciliation: %d %s", code, raw)
	}
	waitCounter(t, gw, "gateway_reconciliation_runs_total", nil, 1)

	// 1c. Postal delivery, the drift report and a re-sync, a broken catalogue, a national
	// submission that cannot be delivered (livecheck_flows_test.go).
	liveDeliveries(t, gw)
	liveDriftAndResync(t, gw, day)
	liveCatalogRefresh(t, gw)
	liveSubmission(t, gw)

	// 2. Redis goes away for a moment: ingest answers 503 (nothing stored) and so does /readyz;
	// then it comes back and the gateway recovers without a restart.
	proxy.cut()
	apptest.Eventually(t, 10*time.Second, "ingest answering 503 while Redis is unreachable", func() bool {
		code, _ := postEvent(t, gw, statusEvent("live-503", dossierCode(9), 1, 1))
		return code == http.StatusServiceUnavailable
	})
	if code, _ := apptest.Do(t, http.MethodGet, gw.Admin+"/readyz", "", "", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while Redis is unreachable: %d, want 503", code)
	}
	liveEvidenceLost(t, gw)
	proxy.restore()
	apptest.Eventually(t, 15*time.Second, "ready again once Redis is back", func() bool {
		code, _ := apptest.Do(t, http.MethodGet, gw.Admin+"/readyz", "", "", "")
		return code == http.StatusOK
	})

	// 3. The portal refuses a dossier for its content: a dead letter and a sync_failed notice.
	portalFaults.Set(faults.Settings{ErrorRate: 1, Status: http.StatusUnprocessableEntity})
	mustPost(t, gw, statusEvent("live-422", dossierCode(4), 1, 1), http.StatusAccepted)
	waitCounter(t, gw, "gateway_deadletters_published_total", map[string]string{"handler": routing.HandlerDossierToPortal, "reason": "permanent"}, 1)
	waitCounter(t, gw, "gateway_notifications_total", map[string]string{"type": "dossier.sync_failed", "result": "delivered"}, 1)

	// 4. The portal goes down: the breaker opens and messages are parked.
	portalFaults.Set(faults.Settings{Down: true})
	mustPost(t, gw, statusEvent("live-down", dossierCode(5), 1, 1), http.StatusAccepted)
	apptest.Eventually(t, 15*time.Second, "an open dvcqg breaker", func() bool {
		for _, st := range gw.Clients[routing.PartnerPortal].BreakerStates() {
			if st.String() != "closed" {
				return true
			}
		}
		return false
	})
	apptest.Eventually(t, 15*time.Second, "a parked message", func() bool {
		n, _, _ := gw.Router.Schedules()[routing.HandlerDossierToPortal].Len(context.Background())
		return n > 0
	})

	// 5. A rejected ingest request, then traffic (valid and invalid events, reads, admin calls)
	// until the checks are done, so that every rate has samples in its window.
	mustPost(t, gw, map[string]any{"specversion": "1.0", "id": "live-bad"}, http.StatusBadRequest)
	stopTraffic := keepTraffic(gw)
	t.Cleanup(stopTraffic)
	scenarioDone := time.Since(start)

	prom.waitForScrapes(t, gw.AdminAddr(), 5)
	prom.waitForAlerts(t, expectFiring, 40*time.Second)
	alertsFiring := time.Since(start)

	var report []string
	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }

	// Every panel query of every committed dashboard.
	queries := dashboardQueries(t)
	for _, q := range queries {
		expr := strings.ReplaceAll(q.Expr, dashboards.RateInterval, liveRateInterval)
		name := fmt.Sprintf("panel %s / %s [%s]", q.Dashboard, q.Panel, q.RefID)
		n, why := prom.proveData(expr)
		if why != "" {
			fail("%s: %s\n    %s", name, why, expr)
			continue
		}
		if why := prom.proveSelectors(expr); why != "" {
			fail("%s: %s", name, why)
			continue
		}
		report = append(report, fmt.Sprintf("%s: %d series", name, n))
	}

	// Every alert expression, as written in the production rules.
	states := prom.alertStates(t)
	for _, r := range readRules(t, repoPath(rulesPath)) {
		name := "alert " + r.Alert
		if why := prom.proveSelectors(r.Expr); why != "" {
			fail("%s: %s", name, why)
			continue
		}
		n, why := prom.proveData(r.Expr)
		switch {
		case slices.Contains(expectFiring, r.Alert):
			if why != "" {
				fail("%s: expected to fire, but its expression: %s", name, why)
				continue
			}
			if states[r.Alert] != "firing" {
				fail("%s: state %q, want firing", name, states[r.Alert])
				continue
			}
			report = append(report, fmt.Sprintf("%s: firing, expression returns %d series", name, n))
		case slices.Contains(expectQuiet, r.Alert):
			if n > 0 || states[r.Alert] != "" {
				fail("%s: must stay quiet in a short run, but returns %d series (state %q)", name, n, states[r.Alert])
				continue
			}
			report = append(report, fmt.Sprintf("%s: quiet as expected, expression evaluates and its series exist", name))
		default:
			if strings.HasPrefix(why, "query failed") {
				fail("%s: %s", name, why)
				continue
			}
			report = append(report, fmt.Sprintf("%s: expression evaluates (%d series, state %q) and its series exist", name, n, orInactive(states[r.Alert])))
		}
	}
	for _, a := range expectFiring {
		if _, ok := states[a]; !ok {
			fail("alert %s is expected to fire but is not in the rules", a)
		}
	}

	panelsProved, alertsProved := 0, 0
	for _, line := range report {
		if strings.HasPrefix(line, "panel ") {
			panelsProved++
		} else {
			alertsProved++
		}
	}
	summary := fmt.Sprintf("live check against %s: %d of %d panel queries and %d of %d alerts proved; scenario %s, alerts firing at %s, total %s",
		prom.version, panelsProved, len(queries), alertsProved, len(readRules(t, repoPath(rulesPath))),
		scenarioDone.Round(100*time.Millisecond), alertsFiring.Round(100*time.Millisecond), time.Since(start).Round(100*time.Millisecond))
	writeReport(t, summary, report)
	if len(failures) > 0 {
		t.Fatalf("%d of the checks failed:\n  %s\n\nPrometheus log:\n%s", len(failures), strings.Join(failures, "\n  "), prom.logTail())
	}
}

// livePayment creates a VNPay payment of amount with the idempotency key key.
func livePayment(t *testing.T, gw *apptest.Gateway, key string, amount int64) map[string]any {
	t.Helper()
	first := amount / 2
	body := fmt.Sprintf(`{"dossier_code":%q,"procedure_code":"1.011442","agency_code":"000.00.00.H37","provider":%q,"amount":%d,`+
		`"fee_lines":[{"code":"LP01","name":"Lệ phí","kind":"le_phi","amount":%d},{"code":"P01","name":"Phí thẩm định","kind":"phi","amount":%d}],`+
		`"payer":{"name":"Nguyễn Văn A","id_number":"020123456789","address":"Số 1 Lê Lợi, Lạng Sơn"},"description":"Thanh toán lệ phí"}`,
		dossierCode(1), bank.ProviderVNPay, amount, first, amount-first)
	req, err := http.NewRequest(http.MethodPost, gw.API+"/v1/payments", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+config.DemoClientToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("creating a payment: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating a payment: %d %v %v", resp.StatusCode, out, err)
	}
	return out
}

// livePay makes the VNPay sandbox complete a payment and send its IPN, as VNPay does once the
// citizen has paid.
func livePay(t *testing.T, gw *apptest.Gateway, p map[string]any) {
	t.Helper()
	body := fmt.Sprintf(`{"payment_url":%q,"outcome":"success"}`, p["payment_url"])
	if code, raw := apptest.Do(t, http.MethodPost, gw.API+"/sandbox/vnpay/pay", "", "application/json", body); code != http.StatusOK {
		t.Fatalf("paying through the VNPay sandbox: %d %s", code, raw)
	}
}

// sendForgedIPN sends a VNPay IPN signed with a secret that is not the merchant's: the gateway
// refuses it (bad_signature) and leaves every payment as it was.
func sendForgedIPN(ctx context.Context, client *http.Client, gw *apptest.Gateway) {
	n := vnpay.IPN{TmnCode: config.DemoVNPayTmnCode, Amount: 150000, BankCode: "NCB", CardType: "ATM", OrderInfo: "Thanh toan le phi",
		PayDate: time.Now(), ResponseCode: "00", TransactionNo: "14226112", TransactionStatus: "00", TxnRef: "QFORGED0001"}
	params := n.Params()
	params.Set(vnpay.ParamSecureHash, vnpay.Sign("FORGEDSECRET0123456789ABCDEFGHIJ", params))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, gw.API+"/v1/callbacks/vnpay/ipn?"+params.Encode(), nil)
	if err != nil {
		return
	}
	if resp, err := client.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func orInactive(s string) string {
	if s == "" {
		return "inactive"
	}
	return s
}

func dossierCode(i int) string { return fmt.Sprintf("000.00.37.H37-251126-%04d", 7000+i) }

func mustPost(t *testing.T, gw *apptest.Gateway, ev any, want int) {
	t.Helper()
	if code, body := postEvent(t, gw, ev); code != want {
		t.Fatalf("posting an event: %d %s, want %d", code, body, want)
	}
}

// waitCounter waits until the sum of a gateway counter's series matching labels reaches want.
func waitCounter(t *testing.T, gw *apptest.Gateway, name string, labels map[string]string, want float64) {
	t.Helper()
	apptest.Eventually(t, 15*time.Second, fmt.Sprintf("%s%v >= %v", name, labels, want), func() bool {
		mf := gatherGateway(t, gw)[name]
		sum := 0.0
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			sum += m.GetCounter().GetValue()
		}
		return sum >= want
	})
}

// keepTraffic sends a steady mix of requests until the returned function is called: valid events
// for new dossiers (the portal being down, they fail and are parked), delivery requests (VNPost
// failing, they are parked too), invalid events, forged VNPay IPNs, dossier reads and admin calls. Errors are ignored: the checks judge what the metrics show.
func keepTraffic(gw *apptest.Gateway) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		client := &http.Client{Timeout: 5 * time.Second}
		send := func(method, url, token, contentType, body string) {
			req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
			if err != nil {
				return
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			if resp, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			ev, _ := json.Marshal(statusEvent(fmt.Sprintf("live-traffic-%d", i), dossierCode(100+i), 1, 1))
			send(http.MethodPost, gw.API+"/v1/events", config.DemoClientToken, "application/cloudevents+json", string(ev))
			sendForgedIPN(ctx, client, gw)
			if i%2 == 0 {
				ev, _ := json.Marshal(deliveryEvent(fmt.Sprintf("live-traffic-delivery-%d", i), dossierCode(500+i)))
				send(http.MethodPost, gw.API+"/v1/events", config.DemoClientToken, "application/cloudevents+json", string(ev))
			}
			if i%3 == 0 {
				send(http.MethodPost, gw.API+"/v1/events", config.DemoClientToken, "application/cloudevents+json", `{"specversion":"1.0"}`)
			}
			if i%4 == 0 {
				send(http.MethodGet, gw.API+"/v1/dossiers/"+dossierCode(1), config.DemoClientToken, "", "")
				send(http.MethodGet, gw.Admin+"/admin/v1/breakers", config.DemoAdminToken, "", "")
				send(http.MethodGet, gw.Admin+"/admin/v1/deadletters", config.DemoAdminToken, "", "")
				send(http.MethodGet, gw.Admin+"/readyz", "", "", "")
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}

// redisProxy passes TCP connections through to the test Redis until it is cut: then it drops every
// connection and closes new ones at once, as a Redis that went away would, until restored.
type redisProxy struct {
	url    string
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func startRedisProxy(t *testing.T) *redisProxy {
	t.Helper()
	u, err := url.Parse(testredis.URL())
	if err != nil {
		t.Fatalf("test Redis URL: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &redisProxy{ln: ln, target: u.Host, conns: map[net.Conn]bool{}}
	u.Host = ln.Addr().String()
	p.url = u.String()
	p.wg.Add(1)
	go p.serve()
	// Registered before the gateway starts, so it runs after the gateway has stopped.
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *redisProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

func (p *redisProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *redisProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// livePrometheus is a Prometheus server started by the test.
type livePrometheus struct {
	base    string
	version string
	logPath string
	http    *http.Client
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startPrometheus starts Prometheus on a free loopback port with a temporary store, scraping the
// gateway's admin listener (and a target nobody answers on) every second, with a copy of the
// alert rules whose `for:` is liveFor. It is stopped when the test ends, failed or not.
func startPrometheus(t *testing.T, bin, gatewayAddr string) *livePrometheus {
	t.Helper()
	dir := t.TempDir()

	rules := readRuleFile(t, repoPath(rulesPath))
	for gi := range rules.Groups {
		for ri := range rules.Groups[gi].Rules {
			if rules.Groups[gi].Rules[ri].Alert != "" {
				rules.Groups[gi].Rules[ri].For = liveFor
			}
		}
	}
	rulesRaw, err := yaml.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(dir, "gateway.rules.yml")
	if err := os.WriteFile(rulesFile, rulesRaw, 0o644); err != nil {
		t.Fatal(err)
	}

	deadTarget := "127.0.0.1:" + freePort(t) // bound and released: nothing answers there
	promCfg := map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
		"rule_files": []string{rulesFile},
		"scrape_configs": []any{map[string]any{
			"job_name":       "gateway",
			"metrics_path":   "/metrics",
			"static_configs": []any{map[string]any{"targets": []string{gatewayAddr, deadTarget}}},
		}},
	}
	cfgRaw, err := yaml.Marshal(promCfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, cfgRaw, 0o644); err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	p := &livePrometheus{base: "http://127.0.0.1:" + port, logPath: filepath.Join(dir, "prometheus.log"),
		http: &http.Client{Timeout: 10 * time.Second}}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config.file="+cfgFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+port,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited during start-up (%v):\n%s", err, p.logTail())
		default:
		}
		if resp, err := p.http.Get(p.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready on %s after 20s:\n%s", p.base, p.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var info struct {
		Data struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	if err := p.get("/api/v1/status/buildinfo", &info); err == nil {
		p.version = "Prometheus " + info.Data.Version
	}
	return p
}

func (p *livePrometheus) logTail() string {
	raw, _ := os.ReadFile(p.logPath)
	if len(raw) > 4000 {
		raw = raw[len(raw)-4000:]
	}
	return string(raw)
}

func (p *livePrometheus) get(path string, out any) error {
	resp, err := p.http.Get(p.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query now; err is Prometheus's answer when it refuses the query (a parse
// error, an unknown function) or the transport error.
func (p *livePrometheus) query(expr string) ([]promSample, error) {
	resp, err := p.http.PostForm(p.base+"/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("%s: %s", out.ErrorType, out.Error)
	}
	switch out.Data.ResultType {
	case "vector":
		var v []promSample
		err := json.Unmarshal(out.Data.Result, &v)
		return v, err
	case "scalar":
		var s [2]any
		err := json.Unmarshal(out.Data.Result, &s)
		return []promSample{{Value: s}}, err
	}
	return nil, fmt.Errorf("unexpected result type %q", out.Data.ResultType)
}

// proveData runs expr and returns the number of series, or why it does not count as data: the
// query failed, the result is empty, or no value is a finite number.
func (p *livePrometheus) proveData(expr string) (int, string) {
	res, err := p.query(expr)
	if err != nil {
		return 0, "query failed: " + err.Error()
	}
	if len(res) == 0 {
		return 0, "no data"
	}
	for _, s := range res {
		if str, ok := s.Value[1].(string); ok {
			if v, err := strconv.ParseFloat(str, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
				return len(res), ""
			}
		}
	}
	return len(res), fmt.Sprintf("%d series, none with a finite value", len(res))
}

// proveSelectors checks that every series selector of expr matches series, so that a panel or
// alert that falls back to a constant (or vector(0)) still proves its metrics exist.
func (p *livePrometheus) proveSelectors(expr string) string {
	for _, sel := range selectors.FindAllString(expr, -1) {
		res, err := p.query("count(" + sel + ")")
		if err != nil {
			return fmt.Sprintf("selector %s: query failed: %v", sel, err)
		}
		if len(res) == 0 {
			return fmt.Sprintf("selector %s matches no series", sel)
		}
	}
	return ""
}

func (p *livePrometheus) waitForScrapes(t *testing.T, target string, n int) {
	t.Helper()
	expr := fmt.Sprintf(`count_over_time(up{job="gateway", instance=%q}[1m])`, target)
	apptest.Eventually(t, 30*time.Second, fmt.Sprintf("%d scrapes of the gateway", n), func() bool {
		res, err := p.query(expr)
		if err != nil || len(res) == 0 {
			return false
		}
		v, _ := strconv.ParseFloat(fmt.Sprint(res[0].Value[1]), 64)
		return v >= float64(n)
	})
}

// alertStates returns the state of every active alert by name ("firing" wins over "pending").
func (p *livePrometheus) alertStates(t *testing.T) map[string]string {
	t.Helper()
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := p.get("/api/v1/alerts", &out); err != nil || out.Status != "success" {
		t.Fatalf("reading alerts: %v %s", err, out.Status)
	}
	states := map[string]string{}
	for _, a := range out.Data.Alerts {
		name := a.Labels["alertname"]
		if states[name] != "firing" {
			states[name] = a.State
		}
	}
	// Rules that exist but are inactive are listed with an empty state.
	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := p.get("/api/v1/rules", &rules); err != nil {
		t.Fatalf("reading rules: %v", err)
	}
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			if _, ok := states[r.Name]; !ok && r.Type == "alerting" {
				states[r.Name] = ""
			}
		}
	}
	return states
}

func (p *livePrometheus) waitForAlerts(t *testing.T, names []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		states := p.alertStates(t)
		var missing []string
		for _, n := range names {
			if states[n] != "firing" {
				missing = append(missing, fmt.Sprintf("%s (%s)", n, orInactive(states[n])))
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			sort.Strings(missing)
			t.Fatalf("after %s these alerts are not firing: %s\nPrometheus log:\n%s", timeout, strings.Join(missing, ", "), p.logTail())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// writeReport logs what the live check proved and writes it to $GATEWAY_LIVECHECK_REPORT.
func writeReport(t *testing.T, summary string, lines []string) {
	t.Helper()
	text := summary + "\n  " + strings.Join(lines, "\n  ") + "\n"
	t.Log(text)
	if path := os.Getenv("GATEWAY_LIVECHECK_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Errorf("writing the live check report: %v", err)
		}
	}
}
