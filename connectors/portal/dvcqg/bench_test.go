package dvcqg_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/egov-vn/gateway/connectors/portal/dvcqg"
	"github.com/egov-vn/gateway/connectors/portal/portaltest"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

// Canned adapter answers, as the sandbox words them: a session at login, an empty success
// otherwise (so TraCuuHoSo says the dossier is new).
var (
	benchLogin = []byte(`{"session":"bench-session","error_code":0,"message":"Thành công"}`)
	benchOK    = []byte(`{"error_code":"00","message":"Thành công","result":[]}`)
)

func benchAnswer(path string) []byte {
	if path == "/auth" {
		return benchLogin
	}
	return benchOK
}

// cannedTransport answers in memory, so a benchmark on it measures the client alone.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body := benchAnswer(r.URL.Path)
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}, nil
}

// benchDialect builds the dialect, with the production Prometheus observer, either on a loopback
// adapter (an httptest server: the server's and the network's cost are part of the figure, the
// same before and after a change to the client) or on an in-memory transport (the client alone).
func benchDialect(b testing.TB, loopback bool) *dvcqg.Client {
	b.Helper()
	baseURL := "http://adapter.invalid"
	if loopback {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write(benchAnswer(r.URL.Path))
		}))
		b.Cleanup(srv.Close)
		baseURL = srv.URL
	}
	hc, err := partnerhttp.New(partnerhttp.Config{Partner: "dvcqg", BaseURL: baseURL, Timeout: 5 * time.Second},
		partnerhttp.WithObserver(observability.NewMetrics(prometheus.NewRegistry())))
	if err != nil {
		b.Fatal(err)
	}
	if !loopback {
		hc.Resty().SetTransport(cannedTransport{})
	}
	c, err := dvcqg.New(testConfig(), hc)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchBoth runs call on the in-memory transport and on the loopback adapter.
func benchBoth(b *testing.B, call func(c *dvcqg.Client) error) {
	for _, mode := range []struct {
		name     string
		loopback bool
	}{{"memory", false}, {"loopback", true}} {
		b.Run(mode.name, func(b *testing.B) {
			c := benchDialect(b, mode.loopback)
			b.ReportAllocs()
			for b.Loop() {
				if err := call(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUpsertDossier is TraCuuHoSo then DongBoHoSoMC for one dossier (two calls).
func BenchmarkUpsertDossier(b *testing.B) {
	d := portaltest.Dossier("H37-BENCH-0001")
	benchBoth(b, func(c *dvcqg.Client) error { return c.UpsertDossier(b.Context(), d) })
}

// BenchmarkUpdateDossier is one DongBoHoSoMC call.
func BenchmarkUpdateDossier(b *testing.B) {
	d := portaltest.Dossier("H37-BENCH-0001")
	benchBoth(b, func(c *dvcqg.Client) error { return c.UpdateDossier(b.Context(), d) })
}

// BenchmarkAddProgress is one CapNhatTienDoHoSoMC call.
func BenchmarkAddProgress(b *testing.B) {
	s := portaltest.Step("H37-BENCH-0001", "Thẩm định hồ sơ lần "+strconv.Itoa(1))
	benchBoth(b, func(c *dvcqg.Client) error { return c.AddProgress(b.Context(), s) })
}
