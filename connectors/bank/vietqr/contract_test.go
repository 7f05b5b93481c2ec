package vietqr_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/sandbox"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
)

const (
	contractBank   = "testbank"
	contractSecret = "test-bank-secret"
)

var contractAccount = vietqr.Account{BIN: "970436", Number: "0011001234567", Name: "UBND TINH LANG SON"}

// newDialect wires the dialect, the notification handler and the bank sandbox over real HTTP.
func newDialect(t *testing.T, settler bank.Settler, obs bank.Observer, now func() time.Time) (*vietqr.Provider, *sandbox.Banks, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST /v1/callbacks/bank/{bank}/transactions", &vietqr.NotificationHandler{
		Banks:   map[string]vietqr.BankConfig{contractBank: {Secret: contractSecret, Accounts: []vietqr.Account{contractAccount}}},
		Settler: settler, Observer: obs, Window: 5 * time.Minute, Now: now,
	})
	gw := httptest.NewServer(mux)
	banks := sandbox.NewBanks(map[string]sandbox.BankAccountConfig{contractBank: {Secret: contractSecret,
		Accounts: []vietqr.Account{contractAccount}, NotifyURL: gw.URL + "/v1/callbacks/bank/" + contractBank + "/transactions"}},
		sandbox.Retry{Interval: 20 * time.Millisecond, Attempts: 3})
	statements := httptest.NewServer(banks.Handler())
	t.Cleanup(func() { banks.Close(); gw.Close(); statements.Close() })
	p, err := vietqr.NewProvider(vietqr.Config{Default: contractAccount,
		Statements: map[string]string{contractBank: statements.URL + "/" + contractBank + "/transactions"}})
	if err != nil {
		t.Fatal(err)
	}
	return p, banks, gw
}

func TestContract(t *testing.T) {
	banktest.RunContract(t, func(t *testing.T, settler bank.Settler) banktest.Harness {
		p, banks, gw := newDialect(t, settler, &banktest.Observer{}, nil)
		return banktest.Harness{
			Provider: p, Queryable: false, Reports: false,
			Pay: func(t *testing.T, _ bank.Payment, ins bank.Instructions, success bool) {
				if !success {
					return
				}
				res, err := banks.Transfer(contractBank, sandbox.TransferAction{QRPayload: ins.QRPayload})
				if err != nil {
					t.Fatalf("sandbox transfer: %v", err)
				}
				var ack vietqr.Ack
				if !res.Notification.Usable || json.Unmarshal(res.Notification.Answer, &ack) != nil || len(ack.Results) != 1 || ack.Results[0].Result != "applied" {
					t.Fatalf("notification answered %+v, want one applied movement", res.Notification)
				}
			},
			Forge: func(t *testing.T, pay bank.Payment, _ bank.Instructions) bool {
				body, _ := json.Marshal(vietqr.Notification{Transactions: []vietqr.Transaction{{TransactionID: "FT1",
					AccountNumber: contractAccount.Number, Amount: pay.Amount, Direction: vietqr.DirectionCredit, Description: pay.Reference}}})
				return notify(t, gw.URL, contractBank, "another-secret", time.Now().Unix(), body) == http.StatusUnauthorized
			},
		}
	})
}

func notify(t *testing.T, base, bankName, secret string, ts int64, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/callbacks/bank/"+bankName+"/transactions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(vietqr.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(vietqr.HeaderSignature, vietqr.SignNotification(secret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
