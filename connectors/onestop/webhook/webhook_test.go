package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/onestop/onestoptest"
	"github.com/egov-vn/gateway/connectors/onestop/webhook"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

func newClient(t *testing.T, url string) *partnerhttp.Client {
	t.Helper()
	c, err := partnerhttp.New(partnerhttp.Config{Partner: "onestop", BaseURL: url, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("partnerhttp.New: %v", err)
	}
	return c
}

func newNotifier(t *testing.T, url string, secrets []string) *webhook.Notifier {
	t.Helper()
	n, err := webhook.New(webhook.Config{URL: url, Secrets: secrets}, newClient(t, url))
	if err != nil {
		t.Fatalf("webhook.New: %v", err)
	}
	return n
}

func TestContract(t *testing.T) {
	t.Parallel()
	onestoptest.RunContract(t, func(t *testing.T, url string, secrets []string) onestop.Notifier {
		t.Helper()
		return newNotifier(t, url, secrets)
	})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      webhook.Config
		wantText []string
	}{
		{name: "valid", cfg: webhook.Config{URL: "https://motcua.example.gov.vn/hooks/gateway", Secrets: []string{onestoptest.OldSecret}}},
		{name: "valid during rotation", cfg: webhook.Config{URL: "http://127.0.0.1:8080/sandbox/onestop/notifications", Secrets: []string{onestoptest.OldSecret, onestoptest.NewSecret}}},
		{name: "empty URL", cfg: webhook.Config{Secrets: []string{onestoptest.OldSecret}}, wantText: []string{"URL is empty"}},
		{name: "relative URL", cfg: webhook.Config{URL: "/hooks", Secrets: []string{onestoptest.OldSecret}}, wantText: []string{"absolute http or https"}},
		{name: "other scheme", cfg: webhook.Config{URL: "ftp://example.gov.vn/hooks", Secrets: []string{onestoptest.OldSecret}}, wantText: []string{"absolute http or https"}},
		{name: "unparsable URL", cfg: webhook.Config{URL: "http://[::1", Secrets: []string{onestoptest.OldSecret}}, wantText: []string{"does not parse"}},
		{name: "no secret", cfg: webhook.Config{URL: "https://example.gov.vn/hooks"}, wantText: []string{"no secret given"}},
		{name: "bad secret", cfg: webhook.Config{URL: "https://example.gov.vn/hooks", Secrets: []string{"plaintext-secret-value-here"}}, wantText: []string{"secret 1", "prefix"}},
		{name: "every problem at once", cfg: webhook.Config{Secrets: []string{onestoptest.OldSecret, "whsec_c2hvcnQ="}}, wantText: []string{"URL is empty", "secret 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.wantText) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an invalid config")
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "plaintext-secret-value-here") {
				t.Errorf("error %q reveals a secret", err)
			}
		})
	}
}

func TestNewRejectsNilClient(t *testing.T) {
	t.Parallel()
	_, err := webhook.New(webhook.Config{URL: "https://example.gov.vn/hooks", Secrets: []string{onestoptest.OldSecret}}, nil)
	if err == nil || !strings.Contains(err.Error(), "client is nil") {
		t.Fatalf("New with a nil client = %v, want an error naming the client", err)
	}
}

// captured is one request as a raw receiver saw it.
type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

// recorder answers every request with status and keeps what it received.
type recorder struct {
	status int
	answer string
	mu     sync.Mutex
	got    []captured
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, captured{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
	rc.mu.Unlock()
	w.WriteHeader(rc.status)
	_, _ = io.WriteString(w, rc.answer)
}

func (rc *recorder) requests() []captured {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]captured(nil), rc.got...)
}

func startRecorder(t *testing.T, status int, answer string) (*recorder, string) {
	t.Helper()
	rc := &recorder{status: status, answer: answer}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv.URL + "/hooks/gateway"
}

