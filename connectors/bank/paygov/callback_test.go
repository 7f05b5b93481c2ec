package paygov_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/paygov"
)

func signedConfirmation(amount string) map[string]any {
	c := paygov.ConfirmationCallback{TransactionID: "LS7Q2K9M00", TransactionCode: "PG2501101452110001", TransAmount: paygov.Text(amount),
		PaymentFee: "0", Command: paygov.CommandPay, AdditionFee: "0", Version: paygov.Version, Status: paygov.StatusPaid}
	c.Sign(contractKey2, contractClient)
	var m map[string]any
	b, _ := json.Marshal(c)
	_ = json.Unmarshal(b, &m)
	return m
}

// TestConfirmationVerdicts pins return_code for every kind of confirmation: only a verified one
// reaches the state machine, and a repeat of an applied one is acknowledged (0) so that the
// platform stops sending it.
func TestConfirmationVerdicts(t *testing.T) {
	t.Parallel()
	reordered := signedConfirmation("150000")
	// The checksum over the six fields in another order (trans_amount before command).
	reordered["check_sum"] = paygov.Checksum(contractKey2, "0", contractClient, "150000", "PAY", "LS7Q2K9M00", "3.0")
	numbers := signedConfirmation("150000")
	numbers["trans_amount"], numbers["addition_fee"] = json.Number("150000"), json.Number("0")
	tests := []struct {
		name    string
		body    any
		settle  bank.Result
		want    int
		msg     string
		settled bool
		reason  string
	}{
		{name: "applied", body: signedConfirmation("150000"), settle: bank.Applied, want: 0, msg: "Success", settled: true},
		{name: "amounts as JSON numbers", body: numbers, settle: bank.Applied, want: 0, settled: true},
		{name: "duplicate", body: signedConfirmation("150000"), settle: bank.AlreadySettled, want: 0, msg: "Already confirmed", settled: true},
		{name: "unknown transaction", body: signedConfirmation("150000"), settle: bank.NotFound, want: -1, settled: true, reason: bank.ReasonUnknownReference},
		{name: "amount differs", body: signedConfirmation("150000"), settle: bank.AmountMismatch, want: -1, settled: true, reason: bank.ReasonAmountMismatch},
		{name: "failed after paid", body: signedConfirmation("150000"), settle: bank.Conflict, want: -1, settled: true, reason: bank.ReasonConflict},
		{name: "checksum over reordered fields", body: reordered, want: -1, reason: bank.ReasonBadSignature},
		{name: "another client", body: func() map[string]any { m := signedConfirmation("150000"); m["client_id"] = "OTHER"; return m }(), want: -1, reason: bank.ReasonBadSignature},
		{name: "tampered amount", body: func() map[string]any { m := signedConfirmation("150000"); m["trans_amount"] = "149999"; return m }(), want: -1, reason: bank.ReasonBadSignature},
		{name: "not JSON", body: "not json", want: -1, reason: bank.ReasonMalformed},
		{name: "negative amount", body: signedConfirmation("-150000"), want: -1, reason: bank.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &banktest.Recorder{Result: tt.settle}
			obs := &banktest.Observer{}
			srv := httptest.NewServer(&paygov.ConfirmHandler{ClientID: contractClient, Key2: contractKey2, Settler: rec, Observer: obs})
			defer srv.Close()
			var body []byte
			if s, ok := tt.body.(string); ok {
				body = []byte(s)
			} else {
				body, _ = json.Marshal(tt.body)
			}
			resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var rep paygov.ConfirmationReply
			if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rep) != nil {
				t.Fatalf("HTTP %d, want 200 with return_code", resp.StatusCode)
			}
			if rep.ReturnCode != tt.want || (tt.msg != "" && rep.ReturnMsg != tt.msg) {
				t.Fatalf("answer %+v, want return_code %d %q", rep, tt.want, tt.msg)
			}
			got := rec.Settlements()
			if tt.settled != (len(got) == 1) {
				t.Fatalf("settlements %+v, want settled=%v", got, tt.settled)
			}
			if tt.settled && (got[0].Amount != 150000 || got[0].Outcome != bank.OutcomePaid || got[0].ProviderTransactionID != "PG2501101452110001") {
				t.Errorf("settlement %+v", got[0])
			}
			if tt.reason != "" && obs.Count(bank.EndpointPayGovConfirm+"/"+tt.reason) != 1 {
				t.Errorf("not counted under %s: %+v", tt.reason, obs.Rejected)
			}
		})
	}
}

type bills struct {
	status bank.BillStatus
	err    error
}

func (b bills) PayableBill(_ context.Context, provider, code string) (bank.Bill, bank.BillStatus, error) {
	p := banktest.NewPayment(150000)
	p.DossierCode = code
	return bank.Bill{Payment: p}, b.status, b.err
}

func TestBillLookup(t *testing.T) {
	t.Parallel()
	c, _, _ := newDialect(t, &banktest.Recorder{}, nil, &banktest.Observer{})
	at := time.Date(2025, 1, 10, 7, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		bills  bank.Bills
		nets   []netip.Prefix
		body   string
		want   int
		inBody []string
		absent []string
	}{
		{name: "payable", bills: bills{status: bank.BillPayable}, body: `{"MaHoSo":"000.00.20.H37-250101-0001"}`, want: 1,
			inBody: []string{`"MaTraCuuTT":"000.00.20.H37-250101-000120250110143000"`, `"SoTien":150000`, `"HoTenNguoiNop":"Nguyễn Văn A"`, `"transaction_id":"`, `"DiaChiNguoiNop":""`},
			absent: []string{"020123456789"}},
		{name: "nothing to pay", bills: bills{status: bank.BillNothingToPay}, body: `{"MaHoSo":"000.00.20.H37-250101-0001"}`, want: 0},
		{name: "unknown dossier", bills: bills{status: bank.BillUnknownDossier}, body: `{"MaHoSo":"000.00.20.H37-250101-0009"}`, want: -1},
		{name: "no dossier code", bills: bills{status: bank.BillPayable}, body: `{}`, want: -1},
		{name: "dossier code with spaces", bills: bills{status: bank.BillPayable}, body: `{"MaHoSo":"000 001"}`, want: -1},
		{name: "caller outside the allowed networks", bills: bills{status: bank.BillPayable}, nets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			body: `{"MaHoSo":"000.00.20.H37-250101-0001"}`, want: -1, absent: []string{"MaTraCuuTT"}},
		{name: "caller inside the allowed networks", bills: bills{status: bank.BillPayable}, nets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			body: `{"MaHoSo":"000.00.20.H37-250101-0001"}`, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&paygov.BillHandler{Client: c, Bills: tt.bills, AllowedNets: tt.nets, Observer: &banktest.Observer{},
				Now: func() time.Time { return at }})
			defer srv.Close()
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var raw bytes.Buffer
			_, _ = raw.ReadFrom(resp.Body)
			var rep paygov.BillLookupReply
			if err := json.Unmarshal(raw.Bytes(), &rep); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("HTTP %d %s", resp.StatusCode, raw.String())
			}
			if rep.ErrorCode != tt.want {
				t.Fatalf("error_code %d, want %d: %s", rep.ErrorCode, tt.want, raw.String())
			}
			for _, s := range tt.inBody {
				if !strings.Contains(raw.String(), s) {
					t.Errorf("answer lacks %s: %s", s, raw.String())
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(raw.String(), s) {
					t.Errorf("answer carries %s: %s", s, raw.String())
				}
			}
		})
	}
}
