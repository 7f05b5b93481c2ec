package observability_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/httpapi"
)

const cataloguePath = "docs/metrics.md"

type catalogueLabel struct {
	Name string
	// Values is the closed set written in the table; empty for a label described in words, which
	// the test checks against its source (route, code).
	Values []string
}

type catalogueEntry struct {
	Name, Type, Unit, AtStart string
	Labels                    []catalogueLabel
}

func (e catalogueEntry) labelNames() []string {
	var out []string
	for _, l := range e.Labels {
		out = append(out, l.Name)
	}
	sort.Strings(out)
	return out
}

var (
	catalogueRow = regexp.MustCompile("^\\| `(gateway_[a-z0-9_]+)` \\|")
	labelItem    = regexp.MustCompile("^`([a-z_]+)`: ?(.*)$")
	backticked   = regexp.MustCompile("`([^`]+)`")
)

// readCatalogue parses the metrics table of docs/metrics.md.
func readCatalogue(t testing.TB) map[string]catalogueEntry {
	t.Helper()
	raw, err := os.ReadFile(repoPath(cataloguePath))
	if err != nil {
		t.Fatalf("reading the catalogue: %v", err)
	}
	out := map[string]catalogueEntry{}
	for i, line := range strings.Split(string(raw), "\n") {
		m := catalogueRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 6 {
			t.Fatalf("%s:%d: want 6 cells (metric, type, labels, unit, at start, meaning), got %d", cataloguePath, i+1, len(cells))
		}
		e := catalogueEntry{Name: m[1], Type: cells[1], Unit: cells[3], AtStart: cells[4]}
		if cells[2] != "(none)" {
			for _, item := range strings.Split(cells[2], "<br>") {
				lm := labelItem.FindStringSubmatch(strings.TrimSpace(item))
				if lm == nil {
					t.Fatalf("%s:%d: label item %q is not `name`: values", cataloguePath, i+1, item)
				}
				l := catalogueLabel{Name: lm[1]}
				for _, v := range backticked.FindAllStringSubmatch(lm[2], -1) {
					l.Values = append(l.Values, v[1])
				}
				e.Labels = append(e.Labels, l)
			}
		}
		if _, dup := out[e.Name]; dup {
			t.Fatalf("%s: %s is listed twice", cataloguePath, e.Name)
		}
		if !slices.Contains([]string{"counter", "gauge", "histogram"}, e.Type) {
			t.Fatalf("%s: %s has type %q", cataloguePath, e.Name, e.Type)
		}
		if !slices.Contains([]string{"zero", "scrape", "on use"}, e.AtStart) {
			t.Fatalf("%s: %s: at start %q, want zero, scrape or on use", cataloguePath, e.Name, e.AtStart)
		}
		out[e.Name] = e
	}
	if len(out) == 0 {
		t.Fatalf("%s has no metrics table", cataloguePath)
	}
	return out
}

func familyType(mf *dto.MetricFamily) string {
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		return "counter"
	case dto.MetricType_GAUGE:
		return "gauge"
	case dto.MetricType_HISTOGRAM:
		return "histogram"
	}
	return strings.ToLower(mf.GetType().String())
}

func gatherGateway(t testing.TB, gw *apptest.Gateway) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := gw.Metrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "gateway_") {
			out[mf.GetName()] = mf
		}
	}
	return out
}

