package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

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

// An open-loop run offers both phases the same rate: its throughput ratio is not judged (it would
// read 1.00× PASS), and its verdict is the p99's.
func TestOpenLoopThroughputIsNotJudged(t *testing.T) {
	fast := phaseResult{Requests: 10, P99Ms: 5}
	slow := phaseResult{Requests: 10, P99Ms: 50}
	if g := judgeGoal(0.8, 15*time.Millisecond, 1.0, fast, true); g.Throughput != notJudged || g.Verdict != "PASS" {
		t.Errorf("open loop, p99 met: %+v", g)
	}
	if g := judgeGoal(0.8, 15*time.Millisecond, 1.0, slow, true); g.Throughput != notJudged || g.Verdict != "MISS" {
		t.Errorf("open loop, p99 missed: %+v", g)
	}
	if g := judgeGoal(0.8, 15*time.Millisecond, 0.5, fast, false); g.Throughput != "MISS" || g.Verdict != "MISS" {
		t.Errorf("closed loop at 0.5×: %+v", g)
	}
}
