package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

const (
	apiServer   = "http://127.0.0.1:8080"
	adminServer = "http://127.0.0.1:9090"
)

// contractOperations is every operation api.md names, on both listeners.
var contractOperations = []string{
	"POST /v1/events",
	"POST /v1/payments",
	"GET /v1/payments/{payment_id}",
	"GET /v1/dossiers/{dossier_code}",
	"GET /v1/callbacks/vnpay/ipn",
	"POST /v1/callbacks/paygov/confirm",
	"POST /v1/callbacks/paygov/bill",
	"POST /v1/callbacks/bank/{bank}/transactions",
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
	"GET /admin/v1/deadletters",
	"GET /admin/v1/deadletters/{id}",
	"DELETE /admin/v1/deadletters/{id}",
	"POST /admin/v1/deadletters/{id}/replay",
	"GET /admin/v1/breakers",
	"POST /admin/v1/partners/{name}/pause",
	"POST /admin/v1/partners/{name}/resume",
	"GET /admin/v1/reconciliation/{date}",
	"POST /admin/v1/reconciliation/{date}",
	"GET /admin/v1/evidence/{date}",
	"GET /admin/v1/evidence/{date}/verify",
	"GET /admin/v1/dossiers/{dossier_code}",
	"GET /admin/v1/sync/drift/{date}",
	"POST /admin/v1/sync/drift/{date}",
	"POST /admin/v1/sync/replay",
	"GET /admin/v1/sync/replay/{job}",
	// Issue 9's catalogues, served read-only to the one-stop system, and the ops-kept mapping.
	"GET /v1/catalog/procedures",
	"GET /v1/catalog/agencies",
	"GET /v1/catalog/fields",
	"GET /admin/v1/catalog/mappings",
	"PUT /admin/v1/catalog/mappings/{local_code}",
	"DELETE /admin/v1/catalog/mappings/{local_code}",
	"POST /admin/v1/catalog/refresh",
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(Spec)
	if err != nil {
		t.Fatalf("loading openapi.yaml: %v", err)
	}
	return doc
}

// operations returns every operation of doc keyed "METHOD /path".
func operations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := make(map[string]*openapi3.Operation)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[method+" "+path] = op
		}
	}
	return ops
}

func isAdminPath(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics" ||
		strings.HasPrefix(path, "/admin/")
}

// jsonValue normalises a value decoded from YAML into what encoding/json would produce, so
// schemas see JSON numbers, strings, arrays and objects only.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshalling example: %v", err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("unmarshalling example: %v", err)
	}
	return out
}

