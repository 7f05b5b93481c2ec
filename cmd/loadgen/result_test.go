package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/internal/testredis"
)

// resultLine runs scenario with args against the real test Redis (failing with instructions when
// it is unreachable) and returns its RESULT line's JSON; the test fails when the run fails or
// prints no RESULT line. The progress and the report are logged.
func resultLine(t *testing.T, scenario string, args ...string) string {
	t.Helper()
	testredis.Client(t)
	var out, progress bytes.Buffer
	err := run(t.Context(), append([]string{"-scenario", scenario, "-redis", testredis.URL()}, args...), &out, &progress)
	t.Logf("progress:\n%s", progress.String())
	t.Logf("report:\n%s", out.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var line string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			line = rest
		}
	}
	if line == "" {
		t.Fatal("no RESULT line")
	}
	return line
}
