package sandbox_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/onestop/sandbox"
	"github.com/egov-vn/gateway/internal/signing/webhooks"
)

const fuzzSecret = "whsec_ZGVtby1vbmVzdG9wLXdlYmhvb2stc2VjcmV0"

// FuzzReceive sends arbitrary webhook headers, content types and bodies to the sandbox receiver:
// it records exactly one attempt per request, answers with the status it recorded, and accepts
// only what the Standard Webhooks verifier accepts (a forged webhook is never accepted nor makes
// a later genuine one a duplicate). Each input is also sent with a genuine signature, so the
// fuzzer reaches the body checks. Seeds live in testdata/fuzz/FuzzReceive.
func FuzzReceive(f *testing.F) {
	f.Add("msg_1", "", "v1,invalid", "application/json", []byte(`{"type":"payment.succeeded","data":{"amount":1}}`))
	f.Add("msg_2", "1", "", "text/plain", []byte(`{"type":"t","data":null}`))
	f.Add("", "", "", "", []byte(nil))
	f.Add("msg_3", "99999999999999999999", "v1,"+string(bytes.Repeat([]byte("A"), 44)), "application/json; charset=utf-8", []byte(`{"type":1}`))
	f.Add("msg_4", "", "", "application/json", []byte(`{"type":"t"}`))
	verifier, err := webhooks.NewVerifier(webhooks.VerifierConfig{Secrets: []string{fuzzSecret}})
	if err != nil {
		f.Fatal(err)
	}
	signer, err := webhooks.NewSigner(fuzzSecret)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, ts, sig, contentType string, body []byte) {
		s := sandbox.New(fuzzSecret)
		h := http.Header{}
		h.Set(webhooks.HeaderID, id)
		h.Set(webhooks.HeaderTimestamp, ts)
		h.Set(webhooks.HeaderSignature, sig)
		h.Set("Content-Type", contentType)
		valid := verifier.Verify(h, body) == nil
		code := postDirect(t, s, h, body)
		recs := s.Received()
		if len(recs) != 1 || recs[0].Status != code || recs[0].SignatureValid != valid {
			t.Fatalf("records %+v for one attempt answered %d (signature valid %v)", recs, code, valid)
		}
		if !valid && (code != http.StatusUnauthorized || len(s.Unique("")) != 0) {
			t.Fatalf("a forged webhook answered %d", code)
		}
		if id == "" {
			return
		}
		now := time.Now()
		genuine, err := signer.Sign(id, now, body)
		if err != nil {
			t.Fatal(err)
		}
		h.Set(webhooks.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(webhooks.HeaderSignature, genuine)
		code = postDirect(t, s, h, body)
		recs = s.Received()
		last := recs[len(recs)-1]
		if len(recs) != 2 || !last.SignatureValid || last.Status != code {
			t.Fatalf("genuine attempt recorded as %+v, answered %d", last, code)
		}
		if code == http.StatusNoContent && (last.Duplicate != valid || len(s.Unique("")) != 1) {
			t.Fatalf("genuine webhook after a forged one: duplicate %v, unique %d", last.Duplicate, len(s.Unique("")))
		}
		if code != http.StatusNoContent && code != http.StatusBadRequest && code != http.StatusUnsupportedMediaType {
			t.Fatalf("genuine webhook answered %d", code)
		}
	})
}

func postDirect(t *testing.T, s *sandbox.Sandbox, h http.Header, body []byte) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/notifications", bytes.NewReader(body))
	r.Header = h.Clone()
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w.Code
}
