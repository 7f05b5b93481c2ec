package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/onestop/sandbox"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/signing/webhooks"
)

// Secrets of the fuzzer: "whsec_" + base64 of 27 and 33 bytes.
const (
	fuzzOldSecret   = "whsec_ZGVtby1vbmVzdG9wLXdlYmhvb2stc2VjcmV0"
	fuzzNewSecret   = "whsec_cm90YXRlZC1vbmVzdG9wLXdlYmhvb2stc2VjcmV0IQ=="
	fuzzOtherSecret = "whsec_YW4tdW5yZWxhdGVkLXJlY2VpdmVyLXNlY3JldCE="
)

// FuzzWebhookRoundTrip encodes arbitrary notifications as the notifier does, signs them with an
// old and a new secret (a rotation) and hands them to the sandbox receiver. A notification is
// refused, permanently, exactly when it has no ID, an ID a header cannot carry, no type or data
// that is not JSON; every other one is accepted by a receiver that knows either secret, with the
// type and data it was sent, and refused (401) by one that knows neither, or when one byte of the
// body changes. Seeds live in testdata/fuzz/FuzzWebhookRoundTrip.
func FuzzWebhookRoundTrip(f *testing.F) {
	f.Add("msg_d973c126e3f11d57e6975b5d", "payment.succeeded", []byte(`{"payment_id":"pay_01M8C0VRFXE3SZH9YMER2QTFCA","amount":150000}`))
	f.Add("msg_1", "dossier.synced", []byte(nil))
	f.Add("id with space", "t", []byte(`{}`))
	f.Add("msg\r\nX-Injected: 1", "t", []byte(`{}`))
	f.Add("msg_2", "", []byte(`{"a":1}`))
	f.Add("msg_3", "t", []byte(`{"a":`))
	f.Add("msg_4", "t<&>", []byte(`"<script>&amp;"`))
	signer, err := webhooks.NewSigner(fuzzOldSecret, fuzzNewSecret)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, typ string, data []byte) {
		body, err := encode(onestop.Notification{ID: id, Type: typ, Data: data})
		invalid := id == "" || !validHeaderValue(id) || typ == "" || (len(data) > 0 && !json.Valid(data))
		if invalid {
			if err == nil || !errors.Is(err, ErrInvalidNotification) || !failure.IsPermanent(err) {
				t.Fatalf("an invalid notification was not refused permanently: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("a valid notification was refused: %v", err)
		}
		h, err := signer.Headers(id, time.Now(), body)
		if err != nil {
			t.Fatalf("signing: %v", err)
		}
		// JSON carries invalid UTF-8 as U+FFFD: the type arrives as encoding/json writes it.
		var wantType string
		b, _ := json.Marshal(typ)
		_ = json.Unmarshal(b, &wantType)
		for _, secret := range []string{fuzzOldSecret, fuzzNewSecret} {
			rec := deliver(t, sandbox.New(secret), h, body)
			if rec.Status != http.StatusNoContent || !rec.SignatureValid || rec.Type != wantType {
				t.Fatalf("receiver with one of the secrets: %+v", rec)
			}
			want := []byte("null")
			if len(data) > 0 {
				want = data
			}
			if !jsonEqual(rec.Data, want) {
				t.Fatalf("data changed on the way: %s, sent %s", rec.Data, want)
			}
		}
		if rec := deliver(t, sandbox.New(fuzzOtherSecret), h, body); rec.Status != http.StatusUnauthorized || rec.SignatureValid {
			t.Fatalf("a receiver with another secret accepted: %+v", rec)
		}
		tampered := append(bytes.Clone(body), ' ')
		if rec := deliver(t, sandbox.New(fuzzNewSecret), h, tampered); rec.Status != http.StatusUnauthorized {
			t.Fatalf("a changed body was accepted: %+v", rec)
		}
	})
}

func deliver(t *testing.T, s *sandbox.Sandbox, h http.Header, body []byte) sandbox.Record {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/notifications", bytes.NewReader(body))
	for k, v := range h {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	got := s.Received()
	if len(got) != 1 || got[0].Status != w.Code {
		t.Fatalf("the receiver recorded %d attempts for one, answer %d", len(got), w.Code)
	}
	return got[0]
}

func jsonEqual(a, b []byte) bool {
	var x, y bytes.Buffer
	if json.Compact(&x, a) != nil || json.Compact(&y, b) != nil {
		return false
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
}
