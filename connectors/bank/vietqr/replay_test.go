package vietqr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
)

// memNonces is an in-memory Nonces.
type memNonces struct {
	mu      sync.Mutex
	seen    map[string]time.Duration
	answers map[string][]byte
}

func (m *memNonces) Claim(_ context.Context, scope, id string, ttl time.Duration) (bool, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.seen[scope+"/"+id]; ok {
		return false, m.answers[scope+"/"+id], nil
	}
	m.seen[scope+"/"+id] = ttl
	return true, nil, nil
}

func (m *memNonces) Remember(_ context.Context, scope, id string, answer []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.answers == nil {
		m.answers = map[string][]byte{}
	}
	m.answers[scope+"/"+id] = answer
	return nil
}

func (m *memNonces) Release(_ context.Context, scope, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, scope+"/"+id)
	return nil
}

// flakySettler fails its first call, then records like banktest.Recorder.
type flakySettler struct {
	banktest.Recorder
	failed bool
}

func (f *flakySettler) Settle(ctx context.Context, s bank.Settlement) (bank.Result, error) {
	if !f.failed {
		f.failed = true
		return 0, errors.New("store down")
	}
	return f.Recorder.Settle(ctx, s)
}

func sendSigned(t *testing.T, h http.Handler, ts int64, sig string, body []byte) int {
	t.Helper()
	code, _ := sendSignedAck(t, h, ts, sig, body)
	return code
}

// sendSignedAck returns the status and the results of a 200 acknowledgement.
func sendSignedAck(t *testing.T, h http.Handler, ts int64, sig string, body []byte) (int, []string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/v1/callbacks/bank/vietcombank/transactions", bytes.NewReader(body))
	r.Header.Set(vietqr.HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(vietqr.HeaderSignature, sig)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var ack vietqr.Ack
	var results []string
	if w.Code == http.StatusOK && json.Unmarshal(w.Body.Bytes(), &ack) == nil {
		for _, res := range ack.Results {
			results = append(results, res.Result)
		}
	}
	return w.Code, results
}

// TestNotificationReplay: a verified notification sent again inside the window, whatever the
// case of its signature, never reaches the Settler again: it is answered from the record, what
// was applied now already settled; while the first delivery has no answer yet a repeat is 409; a
// notification whose processing failed is not remembered, so the bank's retry goes through.
func TestNotificationReplay(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 10, 7, 52, 30, 0, time.UTC)
	body := movement(contractAccount.Number, 150000, "credit", "LS7Q2K9M00 chuyen tien")
	sig := vietqr.SignNotification(fuzzBankSecret, now.Unix(), body)
	newHandler := func(s bank.Settler, n vietqr.Nonces, obs *banktest.Observer) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("POST /v1/callbacks/bank/{bank}/transactions", &vietqr.NotificationHandler{
			Banks:   map[string]vietqr.BankConfig{"vietcombank": {Secret: fuzzBankSecret, Accounts: []vietqr.Account{contractAccount}}},
			Settler: s, Observer: obs, Window: 5 * time.Minute, Nonces: n, Now: func() time.Time { return now }})
		return mux
	}
	rec, nonces, obs := &banktest.Recorder{Result: bank.Applied}, &memNonces{seen: map[string]time.Duration{}}, &banktest.Observer{}
	h := newHandler(rec, nonces, obs)
	if got, res := sendSignedAck(t, h, now.Unix(), sig, body); got != http.StatusOK || strings.Join(res, ",") != "applied" {
		t.Fatalf("first notification: %d %v", got, res)
	}
	for _, s := range []string{sig, strings.ToUpper(sig)} {
		if got, res := sendSignedAck(t, h, now.Unix(), s, body); got != http.StatusOK || strings.Join(res, ",") != "already_settled" {
			t.Fatalf("replay: %d %v, want 200 already_settled", got, res)
		}
	}
	if n := len(rec.Settlements()); n != 1 || obs.Count(bank.EndpointBankTransactions+"/"+bank.AlreadySettled.String()) != 2 {
		t.Fatalf("settled %d times, %d repeats counted already settled", n, obs.Count(bank.EndpointBankTransactions+"/"+bank.AlreadySettled.String()))
	}
	// A repeat of an unmatched movement stays unmatched and is counted a replay.
	unknown := movement(contractAccount.Number, 150000, "credit", "chuyen tien")
	usig := vietqr.SignNotification(fuzzBankSecret, now.Unix(), unknown)
	for range 2 {
		if got, res := sendSignedAck(t, h, now.Unix(), usig, unknown); got != http.StatusOK || strings.Join(res, ",") != "unmatched" {
			t.Fatalf("unmatched: %d %v", got, res)
		}
	}
	if obs.Count(bank.EndpointBankTransactions+"/"+bank.ReasonReplayed) != 1 || len(rec.Settlements()) != 1 {
		t.Fatalf("the unmatched repeat: %d replays counted, %d settlements", obs.Count(bank.EndpointBankTransactions+"/"+bank.ReasonReplayed), len(rec.Settlements()))
	}
	// While the first delivery is being processed (claimed, no answer yet), a repeat is 409.
	inflight := &memNonces{seen: map[string]time.Duration{"bank:vietcombank/" + sig: time.Minute}}
	if got := sendSigned(t, newHandler(rec, inflight, &banktest.Observer{}), now.Unix(), sig, body); got != http.StatusConflict || len(rec.Settlements()) != 1 {
		t.Fatalf("repeat during the first delivery: %d", got)
	}
	if ttl := nonces.seen["bank:vietcombank/"+sig]; ttl != 10*time.Minute {
		t.Fatalf("remembered for %v, want twice the window", ttl)
	}
	// A forged notification is not remembered: the genuine one with the same body still passes.
	other := movement(contractAccount.Number, 150000, "credit", "LS7Q2K9M01")
	if got := sendSigned(t, h, now.Unix(), strings.Repeat("0", 64), other); got != http.StatusUnauthorized || len(nonces.seen) != 2 {
		t.Fatalf("forged: %d, %d remembered", got, len(nonces.seen))
	}

	flaky := &flakySettler{Recorder: banktest.Recorder{Result: bank.Applied}}
	h = newHandler(flaky, &memNonces{seen: map[string]time.Duration{}}, &banktest.Observer{})
	if got := sendSigned(t, h, now.Unix(), sig, body); got != http.StatusServiceUnavailable {
		t.Fatalf("store down: %d, want 503", got)
	}
	if got := sendSigned(t, h, now.Unix(), sig, body); got != http.StatusOK || len(flaky.Settlements()) != 1 {
		t.Fatalf("the bank's retry after a failure: %d, %d settlements", got, len(flaky.Settlements()))
	}
}

