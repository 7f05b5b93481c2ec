package vnpay_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
)

// FuzzIPNHandler sends arbitrary query strings to the IPN handler, each as it came and once more
// re-signed with the terminal's secret (so the fuzzer reaches the checks behind the signature).
// The handler always answers 200 with a code VNPay knows, and it hands a settlement to the
// Settler only for parameters that verify and parse, with exactly what they say. Seeds live in
// testdata/fuzz/FuzzIPNHandler.
func FuzzIPNHandler(f *testing.F) {
	f.Add(vectorData + "&vnp_SecureHash=" + vectorHash)
	f.Add(vectorData)
	f.Add("vnp_Amount=-100&vnp_TmnCode=TESTTMN1")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		checkIPNHandler(t, rawQuery)
		params, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		params.Del(vnpay.ParamSecureHash)
		params.Del(vnpay.ParamSecureHashType)
		signed := url.Values{}
		for k, v := range params {
			if len(v) > 0 {
				signed[k] = v[:1]
			}
		}
		signed.Set(vnpay.ParamSecureHash, vnpay.Sign(vectorSecret, signed))
		checkIPNHandler(t, signed.Encode())
	})
}

func checkIPNHandler(t *testing.T, rawQuery string) {
	t.Helper()
	rec := &banktest.Recorder{Result: bank.Applied}
	h := &vnpay.IPNHandler{TmnCode: "TESTTMN1", Secret: vectorSecret, Settler: rec, Observer: &banktest.Observer{}}
	r := httptest.NewRequest(http.MethodGet, "/v1/callbacks/vnpay/ipn", nil)
	r.URL.RawQuery = rawQuery
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", w.Code)
	}
	var reply vnpay.IPNReply
	if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
		t.Fatalf("reply %q is not JSON: %v", w.Body.String(), err)
	}
	if vnpay.Reply(reply.RspCode) != reply {
		t.Fatalf("reply %+v is not one VNPay knows", reply)
	}
	got := rec.Settlements()
	params, perr := url.ParseQuery(rawQuery)
	verified := perr == nil && len(rawQuery) <= 4096 && vnpay.Verify(vectorSecret, params)
	if !verified {
		if len(got) != 0 {
			t.Fatalf("an IPN that does not verify reached the Settler: %q", rawQuery)
		}
		if reply.RspCode != vnpay.RspInvalidChecksum {
			t.Fatalf("unverified IPN answered %s, want 97", reply.RspCode)
		}
		return
	}
	n, err := vnpay.ParseIPN(params)
	if err != nil || n.TmnCode != "TESTTMN1" {
		if len(got) != 0 {
			t.Fatalf("an IPN that does not parse or names another terminal reached the Settler: %q", rawQuery)
		}
		return
	}
	if len(got) != 1 {
		t.Fatalf("a valid IPN reached the Settler %d times, want once", len(got))
	}
	s := got[0]
	if s.Provider != bank.ProviderVNPay || s.Reference != n.TxnRef || s.Amount != n.Amount || s.Amount <= 0 ||
		(s.Outcome == bank.OutcomePaid) != n.Paid() {
		t.Fatalf("settlement %+v does not say what the IPN %+v says", s, n)
	}
	if reply.RspCode != vnpay.RspConfirmed {
		t.Fatalf("an applied IPN answered %s, want 00", reply.RspCode)
	}
}
