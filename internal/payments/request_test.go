package payments_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/payments"
)

func body(mutate func(map[string]any)) []byte {
	m := map[string]any{
		"dossier_code": "000.00.20.H37-250101-0001", "procedure_code": "1.001612", "agency_code": "000.00.00.H37",
		"provider": "vnpay", "amount": 150000,
		"fee_lines": []any{
			map[string]any{"code": "LP01", "name": "Lệ phí cấp giấy phép xây dựng", "kind": "le_phi", "amount": 100000},
			map[string]any{"code": "P01", "name": "Phí thẩm định", "kind": "phi", "amount": 50000},
		},
		"payer": map[string]any{"name": "Nguyễn Văn A", "id_number": "020123456789"},
	}
	if mutate != nil {
		mutate(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func line(m map[string]any, i int) map[string]any { return m["fee_lines"].([]any)[i].(map[string]any) }

func TestParseRequest(t *testing.T) {
	t.Parallel()
	enabled := func(p string) bool { return p != bank.ProviderPayGov }
	tests := []struct {
		name   string
		body   []byte
		reason string // "" when valid
		fields []string
	}{
		{name: "valid", body: body(nil)},
		{name: "amount is not the sum of fee_lines", body: body(func(m map[string]any) { m["amount"] = 150001 }), reason: bank.ReasonFeeSumMismatch, fields: []string{"amount"}},
		{name: "zero amount", body: body(func(m map[string]any) { m["amount"] = 0 }), reason: bank.ReasonInvalidAmount, fields: []string{"amount"}},
		{name: "negative amount", body: body(func(m map[string]any) { m["amount"] = -150000 }), reason: bank.ReasonInvalidAmount, fields: []string{"amount"}},
		{name: "fractional amount", body: []byte(strings.Replace(string(body(nil)), `"amount":150000`, `"amount":150000.5`, 1)), reason: bank.ReasonInvalidAmount, fields: []string{"amount"}},
		{name: "amount as a string", body: body(func(m map[string]any) { m["amount"] = "150000" }), reason: bank.ReasonInvalidAmount, fields: []string{"amount"}},
		{name: "amount over the limit", body: body(func(m map[string]any) { m["amount"] = 10_000_000_000 }), reason: bank.ReasonInvalidAmount, fields: []string{"amount"}},
		{name: "negative fee line", body: body(func(m map[string]any) { line(m, 1)["amount"] = -50000; m["amount"] = 50000 }), reason: bank.ReasonInvalidAmount, fields: []string{"fee_lines[1].amount"}},
		{name: "zero fee line", body: body(func(m map[string]any) { line(m, 1)["amount"] = 0; m["amount"] = 100000 }), reason: bank.ReasonInvalidAmount, fields: []string{"fee_lines[1].amount"}},
		{name: "unknown provider", body: body(func(m map[string]any) { m["provider"] = "momo" }), reason: bank.ReasonUnknownProvider, fields: []string{"provider"}},
		{name: "provider not configured", body: body(func(m map[string]any) { m["provider"] = "paygov" }), reason: bank.ReasonUnknownProvider, fields: []string{"provider"}},
		{name: "no fee lines", body: body(func(m map[string]any) { m["fee_lines"] = []any{} }), reason: bank.ReasonInvalidInput, fields: []string{"fee_lines"}},
		{name: "unknown fee kind", body: body(func(m map[string]any) { line(m, 0)["kind"] = "tax" }), reason: bank.ReasonInvalidInput, fields: []string{"fee_lines[0].kind"}},
		{name: "dossier code with a look-alike letter", body: body(func(m map[string]any) { m["dossier_code"] = "000.00.20.Н37-1" }), reason: bank.ReasonInvalidInput, fields: []string{"dossier_code"}},
		{name: "no payer", body: body(func(m map[string]any) { delete(m, "payer") }), reason: bank.ReasonInvalidInput, fields: []string{"payer"}},
		{name: "payer name with a control character", body: body(func(m map[string]any) { m["payer"] = map[string]any{"name": "A\x00B"} }), reason: bank.ReasonInvalidInput, fields: []string{"payer.name"}},
		{name: "relative return URL", body: body(func(m map[string]any) { m["return_url"] = "/back" }), reason: bank.ReasonInvalidInput, fields: []string{"return_url"}},
		{name: "every problem at once", body: body(func(m map[string]any) {
			m["amount"], m["provider"], m["agency_code"] = -1, "momo", ""
			delete(m, "payer")
		}), reason: bank.ReasonInvalidAmount, fields: []string{"agency_code", "amount", "provider", "payer"}},
		{name: "not an object", body: []byte(`[1,2]`), reason: bank.ReasonInvalidInput, fields: []string{""}},
		{name: "two objects", body: []byte(`{} {}`), reason: bank.ReasonInvalidInput, fields: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := payments.ParseRequest(tt.body, enabled)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("valid request refused: %v", err)
				}
				if r.Amount != 150000 || len(r.FeeLines) != 2 || r.Payer.IDNumber != "020123456789" {
					t.Fatalf("parsed %+v", r)
				}
				return
			}
			var ir *payments.InvalidRequest
			if !errors.As(err, &ir) {
				t.Fatalf("err %v, want an InvalidRequest", err)
			}
			if ir.Reason != tt.reason {
				t.Errorf("reason %s, want %s", ir.Reason, tt.reason)
			}
			var got []string
			for _, f := range ir.Fields {
				got = append(got, f.Field)
			}
			for _, want := range tt.fields {
				found := false
				for _, g := range got {
					found = found || g == want
				}
				if !found {
					t.Errorf("fields %v lack %q", got, want)
				}
			}
			if strings.Contains(err.Error(), "Nguyễn") || strings.Contains(err.Error(), "020123456789") {
				t.Errorf("the error carries personal data: %v", err)
			}
		})
	}
}

func TestRequestHashIgnoresSpelling(t *testing.T) {
	t.Parallel()
	enabled := func(string) bool { return true }
	a, err := payments.ParseRequest(body(nil), enabled)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(body(nil), &m)
	spaced, _ := json.MarshalIndent(m, "", "    ")
	b, err := payments.ParseRequest(spaced, enabled)
	if err != nil || a.Hash() != b.Hash() {
		t.Fatalf("the same request spelt differently hashes differently")
	}
	c, _ := payments.ParseRequest(body(func(m map[string]any) { m["description"] = "x" }), enabled)
	if c.Hash() == a.Hash() {
		t.Fatal("another request hashes the same")
	}
}
