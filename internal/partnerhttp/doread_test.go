package partnerhttp_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/sony/gobreaker/v2"

	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

// postRead calls operation as a POST of /operation through DoRead and returns a copy of the
// body read was handed, and whether read ran.
func postRead(t *testing.T, c *partnerhttp.Client, operation string) (body string, called bool, err error) {
	t.Helper()
	err = c.DoRead(t.Context(), operation, func(r *resty.Request) (*resty.Response, error) {
		return r.SetBody([]byte(`{"q":1}`)).Post("/" + operation)
	}, func(b []byte) error {
		called = true
		body = string(b)
		return nil
	})
	return body, called, err
}

func writeBody(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// TestDoReadHandsOverTheBody: a 2xx answer's body reaches read whole, call after call on pooled
// buffers (a shorter answer after a longer one carries nothing of it), and the call is recorded
// once as ok.
func TestDoReadHandsOverTheBody(t *testing.T) {
	t.Parallel()
	p := newFakePartner(t)
	rec := &recorder{}
	c := newClient(t, p, partnerhttp.Config{}, partnerhttp.WithObserver(rec))
	long := `{"error_code":"00","result":[` + strings.Repeat(`{"MaHoSo":"H37-0001"},`, 300) + `{}]}`
	for i, want := range []string{long, `{"error_code":0}`, `{"error_code":"00","result":[]}`, ``} {
		p.answerWith("/sync", writeBody(http.StatusOK, want))
		got, called, err := postRead(t, c, "sync")
		if err != nil || !called {
			t.Fatalf("call %d: error %v, read called %v", i, err, called)
		}
		if got != want {
			t.Fatalf("call %d: read got %d bytes %.60q, want %d bytes %.60q", i, len(got), got, len(want), want)
		}
	}
	want := slices.Repeat([]call{{"sync", partnerhttp.OutcomeOK}}, 4)
	if got := rec.outcomes(); !slices.Equal(got, want) {
		t.Errorf("recorded %+v, want %+v", got, want)
	}
}

// TestDoReadReturnsReadsError: read's error comes back as it is, and it is the caller's verdict on
// the content, not a partner failure: the call was recorded ok and the breaker stays closed.
func TestDoReadReturnsReadsError(t *testing.T) {
	t.Parallel()
	p := newFakePartner(t)
	rec := &recorder{}
	c := newClient(t, p, partnerhttp.Config{BreakerFailures: 1}, partnerhttp.WithObserver(rec))
	p.answerWith("/sync", writeBody(http.StatusOK, `{"error_code":"99"}`))
	verdict := errors.New("adapter said 99")
	for range 3 {
		err := c.DoRead(t.Context(), "sync", func(r *resty.Request) (*resty.Response, error) {
			return r.Post("/sync")
		}, func([]byte) error { return verdict })
		if err != verdict {
			t.Fatalf("error %v, want read's error as it is", err)
		}
	}
	if got := stateOf(c, "sync"); got != gobreaker.StateClosed {
		t.Errorf("breaker %v, want closed", got)
	}
	if got, want := rec.outcomes(), slices.Repeat([]call{{"sync", partnerhttp.OutcomeOK}}, 3); !slices.Equal(got, want) {
		t.Errorf("recorded %+v, want %+v", got, want)
	}
}

// TestDoReadClassifiesAsDo: an answer outside 2xx is the *failure.StatusError Do returns, read is
// not called, and server errors trip the endpoint's breaker as through Do.
func TestDoReadClassifiesAsDo(t *testing.T) {
	t.Parallel()
	p := newFakePartner(t)
	rec := &recorder{}
	c := newClient(t, p, partnerhttp.Config{BreakerFailures: 2}, partnerhttp.WithObserver(rec))
	for _, status := range []int{http.StatusUnprocessableEntity, http.StatusBadGateway, http.StatusServiceUnavailable} {
		p.answerWith("/sync", writeBody(status, `{"error_code":"99","message":"Nguyễn Văn A"}`))
		_, called, err := postRead(t, c, "sync")
		var se *failure.StatusError
		if !errors.As(err, &se) || se.StatusCode != status || se.Operation != "sync" || se.Partner != testPartner {
			t.Fatalf("answer %d: error %v, want its *failure.StatusError", status, err)
		}
		if called {
			t.Fatalf("answer %d: read was called", status)
		}
		if strings.Contains(err.Error(), "Nguyễn") {
			t.Fatalf("error %q quotes the body", err)
		}
	}
	if got := stateOf(c, "sync"); got != gobreaker.StateOpen {
		t.Fatalf("breaker %v after two server errors in a row, want open", got)
	}
	_, called, err := postRead(t, c, "sync")
	if !errors.Is(err, partnerhttp.ErrBreakerOpen) || called {
		t.Fatalf("error %v (read called %v), want the open breaker's refusal", err, called)
	}
	want := []call{{"sync", partnerhttp.OutcomePermanent}, {"sync", partnerhttp.OutcomeTransient},
		{"sync", partnerhttp.OutcomeTransient}, {"sync", partnerhttp.OutcomeBreakerOpen}}
	if got := rec.outcomes(); !slices.Equal(got, want) {
		t.Errorf("recorded %+v, want %+v", got, want)
	}
}

// TestDoReadBodyThatNeverArrivesIsAPartnerFailure: DoRead reads the body itself, within the
// breaker and the client's timeout, so a body cut short or stalled fails the call as transient
// and counts against the breaker, as resty's own read did through Do.
func TestDoReadBodyThatNeverArrivesIsAPartnerFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request)
	}{
		{name: "cut short", answer: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"error_code":`))
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
		{name: "stalled past the timeout", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"error_code":`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newFakePartner(t)
			rec := &recorder{}
			c := newClient(t, p, partnerhttp.Config{BreakerFailures: 1, Timeout: 300 * time.Millisecond}, partnerhttp.WithObserver(rec))
			p.answerWith("/sync", tt.answer)
			start := time.Now()
			_, called, err := postRead(t, c, "sync")
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("the call took %s: the client's timeout of 300ms did not bound the body", took)
			}
			if err == nil || called {
				t.Fatalf("error %v, read called %v: want a failed call", err, called)
			}
			if got := failure.Classify(err); got != failure.Transient {
				t.Errorf("classified %s, want transient", got)
			}
			if got := stateOf(c, "sync"); got != gobreaker.StateOpen {
				t.Errorf("breaker %v, want open: the failure counts against the partner", got)
			}
			if got, want := rec.outcomes(), []call{{"sync", partnerhttp.OutcomeTransient}}; !slices.Equal(got, want) {
				t.Errorf("recorded %+v, want %+v", got, want)
			}
		})
	}
}

