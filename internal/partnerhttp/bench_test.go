package partnerhttp_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

// BenchmarkDo is one successful call through the pause switch, the breaker, the Prometheus
// observer and resty, against a loopback partner answering a small JSON body.
func BenchmarkDo(b *testing.B) {
	c, payload := benchClient(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Do(ctx, "lookup_dossier", func(r *resty.Request) (*resty.Response, error) {
			return r.SetHeader("Content-Type", "application/json").SetBody(payload).Post("/integration")
		})
		if err != nil || len(resp.Body()) == 0 {
			b.Fatalf("call: %v", err)
		}
	}
}

// BenchmarkDoRead sends the body as a *bytes.Reader and reads the answer through DoRead, as the
// DVCQG dialect does.
func BenchmarkDoRead(b *testing.B) {
	c, payload := benchClient(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		err := c.DoRead(ctx, "lookup_dossier", func(r *resty.Request) (*resty.Response, error) {
			return r.SetHeader("Content-Type", "application/json").SetBody(bytes.NewReader(payload)).Post("/integration")
		}, func(body []byte) error {
			if len(body) == 0 {
				return errors.New("empty answer")
			}
			return nil
		})
		if err != nil {
			b.Fatalf("call: %v", err)
		}
	}
}

// benchClient is a client with the production observer on a loopback partner, and a body.
func benchClient(b *testing.B) (*partnerhttp.Client, []byte) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"error_code":"00","result":[]}`))
	}))
	b.Cleanup(srv.Close)
	c, err := partnerhttp.New(partnerhttp.Config{Partner: testPartner, BaseURL: srv.URL, Timeout: 5 * time.Second},
		partnerhttp.WithObserver(observability.NewMetrics(prometheus.NewRegistry())))
	if err != nil {
		b.Fatal(err)
	}
	return c, []byte(`{"session":"s1","madonvi":"000.00.00.H37","service":"TraCuuHoSo","MaHoSo":"H37-0001"}`)
}
