package faults

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestInjector(t *testing.T) {
	t.Parallel()
	var inj Injector
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(inj.Wrap(ok))
	defer srv.Close()
	ctl := httptest.NewServer(&inj)
	defer ctl.Close()

	get := func() (int, error) {
		resp, err := http.Get(srv.URL)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, ctl.URL, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code, err := get(); err != nil || code != http.StatusNoContent {
		t.Fatalf("healthy: %d %v", code, err)
	}
	if c := put(`{"error_rate":1,"status":502}`); c != http.StatusOK {
		t.Fatalf("put: %d", c)
	}
	if code, _ := get(); code != http.StatusBadGateway {
		t.Fatalf("error_rate 1: got %d", code)
	}
	if c := put(`{"down":true}`); c != http.StatusOK {
		t.Fatalf("put: %d", c)
	}
	if _, err := get(); err == nil {
		t.Fatal("down: expected a connection error")
	}
	for _, bad := range []string{`{"error_rate":2}`, `{"status":200}`, `{"latency_ms":-1}`, `{"unknown":1}`, `nope`} {
		if c := put(bad); c != http.StatusBadRequest {
			t.Fatalf("bad settings %s: got %d", bad, c)
		}
	}
	if !inj.Get().Down {
		t.Fatal("rejected settings must not change the current ones")
	}
}