// TestDoReadGunzipsAndLimitsAsResty: DoRead reads the body as resty would have: a body gzipped
// on the caller's own Accept-Encoding arrives unzipped, and the client's ResponseBodyLimit holds.
func TestDoReadGunzipsAndLimitsAsResty(t *testing.T) {
	t.Parallel()
	p := newFakePartner(t)
	c := newClient(t, p, partnerhttp.Config{})
	const plain = `{"error_code":"00","result":[]}`
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(plain))
	_ = zw.Close()
	p.answerWith("/gz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(zipped.Len()))
		_, _ = w.Write(zipped.Bytes())
	})
	var got string
	err := c.DoRead(t.Context(), "gz", func(r *resty.Request) (*resty.Response, error) {
		return r.SetHeader("Accept-Encoding", "gzip").Get("/gz")
	}, func(b []byte) error { got = string(b); return nil })
	if err != nil || got != plain {
		t.Fatalf("read %q, error %v; want %q", got, err, plain)
	}

	c.Resty().SetResponseBodyLimit(len(plain) - 1)
	p.answerWith("/big", writeBody(http.StatusOK, plain))
	_, called, err := postRead(t, c, "big")
	if !errors.Is(err, resty.ErrResponseBodyTooLarge) || called {
		t.Fatalf("error %v (read called %v), want resty.ErrResponseBodyTooLarge", err, called)
	}
	c.Resty().SetResponseBodyLimit(len(plain))
	if got, _, err := postRead(t, c, "big"); err != nil || got != plain {
		t.Fatalf("at the limit: read %q, error %v", got, err)
	}
}
