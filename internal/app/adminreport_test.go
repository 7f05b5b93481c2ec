package app_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
)

// adminGet reads the admin API's path as a T; the test fails (naming what) unless the answer is
// 200 with a body that decodes. It returns the body too, for messages.
func adminGet[T any](t *testing.T, gw *apptest.Gateway, path, what string) (T, []byte) {
	t.Helper()
	var v T
	code, body := apptest.Do(t, http.MethodGet, gw.Admin+path, config.DemoAdminToken, "", "")
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil {
		t.Fatalf("%s: %d %s", what, code, body)
	}
	return v, body
}

// runDayReport runs a daily job through the admin API (POST path) and checks the stored report
// (GET path) is the one answered; what names the run in failures.
func runDayReport[R any](t *testing.T, gw *apptest.Gateway, path, what string) R {
	t.Helper()
	code, raw := apptest.Do(t, http.MethodPost, gw.Admin+path, config.DemoAdminToken, "", "")
	if code != http.StatusOK {
		t.Fatalf("%s: %d %s", what, code, raw)
	}
	var rep R
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	code, stored := apptest.Do(t, http.MethodGet, gw.Admin+path, config.DemoAdminToken, "", "")
	if code != http.StatusOK || string(stored) != string(raw) {
		t.Fatalf("the stored report differs from the run's: %d\n%s\n%s", code, stored, raw)
	}
	return rep
}

// paid creates a payment with provider and pays it through its sandbox, waiting until the
// gateway has it paid.
func paid(t *testing.T, gw *apptest.Gateway, key, provider string, amount int64) map[string]any {
	t.Helper()
	p := createPayment(t, gw, key, provider, amount)
	citizenPays(t, gw, p, true)
	waitStatus(t, gw, p["payment_id"].(string), "paid")
	return p
}
