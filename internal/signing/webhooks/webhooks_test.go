package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/signing/webhooks"
)

// Pinned vectors. The expected signatures are literals: TestPinnedVectors recomputes them from
// the specification with crypto/hmac and signs them with the package, so the test fails when
// either the package or the literal drifts.
const (
	// devSecret is the documented dev-profile secret (api.md): whsec_ + base64("demo-onestop-webhook-secret").
	devSecret = "whsec_ZGVtby1vbmVzdG9wLXdlYmhvb2stc2VjcmV0"
	// rotatedSecret is whsec_ + base64("rotated-onestop-webhook-secret-2025").
	rotatedSecret = "whsec_cm90YXRlZC1vbmVzdG9wLXdlYmhvb2stc2VjcmV0LTIwMjU="
	// otherSecret is whsec_ + base64("an-unrelated-receiver-secret!").
	otherSecret = "whsec_YW4tdW5yZWxhdGVkLXJlY2VpdmVyLXNlY3JldCE="

	vectorID        = "msg_01JGQ5V8Z6X4N2M3K9T7R5P1AB"
	vectorTimestamp = 1735689600 // 2025-01-01T00:00:00Z
	vectorBody      = `{"type":"payment.succeeded","data":{"payment_id":"pay_01","amount":150000}}`

	devSignature     = "v1,nuY4LbaHaasVrK7T5fZTAMjPlC4a/5KE+9UEeKBvVCM="
	rotatedSignature = "v1,InNuGBbPgtGZCPqhvruEZGhkFb3wP2Cpra6A7VPxSTI="

	// The example published with the specification and its reference implementations.
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// specSign computes a v1 signature straight from the specification, without the package.
func specSign(t testing.TB, secret, id string, ts int64, body string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("decoding test secret: %v", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func newSigner(t *testing.T, secrets ...string) *webhooks.Signer {
	t.Helper()
	s, err := webhooks.NewSigner(secrets...)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return s
}

func newVerifier(t *testing.T, now time.Time, secrets ...string) *webhooks.Verifier {
	t.Helper()
	v, err := webhooks.NewVerifier(webhooks.VerifierConfig{Secrets: secrets, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestDevSecretIsDocumentedValue(t *testing.T) {
	t.Parallel()
	want := "whsec_" + base64.StdEncoding.EncodeToString([]byte("demo-onestop-webhook-secret"))
	if devSecret != want {
		t.Fatalf("devSecret = %q, want %q", devSecret, want)
	}
}

func TestPinnedVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secrets []string
		id      string
		ts      int64
		body    string
		want    string
	}{
		{name: "dev secret", secrets: []string{devSecret}, id: vectorID, ts: vectorTimestamp, body: vectorBody, want: devSignature},
		{name: "rotated secret", secrets: []string{rotatedSecret}, id: vectorID, ts: vectorTimestamp, body: vectorBody, want: rotatedSignature},
		{name: "old and new secret", secrets: []string{devSecret, rotatedSecret}, id: vectorID, ts: vectorTimestamp, body: vectorBody, want: devSignature + " " + rotatedSignature},
		{name: "specification example", secrets: []string{specSecret}, id: specID, ts: specTimestamp, body: specBody, want: specSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var independent []string
			for _, s := range tt.secrets {
				independent = append(independent, specSign(t, s, tt.id, tt.ts, tt.body))
			}
			if got := strings.Join(independent, " "); got != tt.want {
				t.Fatalf("signature computed from the specification = %q, pinned %q", got, tt.want)
			}
			got, err := newSigner(t, tt.secrets...).Sign(tt.id, time.Unix(tt.ts, 0), []byte(tt.body))
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Sign = %q, pinned %q", got, tt.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	h, err := newSigner(t, devSecret).Headers(vectorID, time.Unix(vectorTimestamp, 999_000_000), []byte(vectorBody))
	if err != nil {
		t.Fatalf("Headers: %v", err)
	}
	if got := h.Get("webhook-id"); got != vectorID {
		t.Errorf("webhook-id = %q, want %q", got, vectorID)
	}
	if got := h.Get("webhook-timestamp"); got != "1735689600" {
		t.Errorf("webhook-timestamp = %q, want 1735689600 (whole seconds)", got)
	}
	if got := h.Get("webhook-signature"); got != devSignature {
		t.Errorf("webhook-signature = %q, want %q", got, devSignature)
	}
}

func TestInvalidSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		secrets  []string
		wantText []string
	}{
		{name: "none", secrets: nil, wantText: []string{"no secret given"}},
		{name: "missing prefix", secrets: []string{"ZGVtby1vbmVzdG9wLXdlYmhvb2stc2VjcmV0"}, wantText: []string{"secret 1", "prefix"}},
		{name: "not base64", secrets: []string{"whsec_not base64!"}, wantText: []string{"secret 1", "base64"}},
		{name: "too short", secrets: []string{"whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))}, wantText: []string{"secret 1", "5 bytes"}},
		{name: "empty key", secrets: []string{"whsec_"}, wantText: []string{"secret 1", "0 bytes"}},
		{name: "every bad one reported", secrets: []string{devSecret, "nope", "whsec_%%%"}, wantText: []string{"secret 2", "secret 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, serr := webhooks.NewSigner(tt.secrets...)
			_, verr := webhooks.NewVerifier(webhooks.VerifierConfig{Secrets: tt.secrets})
			for _, err := range []error{serr, verr} {
				if !errors.Is(err, webhooks.ErrInvalidSecret) {
					t.Fatalf("error = %v, want ErrInvalidSecret", err)
				}
				for _, w := range tt.wantText {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				for _, s := range tt.secrets {
					if len(s) > len("whsec_") && strings.Contains(err.Error(), strings.TrimPrefix(s, "whsec_")) {
						t.Errorf("error %q reveals a secret", err)
					}
				}
			}
		})
	}
}

func TestNegativeTolerance(t *testing.T) {
	t.Parallel()
	_, err := webhooks.NewVerifier(webhooks.VerifierConfig{Secrets: []string{devSecret}, Tolerance: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "tolerance") {
		t.Fatalf("error = %v, want a tolerance error", err)
	}
}

func vectorHeader(sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp))
	h.Set("webhook-signature", sig)
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	at := time.Unix(vectorTimestamp, 0)
	tests := []struct {
		name    string
		secrets []string
		now     time.Time
		header  func() http.Header
		body    string
		wantErr error
	}{
		{name: "valid", secrets: []string{devSecret}, now: at, header: func() http.Header { return vectorHeader(devSignature) }, body: vectorBody},
		{name: "receiver knows the old secret, sender signs old and new", secrets: []string{devSecret}, now: at,
			header: func() http.Header { return vectorHeader(devSignature + " " + rotatedSignature) }, body: vectorBody},
		{name: "receiver knows the new secret, sender signs old and new", secrets: []string{rotatedSecret}, now: at,
			header: func() http.Header { return vectorHeader(devSignature + " " + rotatedSignature) }, body: vectorBody},
		{name: "receiver knows old and new, sender signs new", secrets: []string{devSecret, rotatedSecret}, now: at,
			header: func() http.Header { return vectorHeader(rotatedSignature) }, body: vectorBody},
		{name: "unknown versions and junk entries are skipped", secrets: []string{devSecret}, now: at,
			header: func() http.Header { return vectorHeader("v1a,xyz junk v2," + devSignature[3:] + " " + devSignature) }, body: vectorBody},
		{name: "other secret", secrets: []string{otherSecret}, now: at, header: func() http.Header { return vectorHeader(devSignature) }, body: vectorBody, wantErr: webhooks.ErrNoMatchingSignature},
		{name: "tampered body", secrets: []string{devSecret}, now: at, header: func() http.Header { return vectorHeader(devSignature) },
			body: strings.Replace(vectorBody, "150000", "1", 1), wantErr: webhooks.ErrNoMatchingSignature},
		{name: "tampered id", secrets: []string{devSecret}, now: at, header: func() http.Header {
			h := vectorHeader(devSignature)
			h.Set("webhook-id", vectorID+"x")
			return h
		}, body: vectorBody, wantErr: webhooks.ErrNoMatchingSignature},
		{name: "tampered timestamp", secrets: []string{devSecret}, now: at, header: func() http.Header {
			h := vectorHeader(devSignature)
			h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp+1))
			return h
		}, body: vectorBody, wantErr: webhooks.ErrNoMatchingSignature},
		{name: "signature under another version", secrets: []string{devSecret}, now: at,
			header: func() http.Header { return vectorHeader("v1a," + devSignature[3:]) }, body: vectorBody, wantErr: webhooks.ErrNoMatchingSignature},
		{name: "missing id", secrets: []string{devSecret}, now: at, header: func() http.Header {
			h := vectorHeader(devSignature)
			h.Del("webhook-id")
			return h
		}, body: vectorBody, wantErr: webhooks.ErrMissingHeaders},
		{name: "missing timestamp", secrets: []string{devSecret}, now: at, header: func() http.Header {
			h := vectorHeader(devSignature)
			h.Del("webhook-timestamp")
			return h
		}, body: vectorBody, wantErr: webhooks.ErrMissingHeaders},
		{name: "missing signature", secrets: []string{devSecret}, now: at, header: func() http.Header { return vectorHeader("") }, body: vectorBody, wantErr: webhooks.ErrMissingHeaders},
		{name: "timestamp not a number", secrets: []string{devSecret}, now: at, header: func() http.Header {
			h := vectorHeader(devSignature)
			h.Set("webhook-timestamp", "2025-01-01T00:00:00Z")
			return h
		}, body: vectorBody, wantErr: webhooks.ErrInvalidTimestamp},
		{name: "just inside the window, late", secrets: []string{devSecret}, now: at.Add(5 * time.Minute), header: func() http.Header { return vectorHeader(devSignature) }, body: vectorBody},
		{name: "just inside the window, early", secrets: []string{devSecret}, now: at.Add(-5 * time.Minute), header: func() http.Header { return vectorHeader(devSignature) }, body: vectorBody},
		{name: "replayed after the window", secrets: []string{devSecret}, now: at.Add(5*time.Minute + time.Second), header: func() http.Header { return vectorHeader(devSignature) }, body: vectorBody, wantErr: webhooks.ErrTimestampTooOld},
		{name: "from the future", secrets: []string{devSecret}, now: at.Add(-5*time.Minute - time.Second), header: func() http.Header { return vectorHeader(devSignature) }, body: vectorBody, wantErr: webhooks.ErrTimestampTooNew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := newVerifier(t, tt.now, tt.secrets...).Verify(tt.header(), []byte(tt.body))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestCustomTolerance(t *testing.T) {
	t.Parallel()
	now := time.Unix(vectorTimestamp, 0).Add(2 * time.Minute)
	v, err := webhooks.NewVerifier(webhooks.VerifierConfig{Secrets: []string{devSecret}, Tolerance: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	if err := v.Verify(vectorHeader(devSignature), []byte(vectorBody)); !errors.Is(err, webhooks.ErrTimestampTooOld) {
		t.Fatalf("Verify = %v, want ErrTimestampTooOld with a one-minute tolerance", err)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Now()
	h, err := newSigner(t, devSecret, rotatedSecret).Headers("msg_roundtrip", now, []byte(`{"a":1}`))
	if err != nil {
		t.Fatalf("Headers: %v", err)
	}
	v, err := webhooks.NewVerifier(webhooks.VerifierConfig{Secrets: []string{rotatedSecret}})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	if err := v.Verify(h, []byte(`{"a":1}`)); err != nil {
		t.Fatalf("Verify with the real clock: %v", err)
	}
}

// FuzzVerify checks that Verify never panics on hostile headers and accepts a message only when
// its signature header holds the signature the specification gives for it.
func FuzzVerify(f *testing.F) {
	f.Add(vectorID, strconv.Itoa(vectorTimestamp), devSignature, []byte(vectorBody))
	f.Add(vectorID, strconv.Itoa(vectorTimestamp), devSignature+" "+rotatedSignature, []byte(vectorBody))
	f.Add(vectorID, strconv.Itoa(vectorTimestamp), "v1,", []byte(""))
	f.Add("", "", "", []byte(nil))
	f.Add("id", "-9223372036854775808", "v1,,, ,v1", []byte("{"))
	f.Add("a.b.c", "+1735689600", "v2,abc v1,"+strings.Repeat("A", 44), []byte("\x00\xff"))
	f.Add(vectorID, "99999999999999999999", devSignature, []byte(vectorBody))

	now := time.Unix(vectorTimestamp, 0)
	v, err := webhooks.NewVerifier(webhooks.VerifierConfig{Secrets: []string{devSecret}, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatalf("NewVerifier: %v", err)
	}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		if err := v.Verify(h, body); err != nil {
			return
		}
		unix, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			t.Fatalf("accepted timestamp %q that is not a number", ts)
		}
		if d := unix - vectorTimestamp; d < -300 || d > 300 {
			t.Fatalf("accepted timestamp %d outside the tolerance", unix)
		}
		want := specSign(t, devSecret, id, unix, string(body))
		found := false
		for _, entry := range strings.Split(sig, " ") {
			if entry == want || strings.HasPrefix(entry, want+",") {
				found = true
			}
		}
		if !found {
			t.Fatalf("accepted signature header %q without %q", sig, want)
		}
	})
}
