package vnpay_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
)

type failingSettler struct{}

func (failingSettler) Settle(context.Context, bank.Settlement) (bank.Result, error) {
	return 0, errors.New("store unreachable")
}

func signedIPN(secret string, mutate func(url.Values)) string {
	n := vnpay.IPN{TmnCode: contractTmn, Amount: 150000, BankCode: "NCB", CardType: "ATM", OrderInfo: "Thanh toan le phi",
		ResponseCode: "00", TransactionNo: "14226112", TransactionStatus: "00", TxnRef: "LS7Q2K9M00"}
	p := n.Params()
	if mutate != nil {
		mutate(p)
	}
	p.Set(vnpay.ParamSecureHash, vnpay.Sign(secret, p))
	return p.Encode()
}

// TestIPNOrderOfChecks pins every RspCode of the IPN handler, in VNPay's order: a bad checksum
// is 97 whatever else is wrong, and only a verified IPN reaches the state machine, whose verdict
// picks 01, 04, 02 or 00.
func TestIPNOrderOfChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		secret   string // the handler's
		query    string
		settle   bank.Result
		want     string
		settled  bool
		reason   string
		outcome  bank.Outcome
		accepted string
	}{
		{name: "confirmed", secret: contractSecret, query: signedIPN(contractSecret, nil), settle: bank.Applied, want: "00", settled: true, outcome: bank.OutcomePaid, accepted: "applied"},
		{name: "citizen cancelled", secret: contractSecret, query: signedIPN(contractSecret, func(p url.Values) { p.Set("vnp_ResponseCode", "24"); p.Set("vnp_TransactionStatus", "02") }),
			settle: bank.Applied, want: "00", settled: true, outcome: bank.OutcomeFailed, accepted: "applied"},
		{name: "unknown order", secret: contractSecret, query: signedIPN(contractSecret, nil), settle: bank.NotFound, want: "01", settled: true, reason: bank.ReasonUnknownReference},
		{name: "amount differs", secret: contractSecret, query: signedIPN(contractSecret, nil), settle: bank.AmountMismatch, want: "04", settled: true, reason: bank.ReasonAmountMismatch},
		{name: "duplicate", secret: contractSecret, query: signedIPN(contractSecret, nil), settle: bank.AlreadySettled, want: "02", settled: true, accepted: "already_settled"},
		{name: "failed after paid", secret: contractSecret, query: signedIPN(contractSecret, nil), settle: bank.Conflict, want: "02", settled: true, reason: bank.ReasonConflict},
		{name: "expired", secret: contractSecret, query: signedIPN(contractSecret, nil), settle: bank.Closed, want: "02", settled: true, reason: bank.ReasonClosed},
		{name: "another secret", secret: contractSecret, query: signedIPN("ANOTHERSECRET", nil), want: "97", reason: bank.ReasonBadSignature},
		{name: "signature over other values", secret: contractSecret, query: signedIPN(contractSecret, nil) + "&vnp_BankTranNo=X1", want: "97", reason: bank.ReasonBadSignature},
		{name: "no signature", secret: contractSecret, query: "vnp_TxnRef=LS7Q2K9M00&vnp_Amount=15000000", want: "97", reason: bank.ReasonBadSignature},
		{name: "no secret configured", secret: "", query: signedIPN("", nil), want: "97", reason: bank.ReasonNotConfigured},
		{name: "amount not whole VND", secret: contractSecret, query: signedIPN(contractSecret, func(p url.Values) { p.Set("vnp_Amount", "15000050") }), want: "04", reason: bank.ReasonMalformed},
		{name: "another terminal", secret: contractSecret, query: signedIPN(contractSecret, func(p url.Values) { p.Set("vnp_TmnCode", "OTHERTMN") }), want: "01", reason: bank.ReasonUnknownReference},
		{name: "missing response code", secret: contractSecret, query: signedIPN(contractSecret, func(p url.Values) { p.Del("vnp_ResponseCode") }), want: "99", reason: bank.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &banktest.Recorder{Result: tt.settle}
			obs := &banktest.Observer{}
			srv := httptest.NewServer(&vnpay.IPNHandler{TmnCode: contractTmn, Secret: tt.secret, Settler: rec, Observer: obs})
			defer srv.Close()
			if got := ipnCode(t, srv.URL, tt.query); got != tt.want {
				t.Fatalf("RspCode %s, want %s", got, tt.want)
			}
			got := rec.Settlements()
			if tt.settled != (len(got) == 1) {
				t.Fatalf("settlements %+v, want settled=%v", got, tt.settled)
			}
			if tt.settled {
				s := got[0]
				if s.Amount != 150000 || s.Reference != "LS7Q2K9M00" || s.ProviderTransactionID != "14226112" || s.Provider != bank.ProviderVNPay {
					t.Errorf("settlement %+v", s)
				}
				if tt.outcome != "" && s.Outcome != tt.outcome {
					t.Errorf("outcome %s, want %s", s.Outcome, tt.outcome)
				}
			}
			if tt.reason != "" && obs.Count(bank.EndpointVNPayIPN+"/"+tt.reason) != 1 {
				t.Errorf("rejection not counted under %s: %+v", tt.reason, obs.Rejected)
			}
			if tt.accepted != "" && obs.Count(bank.EndpointVNPayIPN+"/"+tt.accepted) != 1 {
				t.Errorf("acceptance not counted under %s: %+v", tt.accepted, obs.Accepted)
			}
		})
	}
	t.Run("store unreachable", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(&vnpay.IPNHandler{TmnCode: contractTmn, Secret: contractSecret, Settler: failingSettler{}, Observer: &banktest.Observer{}})
		defer srv.Close()
		if got := ipnCode(t, srv.URL, signedIPN(contractSecret, nil)); got != "99" {
			t.Fatalf("RspCode %s, want 99 so that VNPay sends the IPN again", got)
		}
	})
}

// TestIPNDuringAChangeOfSecret: while VNPay and the gateway change the terminal's secret, an IPN
// signed with the old secret or the new one is verified; one signed with any other is still 97.
func TestIPNDuringAChangeOfSecret(t *testing.T) {
	t.Parallel()
	const oldSecret = "OLDSECRETOLDSECRETOLDSECRET01234"
	for _, tt := range []struct {
		name, signer, want string
	}{
		{"new secret", contractSecret, "00"},
		{"old secret", oldSecret, "00"},
		{"another secret", "ANOTHERSECRET", "97"},
		{"empty secret", "", "97"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &banktest.Recorder{Result: bank.Applied}
			srv := httptest.NewServer(&vnpay.IPNHandler{TmnCode: contractTmn, Secret: contractSecret,
				OldSecrets: []string{"", oldSecret}, Settler: rec, Observer: &banktest.Observer{}})
			defer srv.Close()
			if got := ipnCode(t, srv.URL, signedIPN(tt.signer, nil)); got != tt.want {
				t.Fatalf("RspCode %s, want %s", got, tt.want)
			}
			if settled := len(rec.Settlements()) == 1; settled != (tt.want == "00") {
				t.Fatalf("settled %v for RspCode %s", settled, tt.want)
			}
		})
	}
}
