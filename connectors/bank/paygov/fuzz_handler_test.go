package paygov_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/paygov"
	"github.com/egov-vn/gateway/internal/jsonstrict"
)

// FuzzConfirmHandler posts arbitrary bodies to the confirmation handler, as they came and once
// more re-signed under key 2 (so the fuzzer reaches the checks behind the checksum). The answer
// is always 200 with return_code 0 or -1, and the Settler sees a confirmation only when its
// check_sum verifies, with the amount and transaction it names. Seeds live in
// testdata/fuzz/FuzzConfirmHandler.
func FuzzConfirmHandler(f *testing.F) {
	for _, amount := range []string{"150000", "-1", "1.5", "99999999999999999999", "1e5"} {
		b, _ := json.Marshal(signedConfirmation(amount))
		f.Add(string(b))
	}
	f.Add(`{"transaction_id":"LS7Q2K9M00","transaction_id":"OTHER00000"}`)
	f.Add(`{"trans_amount":150000,"command":["PAY"]}`)
	f.Fuzz(func(t *testing.T, body string) {
		checkConfirm(t, body)
		var c paygov.ConfirmationCallback
		if json.Unmarshal([]byte(body), &c) == nil {
			c.ClientID = ""
			c.Sign(contractKey2, contractClient)
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatalf("encoding a decoded confirmation: %v", err)
			}
			checkConfirm(t, string(b))
		}
	})
}

func checkConfirm(t *testing.T, body string) {
	t.Helper()
	rec := &banktest.Recorder{Result: bank.Applied}
	h := &paygov.ConfirmHandler{ClientID: contractClient, Key2: contractKey2, Settler: rec, Observer: &banktest.Observer{}}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/callbacks/paygov/confirm", strings.NewReader(body)))
	var reply paygov.ConfirmationReply
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &reply) != nil ||
		(reply.ReturnCode != paygov.ReturnOK && reply.ReturnCode != paygov.ReturnError) {
		t.Fatalf("answer %d %q is not a confirmation reply", w.Code, w.Body.String())
	}
	got := rec.Settlements()
	var c paygov.ConfirmationCallback
	strict := jsonstrict.Check([]byte(body), 8)
	decoded := len(body) <= 64<<10 && (strict == nil || errors.Is(strict, jsonstrict.ErrSyntax)) && json.Unmarshal([]byte(body), &c) == nil
	if !decoded || !c.Verify(contractKey2, contractClient) || (c.ClientID != "" && string(c.ClientID) != contractClient) {
		if len(got) != 0 || reply.ReturnCode != paygov.ReturnError {
			t.Fatalf("an unverified confirmation answered %d and reached the Settler %d times", reply.ReturnCode, len(got))
		}
		return
	}
	amount, err := c.Amount()
	if err != nil || amount <= 0 || c.TransactionID == "" || c.Command != paygov.CommandPay {
		if len(got) != 0 {
			t.Fatal("a confirmation without a positive amount, a transaction or the PAY command reached the Settler")
		}
		return
	}
	if len(got) != 1 || got[0].Amount != amount || amount <= 0 || got[0].Reference != string(c.TransactionID) ||
		(got[0].Outcome == bank.OutcomePaid) != c.Paid() {
		t.Fatalf("settlements %+v do not say what %+v says", got, c)
	}
}

// lookups is a Bills that records the dossier codes it is asked about and knows none.
type lookups struct {
	mu    sync.Mutex
	codes []string
}

func (l *lookups) PayableBill(_ context.Context, _, code string) (bank.Bill, bank.BillStatus, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.codes = append(l.codes, code)
	return bank.Bill{}, bank.BillUnknownDossier, nil
}

// FuzzBillHandler posts arbitrary bodies to the bill look-up. The answer is always 200 with an
// error_code of -1, 0 or 1, and only a plain ASCII dossier code of at most 64 characters reaches
// the store. Seeds live in testdata/fuzz/FuzzBillHandler.
func FuzzBillHandler(f *testing.F) {
	f.Add(`{"MaHoSo":"000.00.37.H37-251126-0001"}`)
	f.Add(`{"MaHoSo":"000.00.37.H37-251126-0001\u200b"}`)
	f.Add(`{"MaHoSo":"../../admin"}`)
	f.Add(`{"MaHoSo":1}`)
	f.Fuzz(func(t *testing.T, body string) {
		l := &lookups{}
		h := &paygov.BillHandler{Bills: l, Observer: &banktest.Observer{}}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/callbacks/paygov/bill", strings.NewReader(body)))
		var reply paygov.BillLookupReply
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &reply) != nil {
			t.Fatalf("answer %d %q is not a bill reply", w.Code, w.Body.String())
		}
		if reply.ErrorCode != paygov.BillError {
			t.Fatalf("error_code %d for a dossier nobody knows", reply.ErrorCode)
		}
		for _, code := range l.codes {
			if code == "" || len(code) > 64 || strings.IndexFunc(code, func(r rune) bool {
				return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-')
			}) >= 0 {
				t.Fatalf("dossier code %q reached the store", code)
			}
		}
	})
}

// TestConfirmationAmbiguousJSON: a confirmation whose check_sum verifies for the amount
// encoding/json reads, but which carries the amount twice (another parser reads the other), is
// refused, as are a zero amount and a missing
// transaction_id even when their check_sum verifies; nothing reaches the Settler.
func TestConfirmationAmbiguousJSON(t *testing.T) {
	t.Parallel()
	signed := func(amount, ref string) string {
		c := paygov.ConfirmationCallback{TransactionID: paygov.Text(ref), TransactionCode: "PG1", TransAmount: paygov.Text(amount),
			PaymentFee: "0", Command: paygov.CommandPay, AdditionFee: "0", Version: paygov.Version, Status: paygov.StatusPaid}
		c.Sign(contractKey2, contractClient)
		b, _ := json.Marshal(c)
		return string(b)
	}
	// Signed for 150000, which encoding/json reads (the last key); a parser that keeps the first
	// key reads 1.
	full := signed("150000", "LS7Q2K9M00")
	for name, body := range map[string]string{
		"amount twice":      strings.Replace(full, `"trans_amount":"150000"`, `"trans_amount":"1","trans_amount":"150000"`, 1),
		"amount other case": strings.Replace(full, `"trans_amount":"150000"`, `"TRANS_AMOUNT":"1","trans_amount":"150000"`, 1),
		"zero amount":       signed("0", "LS7Q2K9M00"),
		"no transaction":    signed("150000", ""),
	} {
		rec := &banktest.Recorder{Result: bank.Applied}
		h := &paygov.ConfirmHandler{ClientID: contractClient, Key2: contractKey2, Settler: rec, Observer: &banktest.Observer{}}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/callbacks/paygov/confirm", strings.NewReader(body)))
		var reply paygov.ConfirmationReply
		if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil || reply.ReturnCode != paygov.ReturnError || len(rec.Settlements()) != 0 {
			t.Errorf("%s: %s, %d settlements", name, w.Body.String(), len(rec.Settlements()))
		}
	}
}