func TestSpecIsValidOpenAPI303(t *testing.T) {
	doc := loadSpec(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if err := doc.Validate(t.Context(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("validating openapi.yaml: %v", err)
	}
}

func TestSpecCoversTheContract(t *testing.T) {
	ops := operations(loadSpec(t))
	var got []string
	for key := range ops {
		got = append(got, key)
	}
	want := slices.Clone(contractOperations)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("operations differ from the contract\n got: %v\nwant: %v", got, want)
	}
	ids := make(map[string]string)
	for key, op := range ops {
		if op.OperationID == "" {
			t.Errorf("%s: no operationId", key)
		}
		if other, dup := ids[op.OperationID]; dup {
			t.Errorf("%s and %s share operationId %q", key, other, op.OperationID)
		}
		ids[op.OperationID] = key
	}
}

func TestServers(t *testing.T) {
	doc := loadSpec(t)
	var urls []string
	for _, s := range doc.Servers {
		urls = append(urls, s.URL)
	}
	if !slices.Equal(urls, []string{apiServer, adminServer}) {
		t.Errorf("servers = %v, want [%s %s]", urls, apiServer, adminServer)
	}
	for path, item := range doc.Paths.Map() {
		var override []string
		for _, s := range item.Servers {
			override = append(override, s.URL)
		}
		if isAdminPath(path) {
			if !slices.Equal(override, []string{adminServer}) {
				t.Errorf("%s: path servers = %v, want only the admin listener %s", path, override, adminServer)
			}
		} else if len(override) != 0 {
			t.Errorf("%s: API path overrides servers with %v; it must use the API listener", path, override)
		}
		for method, op := range item.Operations() {
			if op.Servers != nil && len(*op.Servers) > 0 {
				t.Errorf("%s %s: operation-level servers; keep the listener choice on the path", method, path)
			}
		}
	}
}

func TestSecurity(t *testing.T) {
	doc := loadSpec(t)
	for name, ref := range doc.Components.SecuritySchemes {
		if ref.Value.Type != "http" || ref.Value.Scheme != "bearer" {
			t.Errorf("security scheme %s = %s/%s, want http/bearer", name, ref.Value.Type, ref.Value.Scheme)
		}
	}
	for _, name := range []string{"clientToken", "adminToken"} {
		if doc.Components.SecuritySchemes[name] == nil {
			t.Errorf("security scheme %s is missing", name)
		}
	}
	for key, op := range operations(doc) {
		path := strings.SplitN(key, " ", 2)[1]
		var want string
		switch {
		case strings.HasPrefix(path, "/admin/v1/"):
			want = "adminToken"
		case strings.HasPrefix(path, "/v1/callbacks/"), isAdminPath(path):
			want = "" // a partner's own signature scheme, or an open health endpoint
		default:
			want = "clientToken"
		}
		if op.Security == nil {
			t.Errorf("%s: no explicit security", key)
			continue
		}
		var got []string
		for _, req := range *op.Security {
			for scheme := range req {
				got = append(got, scheme)
			}
		}
		switch {
		case want == "" && len(got) != 0:
			t.Errorf("%s: security %v, want none", key, got)
		case want != "" && !slices.Equal(got, []string{want}):
			t.Errorf("%s: security %v, want [%s]", key, got, want)
		}
	}
}

func TestEventsContentTypesAndProblems(t *testing.T) {
	doc := loadSpec(t)
	events := doc.Paths.Find("/v1/events").Post
	content := events.RequestBody.Value.Content
	for _, mt := range []string{"application/cloudevents+json", "application/cloudevents-batch+json"} {
		if content.Get(mt) == nil {
			t.Errorf("POST /v1/events does not take %s", mt)
		}
	}
	batch := content.Get("application/cloudevents-batch+json").Schema.Value
	if batch.MaxItems == nil || *batch.MaxItems != 500 {
		t.Errorf("batch maxItems = %v, want 500", batch.MaxItems)
	}
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType} {
		resp := events.Responses.Status(code)
		if resp == nil {
			t.Errorf("POST /v1/events: no %d answer", code)
			continue
		}
		mt := resp.Value.Content.Get("application/problem+json")
		if mt == nil || mt.Schema.Ref != "#/components/schemas/Problem" {
			t.Errorf("POST /v1/events %d: want application/problem+json with the Problem schema", code)
		}
	}
	for _, code := range []int{http.StatusOK, http.StatusAccepted} {
		if events.Responses.Status(code) == nil {
			t.Errorf("POST /v1/events: no %d answer", code)
		}
	}
	if conflict := doc.Paths.Find("/v1/payments").Post.Responses.Status(http.StatusConflict); conflict == nil {
		t.Error("POST /v1/payments: no 409 answer for a reused Idempotency-Key")
	}
}

