package vnpay_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
)

// TestIPNRepeatOfSettled: a repeat of an IPN the state machine settled (applied, or already
// settled so) is answered 02 and counted as already settled without asking the state machine
// again; any other IPN, a forged copy of the repeat and a repeat of an IPN the state machine
// refused or could not answer still go to it.
func TestIPNRepeatOfSettled(t *testing.T) {
	t.Parallel()
	for _, first := range []struct {
		res  bank.Result
		code string
	}{{bank.Applied, "00"}, {bank.AlreadySettled, "02"}} {
		t.Run(first.res.String(), func(t *testing.T) {
			t.Parallel()
			rec := &banktest.Recorder{Result: first.res}
			obs := &banktest.Observer{}
			srv := httptest.NewServer(&vnpay.IPNHandler{TmnCode: contractTmn, Secret: contractSecret, Settler: rec, Observer: obs})
			defer srv.Close()
			q := signedIPN(contractSecret, nil)
			if got := ipnCode(t, srv.URL, q); got != first.code {
				t.Fatalf("first IPN: RspCode %s, want %s", got, first.code)
			}
			rec.Result = bank.Applied // what the state machine would no longer say: the repeat must not ask it
			for range 3 {
				if got := ipnCode(t, srv.URL, q); got != "02" {
					t.Fatalf("repeat: RspCode %s, want 02", got)
				}
			}
			if n := len(rec.Settlements()); n != 1 {
				t.Fatalf("the state machine was asked %d times, want once", n)
			}
			want := 3
			if first.res == bank.AlreadySettled {
				want = 4
			}
			if n := obs.Count(bank.EndpointVNPayIPN + "/already_settled"); n != want {
				t.Errorf("already settled counted %d times, want %d: %+v", n, want, obs.Accepted)
			}
			// A forged copy: the repeat's signature over another amount.
			p, _ := url.ParseQuery(q)
			p.Set("vnp_Amount", "99900")
			if got := ipnCode(t, srv.URL, p.Encode()); got != "97" {
				t.Fatalf("forged copy: RspCode %s, want 97", got)
			}
			// Another IPN of the same payment (another transaction number) is the state machine's.
			other := signedIPN(contractSecret, func(p url.Values) { p.Set("vnp_TransactionNo", "14226113") })
			if got := ipnCode(t, srv.URL, other); got != "00" {
				t.Fatalf("another IPN: RspCode %s, want 00 from the state machine", got)
			}
			if n := len(rec.Settlements()); n != 2 {
				t.Fatalf("the state machine was asked %d times, want twice", n)
			}
		})
	}
	for _, res := range []bank.Result{bank.NotFound, bank.AmountMismatch, bank.Conflict, bank.Closed} {
		t.Run("after "+res.String(), func(t *testing.T) {
			t.Parallel()
			rec := &banktest.Recorder{Result: res}
			srv := httptest.NewServer(&vnpay.IPNHandler{TmnCode: contractTmn, Secret: contractSecret, Settler: rec, Observer: &banktest.Observer{}})
			defer srv.Close()
			q := signedIPN(contractSecret, nil)
			for range 2 {
				ipnCode(t, srv.URL, q)
			}
			if n := len(rec.Settlements()); n != 2 {
				t.Fatalf("the state machine was asked %d times, want twice", n)
			}
		})
	}
	t.Run("after the store failed", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(&vnpay.IPNHandler{TmnCode: contractTmn, Secret: contractSecret, Settler: failingSettler{}, Observer: &banktest.Observer{}})
		defer srv.Close()
		for range 2 {
			if got := ipnCode(t, srv.URL, signedIPN(contractSecret, nil)); got != "99" {
				t.Fatalf("RspCode %s, want 99", got)
			}
		}
	})
}

// TestIPNAnswerBytes: the answers written from their encoded form are what json.Encoder wrote.
func TestIPNAnswerBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		settle bank.Result
		query  string
		want   string
	}{
		{bank.Applied, signedIPN(contractSecret, nil), "00"},
		{bank.NotFound, signedIPN(contractSecret, nil), "01"},
		{bank.AlreadySettled, signedIPN(contractSecret, nil), "02"},
		{bank.AmountMismatch, signedIPN(contractSecret, nil), "04"},
		{bank.Applied, "vnp_TxnRef=X", "97"},
		{bank.Applied, signedIPN(contractSecret, func(p url.Values) { p.Del("vnp_ResponseCode") }), "99"},
	} {
		h := &vnpay.IPNHandler{TmnCode: contractTmn, Secret: contractSecret, Settler: &banktest.Recorder{Result: tc.settle}, Observer: &banktest.Observer{}}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ipn?"+tc.query, nil))
		var want bytes.Buffer
		_ = json.NewEncoder(&want).Encode(vnpay.Reply(tc.want))
		if w.Body.String() != want.String() {
			t.Errorf("answer %q, want %q", w.Body.String(), want.String())
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || w.Code != http.StatusOK {
			t.Errorf("HTTP %d %s", w.Code, ct)
		}
	}
}
