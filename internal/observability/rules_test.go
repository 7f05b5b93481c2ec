package observability_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/egov-vn/gateway/internal/observability/dashboards"
)

const (
	prometheusConfigPath = "configs/prometheus/prometheus.yml"
	rulesPath            = "configs/prometheus/rules/gateway.rules.yml"
	rulesTestPath        = "configs/prometheus/tests/gateway.rules.test.yml"
	runbookPath          = "docs/runbook.md"
	dashboardsDir        = "configs/grafana/dashboards"
	// runbookURL is where each alert's runbook_url points, followed by #<alert name in lower case>.
	runbookURL = "https://github.com/egov-vn/gateway/blob/main/docs/runbook.md"
)

type rule struct {
	Alert       string            `yaml:"alert,omitempty"`
	Record      string            `yaml:"record,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type ruleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []rule `yaml:"rules"`
}

type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

func readRuleFile(t testing.TB, path string) ruleFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading rules: %v", err)
	}
	var f ruleFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return f
}

// readRules returns every alerting rule of a rule file.
func readRules(t testing.TB, path string) []rule {
	t.Helper()
	var out []rule
	for _, g := range readRuleFile(t, path).Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no alerts", path)
	}
	return out
}

// dashboardQueries reads every panel query of the committed dashboard files.
func dashboardQueries(t testing.TB) []dashboards.Query {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoPath(dashboardsDir), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s (%v)", dashboardsDir, err)
	}
	var out []dashboards.Query
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := dashboards.Queries(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, qs...)
	}
	return out
}

// TestPrometheusConfigLoadsTheRules: promtool accepts the compose Prometheus configuration and the
// rule files its globs find include the gateway's rules (and nothing that is not a rule file).
func TestPrometheusConfigLoadsTheRules(t *testing.T) {
	t.Parallel()
	out, ok := run(t, nil, "promtool", "check", "config", repoPath(prometheusConfigPath))
	if !ok {
		t.Fatalf("promtool check config:\n%s", out)
	}
	want := fmt.Sprintf("SUCCESS: %d rules found", len(readRules(t, repoPath(rulesPath))))
	if !strings.Contains(out, "gateway.rules.yml") || !strings.Contains(out, want) {
		t.Fatalf("prometheus.yml does not load %s:\n%s", rulesPath, out)
	}
}

func TestAlertRulesCheck(t *testing.T) {
	t.Parallel()
	if out, ok := run(t, nil, "promtool", "check", "rules", repoPath(rulesPath)); !ok {
		t.Fatalf("promtool check rules:\n%s", out)
	}
}

// TestAlertRulesUnitTests runs the promtool unit tests of the alerts, and checks that every alert
// has a case where it fires.
func TestAlertRulesUnitTests(t *testing.T) {
	t.Parallel()
	if out, ok := run(t, nil, "promtool", "test", "rules", repoPath(rulesTestPath)); !ok {
		t.Fatalf("promtool test rules:\n%s", out)
	}
	raw, err := os.ReadFile(repoPath(rulesTestPath))
	if err != nil {
		t.Fatal(err)
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string           `yaml:"alertname"`
				ExpAlerts []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(raw, &tests); err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for _, r := range readRules(t, repoPath(rulesPath)) {
		if !fires[r.Alert] || !quiet[r.Alert] {
			t.Errorf("%s: the unit tests need a case where it fires (%v) and one where it stays quiet (%v)", r.Alert, fires[r.Alert], quiet[r.Alert])
		}
	}
}

var runbookHeading = regexp.MustCompile(`(?m)^## (\S+)\s*$`)

// TestAlertsHaveSummaryAndRunbook: every alert has a severity, a summary and a runbook_url that
// points at its own section of docs/runbook.md, and the runbook has no section for an alert that
// does not exist.
func TestAlertsHaveSummaryAndRunbook(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(repoPath(runbookPath))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range runbookHeading.FindAllStringSubmatch(string(raw), -1) {
		sections[m[1]] = true
	}
	alerts := map[string]bool{}
	for _, r := range readRules(t, repoPath(rulesPath)) {
		if alerts[r.Alert] {
			t.Errorf("%s is defined twice", r.Alert)
		}
		alerts[r.Alert] = true
		if !strings.HasPrefix(r.Alert, "Gateway") {
			t.Errorf("%s: alert names start with Gateway (the overview counts them by that prefix)", r.Alert)
		}
		if !slices.Contains([]string{"warning", "critical"}, r.Labels["severity"]) {
			t.Errorf("%s: severity %q, want warning or critical", r.Alert, r.Labels["severity"])
		}
		if strings.TrimSpace(r.Annotations["summary"]) == "" {
			t.Errorf("%s has no summary", r.Alert)
		}
		if want := runbookURL + "#" + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
		}
		if !sections[r.Alert] {
			t.Errorf("%s has no section (## %s) in %s", r.Alert, r.Alert, runbookPath)
		}
	}
	for s := range sections {
		if !alerts[s] {
			t.Errorf("%s has a section for %s, which is not an alert", runbookPath, s)
		}
	}
}

