package sandbox_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/egov-vn/gateway/internal/config"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/onestop/sandbox"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/internal/signing/webhooks"
)

// otherSecret is whsec_ + base64("an-unrelated-receiver-secret!").
const otherSecret = "whsec_YW4tdW5yZWxhdGVkLXJlY2VpdmVyLXNlY3JldCE="

const mount = "/sandbox/onestop"

func start(t *testing.T, sb *sandbox.Sandbox) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(mount+"/", http.StripPrefix(mount, sb.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + mount
}

// webhookReq is one webhook to send; zero fields take valid defaults.
type webhookReq struct {
	id          string
	typ         string
	body        string
	secret      string
	timestamp   time.Time
	contentType string
	unsigned    bool
}

func post(t *testing.T, base string, w webhookReq) int {
	t.Helper()
	status, err := send(t, base, w)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// send posts one webhook; it does not stop the test, so goroutines may call it.
func send(t *testing.T, base string, w webhookReq) (int, error) {
	t.Helper()
	if w.id == "" {
		w.id = "ntf_1"
	}
	if w.typ == "" {
		w.typ = "payment.succeeded"
	}
	if w.body == "" {
		w.body = fmt.Sprintf(`{"type":%q,"data":{"payment_id":"pay_01","amount":150000}}`, w.typ)
	}
	if w.secret == "" {
		w.secret = config.DemoOnestopSecret
	}
	if w.timestamp.IsZero() {
		w.timestamp = time.Now()
	}
	if w.contentType == "" {
		w.contentType = "application/json"
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/notifications", strings.NewReader(w.body))
	if err != nil {
		return 0, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", w.contentType)
	if !w.unsigned {
		signer, err := webhooks.NewSigner(w.secret)
		if err != nil {
			return 0, fmt.Errorf("building signer: %w", err)
		}
		h, err := signer.Headers(w.id, w.timestamp, []byte(w.body))
		if err != nil {
			return 0, fmt.Errorf("signing: %w", err)
		}
		for k, v := range h {
			req.Header[k] = v
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("posting webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	return resp.StatusCode, b
}

// listed is the wire shape of GET /notifications, decoded loosely so field names are checked.
type listed struct {
	Notifications []map[string]any `json:"notifications"`
}

func list(t *testing.T, url string) listed {
	t.Helper()
	status, body := do(t, http.MethodGet, url, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d", url, status)
	}
	var l listed
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("decoding listing %s: %v", body, err)
	}
	if l.Notifications == nil {
		t.Fatalf("listing %s has no notifications array", body)
	}
	return l
}

func TestReceive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		secrets    []string
		req        webhookReq
		wantStatus int
		wantValid  bool
		wantReason string
	}{
		{name: "valid", req: webhookReq{}, wantStatus: http.StatusNoContent, wantValid: true},
		{name: "content type with charset", req: webhookReq{contentType: "application/json; charset=utf-8"}, wantStatus: http.StatusNoContent, wantValid: true},
		{name: "signed with another secret", req: webhookReq{secret: otherSecret}, wantStatus: http.StatusUnauthorized, wantReason: "no matching webhook signature"},
		{name: "unsigned", req: webhookReq{unsigned: true}, wantStatus: http.StatusUnauthorized, wantReason: "missing webhook headers"},
		{name: "replayed", req: webhookReq{timestamp: time.Now().Add(-10 * time.Minute)}, wantStatus: http.StatusUnauthorized, wantReason: "too old"},
		{name: "not JSON content type", req: webhookReq{contentType: "text/plain"}, wantStatus: http.StatusUnsupportedMediaType, wantValid: true, wantReason: "content type"},
		{name: "body not JSON", req: webhookReq{body: "type=payment.succeeded"}, wantStatus: http.StatusBadRequest, wantValid: true, wantReason: "not a JSON object"},
		{name: "body without type", req: webhookReq{body: `{"data":{}}`}, wantStatus: http.StatusBadRequest, wantValid: true, wantReason: "no type"},
		{name: "body without data", req: webhookReq{body: `{"type":"payment.failed"}`}, wantStatus: http.StatusBadRequest, wantValid: true, wantReason: "no data"},
		{name: "sandbox secret invalid", secrets: []string{"not-a-whsec-secret"}, req: webhookReq{}, wantStatus: http.StatusUnauthorized, wantReason: "misconfigured"},
		{name: "sandbox without secret", secrets: []string{}, req: webhookReq{}, wantStatus: http.StatusUnauthorized, wantReason: "no secret given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{config.DemoOnestopSecret}
			}
			sb := sandbox.New(secrets...)
			base := start(t, sb)
			if got := post(t, base, tt.req); got != tt.wantStatus {
				t.Fatalf("POST status = %d, want %d", got, tt.wantStatus)
			}
			got := sb.Received()
			if len(got) != 1 {
				t.Fatalf("recorded %d attempts, want 1", len(got))
			}
			rec := got[0]
			if rec.SignatureValid != tt.wantValid {
				t.Errorf("signature_valid = %v, want %v", rec.SignatureValid, tt.wantValid)
			}
			if rec.Status != tt.wantStatus {
				t.Errorf("recorded status = %d, want %d", rec.Status, tt.wantStatus)
			}
			if tt.wantReason == "" && rec.Reason != "" {
				t.Errorf("reason = %q, want none", rec.Reason)
			}
			if !strings.Contains(rec.Reason, tt.wantReason) {
				t.Errorf("reason = %q, want it to mention %q", rec.Reason, tt.wantReason)
			}
			if strings.Contains(rec.Reason, "not-a-whsec-secret") {
				t.Errorf("reason %q reveals the sandbox secret", rec.Reason)
			}
			wantUnique := 0
			if tt.wantReason == "" {
				wantUnique = 1
			}
			if n := len(sb.Unique("")); n != wantUnique {
				t.Errorf("Unique = %d records, want %d", n, wantUnique)
			}
		})
	}
}

func TestRefusedWebhookStillShowsWhatItSaid(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(config.DemoOnestopSecret)
	base := start(t, sb)
	post(t, base, webhookReq{id: "ntf_forged", typ: "payment.succeeded", secret: otherSecret})
	rec := sb.Received()[0]
	if rec.WebhookID != "ntf_forged" || rec.Type != "payment.succeeded" || !bytes.Contains(rec.Data, []byte("pay_01")) {
		t.Fatalf("record = %+v, want the refused webhook's id, type and data", rec)
	}
}

func TestListing(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(config.DemoOnestopSecret)
	base := start(t, sb)
	post(t, base, webhookReq{id: "ntf_1", typ: "payment.succeeded"})
	post(t, base, webhookReq{id: "ntf_1", typ: "payment.succeeded"})
	post(t, base, webhookReq{id: "ntf_2", typ: "delivery.status_changed"})
	post(t, base, webhookReq{id: "ntf_3", typ: "payment.succeeded", secret: otherSecret})

	all := list(t, base+"/notifications")
	if len(all.Notifications) != 4 {
		t.Fatalf("listing has %d notifications, want 4", len(all.Notifications))
	}
	first := all.Notifications[0]
	for _, field := range []string{"webhook_id", "type", "data", "received_at", "signature_valid", "duplicate"} {
		if _, ok := first[field]; !ok {
			t.Errorf("listed notification lacks %q: %v", field, first)
		}
	}
	if _, ok := first["reason"]; ok {
		t.Errorf("accepted notification has a reason: %v", first)
	}
	if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(first["received_at"])); err != nil {
		t.Errorf("received_at %v is not RFC 3339: %v", first["received_at"], err)
	}
	wantDup := []bool{false, true, false, false}
	wantValid := []bool{true, true, true, false}
	for i, n := range all.Notifications {
		if n["duplicate"] != wantDup[i] {
			t.Errorf("notification %d: duplicate = %v, want %v", i+1, n["duplicate"], wantDup[i])
		}
		if n["signature_valid"] != wantValid[i] {
			t.Errorf("notification %d: signature_valid = %v, want %v", i+1, n["signature_valid"], wantValid[i])
		}
	}
	if r, _ := all.Notifications[3]["reason"].(string); r == "" {
		t.Errorf("refused notification has no reason: %v", all.Notifications[3])
	}

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{name: "payments", query: "?type=payment.succeeded", want: []string{"ntf_1", "ntf_1", "ntf_3"}},
		{name: "deliveries", query: "?type=delivery.status_changed", want: []string{"ntf_2"}},
		{name: "unknown type", query: "?type=dossier.sync_failed", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ids []string
			for _, n := range list(t, base+"/notifications"+tt.query).Notifications {
				ids = append(ids, fmt.Sprint(n["webhook_id"]))
			}
			if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
				t.Errorf("listed ids = %v, want %v", ids, tt.want)
			}
		})
	}

	if u := sb.Unique("payment.succeeded"); len(u) != 1 || u[0].WebhookID != "ntf_1" {
		t.Errorf("Unique(payment.succeeded) = %+v, want ntf_1 once", u)
	}
}

