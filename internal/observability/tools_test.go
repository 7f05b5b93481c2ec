package observability_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository root as seen from this package's directory, where `go test` runs.
const repoRoot = "../.."

func repoPath(rel string) string { return filepath.Join(repoRoot, filepath.FromSlash(rel)) }

// tool finds a program of Debian's prometheus package (Prometheus 2.42 and promtool) on PATH or
// in the usual folders, and fails the test with instructions when it is missing: these checks
// never skip.
func tool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("%s is not installed (looked on PATH and in /usr/bin, /usr/local/bin). These tests need Debian's "+
		"prometheus package, which brings prometheus and promtool: apt-get update && apt-get install -y "+
		"--no-install-recommends prometheus (make test installs it when it runs as root with apt-get).", name)
	return ""
}

// run runs a program and returns its combined output and whether it exited 0.
func run(t testing.TB, stdin []byte, name string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("running %s: %v", name, err)
	}
	return string(out), err == nil
}

// metricNames are the series names an expression reads: gateway metrics, up and ALERTS.
var metricNames = regexp.MustCompile(`\b(gateway_[a-z0-9_]+|up|ALERTS)\b`)

// selectors are the series selectors of an expression, label matchers included (the PromQL of
// the dashboards and rules puts no braces inside label values).
var selectors = regexp.MustCompile(`\b(gateway_[a-z0-9_]+|up|ALERTS)\b(\{[^}]*\})?`)

// baseMetric strips the suffixes of a histogram's series.
func baseMetric(name string, catalogue map[string]catalogueEntry) string {
	if _, ok := catalogue[name]; ok {
		return name
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if e, ok := catalogue[base]; ok && e.Type == "histogram" {
				return base
			}
		}
	}
	return name
}
