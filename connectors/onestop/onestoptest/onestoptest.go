// Package onestoptest is the contract every onestop.Notifier dialect passes: RunContract drives
// a dialect against the one-stop sandbox over real HTTP and checks delivery, signatures,
// deduplication by webhook-id, secret rotation and how failures are classified by the shared
// failure classifier.
package onestoptest

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/egov-vn/gateway/internal/config"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/onestop/sandbox"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/faults"
)

// Secrets used by the suite (`whsec_` + base64 of at least 24 bytes).
const (
	// OldSecret is the dev profile's documented secret, whsec_ + base64("demo-onestop-webhook-secret").
	OldSecret = config.DemoOnestopSecret
	// NewSecret is whsec_ + base64("rotated-onestop-webhook-secret-2025").
	NewSecret = "whsec_cm90YXRlZC1vbmVzdG9wLXdlYmhvb2stc2VjcmV0LTIwMjU="
	// OtherSecret is whsec_ + base64("an-unrelated-receiver-secret!").
	OtherSecret = "whsec_YW4tdW5yZWxhdGVkLXJlY2VpdmVyLXNlY3JldCE="
)

// mountPath is where the suite mounts the sandbox, as the gateway's dev profile does.
const mountPath = "/sandbox/onestop"

// personalData is carried in every notification of the suite; no error may contain it.
const personalData = "Nguyễn Văn An 079201001234"

// NewNotifier builds the dialect under test, sending to url (the receiver's notifications
// endpoint) and signing with secrets. It should use a fresh partner client, so one test's
// failures do not open another's breaker.
type NewNotifier func(t *testing.T, url string, secrets []string) onestop.Notifier

// RunContract runs the suite. Each case starts its own sandbox and server and runs in parallel.
func RunContract(t *testing.T, newNotifier NewNotifier) {
	t.Helper()

	t.Run("delivered with a valid signature", func(t *testing.T) {
		t.Parallel()
		sb, url := startSandbox(t, OldSecret)
		n := newNotifier(t, url, []string{OldSecret})
		notif := notification("ntf_delivered", onestop.TypePaymentSucceeded)

		before := time.Now().Add(-time.Second).Unix()
		if err := n.Notify(t.Context(), notif); err != nil {
			t.Fatalf("Notify: %v", err)
		}
		after := time.Now().Add(time.Second).Unix()

		got := sb.Received()
		if len(got) != 1 {
			t.Fatalf("sandbox received %d webhooks, want 1: %+v", len(got), got)
		}
		rec := got[0]
		if !rec.SignatureValid || rec.Reason != "" || rec.Status != http.StatusNoContent {
			t.Fatalf("webhook refused: valid=%v reason=%q status=%d", rec.SignatureValid, rec.Reason, rec.Status)
		}
		if rec.WebhookID != notif.ID {
			t.Errorf("webhook-id = %q, want the notification ID %q", rec.WebhookID, notif.ID)
		}
		if rec.Type != notif.Type {
			t.Errorf("type = %q, want %q", rec.Type, notif.Type)
		}
		assertSameJSON(t, rec.Data, notif.Data)
		ts, err := strconv.ParseInt(rec.Timestamp, 10, 64)
		if err != nil || ts < before || ts > after {
			t.Errorf("webhook-timestamp = %q, want the time of the attempt (%d..%d)", rec.Timestamp, before, after)
		}
		if rec.Duplicate {
			t.Errorf("first delivery marked duplicate")
		}
	})

	t.Run("same ID twice is a duplicate at the receiver", func(t *testing.T) {
		t.Parallel()
		sb, url := startSandbox(t, OldSecret)
		n := newNotifier(t, url, []string{OldSecret})
		notif := notification("ntf_twice", onestop.TypeDeliveryStatusChanged)
		for i := range 2 {
			if err := n.Notify(t.Context(), notif); err != nil {
				t.Fatalf("Notify attempt %d: %v", i+1, err)
			}
		}
		other := notification("ntf_other", onestop.TypeDeliveryStatusChanged)
		if err := n.Notify(t.Context(), other); err != nil {
			t.Fatalf("Notify other: %v", err)
		}

		got := sb.Received()
		if len(got) != 3 {
			t.Fatalf("sandbox received %d webhooks, want 3", len(got))
		}
		wantDup := []bool{false, true, false}
		for i, rec := range got {
			if !rec.SignatureValid {
				t.Errorf("webhook %d: signature invalid: %s", i+1, rec.Reason)
			}
			if rec.Duplicate != wantDup[i] {
				t.Errorf("webhook %d (%s): duplicate = %v, want %v", i+1, rec.WebhookID, rec.Duplicate, wantDup[i])
			}
		}
		if got[0].WebhookID != got[1].WebhookID {
			t.Errorf("retried webhook-id changed: %q then %q", got[0].WebhookID, got[1].WebhookID)
		}
		if u := sb.Unique(onestop.TypeDeliveryStatusChanged); len(u) != 2 {
			t.Errorf("unique webhooks = %d, want 2", len(u))
		}
	})

	t.Run("receiver with another secret rejects", func(t *testing.T) {
		t.Parallel()
		sb, url := startSandbox(t, OtherSecret)
		n := newNotifier(t, url, []string{OldSecret})
		err := n.Notify(t.Context(), notification("ntf_wrong_secret", onestop.TypePaymentFailed))
		if err == nil {
			t.Fatal("Notify succeeded against a receiver with another secret")
		}
		// The shared classifier keeps a 401 transient: a credential mismatch is for ops to fix,
		// and the notification must survive until they do.
		assertFailure(t, err, failure.Transient, http.StatusUnauthorized)
		got := sb.Received()
		if len(got) != 1 || got[0].SignatureValid || got[0].Reason == "" {
			t.Fatalf("sandbox records = %+v, want one refused attempt with a reason", got)
		}
	})

	t.Run("secret rotation", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name     string
			sender   []string
			receiver []string
		}{
			{name: "receiver knows only the new secret", sender: []string{OldSecret, NewSecret}, receiver: []string{NewSecret}},
			{name: "receiver knows only the old secret", sender: []string{OldSecret, NewSecret}, receiver: []string{OldSecret}},
			{name: "sender moved on, receiver accepts both", sender: []string{NewSecret}, receiver: []string{OldSecret, NewSecret}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				sb, url := startSandbox(t, tt.receiver...)
				n := newNotifier(t, url, tt.sender)
				if err := n.Notify(t.Context(), notification("ntf_rotation", onestop.TypePaymentExpired)); err != nil {
					t.Fatalf("Notify: %v", err)
				}
				if u := sb.Unique(onestop.TypePaymentExpired); len(u) != 1 || !u[0].SignatureValid {
					t.Fatalf("accepted webhooks = %+v, want one with a valid signature", sb.Received())
				}
			})
		}
	})

	t.Run("receiver answers", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name   string
			status int
			want   failure.Kind
		}{
			{name: "500 is transient", status: http.StatusInternalServerError, want: failure.Transient},
			{name: "502 is transient", status: http.StatusBadGateway, want: failure.Transient},
			{name: "503 is transient", status: http.StatusServiceUnavailable, want: failure.Transient},
			{name: "429 is transient", status: http.StatusTooManyRequests, want: failure.Transient},
			{name: "410 Gone is permanent", status: http.StatusGone, want: failure.Permanent},
			{name: "400 is permanent", status: http.StatusBadRequest, want: failure.Permanent},
			{name: "422 is permanent", status: http.StatusUnprocessableEntity, want: failure.Permanent},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				sb, url := startSandbox(t, OldSecret)
				sb.Faults().Set(faults.Settings{ErrorRate: 1, Status: tt.status})
				n := newNotifier(t, url, []string{OldSecret})
				err := n.Notify(t.Context(), notification("ntf_status", onestop.TypeDossierSyncFailed))
				if err == nil {
					t.Fatalf("Notify succeeded against a receiver answering %d", tt.status)
				}
				assertFailure(t, err, tt.want, tt.status)
			})
		}
	})

	t.Run("receiver drops the connection", func(t *testing.T) {
		t.Parallel()
		sb, url := startSandbox(t, OldSecret)
		sb.Faults().Set(faults.Settings{Down: true})
		n := newNotifier(t, url, []string{OldSecret})
		err := n.Notify(t.Context(), notification("ntf_down", onestop.TypePaymentSucceeded))
		if err == nil {
			t.Fatal("Notify succeeded against a receiver that is down")
		}
		assertFailure(t, err, failure.Transient, 0)
	})

	t.Run("receiver not listening", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL + mountPath + "/notifications"
		srv.Close()
		n := newNotifier(t, url, []string{OldSecret})
		err := n.Notify(t.Context(), notification("ntf_refused", onestop.TypePaymentSucceeded))
		if err == nil {
			t.Fatal("Notify succeeded with nothing listening")
		}
		assertFailure(t, err, failure.Transient, 0)
	})

	t.Run("cancelled context is a shutdown", func(t *testing.T) {
		t.Parallel()
		sb, url := startSandbox(t, OldSecret)
		n := newNotifier(t, url, []string{OldSecret})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := n.Notify(ctx, notification("ntf_cancelled", onestop.TypePaymentSucceeded))
		if got := failure.Classify(err); err == nil || got != failure.Shutdown {
			t.Fatalf("Notify with a cancelled context = %v (%v), want a shutdown error", err, got)
		}
		if n := len(sb.Received()); n != 0 {
			t.Errorf("sandbox received %d webhooks after cancellation, want 0", n)
		}
	})
}

