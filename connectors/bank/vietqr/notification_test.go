package vietqr_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
)

func movement(account string, amount int64, direction, description string) []byte {
	b, _ := json.Marshal(vietqr.Notification{Transactions: []vietqr.Transaction{{TransactionID: "FT25010123456", AccountNumber: account,
		Amount: amount, Direction: direction, Description: description, TransactedAt: "2025-01-10T14:52:11+07:00"}}})
	return b
}

// TestNotificationVerdicts pins the answer to every kind of notification: the signature covers
// the timestamp and the body, a timestamp outside the window is a replay, and only verified
// credits on a known account reach the state machine.
func TestNotificationVerdicts(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 10, 7, 52, 30, 0, time.UTC)
	good := movement(contractAccount.Number, 150000, "credit", "LS7Q2K9M00 chuyen tien")
	tests := []struct {
		name     string
		bankName string
		secret   string
		ts       time.Time
		body     []byte
		signed   []byte // when set, the signature covers this instead of body
		settle   bank.Result
		status   int
		result   string
		reason   string
		settled  int
	}{
		{name: "credit applied", body: good, settle: bank.Applied, status: 200, result: "applied", settled: 1},
		{name: "repeat", body: good, settle: bank.AlreadySettled, status: 200, result: "already_settled", settled: 1},
		{name: "amount differs", body: good, settle: bank.AmountMismatch, status: 200, result: "unmatched", reason: bank.ReasonAmountMismatch, settled: 1},
		{name: "unknown reference", body: movement(contractAccount.Number, 150000, "credit", "HOC PHI THANG 1"), status: 200, result: "unmatched", reason: bank.ReasonUnknownReference},
		{name: "reference glued to text", body: movement(contractAccount.Number, 150000, "credit", "MBVCB.123.LS7Q2K9M00CHUYENTIEN"), settle: bank.Applied, status: 200, result: "applied", settled: 1},
		{name: "another account", body: movement("9999999999", 150000, "credit", "LS7Q2K9M00"), status: 200, result: "unmatched", reason: bank.ReasonUnknownAccount},
		{name: "a debit", body: movement(contractAccount.Number, 150000, "debit", "LS7Q2K9M00"), status: 200, result: "ignored"},
		{name: "zero amount", body: movement(contractAccount.Number, 0, "credit", "LS7Q2K9M00"), status: 200, result: "unmatched", reason: bank.ReasonMalformed},
		{name: "another secret", secret: "another-secret", body: good, status: 401, reason: bank.ReasonBadSignature},
		{name: "signature over another body", body: good, signed: movement(contractAccount.Number, 1500000, "credit", "LS7Q2K9M00 chuyen tien"), status: 401, reason: bank.ReasonBadSignature},
		{name: "stale timestamp", ts: now.Add(-6 * time.Minute), body: good, status: 401, reason: bank.ReasonStaleTimestamp},
		{name: "timestamp from the future", ts: now.Add(6 * time.Minute), body: good, status: 401, reason: bank.ReasonStaleTimestamp},
		{name: "unknown bank", bankName: "otherbank", body: good, status: 404, reason: bank.ReasonUnknownBank},
		{name: "not a notification", body: []byte(`{"transactions":[]}`), status: 400, reason: bank.ReasonMalformed},
		{name: "unknown field", body: []byte(`{"transactions":[{"transaction_id":"FT1","account_number":"0011001234567","amount":1,"direction":"credit","description":"x"}],"extra":1}`), status: 400, reason: bank.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &banktest.Recorder{Result: tt.settle}
			if tt.settle == 0 && tt.settled == 0 {
				rec.Result = bank.NotFound
			}
			obs := &banktest.Observer{}
			_, _, gw := newDialect(t, rec, obs, func() time.Time { return now })
			bankName, secret, ts, signed := contractBank, contractSecret, now, tt.body
			if tt.bankName != "" {
				bankName = tt.bankName
			}
			if tt.secret != "" {
				secret = tt.secret
			}
			if !tt.ts.IsZero() {
				ts = tt.ts
			}
			if tt.signed != nil {
				signed = tt.signed
			}
			req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/callbacks/bank/"+bankName+"/transactions", bytes.NewReader(tt.body))
			req.Header.Set(vietqr.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
			req.Header.Set(vietqr.HeaderSignature, vietqr.SignNotification(secret, ts.Unix(), signed))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 200 {
				var ack vietqr.Ack
				if err := json.NewDecoder(resp.Body).Decode(&ack); err != nil || len(ack.Results) != 1 {
					t.Fatalf("answer %+v, %v", ack, err)
				}
				if r := ack.Results[0]; r.Result != tt.result || r.Reason != tt.reason {
					t.Errorf("result %+v, want %s %s", r, tt.result, tt.reason)
				}
			} else if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q, want a problem document", ct)
			}
			got := rec.Settlements()
			if len(got) != tt.settled && !(tt.result == "unmatched" && tt.reason == bank.ReasonUnknownReference) {
				t.Fatalf("settlements %+v, want %d", got, tt.settled)
			}
			if tt.settled == 1 {
				s := got[0]
				if s.Reference != "LS7Q2K9M00" || s.Amount != 150000 || s.Outcome != bank.OutcomePaid || s.Account != contractAccount.Key() || s.ProviderTransactionID != "FT25010123456" {
					t.Errorf("settlement %+v", s)
				}
			}
			if tt.reason != "" && obs.Count(bank.EndpointBankTransactions+"/"+tt.reason) != 1 {
				t.Errorf("not counted under %s: %+v", tt.reason, obs.Rejected)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		description string
		want        []string
	}{
		{"LS7Q2K9M00 chuyen tien", []string{"LS7Q2K9M00"}},
		{"ls7q2k9m00", []string{"LS7Q2K9M00"}},
		{"Nguyễn Văn A chuyển tiền LS7Q2K9M00", []string{"LS7Q2K9M00"}},
		{"1234567890 LS7Q2K9M00", []string{"LS7Q2K9M00"}},
		{"XLS7Q2K9M00", []string{"XLS7Q2K9M0", "LS7Q2K9M00"}},
		{"short words only", nil},
	}
	for _, tt := range tests {
		if got := vietqr.References(tt.description); !slices.Equal(got, tt.want) {
			t.Errorf("References(%q) = %v, want %v", tt.description, got, tt.want)
		}
	}
}
