package vietqr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
)

const fuzzBankSecret = "bank-notification-secret-for-fuzzing"

// fuzzNow is the receiver's clock in the notification fuzzers.
var fuzzNow = time.Date(2025, 1, 10, 7, 52, 30, 0, time.UTC)

// FuzzVerifyNotification checks the account-movement signature on arbitrary headers and bodies:
// it never panics, an empty secret never verifies, what it accepts carries the HMAC of exactly
// this timestamp and body and a timestamp inside the window, and SignNotification's own
// signature verifies only under its secret and only inside the window. Seeds live in
// testdata/fuzz/FuzzVerifyNotification.
func FuzzVerifyNotification(f *testing.F) {
	body := movement(contractAccount.Number, 150000, "credit", "LS7Q2K9M00 chuyen tien")
	ts := fuzzNow.Unix()
	f.Add(strconv.FormatInt(ts, 10), vietqr.SignNotification(fuzzBankSecret, ts, body), body)
	f.Add(strconv.FormatInt(ts-301, 10), vietqr.SignNotification(fuzzBankSecret, ts-301, body), body)
	f.Add("", "", []byte(nil))
	f.Add("-9223372036854775808", strings.Repeat("0", 64), []byte("{"))
	f.Fuzz(func(t *testing.T, tsHeader, sig string, body []byte) {
		if vietqr.VerifyNotification("", tsHeader, sig, body, fuzzNow, 5*time.Minute) == nil {
			t.Fatal("an empty secret verified")
		}
		err := vietqr.VerifyNotification(fuzzBankSecret, tsHeader, sig, body, fuzzNow, 5*time.Minute)
		if err != nil && !errors.Is(err, bank.ErrInvalidSignature) && !errors.Is(err, vietqr.ErrStaleTimestamp) {
			t.Fatalf("unexpected error %v", err)
		}
		if err == nil {
			n, perr := strconv.ParseInt(tsHeader, 10, 64)
			if perr != nil || !strings.EqualFold(sig, vietqr.SignNotification(fuzzBankSecret, n, body)) {
				t.Fatalf("accepted %q / %q without the matching HMAC", tsHeader, sig)
			}
			if d := fuzzNow.Unix() - n; d > 300 || d < -300 {
				t.Fatalf("accepted timestamp %d outside the window", n)
			}
		}
		// The sender's own signature, at a timestamp derived from the input.
		n := fuzzNow.Unix() + int64(len(tsHeader)*37%700) - 350
		good := vietqr.SignNotification(fuzzBankSecret, n, body)
		err = vietqr.VerifyNotification(fuzzBankSecret, strconv.FormatInt(n, 10), good, body, fuzzNow, 5*time.Minute)
		inWindow := n >= fuzzNow.Unix()-300 && n <= fuzzNow.Unix()+300
		if inWindow && err != nil {
			t.Fatalf("the sender's signature at %d did not verify: %v", n, err)
		}
		if !inWindow && !errors.Is(err, vietqr.ErrStaleTimestamp) {
			t.Fatalf("timestamp %d outside the window: got %v, want ErrStaleTimestamp", n, err)
		}
		if vietqr.VerifyNotification(fuzzBankSecret+"x", strconv.FormatInt(n, 10), good, body, fuzzNow, 5*time.Minute) == nil {
			t.Fatal("verified under another secret")
		}
		if vietqr.VerifyNotification(fuzzBankSecret, strconv.FormatInt(n, 10), good, append(slices.Clone(body), ' '), fuzzNow, 5*time.Minute) == nil {
			t.Fatal("verified a signature over another body")
		}
	})
}

// FuzzNotificationHandler posts arbitrary bodies to the notification handler, signed correctly
// (so the fuzzer reaches the body checks) and with the signature the input carries. Only a
// verified notification reaches the Settler, only with credits on the known account, positive
// amounts and references found in the description; every answer is 200 with one result per
// movement or a problem with a 4xx status. Seeds live in testdata/fuzz/FuzzNotificationHandler.
func FuzzNotificationHandler(f *testing.F) {
	f.Add(movement(contractAccount.Number, 150000, "credit", "LS7Q2K9M00 chuyen tien"), "")
	f.Add(movement(contractAccount.Number, -1, "credit", "LS7Q2K9M00"), "")
	f.Add(movement("999", 150000, "debit", ""), "deadbeef")
	f.Add([]byte(`{"transactions":[{"transaction_id":"A","account_number":"0011001234567","amount":1e3,"direction":"credit","description":"LS7Q2K9M00"}]}`), "")
	f.Add([]byte(`{"transactions":[],"x":1}`), "")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		ts := fuzzNow.Unix()
		checkNotification(t, body, vietqr.SignNotification(fuzzBankSecret, ts, body), true)
		checkNotification(t, body, sig, strings.EqualFold(sig, vietqr.SignNotification(fuzzBankSecret, ts, body)))
	})
}

func checkNotification(t *testing.T, body []byte, sig string, valid bool) {
	t.Helper()
	rec := &banktest.Recorder{Result: bank.Applied}
	h := &vietqr.NotificationHandler{
		Banks:   map[string]vietqr.BankConfig{"vietcombank": {Secret: fuzzBankSecret, Accounts: []vietqr.Account{contractAccount}}},
		Settler: rec, Observer: &banktest.Observer{}, Window: 5 * time.Minute, Now: func() time.Time { return fuzzNow },
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/callbacks/bank/{bank}/transactions", h)
	r := httptest.NewRequest(http.MethodPost, "/v1/callbacks/bank/vietcombank/transactions", bytes.NewReader(body))
	r.Header.Set(vietqr.HeaderTimestamp, strconv.FormatInt(fuzzNow.Unix(), 10))
	r.Header.Set(vietqr.HeaderSignature, sig)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	got := rec.Settlements()
	if !valid {
		if w.Code != http.StatusUnauthorized || len(got) != 0 {
			t.Fatalf("a forged notification answered %d and reached the Settler %d times", w.Code, len(got))
		}
		return
	}
	switch w.Code {
	case http.StatusOK:
		var ack vietqr.Ack
		if err := json.Unmarshal(w.Body.Bytes(), &ack); err != nil || ack.Received != len(ack.Results) || ack.Received == 0 {
			t.Fatalf("200 answer %q is not an acknowledgement of every movement", w.Body.String())
		}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		if w.Header().Get("Content-Type") != "application/problem+json" || len(got) != 0 {
			t.Fatalf("refused body: content type %q, %d settlements", w.Header().Get("Content-Type"), len(got))
		}
		return
	default:
		t.Fatalf("status %d for a signed notification", w.Code)
	}
	var n vietqr.Notification
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatalf("accepted a body that does not decode: %v", err)
	}
	for _, s := range got {
		i := slices.IndexFunc(n.Transactions, func(tr vietqr.Transaction) bool {
			return tr.TransactionID == s.ProviderTransactionID && tr.Amount == s.Amount && tr.Direction == vietqr.DirectionCredit &&
				tr.AccountNumber == contractAccount.Number && slices.Contains(vietqr.References(tr.Description), s.Reference)
		})
		if i < 0 || s.Amount <= 0 || s.Provider != bank.ProviderVietQR || s.Account != contractAccount.Key() {
			t.Fatalf("settlement %+v matches no credit of the notification", s)
		}
	}
}
