package paygov_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/paygov"
	"github.com/egov-vn/gateway/connectors/bank/sandbox"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

const (
	contractClient = "TESTCLIENT"
	contractKey1   = "TESTHASHKEY1"
	contractKey2   = "TESTHASHKEY2"
)

// newDialect wires the dialect, its callback handlers and the PayGov sandbox over real HTTP.
func newDialect(t *testing.T, settler bank.Settler, bills bank.Bills, obs bank.Observer) (*paygov.Client, *sandbox.PayGov, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	gw := httptest.NewServer(mux)
	sbox := sandbox.NewPayGov(sandbox.PayGovConfig{ClientID: contractClient, Key1: contractKey1, Key2: contractKey2,
		ConfirmURL: gw.URL + "/confirm", BillURL: gw.URL + "/bill", Retry: sandbox.Retry{Interval: 20 * time.Millisecond, Attempts: 3}})
	srv := httptest.NewServer(sbox.Handler())
	t.Cleanup(func() { sbox.Close(); srv.Close(); gw.Close() })
	hc, err := partnerhttp.New(partnerhttp.Config{Partner: bank.ProviderPayGov, BaseURL: srv.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, err := paygov.New(paygov.Config{ClientID: contractClient, Key1: contractKey1, Key2: contractKey2,
		ReturnURL: "https://motcua.example.invalid/payments/return", BeneficiaryAccount: "0011001234567",
		BeneficiaryBank: "970436", BeneficiaryName: "UBND TINH LANG SON", AgencyName: "UBND tỉnh Lạng Sơn"}, hc)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("POST /confirm", &paygov.ConfirmHandler{ClientID: contractClient, Key2: contractKey2, Settler: settler, Observer: obs})
	mux.Handle("POST /bill", &paygov.BillHandler{Client: c, Bills: bills, Observer: obs})
	return c, sbox, gw
}

func TestContract(t *testing.T) {
	banktest.RunContract(t, func(t *testing.T, settler bank.Settler) banktest.Harness {
		c, sbox, gw := newDialect(t, settler, nil, &banktest.Observer{})
		return banktest.Harness{
			Provider: c, Queryable: true, Reports: true,
			Pay: func(t *testing.T, p bank.Payment, _ bank.Instructions, success bool) {
				outcome := "failed"
				if success {
					outcome = "success"
				}
				res, err := sbox.Pay(sandbox.PayAction{Reference: p.Reference, Outcome: outcome})
				if err != nil {
					t.Fatalf("sandbox pay: %v", err)
				}
				var rep paygov.ConfirmationReply
				if !res.Callback.Usable || json.Unmarshal(res.Callback.Answer, &rep) != nil || rep.ReturnCode != paygov.ReturnOK {
					t.Fatalf("confirmation answered %+v, want return_code 0", res.Callback)
				}
			},
			Forge: func(t *testing.T, p bank.Payment, _ bank.Instructions) bool {
				cb := paygov.ConfirmationCallback{TransactionID: paygov.Text(p.Reference), TransactionCode: "PG1",
					TransAmount: paygov.Text(paygov.FormatAmount(p.Amount)), Command: paygov.CommandPay, AdditionFee: "0",
					Version: paygov.Version, Status: paygov.StatusPaid}
				cb.Sign("ANOTHERKEY", contractClient)
				return confirm(t, gw.URL, cb).ReturnCode == paygov.ReturnError
			},
		}
	})
}

func confirm(t *testing.T, base string, cb any) paygov.ConfirmationReply {
	t.Helper()
	body, _ := json.Marshal(cb)
	resp, err := http.Post(base+"/confirm", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep paygov.ConfirmationReply
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rep) != nil {
		t.Fatalf("confirmation answered HTTP %d, want 200 with JSON", resp.StatusCode)
	}
	return rep
}