// startSandbox serves a fresh sandbox knowing secrets under the dev profile's mount path and
// returns it with its notifications URL.
func startSandbox(t *testing.T, secrets ...string) (*sandbox.Sandbox, string) {
	t.Helper()
	sb := sandbox.New(secrets...)
	mux := http.NewServeMux()
	mux.Handle(mountPath+"/", http.StripPrefix(mountPath, sb.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return sb, srv.URL + mountPath + "/notifications"
}

// notification builds a notification whose data carries personal data.
func notification(id, typ string) onestop.Notification {
	data, _ := json.Marshal(map[string]any{
		"dossier_code": "000.00.01.H12-250101-0001",
		"payer":        personalData,
		"amount":       150000,
	})
	return onestop.Notification{ID: id, Type: typ, At: time.Now(), Data: data}
}

// assertFailure checks the classification of err, its HTTP status when status is not zero, and
// that it does not leak the notification's data.
func assertFailure(t *testing.T, err error, want failure.Kind, status int) {
	t.Helper()
	if got := failure.Classify(err); got != want {
		t.Errorf("failure.Classify(%v) = %v, want %v", err, got, want)
	}
	if status != 0 {
		var se *failure.StatusError
		if !errors.As(err, &se) || se.StatusCode != status {
			t.Errorf("error %v does not carry HTTP status %d", err, status)
		}
	}
	if strings.Contains(err.Error(), "079201001234") || strings.Contains(err.Error(), "Nguyễn") {
		t.Errorf("error %q contains the notification's data", err)
	}
}

func assertSameJSON(t *testing.T, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("received data is not JSON: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("sent data is not JSON: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("data = %s, want %s", gb, wb)
	}
}