// The wire request, checked byte for byte against the specification rather than the sandbox.
func TestWireRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		data     string
		wantBody string
	}{
		{name: "object data", data: `{ "payment_id": "pay_01", "amount": 150000 }`, wantBody: `{"type":"payment.succeeded","data":{"payment_id":"pay_01","amount":150000}}`},
		{name: "characters html would escape", data: `{"note":"a<b>&c"}`, wantBody: `{"type":"payment.succeeded","data":{"note":"a<b>&c"}}`},
		{name: "no data", data: "", wantBody: `{"type":"payment.succeeded","data":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc, url := startRecorder(t, http.StatusOK, "")
			n := newNotifier(t, url, []string{onestoptest.OldSecret, onestoptest.NewSecret})
			before := time.Now().Unix()
			notif := onestop.Notification{ID: "ntf_01JGQ5V8Z6", Type: onestop.TypePaymentSucceeded, Data: []byte(tt.data)}
			if err := n.Notify(t.Context(), notif); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			after := time.Now().Unix()

			got := rc.requests()
			if len(got) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(got))
			}
			req := got[0]
			if req.method != http.MethodPost || req.path != "/hooks/gateway" {
				t.Errorf("request = %s %s, want POST /hooks/gateway", req.method, req.path)
			}
			if ct := req.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if string(req.body) != tt.wantBody {
				t.Errorf("body = %s, want %s", req.body, tt.wantBody)
			}
			if id := req.header.Get("webhook-id"); id != notif.ID {
				t.Errorf("webhook-id = %q, want %q", id, notif.ID)
			}
			ts, err := strconv.ParseInt(req.header.Get("webhook-timestamp"), 10, 64)
			if err != nil || ts < before || ts > after {
				t.Fatalf("webhook-timestamp = %q, want Unix seconds in %d..%d", req.header.Get("webhook-timestamp"), before, after)
			}
			want := specSignature(t, onestoptest.OldSecret, notif.ID, ts, req.body) + " " +
				specSignature(t, onestoptest.NewSecret, notif.ID, ts, req.body)
			if sig := req.header.Get("webhook-signature"); sig != want {
				t.Errorf("webhook-signature = %q, want %q", sig, want)
			}
		})
	}
}

func specSignature(t *testing.T, secret, id string, ts int64, body []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("decoding test secret: %v", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "." + string(body)))
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestInvalidNotificationIsPermanentAndNotSent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		notif    onestop.Notification
		wantText string
	}{
		{name: "no ID", notif: onestop.Notification{Type: onestop.TypePaymentFailed, Data: []byte(`{}`)}, wantText: "ID is empty"},
		{name: "ID with a line break", notif: onestop.Notification{ID: "ntf\r\nX-Injected: 1", Type: onestop.TypePaymentFailed, Data: []byte(`{}`)}, wantText: "header cannot carry"},
		{name: "ID with a space", notif: onestop.Notification{ID: "ntf 1", Type: onestop.TypePaymentFailed, Data: []byte(`{}`)}, wantText: "header cannot carry"},
		{name: "no type", notif: onestop.Notification{ID: "ntf_1", Data: []byte(`{}`)}, wantText: "type is empty"},
		{name: "data not JSON", notif: onestop.Notification{ID: "ntf_1", Type: onestop.TypePaymentFailed, Data: []byte(`{"payer":"Nguyễn Văn An"`)}, wantText: "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc, url := startRecorder(t, http.StatusNoContent, "")
			err := newNotifier(t, url, []string{onestoptest.OldSecret}).Notify(t.Context(), tt.notif)
			if !errors.Is(err, webhook.ErrInvalidNotification) || !failure.IsPermanent(err) {
				t.Fatalf("Notify = %v, want a permanent ErrInvalidNotification", err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), "Nguyễn") {
				t.Errorf("error %q contains the notification's data", err)
			}
			if n := len(rc.requests()); n != 0 {
				t.Errorf("receiver got %d requests for an invalid notification, want 0", n)
			}
		})
	}
}

func TestErrorsLeaveOutTheReceiversAnswer(t *testing.T) {
	t.Parallel()
	_, url := startRecorder(t, http.StatusBadRequest, "unknown dossier for citizen Trần Thị Bình, CCCD 079301009876")
	err := newNotifier(t, url, []string{onestoptest.OldSecret}).Notify(t.Context(),
		onestop.Notification{ID: "ntf_1", Type: onestop.TypePaymentFailed, Data: []byte(`{}`)})
	if err == nil {
		t.Fatal("Notify succeeded on a 400")
	}
	if strings.Contains(err.Error(), "079301009876") || strings.Contains(err.Error(), "Bình") {
		t.Errorf("error %q contains the receiver's answer", err)
	}
	for _, w := range []string{"sending notification ntf_1", "HTTP 400"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		targetHits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(target.Close)
	tests := []struct {
		name   string
		status int
	}{
		{name: "302 would turn the POST into a GET", status: http.StatusFound},
		{name: "307 would repeat the POST elsewhere", status: http.StatusTemporaryRedirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/elsewhere", tt.status)
			}))
			t.Cleanup(srv.Close)
			err := newNotifier(t, srv.URL+"/hooks", []string{onestoptest.OldSecret}).Notify(t.Context(),
				onestop.Notification{ID: "ntf_1", Type: onestop.TypePaymentFailed, Data: []byte(`{}`)})
			var se *failure.StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Fatalf("Notify = %v, want the %d answer as a status error", err, tt.status)
			}
			if got := failure.Classify(err); got != failure.Transient {
				t.Errorf("failure.Classify = %v, want transient", got)
			}
			if n := targetHits.Load(); n != 0 {
				t.Errorf("redirect target got %d requests, want 0", n)
			}
		})
	}
}
