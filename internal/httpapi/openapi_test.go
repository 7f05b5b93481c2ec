package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/egov-vn/gateway/api"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/httpapi"
	"github.com/egov-vn/gateway/internal/vntime"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	if err != nil {
		t.Fatalf("loading OpenAPI document: %v", err)
	}
	return doc
}

// TestServerRoutesMatchOpenAPI fails when the server serves a route the OpenAPI file does not
// describe, or the file describes as served (no `x-implemented: false`) a route the server lacks.
func TestServerRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			implemented := true
			if v, ok := op.Extensions["x-implemented"]; ok {
				if b, ok := v.(bool); ok && !b {
					implemented = false
				}
			}
			documented[method+" "+path] = implemented
		}
	}
	served := map[string]bool{}
	for _, r := range append(append([]string{}, httpapi.APIRoutes...), httpapi.AdminRoutes...) {
		served[r] = true
		impl, ok := documented[r]
		if !ok {
			t.Errorf("the server serves %s, which the OpenAPI file does not describe", r)
		} else if !impl {
			t.Errorf("the server serves %s, which the OpenAPI file marks x-implemented: false", r)
		}
	}
	var missing []string
	for r, impl := range documented {
		if impl && !served[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	for _, r := range missing {
		t.Errorf("the OpenAPI file describes %s as served, but the server has no such route", r)
	}
}

// TestResponsesMatchOpenAPI validates real answers of a running gateway against the schemas.
func TestResponsesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	doc.Servers = openapi3.Servers{{URL: "/"}}
	for _, p := range doc.Paths.Map() {
		for _, op := range p.Operations() {
			op.Servers = nil
		}
		p.Servers = nil
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("building router from OpenAPI: %v", err)
	}
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	event := `{"specversion":"1.0","id":"oa-1","source":"/onestop","type":"vn.gov.dossier.status_changed","subject":"D-1",` +
		`"data":{"version":1,"dossier":{"MaHoSo":"D-1","MaTTHC":"1.011442","LoaiDoiTuong":1,"TrangThaiHoSo":2}}}`
	today := time.Now().In(vntime.Zone)
	day, tomorrow := today.Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly)
	tests := []struct {
		name, method, base, path, token, ct, body string
		want                                      int
	}{
		{"accepted", http.MethodPost, gw.API, "/v1/events", config.DemoClientToken, "application/cloudevents+json", event, 202},
		{"duplicate", http.MethodPost, gw.API, "/v1/events", config.DemoClientToken, "application/cloudevents+json", event, 200},
		{"batch", http.MethodPost, gw.API, "/v1/events", config.DemoClientToken, "application/cloudevents-batch+json", "[" + event + `,{"id":"x"}]`, 202},
		{"invalid", http.MethodPost, gw.API, "/v1/events", config.DemoClientToken, "application/cloudevents+json", `{"id":1}`, 400},
		{"unauthorized", http.MethodPost, gw.API, "/v1/events", "", "application/cloudevents+json", event, 401},
		{"unsupported type", http.MethodPost, gw.API, "/v1/events", config.DemoClientToken, "text/plain", event, 415},
		{"healthz", http.MethodGet, gw.Admin, "/healthz", "", "", "", 200},
		{"readyz", http.MethodGet, gw.Admin, "/readyz", "", "", "", 200},
		{"dead letters", http.MethodGet, gw.Admin, "/admin/v1/deadletters", config.DemoAdminToken, "", "", 200},
		{"dead letter not found", http.MethodGet, gw.Admin, "/admin/v1/deadletters/1-0", config.DemoAdminToken, "", "", 404},
		{"dead letters bad limit", http.MethodGet, gw.Admin, "/admin/v1/deadletters?limit=0", config.DemoAdminToken, "", "", 400},
		{"breakers", http.MethodGet, gw.Admin, "/admin/v1/breakers", config.DemoAdminToken, "", "", 200},
		{"pause", http.MethodPost, gw.Admin, "/admin/v1/partners/dvcqg/pause", config.DemoAdminToken, "application/json", `{"reason":"maintenance"}`, 200},
		{"resume", http.MethodPost, gw.Admin, "/admin/v1/partners/dvcqg/resume", config.DemoAdminToken, "", "", 200},
		{"admin without token", http.MethodGet, gw.Admin, "/admin/v1/breakers", "", "", "", 401},
		{"no reconciliation yet", http.MethodGet, gw.Admin, "/admin/v1/reconciliation/" + day, config.DemoAdminToken, "", "", 404},
		{"reconcile today", http.MethodPost, gw.Admin, "/admin/v1/reconciliation/" + day, config.DemoAdminToken, "", "", 200},
		{"reconciliation", http.MethodGet, gw.Admin, "/admin/v1/reconciliation/" + day, config.DemoAdminToken, "", "", 200},
		{"reconcile tomorrow", http.MethodPost, gw.Admin, "/admin/v1/reconciliation/" + tomorrow, config.DemoAdminToken, "", "", 400},
		{"reconciliation bad day", http.MethodGet, gw.Admin, "/admin/v1/reconciliation/2025-02-30", config.DemoAdminToken, "", "", 400},
		{"forged IPN", http.MethodGet, gw.API, "/v1/callbacks/vnpay/ipn?vnp_TxnRef=OA1&vnp_Amount=100&vnp_SecureHash=00", "", "", "", 200},
		{"evidence", http.MethodGet, gw.Admin, "/admin/v1/evidence/" + day, config.DemoAdminToken, "", "", 200},
		{"evidence page", http.MethodGet, gw.Admin, "/admin/v1/evidence/" + day + "?limit=1&cursor=1-0", config.DemoAdminToken, "", "", 200},
		{"evidence verify", http.MethodGet, gw.Admin, "/admin/v1/evidence/" + day + "/verify", config.DemoAdminToken, "", "", 200},
		{"evidence bad day", http.MethodGet, gw.Admin, "/admin/v1/evidence/2025-02-30/verify", config.DemoAdminToken, "", "", 400},
		{"catalogue not loaded", http.MethodGet, gw.API, "/v1/catalog/procedures", config.DemoClientToken, "", "", 503},
		{"mapping before the catalogue", http.MethodPut, gw.Admin, "/admin/v1/catalog/mappings/LS-XD-01", config.DemoAdminToken, "application/json", `{"national_code":"1.011442"}`, 400},
		{"catalogue refresh", http.MethodPost, gw.Admin, "/admin/v1/catalog/refresh", config.DemoAdminToken, "", "", 200},
		{"procedures", http.MethodGet, gw.API, "/v1/catalog/procedures?agency=000.00.37.H37&limit=1", config.DemoClientToken, "", "", 200},
		{"agencies", http.MethodGet, gw.API, "/v1/catalog/agencies?parent=000.00.00.H37", config.DemoClientToken, "", "", 200},
		{"fields", http.MethodGet, gw.API, "/v1/catalog/fields?q=x", config.DemoClientToken, "", "", 200},
		{"catalogue bad limit", http.MethodGet, gw.API, "/v1/catalog/fields?limit=501", config.DemoClientToken, "", "", 400},
		{"mapping", http.MethodPut, gw.Admin, "/admin/v1/catalog/mappings/LS-XD-01", config.DemoAdminToken, "application/json", `{"national_code":"1.011442","reason":"go-live"}`, 200},
		{"mappings", http.MethodGet, gw.Admin, "/admin/v1/catalog/mappings", config.DemoAdminToken, "", "", 200},
		{"mapping deleted", http.MethodDelete, gw.Admin, "/admin/v1/catalog/mappings/LS-XD-01", config.DemoAdminToken, "", "", 200},
		{"mapping gone", http.MethodDelete, gw.Admin, "/admin/v1/catalog/mappings/LS-XD-01", config.DemoAdminToken, "", "", 404},
	}
	for _, tt := range tests {
		code, body := apptest.Do(t, tt.method, tt.base+tt.path, tt.token, tt.ct, tt.body)
		if code != tt.want {
			t.Fatalf("%s: status %d, want %d: %s", tt.name, code, tt.want, body)
		}
		if tt.name == "forged IPN" {
			// The record is appended after the answer: wait for it, so the listing checked below
			// holds a real record.
			apptest.Eventually(t, 5*time.Second, "the IPN in the evidence", func() bool {
				_, b := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/evidence/"+day, config.DemoAdminToken, "", "")
				return strings.Contains(string(b), `"reference":"OA1"`)
			})
		}
		req, _ := http.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		if tt.ct != "" {
			req.Header.Set("Content-Type", tt.ct)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s: %s %s not in the OpenAPI file: %v", tt.name, tt.method, tt.path, err)
		}
		ct := "application/json"
		var probe map[string]any
		if json.Unmarshal(body, &probe) == nil && probe["type"] != nil && probe["title"] != nil {
			ct = "application/problem+json"
		}
		hdr := http.Header{"Content-Type": {ct}}
		err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
			Status: code, Header: hdr, Body: nopCloser{strings.NewReader(string(body))},
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		})
		if err != nil {
			t.Errorf("%s: answer does not match the OpenAPI file: %v\n%s", tt.name, err, body)
		}
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