// TestDashboardExpressionsParse runs every panel query of the committed dashboards through
// promtool's PromQL parser (as recording rules), with $__rate_interval set as Grafana would.
func TestDashboardExpressionsParse(t *testing.T) {
	t.Parallel()
	queries := dashboardQueries(t)
	group := ruleGroup{Name: "dashboards"}
	for i, q := range queries {
		group.Rules = append(group.Rules, rule{
			Record: fmt.Sprintf("dashboard:query_%d:expr", i),
			Expr:   strings.ReplaceAll(q.Expr, dashboards.RateInterval, "1m"),
		})
	}
	raw, err := yaml.Marshal(ruleFile{Groups: []ruleGroup{group}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboards.rules.yml")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, ok := run(t, nil, "promtool", "check", "rules", path)
	if !ok {
		t.Fatalf("a dashboard query does not parse:\n%s", out)
	}
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(queries)); !strings.Contains(out, want) {
		t.Fatalf("promtool did not read every query (want %q):\n%s", want, out)
	}
}

// TestDashboardsAndRulesReadCataloguedMetrics: every metric a dashboard panel or an alert reads is
// in the catalogue, so a renamed metric breaks this test rather than a panel in production.
func TestDashboardsAndRulesReadCataloguedMetrics(t *testing.T) {
	t.Parallel()
	catalogue := readCatalogue(t)
	exprs := map[string]string{}
	for _, q := range dashboardQueries(t) {
		exprs[q.Dashboard+": "+q.Panel] = q.Expr
	}
	for _, r := range readRules(t, repoPath(rulesPath)) {
		exprs["alert "+r.Alert] = r.Expr
	}
	used := map[string]bool{}
	for where, expr := range exprs {
		for _, m := range metricNames.FindAllString(expr, -1) {
			if m == "up" || m == "ALERTS" {
				continue
			}
			base := baseMetric(m, catalogue)
			if _, ok := catalogue[base]; !ok {
				t.Errorf("%s reads %s, which is not in %s", where, m, cataloguePath)
			}
			used[base] = true
		}
	}
	waiting := notYetOnADashboard(t)
	var unused []string
	for name := range catalogue {
		switch {
		case !used[name] && !waiting[name]:
			unused = append(unused, name)
		case used[name] && waiting[name]:
			t.Errorf("%s is read by a dashboard or an alert: remove it from %q in %s", name, notOnDashboardHeading, cataloguePath)
		}
	}
	for name := range waiting {
		if _, ok := catalogue[name]; !ok {
			t.Errorf("%s is listed under %q in %s but is not a catalogued metric", name, notOnDashboardHeading, cataloguePath)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("catalogued metrics that no dashboard or alert reads (add a panel, or list them under %q): %v", notOnDashboardHeading, unused)
	}
}

const notOnDashboardHeading = "## Not yet on a dashboard"

// notYetOnADashboard returns the metric names listed in the catalogue's section of metrics that no
// dashboard reads yet.
func notYetOnADashboard(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(repoPath(cataloguePath))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	_, section, ok := strings.Cut(string(raw), notOnDashboardHeading+"\n")
	if !ok {
		return out
	}
	if next := strings.Index(section, "\n## "); next >= 0 {
		section = section[:next]
	}
	for _, m := range backticked.FindAllStringSubmatch(section, -1) {
		if strings.HasPrefix(m[1], "gateway_") {
			out[m[1]] = true
		}
	}
	return out
}
