package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/sandbox"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/sandboxes"
	"github.com/egov-vn/gateway/internal/testredis"
)

var crashBinary struct {
	once sync.Once
	path string
	err  error
}

// gatewayWithCrashPoints builds cmd/gateway with -tags crashpoints once per test run: the same
// gateway, plus the ability to SIGKILL itself at a named moment (internal/payments/crashpoint_on.go).
func gatewayWithCrashPoints(t *testing.T) string {
	t.Helper()
	crashBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "gateway-crash")
		if err != nil {
			crashBinary.err = err
			return
		}
		root, _ := filepath.Abs(filepath.Join("..", ".."))
		crashBinary.path = filepath.Join(dir, "gateway")
		cmd := exec.Command("go", "build", "-tags", "crashpoints", "-o", crashBinary.path, "./cmd/gateway")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			crashBinary.err = fmt.Errorf("building the gateway with crash points: %v\n%s", err, out)
		}
	})
	if crashBinary.err != nil {
		t.Fatal(crashBinary.err)
	}
	return crashBinary.path
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is one run of the gateway binary; done is closed once it has exited, with err set.
type process struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
	err  error
}

func startGateway(t *testing.T, bin, cfgPath string, env []string, admin string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, "-config", cfgPath), out: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting the gateway: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("gateway output (pid %d):\n%s", p.cmd.Process.Pid, tail(p.out.String(), 4000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("the gateway exited while starting: %v\n%s", p.err, tail(p.out.String(), 4000))
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("the gateway was not ready within 30s\n%s", tail(p.out.String(), 4000))
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestCrashBetweenCallbackAndAcknowledgement runs the gateway as a separate process in the
// production profile against the real Redis, and kills it (SIGKILL, as kill -9) while it handles
// VNPay's IPN: before the state machine's script ran, and after it ran but before VNPay got its
// answer. The VNPay sandbox keeps sending the IPN like the real VNPay; the gateway is started
// again. Either way the payment ends paid exactly once (one transition in its history, one
// outbox event), the one-stop system receives exactly one notification, and the portal one step.
func TestCrashBetweenCallbackAndAcknowledgement(t *testing.T) {
	bin := gatewayWithCrashPoints(t)
	for _, point := range []string{"before_settle", "after_settle"} {
		t.Run(point, func(t *testing.T) {
			rc := testredis.Client(t)
			prefix := testredis.Prefix(t, rc)
			api, admin := freePort(t), freePort(t)

			// The partners: every sandbox on one server of the test process, calling the
			// gateway's API listener back.
			var handler http.Handler
			sbServer := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
			sbURL := "http://" + sbServer.Listener.Addr().String()
			creds := sandboxes.DevCredentials()
			creds.GatewayURL, creds.PublicURL = "http://"+api, sbURL
			creds.Retry = sandbox.Retry{Interval: 200 * time.Millisecond, MaxInterval: 500 * time.Millisecond, Attempts: 200}
			set := sandboxes.New(creds)
			handler = set.Handler()
			sbServer.Start()
			t.Cleanup(func() { set.Close(); sbServer.Close() })

			cfgPath := filepath.Join(t.TempDir(), "production.yaml")
			yaml := fmt.Sprintf(`profile: production
log: {level: info, format: text}
http: {addr: %[1]s, public_url: "http://%[1]s"}
admin: {addr: %[2]s}
redis: {key_prefix: %[3]s}
routing: {replica: crash, consumers_per_handler: 2, handler_timeout: 2s, short_retries: 1, short_retry_interval: 50ms,
  max_idle_time: 15s, claim_interval: 1s, shutdown_grace: 5s, stream_retention: 1h}
retry: {schedule: [200ms, 400ms, 800ms], poll_interval: 50ms}
portal: {dialect: dvcqg, base_url: "%[4]s/sandbox/dvcqg", username: %[5]s, dstcode: %[6]s, madonvi: %[6]s}
onestop: {dialect: webhook, url: "%[4]s/sandbox/onestop/notifications"}
payments:
  return_url: https://motcua.example.invalid/payments/return
  query_after: 10m
  vnpay: {tmn_code: %[7]s, pay_url: "%[4]s/sandbox/vnpay/paymentv2/vpcpay.html", api_url: "%[4]s/sandbox/vnpay/merchant_webapi/api/transaction"}
`, api, admin, prefix, sbURL, config.DemoPortalUser, config.DemoDstCode, config.DemoVNPayTmnCode)
			if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{
				"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
				"GATEWAY_REDIS_URL=" + testredis.URL(), "GATEWAY_ADMIN_TOKEN=crash-admin-token",
				"GATEWAY_CLIENT_TOKENS=onestop:crash-client-token", "GATEWAY_PORTAL_PASSWORD=" + config.DemoPortalPassword,
				"GATEWAY_ONESTOP_SECRETS=" + config.DemoOnestopSecret, "GATEWAY_PAYMENTS_VNPAY_SECRET=" + config.DemoVNPaySecret,
			}

			first := startGateway(t, bin, cfgPath, append(env, "GATEWAY_CRASHPOINT="+point), admin)
			const dossierCode = "000.00.37.H37-251126-0099"
			ev, _ := json.Marshal(statusEventOf(dossierCode, "crash-e6", 6, 6))
			if code, out, _ := doJSONAs(t, http.MethodPost, "http://"+api+"/v1/events", "crash-client-token", "application/cloudevents+json", string(ev), nil); code != http.StatusAccepted {
				t.Fatalf("dossier event: %d %v", code, out)
			}
			apptest.Eventually(t, 15*time.Second, "dossier at the portal", func() bool { _, ok := set.Portal.Dossier(dossierCode); return ok })
			body := strings.ReplaceAll(paymentBody("vnpay", 150000), payDossier, dossierCode)
			code, p, _ := doJSONAs(t, http.MethodPost, "http://"+api+"/v1/payments", "crash-client-token", "application/json", body,
				map[string]string{"Idempotency-Key": "crash-" + point})
			if code != http.StatusCreated {
				t.Fatalf("creating the payment: %d %v", code, p)
			}
			id, ref := p["payment_id"].(string), p["reference"].(string)

			// The citizen pays; VNPay sends the IPN; the gateway dies while handling it.
			res, err := set.VNPay.Pay(sandbox.PayAction{PaymentURL: p["payment_url"].(string), Outcome: "success"})
			if err != nil {
				t.Fatalf("sandbox pay: %v", err)
			}
			if res.Callback.Usable {
				t.Fatalf("the first IPN got an answer %s; the gateway should have died before answering", res.Callback.Answer)
			}
			select {
			case <-first.done:
				var ee *exec.ExitError
				if !errors.As(first.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("the gateway ended with %v, want killed by SIGKILL", first.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the gateway did not die at the crash point")
			}
			paymentKey := prefix + ":{payment.settled}:payment:" + ref
			outbox := prefix + ":{payment.settled}"
			state := rc.HGet(context.Background(), paymentKey, "status").Val()
			events := rc.XLen(context.Background(), outbox).Val()
			switch point {
			case "before_settle":
				if state != "pending" || events != 0 {
					t.Fatalf("killed before the script: state %q with %d events, want pending with none", state, events)
				}
			case "after_settle":
				if state != "paid" || events != 1 {
					t.Fatalf("killed after the script: state %q with %d events, want paid with one", state, events)
				}
			}

			// The waits below are generous: the claim alone takes max_idle_time, and in the test
			// command other packages share the CPU.
			const afterRestart = 60 * time.Second
			// Restarted, the gateway answers VNPay's next attempt. An outbox entry a consumer of the
			// killed process had already read is claimed after max_idle_time (15 s here), once the
			// in-progress mark that consumer left (one delivery's worst case + 10 s = 14 s) lapsed.
			second := startGateway(t, bin, cfgPath, env, admin)
			wantCode := map[string]string{"before_settle": vnpay.RspConfirmed, "after_settle": vnpay.RspAlreadyConfirmed}[point]
			apptest.Eventually(t, afterRestart, "VNPay's IPN answered", func() bool {
				tx, _ := set.VNPay.Transaction(ref)
				last := tx.IPNs[len(tx.IPNs)-1]
				return last.Usable
			})
			tx, _ := set.VNPay.Transaction(ref)
			var rep vnpay.IPNReply
			_ = json.Unmarshal(tx.IPNs[len(tx.IPNs)-1].Answer, &rep)
			if rep.RspCode != wantCode {
				t.Fatalf("the IPN after the restart got %s, want %s", rep.RspCode, wantCode)
			}
			t.Logf("%s: VNPay sent the IPN %d times; the last answer was %s", point, len(tx.IPNs), rep.RspCode)

			apptest.Eventually(t, afterRestart, "the one-stop system notified", func() bool {
				return len(uniqueAbout(set, "payment.succeeded", id)) == 1
			})
			apptest.Eventually(t, afterRestart, "the portal step", func() bool { return stepsAbout(set, dossierCode, ref) == 1 })
			time.Sleep(time.Second) // anything sent twice would arrive now
			if n := len(uniqueAbout(set, "payment.succeeded", id)); n != 1 {
				t.Fatalf("%d distinct payment.succeeded notifications, want exactly 1", n)
			}
			if n := attemptsAbout(set, id); n != 1 {
				t.Fatalf("%d webhook deliveries about the payment, want exactly 1", n)
			}
			if n := stepsAbout(set, dossierCode, ref); n != 1 {
				t.Fatalf("%d portal steps for the payment, want 1", n)
			}
			code, got, _ := doJSONAs(t, http.MethodGet, "http://"+api+"/v1/payments/"+id, "crash-client-token", "", "", nil)
			if code != http.StatusOK || got["status"] != "paid" || len(got["history"].([]any)) != 2 {
				t.Fatalf("payment after the crash: %d %v, want paid with one transition", code, got)
			}
			if n := rc.XLen(context.Background(), outbox).Val(); n != 1 {
				t.Fatalf("%d outbox events, want 1", n)
			}
			if n := rc.XLen(context.Background(), prefix+":{deadletter}").Val(); n != 0 {
				t.Fatalf("%d dead letters after the crash, want none", n)
			}
			_ = second.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-second.done:
				if second.err != nil {
					t.Errorf("the restarted gateway stopped with %v", second.err)
				}
			case <-time.After(20 * time.Second):
				t.Error("the restarted gateway did not stop within 20s of SIGTERM")
			}
		})
	}
}

func uniqueAbout(set *sandboxes.Set, typ, id string) []string {
	var out []string
	for _, r := range set.Onestop.Unique(typ) {
		if strings.Contains(string(r.Data), `"payment_id":"`+id+`"`) {
			out = append(out, r.WebhookID)
		}
	}
	return out
}

func attemptsAbout(set *sandboxes.Set, id string) int {
	n := 0
	for _, r := range set.Onestop.Received() {
		if strings.Contains(string(r.Data), `"`+id+`"`) {
			n++
		}
	}
	return n
}

func stepsAbout(set *sandboxes.Set, code, ref string) int {
	rec, ok := set.Portal.Dossier(code)
	if !ok {
		return 0
	}
	n := 0
	for _, s := range rec.Steps {
		if strings.Contains(string(s), ref) {
			n++
		}
	}
	return n
}

func doJSONAs(t *testing.T, method, url, token, contentType, body string, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}
