package catalog_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/portal/dvcqg"
	"github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/catalog"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/partnerhttp"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

// newService builds the catalogues on the real test Redis, reading a fresh DVCQG sandbox through
// the DVCQG dialect.
func newService(t *testing.T) (*catalog.Service, *sandbox.Sandbox, *observability.NationalMetrics) {
	t.Helper()
	sb := sandbox.New(sandbox.Config{Username: "u", Password: "p", DstCode: "d"})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	hc, err := partnerhttp.New(partnerhttp.Config{Partner: "dvcqg", BaseURL: srv.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dialect, err := dvcqg.New(dvcqg.Config{AuthPath: "/auth", IntegrationPath: "/integration", Username: "u", Password: "p",
		DstCode: "d", MaDonVi: "000.00.00.H37"}, hc)
	if err != nil {
		t.Fatal(err)
	}
	c := testredis.Client(t)
	m, err := observability.NewNationalMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return &catalog.Service{
		Store: &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}, Source: dialect, Metrics: m,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Interval: time.Hour, LockLease: 30 * time.Second, Replica: "t",
	}, sb, m
}

func outcomes(t *testing.T, rs []catalog.Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range rs {
		out[r.Catalog] = r.Outcome
	}
	return out
}

func TestRefreshDetectsChangesAndKeepsTheLastGoodCatalogue(t *testing.T) {
	t.Parallel()
	s, sb, m := newService(t)
	ctx := t.Context()
	if _, err := s.List(ctx, catalog.Procedures, catalog.Query{}); !errors.Is(err, catalog.ErrNotLoaded) {
		t.Fatalf("before any refresh: %v, want ErrNotLoaded", err)
	}
	rs, err := s.Refresh(ctx)
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	if rs[0].Outcome != observability.RefreshChanged || rs[0].Added != 3 || rs[0].Entries != 3 {
		t.Fatalf("first refresh of procedures: %+v, want 3 added", rs[0])
	}
	if got := testutil.ToFloat64(m.CatalogEntries.WithLabelValues("agencies")); got != 3 {
		t.Fatalf("agencies gauge %v, want 3", got)
	}
	if rs, _ := s.Refresh(ctx); outcomes(t, rs)[catalog.Fields] != observability.RefreshUnchanged {
		t.Fatalf("second refresh: %+v, want unchanged", rs)
	}

	// One field renamed, one removed, one added.
	sb.National().SetCatalog(sandbox.CatalogFields, []json.RawMessage{
		json.RawMessage(`{"MaLinhVuc":"XD-HDXD","TenLinhVuc":"Hoạt động xây dựng (sửa)"}`),
		json.RawMessage(`{"MaLinhVuc":"KH-HKD","TenLinhVuc":"Thành lập và hoạt động của hộ kinh doanh"}`),
		json.RawMessage(`{"MaLinhVuc":"GT-DB","TenLinhVuc":"Đường bộ"}`),
	})
	rs, err = s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[2]; r.Outcome != observability.RefreshChanged || r.Added != 1 || r.Removed != 1 || r.Changed != 1 {
		t.Fatalf("fields refresh %+v, want 1 added, 1 removed, 1 changed", r)
	}
	for kind, want := range map[string]float64{"added": 4, "removed": 1, "changed": 1} {
		if got := testutil.ToFloat64(m.CatalogChanges.WithLabelValues("fields", kind)); got != want {
			t.Errorf("fields %s changes counted %v, want %v", kind, got, want)
		}
	}
	page, err := s.List(ctx, catalog.Fields, catalog.Query{Q: "đường"})
	if err != nil || page.Total != 1 || !strings.Contains(string(page.Items[0]), `"GT-DB"`) {
		t.Fatalf("new field not listed: %+v, %v", page, err)
	}

	// A truncated, then a malformed answer: counted, and the catalogue stays as it was.
	for _, mode := range []string{sandbox.BreakTruncated, sandbox.BreakMalformed} {
		sb.National().BreakCatalog(sandbox.CatalogProcedures, mode)
		rs, err := s.Refresh(ctx)
		if err == nil || outcomes(t, rs)[catalog.Procedures] != observability.RefreshIncomplete {
			t.Fatalf("%s refresh: %+v, %v; want incomplete", mode, rs, err)
		}
		page, err := s.List(ctx, catalog.Procedures, catalog.Query{})
		if err != nil || page.Total != 3 {
			t.Fatalf("after a %s answer the catalogue holds %d entries (%v), want the last good 3", mode, page.Total, err)
		}
	}
	if got := testutil.ToFloat64(m.Refreshes.WithLabelValues("procedures", "incomplete")); got != 2 {
		t.Fatalf("incomplete refreshes counted %v, want 2", got)
	}
}

func TestRefreshIsOneReplicaAtATime(t *testing.T) {
	t.Parallel()
	s, _, _ := newService(t)
	release, err := s.Store.Lock(t.Context(), s.Store.Keys.Prefix+":{catalog}:lock", "other", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(t.Context()); !errors.Is(err, catalog.ErrBusy) {
		t.Fatalf("refresh while another replica holds the lock: %v, want ErrBusy", err)
	}
	release(t.Context())
	if _, err := s.Refresh(t.Context()); err != nil {
		t.Fatalf("refresh after the lock was released: %v", err)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	s, _, _ := newService(t)
	if _, err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	codes := func(p catalog.Page) string {
		var out []string
		for _, raw := range p.Items {
			var v struct{ Code string }
			_ = json.Unmarshal(raw, &v)
			out = append(out, v.Code)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name, catalog string
		q             catalog.Query
		want, next    string
	}{
		{"all in code order", catalog.Procedures, catalog.Query{}, "1.001612,1.011442,2.000488", ""},
		{"by agency", catalog.Procedures, catalog.Query{Agency: "000.00.37.H37"}, "1.001612,1.011442", ""},
		{"by field", catalog.Procedures, catalog.Query{Field: "TP-HT"}, "2.000488", ""},
		{"by name, any case", catalog.Procedures, catalog.Query{Q: "HỘ KINH"}, "1.001612", ""},
		{"first page", catalog.Procedures, catalog.Query{Limit: 2}, "1.001612,1.011442", "1.011442"},
		{"next page", catalog.Procedures, catalog.Query{Limit: 2, Cursor: "1.011442"}, "2.000488", ""},
		{"agencies under a parent", catalog.Agencies, catalog.Query{Agency: "000.00.00.H37"}, "000.00.15.H37,000.00.37.H37", ""},
		{"nothing matches", catalog.Fields, catalog.Query{Q: "zzz"}, "", ""},
	}
	for _, tt := range tests {
		p, err := s.List(t.Context(), tt.catalog, tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := codes(p); got != tt.want || p.NextCursor != tt.next {
			t.Errorf("%s: %q next %q, want %q next %q", tt.name, got, p.NextCursor, tt.want, tt.next)
		}
	}
}

func TestMappings(t *testing.T) {
	t.Parallel()
	s, _, _ := newService(t)
	ctx := t.Context()
	var bad *catalog.BadMappingError
	if _, err := s.SetMapping(ctx, "LS-XD-01", "1.011442", "ops", ""); !errors.As(err, &bad) || !strings.Contains(err.Error(), "not loaded") {
		t.Fatalf("mapping before the catalogue is loaded: %v", err)
	}
	if _, err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, local, national, field string
	}{
		{"unknown national code", "LS-XD-01", "9.999999", "national_code"},
		{"not a national code", "LS-XD-01", "LS-XD-02", "national_code"},
		{"national code as the local one", "1.011442", "1.011442", "local_code"},
		{"empty local code", "", "1.011442", "local_code"},
		{"local code with a space", "LS XD", "1.011442", "local_code"},
	}
	for _, tt := range tests {
		if _, err := s.SetMapping(ctx, tt.local, tt.national, "ops", ""); !errors.As(err, &bad) || bad.Field != tt.field {
			t.Errorf("%s: %v, want a refusal naming %s", tt.name, err, tt.field)
		}
	}
	if all, _ := s.Mappings(ctx); len(all) != 0 {
		t.Fatalf("refused mappings were stored: %+v", all)
	}
	if _, err := s.ResolveProcedure(ctx, "LS-XD-01"); !failure.IsPermanent(err) || !strings.Contains(err.Error(), `"LS-XD-01"`) {
		t.Fatalf("unmapped local code: %v, want a permanent error naming it", err)
	}
	m, err := s.SetMapping(ctx, "LS-XD-01", "1.011442", "ops-alice", "go-live")
	if err != nil || m.Name == "" {
		t.Fatalf("setting a mapping: %+v, %v", m, err)
	}
	if got, err := s.ResolveProcedure(ctx, "LS-XD-01"); err != nil || got != "1.011442" {
		t.Fatalf("resolving the mapped code: %q, %v", got, err)
	}
	if got, err := s.ResolveProcedure(ctx, "1.001612.000.00.00.H37"); err != nil || got != "1.001612.000.00.00.H37" {
		t.Fatalf("a national code with its agency suffix: %q, %v; want it unchanged", got, err)
	}
	audit, err := s.Store.Client.XRange(ctx, s.Store.Keys.Audit(), "-", "+").Result()
	if err != nil || len(audit) != 1 || audit[0].Values["actor"] != "ops-alice" || audit[0].Values["action"] != "catalog.map.set" {
		t.Fatalf("audit %+v, %v", audit, err)
	}
	if ok, err := s.DeleteMapping(ctx, "LS-XD-01", "ops-alice", "wrong"); !ok || err != nil {
		t.Fatalf("deleting: %v, %v", ok, err)
	}
	if ok, _ := s.DeleteMapping(ctx, "LS-XD-01", "ops-alice", ""); ok {
		t.Fatal("deleting twice reported a deletion")
	}
	if _, err := s.ResolveProcedure(ctx, "LS-XD-01"); err == nil {
		t.Fatal("a deleted mapping still resolves")
	}
}
