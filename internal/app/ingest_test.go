package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/routing"
)

func mutate(f func(ev map[string]any)) string {
	ev := statusEvent("bad-1", 3, 4)
	f(ev)
	b, _ := json.Marshal(ev)
	return string(b)
}

func dossierOf(ev map[string]any) map[string]any {
	return ev["data"].(map[string]any)["dossier"].(map[string]any)
}

// TestIngestRejectsBadInput: each bad request gets a clear answer naming the bad fields, and
// nothing reaches the stream.
func TestIngestRejectsBadInput(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t, apptest.Embedded)
	cfg.HTTP.MaxBodyBytes = 64 << 10
	gw := apptest.Start(t, cfg)
	const single = "application/cloudevents+json"
	const batch = "application/cloudevents-batch+json"
	tests := []struct {
		name        string
		token       string
		contentType string
		body        string
		wantStatus  int
		wantFields  []string
	}{
		{"malformed JSON", config.DemoClientToken, single, `{"specversion":"1.0",`, 400, nil},
		{"missing specversion", config.DemoClientToken, single, mutate(func(e map[string]any) { delete(e, "specversion") }), 400, []string{"specversion"}},
		{"wrong specversion", config.DemoClientToken, single, mutate(func(e map[string]any) { e["specversion"] = "0.3" }), 400, []string{"specversion"}},
		{"missing id", config.DemoClientToken, single, mutate(func(e map[string]any) { delete(e, "id") }), 400, []string{"id"}},
		{"missing source", config.DemoClientToken, single, mutate(func(e map[string]any) { e["source"] = "" }), 400, []string{"source"}},
		{"unknown type", config.DemoClientToken, single, mutate(func(e map[string]any) { e["type"] = "vn.gov.dossier.deleted" }), 400, []string{"type"}},
		{"missing subject", config.DemoClientToken, single, mutate(func(e map[string]any) { delete(e, "subject") }), 400, []string{"subject"}},
		{"subject with full-width digits", config.DemoClientToken, single, mutate(func(e map[string]any) { e["subject"] = "000.００.37" }), 400, []string{"subject"}},
		{"subject differs from MaHoSo", config.DemoClientToken, single, mutate(func(e map[string]any) { dossierOf(e)["MaHoSo"] = "OTHER-1" }), 400, []string{"data.dossier.MaHoSo"}},
		{"status 0", config.DemoClientToken, single, mutate(func(e map[string]any) { dossierOf(e)["TrangThaiHoSo"] = 0 }), 400, []string{"data.dossier.TrangThaiHoSo"}},
		{"status 11", config.DemoClientToken, single, mutate(func(e map[string]any) { dossierOf(e)["TrangThaiHoSo"] = 11 }), 400, []string{"data.dossier.TrangThaiHoSo"}},
		{"status as string", config.DemoClientToken, single, mutate(func(e map[string]any) { dossierOf(e)["TrangThaiHoSo"] = "4" }), 400, []string{"data.dossier.TrangThaiHoSo"}},
		{"bad date", config.DemoClientToken, single, mutate(func(e map[string]any) { dossierOf(e)["NgayTiepNhan"] = "2025-13-45" }), 400, []string{"data.dossier.NgayTiepNhan"}},
		{"negative version", config.DemoClientToken, single, mutate(func(e map[string]any) { e["data"].(map[string]any)["version"] = -1 }), 400, []string{"data.version"}},
		{"fractional version", config.DemoClientToken, single, mutate(func(e map[string]any) { e["data"].(map[string]any)["version"] = 1.5 }), 400, []string{"data.version"}},
		{"missing version", config.DemoClientToken, single, mutate(func(e map[string]any) { delete(e["data"].(map[string]any), "version") }), 400, []string{"data.version"}},
		{"fractional fee", config.DemoClientToken, single, mutate(func(e map[string]any) {
			dossierOf(e)["DanhSachLePhi"] = []map[string]any{{"Gia": 100.5}}
		}), 400, []string{"data.dossier.DanhSachLePhi[0].Gia"}},
		{"several bad fields named at once", config.DemoClientToken, single, mutate(func(e map[string]any) {
			delete(e, "id")
			dossierOf(e)["TrangThaiHoSo"] = 12
			e["data"].(map[string]any)["version"] = -3
		}), 400, []string{"id", "data.dossier.TrangThaiHoSo", "data.version"}},
		{"batch over 500", config.DemoClientToken, batch, "[" + strings.Repeat(`{},`, 500) + `{}]`, 400, nil},
		{"empty batch", config.DemoClientToken, batch, `[]`, 400, nil},
		{"batch all invalid", config.DemoClientToken, batch, `[{"id":"x"}]`, 400, []string{"[0].specversion"}},
		{"oversized body", config.DemoClientToken, single, `{"x":"` + strings.Repeat("a", 70<<10) + `"}`, 413, nil},
		{"wrong content type", config.DemoClientToken, "text/plain", mutate(func(map[string]any) {}), 415, nil},
		{"json content type", config.DemoClientToken, "application/json", mutate(func(map[string]any) {}), 415, nil},
		{"no token", "", single, mutate(func(map[string]any) {}), 401, nil},
		{"wrong token", "not-the-token", single, mutate(func(map[string]any) {}), 401, nil},
		{"data_base64 instead of data", config.DemoClientToken, single, mutate(func(e map[string]any) { delete(e, "data"); e["data_base64"] = "e30=" }), 400, []string{"data_base64", "data"}},
		{"invalid UTF-8 in a free-text field", config.DemoClientToken, single, strings.Replace(mutate(func(e map[string]any) { dossierOf(e)["TrichYeuHoSo"] = "XX" }), "XX", "\xff\xfe", 1), 400, nil},
		{"zero-width space in MaTTHC", config.DemoClientToken, single, mutate(func(e map[string]any) { dossierOf(e)["MaTTHC"] = "1.0114\u200b42" }), 400, []string{"data.dossier.MaTTHC"}},
	}
	stream := gw.Store.Keys.Stream(routing.TopicDossierStatusChanged)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := gw.Store.Client.XLen(context.Background(), stream).Val()
			code, body := apptest.Do(t, http.MethodPost, gw.API+"/v1/events", tt.token, tt.contentType, tt.body)
			if code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", code, tt.wantStatus, body)
			}
			var p struct {
				Type   string `json:"type"`
				Status int    `json:"status"`
				Errors []struct{ Field, Message string }
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Status != code || p.Type == "" {
				t.Fatalf("answer is not a problem document: %s", body)
			}
			got := map[string]bool{}
			for _, e := range p.Errors {
				got[e.Field] = true
				if e.Message == "" {
					t.Fatalf("field %s has no message", e.Field)
				}
			}
			for _, f := range tt.wantFields {
				if !got[f] {
					t.Fatalf("errors do not name %q: %s", f, body)
				}
			}
			if strings.Contains(string(body), "Nguyen Van A") {
				t.Fatalf("answer echoes personal data: %s", body)
			}
			if after := gw.Store.Client.XLen(context.Background(), stream).Val(); after != before {
				t.Fatalf("stream grew from %d to %d on a rejected request", before, after)
			}
		})
	}
}

// TestBatchMixed: valid events of a batch are accepted, invalid ones rejected with their errors.
func TestBatchMixed(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	bad := statusEvent("b2", 2, 2)
	dossierOf(bad)["TrangThaiHoSo"] = 42
	code, out := post(t, gw, []any{statusEvent("b1", 1, 1), bad, statusEvent("b3", 3, 4)})
	if code != http.StatusAccepted {
		t.Fatalf("status %d: %v", code, out)
	}
	results := out["results"].([]any)
	want := []string{"accepted", "rejected", "accepted"}
	for i, w := range want {
		r := results[i].(map[string]any)
		if r["status"] != w {
			t.Fatalf("event %d: %v, want %s", i, r, w)
		}
	}
	errs := results[1].(map[string]any)["errors"].([]any)
	if f := errs[0].(map[string]any)["field"]; f != "[1].data.dossier.TrangThaiHoSo" {
		t.Fatalf("rejected event names field %v", f)
	}
	n := gw.Store.Client.XLen(context.Background(), gw.Store.Keys.Stream(routing.TopicDossierStatusChanged)).Val()
	if n != 2 {
		t.Fatalf("stream holds %d entries, want the 2 valid events", n)
	}
}
