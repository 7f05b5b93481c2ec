package vnpay

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
)

// benchIPN is a typical IPN query string, signed with secret.
func benchIPN(b testing.TB, secret string) string {
	b.Helper()
	n := IPN{TmnCode: "DEMOTMN1", Amount: 150000, BankCode: "NCB", BankTranNo: "VNP14226112", CardType: "ATM",
		OrderInfo: "Thanh toan phi ho so JMR4ZQ4XR6", PayDate: time.Date(2026, 11, 26, 20, 31, 36, 0, time.UTC),
		ResponseCode: "00", TransactionNo: "14226112", TransactionStatus: "00", TxnRef: "JMR4ZQ4XR6"}
	p := n.Params()
	p.Set(ParamSecureHash, Sign(secret, p))
	return p.Encode()
}

// BenchmarkVerifyIPN is the IPN handler's check of an IPN: the query parsed, the signature
// verified, the fields read.
func BenchmarkVerifyIPN(b *testing.B) {
	const secret = "DEMOVNPAYSECRET0123456789ABCDEF"
	raw := benchIPN(b, secret)
	b.ReportAllocs()
	for b.Loop() {
		params, err := url.ParseQuery(raw)
		if err != nil || !Verify(secret, params) {
			b.Fatal("IPN does not verify")
		}
		if _, err := ParseIPN(params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the signature check alone, on a parsed query: it allocates nothing.
func BenchmarkVerify(b *testing.B) {
	const secret = "DEMOVNPAYSECRET0123456789ABCDEF"
	params, err := url.ParseQuery(benchIPN(b, secret))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !Verify(secret, params) {
			b.Fatal("IPN does not verify")
		}
	}
}

// benchSettler answers every settlement with one verdict, as the state machine would.
type benchSettler struct{ res bank.Result }

func (s benchSettler) Settle(context.Context, bank.Settlement) (bank.Result, error) {
	return s.res, nil
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark counts the handler's
// own allocations.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkIPNHandler is the IPN handler end to end on a settler without I/O: first IPNs
// (each a payment of its own, applied), repeats of one (already settled) and a forged one
// (refused, logged).
func BenchmarkIPNHandler(b *testing.B) {
	const secret = "DEMOVNPAYSECRET0123456789ABCDEF"
	raw := benchIPN(b, secret)
	forged := []byte(raw)
	i := strings.Index(raw, ParamSecureHash+"=") + len(ParamSecureHash) + 1
	forged[i] ^= 1
	for _, c := range []struct {
		name  string
		query func(i int) string
		res   bank.Result
	}{
		{"first", nil, bank.Applied},
		{"repeat", func(int) string { return raw }, bank.AlreadySettled},
		{"forged", func(int) string { return string(forged) }, bank.Applied},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := &IPNHandler{TmnCode: "DEMOTMN1", Secret: secret, Settler: benchSettler{c.res}, Observer: &banktest.Observer{},
				Log: slog.New(slog.DiscardHandler)}
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				q := raw
				if c.query == nil {
					p, _ := url.ParseQuery(raw)
					p.Set("vnp_TxnRef", fmt.Sprintf("B%09d", i))
					p.Del(ParamSecureHash)
					p.Set(ParamSecureHash, Sign(secret, p))
					q = p.Encode()
				} else {
					q = c.query(i)
				}
				reqs[i] = httptest.NewRequest(http.MethodGet, "/v1/callbacks/vnpay/ipn?"+q, nil)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.ServeHTTP(w, reqs[i])
			}
		})
	}
}