func TestForgedWebhookDoesNotMakeTheGenuineOneADuplicate(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(config.DemoOnestopSecret)
	base := start(t, sb)
	post(t, base, webhookReq{id: "ntf_1", secret: otherSecret})
	post(t, base, webhookReq{id: "ntf_1"})
	got := sb.Received()
	if len(got) != 2 || got[1].Duplicate || !got[1].SignatureValid {
		t.Fatalf("records = %+v, want the genuine webhook accepted and not a duplicate", got)
	}
}

func TestDeleteClearsRecordsAndIDs(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(config.DemoOnestopSecret)
	base := start(t, sb)
	sb.Faults().Set(faults.Settings{LatencyMS: 1})
	post(t, base, webhookReq{id: "ntf_1"})
	if status, _ := do(t, http.MethodDelete, base+"/notifications", ""); status != http.StatusNoContent {
		t.Fatalf("DELETE status = %d, want 204", status)
	}
	if n := len(list(t, base+"/notifications").Notifications); n != 0 {
		t.Fatalf("listing after DELETE has %d notifications, want 0", n)
	}
	post(t, base, webhookReq{id: "ntf_1"})
	if got := sb.Received(); len(got) != 1 || got[0].Duplicate {
		t.Errorf("records after DELETE = %+v, want ntf_1 received afresh", got)
	}
	if sb.Faults().Get().LatencyMS != 1 {
		t.Errorf("DELETE /notifications cleared the faults")
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(config.DemoOnestopSecret)
	base := start(t, sb)
	post(t, base, webhookReq{id: "ntf_1"})
	sb.Faults().Set(faults.Settings{ErrorRate: 1})
	sb.Reset()
	if n := len(sb.Received()); n != 0 {
		t.Errorf("Received after Reset = %d records, want 0", n)
	}
	if sb.Faults().Get() != (faults.Settings{}) {
		t.Errorf("faults after Reset = %+v, want none", sb.Faults().Get())
	}
	if status := post(t, base, webhookReq{id: "ntf_1"}); status != http.StatusNoContent {
		t.Errorf("POST after Reset = %d, want 204", status)
	}
	if got := sb.Received(); len(got) != 1 || got[0].Duplicate {
		t.Errorf("records after Reset = %+v, want ntf_1 received afresh", got)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(config.DemoOnestopSecret)
	base := start(t, sb)
	status, body := do(t, http.MethodPut, base+"/faults", `{"error_rate":1,"status":502}`)
	if status != http.StatusOK {
		t.Fatalf("PUT /faults = %d %s", status, body)
	}
	if status, body := do(t, http.MethodGet, base+"/faults", ""); status != http.StatusOK || !strings.Contains(string(body), `"status":502`) {
		t.Fatalf("GET /faults = %d %s, want the settings just put", status, body)
	}
	if got := post(t, base, webhookReq{}); got != http.StatusBadGateway {
		t.Errorf("POST with faults = %d, want 502", got)
	}
	if n := len(sb.Received()); n != 0 {
		t.Errorf("a webhook refused by a fault was recorded (%d records)", n)
	}
	// Faults apply to the webhook endpoint only: integrators can still look and clear.
	list(t, base+"/notifications")
	if status, _ := do(t, http.MethodDelete, base+"/notifications", ""); status != http.StatusNoContent {
		t.Errorf("DELETE with faults = %d, want 204", status)
	}
	if status, _ := do(t, http.MethodPut, base+"/faults", `{"error_rate":2}`); status != http.StatusBadRequest {
		t.Errorf("PUT invalid faults = %d, want 400", status)
	}
	if status, _ := do(t, http.MethodPut, base+"/faults", `{}`); status != http.StatusOK {
		t.Fatalf("clearing faults = %d", status)
	}
	if got := post(t, base, webhookReq{}); got != http.StatusNoContent {
		t.Errorf("POST after clearing faults = %d, want 204", got)
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	base := start(t, sandbox.New(config.DemoOnestopSecret))
	tests := []struct {
		name   string
		method string
		path   string
		want   int
	}{
		{name: "PUT notifications", method: http.MethodPut, path: "/notifications", want: http.StatusMethodNotAllowed},
		{name: "PATCH notifications", method: http.MethodPatch, path: "/notifications", want: http.StatusMethodNotAllowed},
		{name: "DELETE faults", method: http.MethodDelete, path: "/faults", want: http.StatusMethodNotAllowed},
		{name: "unknown path", method: http.MethodGet, path: "/orders", want: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if status, _ := do(t, tt.method, base+tt.path, ""); status != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, status, tt.want)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(config.DemoOnestopSecret)
	base := start(t, sb)
	big := `{"type":"payment.succeeded","data":"` + strings.Repeat("x", sandbox.MaxBodyBytes) + `"}`
	if got := post(t, base, webhookReq{body: big}); got != http.StatusRequestEntityTooLarge {
		t.Errorf("POST over the limit = %d, want 413", got)
	}
	if n := len(sb.Received()); n != 0 {
		t.Errorf("oversized webhook was recorded (%d records)", n)
	}
}

func TestRotatedSecrets(t *testing.T) {
	t.Parallel()
	newSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("rotated-onestop-webhook-secret-2025"))
	sb := sandbox.New(config.DemoOnestopSecret, newSecret)
	base := start(t, sb)
	for i, secret := range []string{config.DemoOnestopSecret, newSecret} {
		if got := post(t, base, webhookReq{id: "ntf_" + strconv.Itoa(i), secret: secret}); got != http.StatusNoContent {
			t.Errorf("webhook signed with secret %d = %d, want 204", i+1, got)
		}
	}
}

func TestConcurrentReceivers(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(config.DemoOnestopSecret)
	base := start(t, sb)
	const senders, perSender = 8, 10
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := range perSender {
				// Every sender sends the same ids: each id must be accepted once, then seen as a duplicate.
				if status, err := send(t, base, webhookReq{id: "ntf_" + strconv.Itoa(i)}); err != nil || status != http.StatusNoContent {
					t.Errorf("POST = %d, %v; want 204", status, err)
				}
				_ = sb.Unique("")
			}
		})
	}
	wg.Wait()
	if n := len(sb.Received()); n != senders*perSender {
		t.Fatalf("recorded %d webhooks, want %d", n, senders*perSender)
	}
	if n := len(sb.Unique("")); n != perSender {
		t.Errorf("unique webhooks = %d, want %d", n, perSender)
	}
}