func metricValue(mf *dto.MetricFamily, m *dto.Metric) float64 {
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	case dto.MetricType_HISTOGRAM:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

// routeTemplates are the route label values the code can produce.
func routeTemplates() []string {
	out := []string{"unmatched"}
	for _, r := range append(slices.Clone(httpapi.APIRoutes), httpapi.AdminRoutes...) {
		_, path, _ := strings.Cut(r, " ")
		out = append(out, path)
	}
	return out
}

var statusCode = regexp.MustCompile(`^[1-5][0-9][0-9]$`)

// checkValue reports why a label value is outside the catalogue ("" when it is inside).
func checkValue(l catalogueLabel, v string) string {
	if len(l.Values) > 0 {
		if !slices.Contains(l.Values, v) {
			return fmt.Sprintf("value %q is not in the catalogue's set %v", v, l.Values)
		}
		return ""
	}
	switch l.Name {
	case "route":
		if !slices.Contains(routeTemplates(), v) {
			return fmt.Sprintf("route %q is not a template of httpapi.APIRoutes/AdminRoutes", v)
		}
	case "code":
		if !statusCode.MatchString(v) {
			return fmt.Sprintf("code %q is not an HTTP status code", v)
		}
	default:
		return "label described in words but no check exists for it: list its values in backticks"
	}
	return ""
}

// TestMetricsCatalogue holds docs/metrics.md and the registry of a running gateway together: the
// same metrics with the same types and labels, label values from the written sets, every written
// value present (at 0) on a gateway that has just started, and a scrape that promtool's linter
// accepts.
func TestMetricsCatalogue(t *testing.T) {
	t.Parallel()
	catalogue := readCatalogue(t)
	gw := apptest.Start(t, apptest.Config(t, apptest.RealRedis))

	// At start: every written value has a series, and counters and histograms are at 0.
	fresh := gatherGateway(t, gw)
	for name, e := range catalogue {
		if e.AtStart == "on use" {
			continue
		}
		mf, ok := fresh[name]
		if !ok {
			t.Errorf("%s: no series on a gateway that has just started (catalogue says %s)", name, e.AtStart)
			continue
		}
		seen := map[string]map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if seen[lp.GetName()] == nil {
					seen[lp.GetName()] = map[string]bool{}
				}
				seen[lp.GetName()][lp.GetValue()] = true
			}
			if e.AtStart == "zero" && mf.GetType() != dto.MetricType_GAUGE && metricValue(mf, m) != 0 {
				t.Errorf("%s%v is %v at start, want 0", name, m.GetLabel(), metricValue(mf, m))
			}
		}
		for _, l := range e.Labels {
			for _, v := range l.Values {
				if !seen[l.Name][v] {
					t.Errorf("%s: no series with %s=%q at start: create it at zero (observability.Metrics) or correct the catalogue", name, l.Name, v)
				}
			}
		}
	}

	// Some traffic, so that metrics created on use exist: an accepted event, a rejected one, an
	// unknown route with a made-up method, admin calls with and without the token.
	ev := statusEvent("catalogue-1", "000.00.37.H37-251126-0101", 1, 1)
	if code, body := postEvent(t, gw, ev); code != http.StatusAccepted {
		t.Fatalf("posting an event: %d %s", code, body)
	}
	if code, _ := postEvent(t, gw, map[string]any{"specversion": "1.0", "id": "bad"}); code != http.StatusBadRequest {
		t.Fatalf("posting an invalid event: %d, want 400", code)
	}
	if code, _ := apptest.Do(t, "BREW", gw.API+"/coffee", "", "", ""); code != http.StatusNotFound {
		t.Fatalf("unknown route: %d, want 404", code)
	}
	if code, _ := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/breakers", config.DemoAdminToken, "", ""); code != http.StatusOK {
		t.Fatalf("breakers: %d", code)
	}
	if code, _ := apptest.Do(t, http.MethodGet, gw.Admin+"/admin/v1/breakers", "", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("breakers without a token: %d", code)
	}
	apptest.Eventually(t, 10*time.Second, "the event synced", func() bool {
		mf := gatherGateway(t, gw)["gateway_portal_syncs_total"]
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == "synced" && m.GetCounter().GetValue() == 1 {
				return true
			}
		}
		return false
	})

	got := gatherGateway(t, gw)
	reported := map[string]bool{}
	for name, mf := range got {
		e, ok := catalogue[name]
		if !ok {
			t.Errorf("%s (%s) is exposed but missing from %s", name, familyType(mf), cataloguePath)
			continue
		}
		if typ := familyType(mf); typ != e.Type {
			t.Errorf("%s is a %s, the catalogue says %s", name, typ, e.Type)
		}
		for _, m := range mf.GetMetric() {
			var names []string
			for _, lp := range m.GetLabel() {
				names = append(names, lp.GetName())
				for _, l := range e.Labels {
					if l.Name == lp.GetName() {
						if why := checkValue(l, lp.GetValue()); why != "" && !reported[name+why] {
							reported[name+why] = true
							t.Errorf("%s: %s: %s", name, lp.GetName(), why)
						}
					}
				}
			}
			sort.Strings(names)
			if !slices.Equal(names, e.labelNames()) {
				t.Errorf("%s has labels %v, the catalogue says %v", name, names, e.labelNames())
				break
			}
		}
	}
	for name := range catalogue {
		if _, ok := got[name]; !ok {
			t.Errorf("%s is in %s but the gateway does not expose it", name, cataloguePath)
		}
	}

	// The method label cannot be minted by a client.
	for _, m := range got["gateway_http_requests_total"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "method" && lp.GetValue() == "BREW" {
				t.Errorf("a request's made-up method became a label value")
			}
		}
	}

	// promtool's linter on a real scrape: no problem may name a gateway_ metric.
	code, scrape := apptest.Do(t, http.MethodGet, gw.Admin+"/metrics", "", "", "")
	if code != http.StatusOK || !strings.Contains(string(scrape), "gateway_http_requests_total{") {
		t.Fatalf("scrape: %d", code)
	}
	out, _ := run(t, scrape, "promtool", "check", "metrics")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "gateway_") || strings.Contains(line, "error while linting") {
			t.Errorf("promtool check metrics: %s", line)
		}
	}
}

// statusEvent builds a dossier.status_changed CloudEvent.
func statusEvent(id, dossier string, version, status int) map[string]any {
	return map[string]any{
		"specversion": "1.0", "id": id, "source": "/onestop/langson", "type": "vn.gov.dossier.status_changed",
		"subject": dossier,
		"data": map[string]any{
			"version": version,
			"dossier": map[string]any{
				"MaHoSo": dossier, "MaTTHC": "1.011442", "TenTTHC": "Cap giay phep xay dung",
				"ChuHoSo": "Nguyen Van A", "LoaiDoiTuong": 1, "TrangThaiHoSo": status,
				"NgayTiepNhan": "20251126083000", "NgayHenTra": "20251210170000",
			},
			"step": map[string]any{
				"NguoiXuLy": "Tran Thi B", "ThoiDiemXuLy": "20251126090000", "NoiDungXuLy": "Tiep nhan ho so", "TrangThai": status,
			},
		},
	}
}

func postEvent(t testing.TB, gw *apptest.Gateway, ev any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(ev)
	return apptest.Do(t, http.MethodPost, gw.API+"/v1/events", config.DemoClientToken, "application/cloudevents+json", string(b))
}