// TestNotificationRolledSecret: during a rotation a notification signed with the old or the new
// secret verifies, one signed with neither does not, and a stale one is stale under either.
func TestNotificationRolledSecret(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 10, 7, 52, 30, 0, time.UTC)
	rec := &banktest.Recorder{Result: bank.Applied}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/callbacks/bank/{bank}/transactions", &vietqr.NotificationHandler{
		Banks: map[string]vietqr.BankConfig{"vietcombank": {Secret: "new-secret", OldSecrets: []string{"old-secret"},
			Accounts: []vietqr.Account{contractAccount}}},
		Settler: rec, Observer: &banktest.Observer{}, Window: 5 * time.Minute, Now: func() time.Time { return now }})
	for i, tc := range []struct {
		secret string
		ts     int64
		want   int
	}{
		{"new-secret", now.Unix(), http.StatusOK},
		{"old-secret", now.Unix(), http.StatusOK},
		{"other-secret", now.Unix(), http.StatusUnauthorized},
		{"old-secret", now.Unix() - 600, http.StatusUnauthorized},
	} {
		body := movement(contractAccount.Number, 150000, "credit", "LS7Q2K9M0"+strconv.Itoa(i))
		if got := sendSigned(t, mux, tc.ts, vietqr.SignNotification(tc.secret, tc.ts, body), body); got != tc.want {
			t.Fatalf("%s at %d: %d, want %d", tc.secret, tc.ts, got, tc.want)
		}
	}
	if n := len(rec.Settlements()); n != 2 {
		t.Fatalf("%d settlements, want 2", n)
	}
}

// TestNotificationAmbiguousJSON: a signed notification that repeats a key (in any case), nests
// too deeply or carries a second document is malformed, and nothing reaches the Settler; with a
// repeated amount, encoding/json alone would have settled the last value.
func TestNotificationAmbiguousJSON(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 10, 7, 52, 30, 0, time.UTC)
	rec := &banktest.Recorder{Result: bank.Applied}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/callbacks/bank/{bank}/transactions", &vietqr.NotificationHandler{
		Banks:   map[string]vietqr.BankConfig{"vietcombank": {Secret: fuzzBankSecret, Accounts: []vietqr.Account{contractAccount}}},
		Settler: rec, Observer: &banktest.Observer{}, Window: 5 * time.Minute, Now: func() time.Time { return now }})
	good := string(movement(contractAccount.Number, 150000, "credit", "LS7Q2K9M00 chuyen tien"))
	for name, body := range map[string]string{
		"amount twice":      strings.Replace(good, `"amount":150000`, `"amount":1,"amount":150000`, 1),
		"amount other case": strings.Replace(good, `"amount":150000`, `"amount":1,"AMOUNT":150000`, 1),
		"nested":            strings.Replace(good, `"amount":150000`, `"amount":150000,"x":[[[[[[[[[]]]]]]]]]`, 1),
		"two documents":     good + good,
	} {
		if !strings.Contains(body, "150000") || body == good {
			t.Fatalf("%s: the case did not change the body", name)
		}
		if got := sendSigned(t, mux, now.Unix(), vietqr.SignNotification(fuzzBankSecret, now.Unix(), []byte(body)), []byte(body)); got != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, got)
		}
	}
	if n := len(rec.Settlements()); n != 0 {
		t.Fatalf("%d settlements from ambiguous notifications", n)
	}
	if got := sendSigned(t, mux, now.Unix(), vietqr.SignNotification(fuzzBankSecret, now.Unix(), []byte(good)), []byte(good)); got != http.StatusOK {
		t.Fatalf("the plain notification: %d", got)
	}
}
