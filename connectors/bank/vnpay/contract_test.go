package vnpay_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/sandbox"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

const (
	contractTmn    = "TESTTMN1"
	contractSecret = "TESTSECRETKEY1234567890ABCDEFGHI"
)

// newDialect wires the dialect, its IPN handler and the VNPay sandbox over real HTTP.
func newDialect(t *testing.T, settler bank.Settler, obs bank.Observer) (*vnpay.Client, *sandbox.VNPay, *httptest.Server) {
	t.Helper()
	gw := httptest.NewServer(&vnpay.IPNHandler{TmnCode: contractTmn, Secret: contractSecret, Settler: settler, Observer: obs})
	sb := sandbox.NewVNPay(sandbox.VNPayConfig{TmnCode: contractTmn, Secret: contractSecret, IPNURL: gw.URL,
		Retry: sandbox.Retry{Interval: 20 * time.Millisecond, Attempts: 3}})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sb.Close(); srv.Close(); gw.Close() })
	hc, err := partnerhttp.New(partnerhttp.Config{Partner: bank.ProviderVNPay, BaseURL: srv.URL + "/merchant_webapi/api/transaction", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, err := vnpay.New(vnpay.Config{TmnCode: contractTmn, Secret: contractSecret, PayURL: srv.URL + "/paymentv2/vpcpay.html",
		ReturnURL: "https://motcua.example.invalid/payments/return", TransactionsURL: srv.URL + "/transactions"}, hc)
	if err != nil {
		t.Fatal(err)
	}
	return c, sb, gw
}

func TestContract(t *testing.T) {
	banktest.RunContract(t, func(t *testing.T, settler bank.Settler) banktest.Harness {
		c, sb, gw := newDialect(t, settler, &banktest.Observer{})
		return banktest.Harness{
			Provider: c, Queryable: true, Reports: true,
			Pay: func(t *testing.T, _ bank.Payment, ins bank.Instructions, success bool) {
				outcome := "failed"
				if success {
					outcome = "success"
				}
				res, err := sb.Pay(sandbox.PayAction{PaymentURL: ins.PaymentURL, Outcome: outcome})
				if err != nil {
					t.Fatalf("sandbox pay: %v", err)
				}
				var rep vnpay.IPNReply
				if !res.Callback.Usable || json.Unmarshal(res.Callback.Answer, &rep) != nil || rep.RspCode != vnpay.RspConfirmed {
					t.Fatalf("IPN answered %+v, want RspCode 00", res.Callback)
				}
			},
			Forge: func(t *testing.T, p bank.Payment, _ bank.Instructions) bool {
				n := vnpay.IPN{TmnCode: contractTmn, Amount: p.Amount, ResponseCode: "00", TransactionStatus: "00", TxnRef: p.Reference, TransactionNo: "1"}
				params := n.Params()
				params.Set(vnpay.ParamSecureHash, vnpay.Sign("ANOTHERSECRET", params))
				return ipnCode(t, gw.URL, params.Encode()) == vnpay.RspInvalidChecksum
			},
		}
	})
}

func ipnCode(t *testing.T, base, query string) string {
	t.Helper()
	resp, err := http.Get(base + "?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep vnpay.IPNReply
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rep) != nil {
		t.Fatalf("IPN answered HTTP %d, want 200 with JSON", resp.StatusCode)
	}
	return rep.RspCode
}
