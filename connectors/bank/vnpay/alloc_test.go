package vnpay

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/banktest"
)

// TestIPNAllocations bounds the IPN handler's allocations on a forged IPN: its log line reuses
// the query the handler parsed (parsing it again made 41 allocations), and the answer is written
// from its encoded form.
func TestIPNAllocations(t *testing.T) {
	const secret = "DEMOVNPAYSECRET0123456789ABCDEF"
	raw := benchIPN(t, secret)
	forged := []byte(raw)
	forged[strings.Index(raw, ParamSecureHash+"=")+len(ParamSecureHash)+1] ^= 1
	for _, c := range []struct {
		name  string
		query string
		max   float64
	}{{"forged", string(forged), 26}} {
		h := &IPNHandler{TmnCode: "DEMOTMN1", Secret: secret, Settler: benchSettler{bank.AlreadySettled}, Observer: &banktest.Observer{},
			Log: slog.New(slog.DiscardHandler)}
		r := httptest.NewRequest(http.MethodGet, "/v1/callbacks/vnpay/ipn?"+c.query, nil)
		w := &discardWriter{h: http.Header{}}
		if n := testing.AllocsPerRun(200, func() { h.ServeHTTP(w, r) }); n > c.max {
			t.Errorf("%s IPN: %.0f allocations, want at most %.0f", c.name, n, c.max)
		}
	}
}