// fixedFields are the field names api.md (and domain.md for the DVCQG dossier) fix, per schema.
var fixedFields = map[string][]string{
	"CloudEvent":          {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"},
	"DossierStatusData":   {"version", "dossier", "step"},
	"Dossier":             {"MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "ChuHoSo", "LoaiDoiTuong", "MaDoiTuong", "SoDienThoai", "Email", "TrichYeuHoSo", "NgayTiepNhan", "NgayHenTra", "NgayTra", "TrangThaiHoSo", "HinhThuc", "DonViXuLy", "DanhSachLePhi", "TaiLieuNop", "DanhSachGiayToKetQua"},
	"DossierFee":          {"TenPhiLePhi", "MaPhiLePhi", "HinhThucThu", "Gia", "LoaiPhiLePhi"},
	"DossierStep":         {"MaHoSo", "NguoiXuLy", "ChucDanh", "ThoiDiemXuLy", "PhongBanXuLy", "NoiDungXuLy", "TrangThai", "NgayBatDau", "NgayKetThucTheoQuyDinh"},
	"DeliveryRequestData": {"dossier_code", "kind", "recipient", "service", "cod_amount", "weight_grams", "note"},
	"Recipient":           {"name", "phone", "address", "province_code", "commune_code", "district_code"},
	"EventAccepted":       {"id", "status"},
	"EventDuplicate":      {"id", "status"},
	"BatchResult":         {"results"},
	"BatchEventResult":    {"id", "status", "errors"},
	"Problem":             {"type", "title", "status", "detail", "instance", "errors"},
	"FieldError":          {"field", "message"},
	"PaymentRequest":      {"dossier_code", "procedure_code", "agency_code", "provider", "amount", "fee_lines", "payer", "description", "return_url"},
	"FeeLine":             {"code", "name", "kind", "amount"},
	"Payer":               {"name", "id_number", "address"},
	"PaymentCreated":      {"payment_id", "status", "provider", "amount", "reference", "payment_url", "qr_payload", "expires_at"},
	"PaymentStatus":       {"payment_id", "dossier_code", "provider", "amount", "status", "reference", "provider_transaction_id", "paid_at", "history"},
	"PaymentTransition":   {"at", "from", "to", "reason"},
	"VNPayIPNReply":       {"RspCode", "Message"},
	"PayGovReply":         {"return_code", "return_msg"},
	"PayGovBillAnswer":    {"error_code", "message"},
	"DeadLetter":          {"id", "topic", "handler", "reason", "attempts", "last_error", "dead_lettered_at", "dossier_code", "partner", "type", "payload"},
	"Breaker":             {"partner", "operation", "state"},
	"Health":              {"status"},
}

func TestFixedFieldNames(t *testing.T) {
	schemas := loadSpec(t).Components.Schemas
	for name, fields := range fixedFields {
		ref := schemas[name]
		if ref == nil {
			t.Errorf("schema %s is missing", name)
			continue
		}
		for _, field := range fields {
			if ref.Value.Properties[field] == nil {
				t.Errorf("schema %s has no field %s", name, field)
			}
		}
	}
}

func enumOf(s *openapi3.Schema) []string {
	var out []string
	for _, v := range s.Enum {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func TestFixedEnumsAndConstraints(t *testing.T) {
	schemas := loadSpec(t).Components.Schemas
	prop := func(schema, field string) *openapi3.Schema {
		t.Helper()
		p := schemas[schema].Value.Properties[field]
		if p == nil {
			t.Fatalf("%s.%s is missing", schema, field)
		}
		return p.Value
	}
	enums := []struct {
		schema, field string
		want          []string
	}{
		{"CloudEvent", "specversion", []string{"1.0"}},
		{"CloudEvent", "type", []string{"vn.gov.dossier.status_changed", "vn.gov.delivery.requested"}},
		{"DeliveryRequestData", "kind", []string{"deliver_result", "collect_dossier"}},
		{"EventAccepted", "status", []string{"accepted"}},
		{"EventDuplicate", "status", []string{"duplicate"}},
		{"BatchEventResult", "status", []string{"accepted", "duplicate", "rejected", "unavailable"}},
		{"PaymentRequest", "provider", []string{"vnpay", "paygov", "vietqr"}},
		{"FeeLine", "kind", []string{"phi", "le_phi"}},
		{"PaymentCreated", "status", []string{"pending"}},
		{"PaymentStatus", "status", []string{"pending", "paid", "failed", "expired", "cancelled"}},
		{"PayGovBillAnswer", "error_code", []string{"1", "0", "-1"}},
		{"Breaker", "state", []string{"closed", "half-open", "open"}},
	}
	for _, e := range enums {
		if got := enumOf(prop(e.schema, e.field)); !slices.Equal(got, e.want) {
			t.Errorf("%s.%s enum = %v, want %v", e.schema, e.field, got, e.want)
		}
	}

	for _, sf := range [][2]string{{"Dossier", "TrangThaiHoSo"}, {"DossierStep", "TrangThai"}} {
		s := prop(sf[0], sf[1])
		if !s.Type.Is("integer") || s.Min == nil || *s.Min != 1 || s.Max == nil || *s.Max != 10 {
			t.Errorf("%s.%s must be an integer 1..10", sf[0], sf[1])
		}
	}
	version := prop("DossierStatusData", "version")
	if !version.Type.Is("integer") || version.Min == nil || *version.Min != 0 {
		t.Error("DossierStatusData.version must be an integer >= 0")
	}

	partnerTimes := map[string][]string{
		"Dossier":     {"NgayTiepNhan", "NgayHenTra", "NgayTra"},
		"DossierStep": {"ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh"},
	}
	for schema, fields := range partnerTimes {
		for _, field := range fields {
			s := prop(schema, field)
			if !s.Type.Is("string") || s.Pattern != `^\d{14}$` {
				t.Errorf("%s.%s must be a yyyyMMddHHmmss string (pattern ^\\d{14}$), got %v %q", schema, field, s.Type, s.Pattern)
			}
		}
	}
}

// minimum renders a schema's minimum for error messages.
func minimum(s *openapi3.Schema) string {
	if s.Min == nil {
		return "none"
	}
	return strconv.FormatFloat(*s.Min, 'f', -1, 64)
}

// isAmountField reports whether a property holds money.
func isAmountField(name string) bool {
	switch name {
	case "amount", "Gia", "SoTien", "payment_fee", "addition_fee":
		return true
	}
	return strings.HasSuffix(name, "_amount")
}

func TestAmountsAreWholeVND(t *testing.T) {
	found := 0
	for schemaName, ref := range loadSpec(t).Components.Schemas {
		for field, p := range ref.Value.Properties {
			if !isAmountField(field) {
				continue
			}
			found++
			s := p.Value
			if !s.Type.Is("integer") || s.Format != "int64" || s.Min == nil || *s.Min != 0 || s.Description != "whole VND" {
				t.Errorf("%s.%s must be integer/int64, minimum 0, described \"whole VND\"; got %v %q minimum %s %q",
					schemaName, field, s.Type.Slice(), s.Format, minimum(s), s.Description)
			}
		}
	}
	if found < 10 {
		t.Errorf("found %d amount fields; the walk is missing schemas", found)
	}
}

// example is one example found in the spec, with the schema it must satisfy.
type example struct {
	where   string
	value   any
	schema  *openapi3.Schema
	request bool
}

func mediaExamples(where string, content openapi3.Content, request bool) []example {
	var out []example
	for mt, m := range content {
		if m.Schema == nil {
			continue
		}
		if m.Example != nil {
			out = append(out, example{where + " " + mt, m.Example, m.Schema.Value, request})
		}
		for name, ex := range m.Examples {
			out = append(out, example{where + " " + mt + " examples." + name, ex.Value.Value, m.Schema.Value, request})
		}
	}
	return out
}

func parameterExamples(where string, params openapi3.Parameters) []example {
	var out []example
	for _, p := range params {
		if p.Value.Example != nil {
			out = append(out, example{where + " parameter " + p.Value.Name, p.Value.Example, p.Value.Schema.Value, true})
		}
	}
	return out
}

// allExamples gathers every example of the document: request and response bodies, response
// headers, parameters, and schema-level examples.
func allExamples(doc *openapi3.T) []example {
	var out []example
	for path, item := range doc.Paths.Map() {
		out = append(out, parameterExamples(path, item.Parameters)...)
		for method, op := range item.Operations() {
			where := method + " " + path
			out = append(out, parameterExamples(where, op.Parameters)...)
			if op.RequestBody != nil {
				out = append(out, mediaExamples(where+" request", op.RequestBody.Value.Content, true)...)
			}
			for code, resp := range op.Responses.Map() {
				out = append(out, mediaExamples(where+" "+code, resp.Value.Content, false)...)
			}
		}
	}
	for name, p := range doc.Components.Parameters {
		out = append(out, parameterExamples("components.parameters."+name, openapi3.Parameters{p})...)
	}
	for name, resp := range doc.Components.Responses {
		out = append(out, mediaExamples("components.responses."+name, resp.Value.Content, false)...)
		for header, h := range resp.Value.Headers {
			if h.Value.Example != nil {
				out = append(out, example{"components.responses." + name + " header " + header, h.Value.Example, h.Value.Schema.Value, false})
			}
		}
	}
	for name, ref := range doc.Components.Schemas {
		if ref.Value.Example != nil {
			out = append(out, example{"components.schemas." + name, ref.Value.Example, ref.Value, false})
		}
	}
	return out
}

func TestEveryExampleMatchesItsSchema(t *testing.T) {
	examples := allExamples(loadSpec(t))
	if len(examples) < 40 {
		t.Fatalf("found only %d examples; the walk is missing parts of the document", len(examples))
	}
	for _, ex := range examples {
		opt := openapi3.VisitAsResponse()
		if ex.request {
			opt = openapi3.VisitAsRequest()
		}
		if err := ex.schema.VisitJSON(jsonValue(t, ex.value), opt, openapi3.MultiErrors()); err != nil {
			t.Errorf("%s: example does not match its schema: %v", ex.where, err)
		}
	}
}

func TestEveryRequestBodyHasAnExample(t *testing.T) {
	bodies := 0
	for key, op := range operations(loadSpec(t)) {
		if op.RequestBody == nil {
			continue
		}
		for mt, m := range op.RequestBody.Value.Content {
			bodies++
			if m.Example == nil {
				t.Errorf("%s %s: request body has no example", key, mt)
			}
		}
	}
	if bodies < 6 {
		t.Errorf("found %d request bodies, want at least 6", bodies)
	}
}

// requestExample returns a fresh JSON copy of an operation's request body example.
func requestExample(t *testing.T, doc *openapi3.T, path, method, mediaType string) (any, *openapi3.Schema) {
	t.Helper()
	m := doc.Paths.Find(path).GetOperation(method).RequestBody.Value.Content.Get(mediaType)
	return jsonValue(t, m.Example), m.Schema.Value
}

// TestSchemasRejectBadInput proves the schemas constrain what they claim to: each case breaks
// one rule of a valid example, and the schema must reject it.
func TestSchemasRejectBadInput(t *testing.T) {
	doc := loadSpec(t)
	type obj = map[string]any
	dossierOf := func(ev any) obj { return ev.(obj)["data"].(obj)["dossier"].(obj) }
	cases := []struct {
		name      string
		path      string
		method    string
		mediaType string
		mutate    func(v any) any
	}{
		{"status above 10", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { dossierOf(v)["TrangThaiHoSo"] = 11; return v }},
		{"status 0", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { dossierOf(v)["TrangThaiHoSo"] = 0; return v }},
		{"date not yyyyMMddHHmmss", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { dossierOf(v)["NgayTiepNhan"] = "2025-01-01T08:30:00+07:00"; return v }},
		{"negative version", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { v.(obj)["data"].(obj)["version"] = -1; return v }},
		{"specversion 0.3", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { v.(obj)["specversion"] = "0.3"; return v }},
		{"unknown type", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { v.(obj)["type"] = "vn.gov.unknown"; return v }},
		{"missing subject", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { delete(v.(obj), "subject"); return v }},
		{"missing MaHoSo", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { delete(dossierOf(v), "MaHoSo"); return v }},
		{"subject with a space", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { v.(obj)["subject"] = "000.00.20.H37 250101"; return v }},
		{"binary content type", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { v.(obj)["datacontenttype"] = "application/octet-stream"; return v }},
		{"fee as a decimal", "/v1/events", http.MethodPost, "application/cloudevents+json",
			func(v any) any { dossierOf(v)["DanhSachLePhi"].([]any)[0].(obj)["Gia"] = 1000.5; return v }},
		{"batch of 501", "/v1/events", http.MethodPost, "application/cloudevents-batch+json",
			func(v any) any {
				first := v.([]any)[0]
				batch := make([]any, 501)
				for i := range batch {
					batch[i] = first
				}
				return batch
			}},
		{"empty batch", "/v1/events", http.MethodPost, "application/cloudevents-batch+json",
			func(any) any { return []any{} }},
		{"delivery kind unknown", "/v1/events", http.MethodPost, "application/cloudevents-batch+json",
			func(v any) any { v.([]any)[1].(obj)["data"].(obj)["kind"] = "teleport"; return v }},
		{"unknown postal service", "/v1/events", http.MethodPost, "application/cloudevents-batch+json",
			func(v any) any { v.([]any)[1].(obj)["data"].(obj)["service"] = "XYZ999"; return v }},
		{"foreign phone number", "/v1/events", http.MethodPost, "application/cloudevents-batch+json",
			func(v any) any {
				v.([]any)[1].(obj)["data"].(obj)["recipient"].(obj)["phone"] = "+1 555 0100"
				return v
			}},
		{"commune code of 4 digits", "/v1/events", http.MethodPost, "application/cloudevents-batch+json",
			func(v any) any {
				v.([]any)[1].(obj)["data"].(obj)["recipient"].(obj)["commune_code"] = "5977"
				return v
			}},
		{"negative amount", "/v1/payments", http.MethodPost, "application/json",
			func(v any) any { v.(obj)["amount"] = -1; return v }},
		{"fractional amount", "/v1/payments", http.MethodPost, "application/json",
			func(v any) any { v.(obj)["amount"] = 150000.5; return v }},
		{"unknown provider", "/v1/payments", http.MethodPost, "application/json",
			func(v any) any { v.(obj)["provider"] = "momo"; return v }},
		{"unknown fee kind", "/v1/payments", http.MethodPost, "application/json",
			func(v any) any { v.(obj)["fee_lines"].([]any)[0].(obj)["kind"] = "tax"; return v }},
		{"no fee lines", "/v1/payments", http.MethodPost, "application/json",
			func(v any) any { v.(obj)["fee_lines"] = []any{}; return v }},
		{"bad PayGov checksum", "/v1/callbacks/paygov/confirm", http.MethodPost, "application/json",
			func(v any) any { v.(obj)["check_sum"] = "not-hex"; return v }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			value, schema := requestExample(t, doc, tc.path, tc.method, tc.mediaType)
			if err := schema.VisitJSON(value, openapi3.VisitAsRequest()); err != nil {
				t.Fatalf("the unmodified example is rejected: %v", err)
			}
			if err := schema.VisitJSON(jsonValue(t, tc.mutate(value)), openapi3.VisitAsRequest()); err == nil {
				t.Error("the schema accepts the broken example")
			}
		})
	}
}

// phpURLEncode form-encodes like PHP's urlencode, which VNPay's signature is computed over.
func phpURLEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "~", "%7E")
}

// scalarString renders a JSON scalar as it travels in a query string or a signed message:
// numbers in plain decimal (15000000, never 1.5e+07).
func scalarString(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// TestCallbackExamplesAreSigned keeps the callback examples usable against the dev profile:
// they are signed with its documented demo secrets (api.md).
func TestCallbackExamplesAreSigned(t *testing.T) {
	doc := loadSpec(t)

	ipn := doc.Paths.Find("/v1/callbacks/vnpay/ipn").Get
	params := make(map[string]string)
	for _, p := range ipn.Parameters {
		params[p.Value.Name] = scalarString(jsonValue(t, p.Value.Example))
	}
	var keys []string
	for k, v := range params {
		if k != "vnp_SecureHash" && k != "vnp_SecureHashType" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k+"="+phpURLEncode(params[k]))
	}
	mac := hmac.New(sha512.New, []byte("DEMOVNPAYSECRET0123456789ABCDEF"))
	mac.Write([]byte(strings.Join(pairs, "&")))
	if want := hex.EncodeToString(mac.Sum(nil)); !strings.EqualFold(params["vnp_SecureHash"], want) {
		t.Errorf("vnp_SecureHash example = %s, want %s", params["vnp_SecureHash"], want)
	}

	confirm, _ := requestExample(t, doc, "/v1/callbacks/paygov/confirm", http.MethodPost, "application/json")
	c := confirm.(map[string]any)
	message := strings.Join([]string{
		scalarString(c["addition_fee"]), scalarString(c["client_id"]), scalarString(c["command"]),
		scalarString(c["trans_amount"]), scalarString(c["transaction_id"]), scalarString(c["version"]),
	}, "|")
	mac = hmac.New(sha256.New, []byte("DEMOPAYGOVKEY2"))
	mac.Write([]byte(message))
	if want := hex.EncodeToString(mac.Sum(nil)); c["check_sum"] != want {
		t.Errorf("PayGov check_sum example over %q = %v, want %s", message, c["check_sum"], want)
	}
}
