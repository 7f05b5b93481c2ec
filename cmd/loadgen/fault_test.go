package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestFaultScenarios runs the short version of every fault scenario: real redis-server,
// partnersim and gateway processes on free loopback ports, a fault mid-run, and the count of
// the effect at the sandbox portal. Each must pass its verdict. The binaries are built once for
// all four. The scenarios run one after the other: they measure recovery times, and on two
// cores they would skew each other's.
func TestFaultScenarios(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("the fault scenarios start their own redis-server (with AOF) and it is not installed: " +
			"install it (Debian/Ubuntu: apt-get install redis-server)")
	}
	root, err := moduleRoot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := buildBinaries(t.Context(), root, bin); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kill-replica", "partner-outage", "redis-restart", "slow-partner"} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			var out, progress bytes.Buffer
			err := run(t.Context(), []string{"-scenario", name, "-short", "-bin", bin}, &out, &progress)
			t.Logf("progress:\n%s", progress.String())
			t.Logf("report (%s):\n%s", time.Since(start).Round(time.Second), out.String())

			var verdict, result string
			sc := bufio.NewScanner(&out)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if strings.HasPrefix(line, "VERDICT ") {
					verdict = line
				}
				if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
					result = rest
				}
			}
			if verdict == "" || result == "" {
				t.Fatalf("no VERDICT or RESULT line; run: %v", err)
			}
			var res faultResult
			if err := json.Unmarshal([]byte(result), &res); err != nil {
				t.Fatalf("decoding RESULT: %v", err)
			}
			if res.Scenario != name || !res.Short {
				t.Errorf("RESULT is of scenario %q (short %t), want the short %s", res.Scenario, res.Short, name)
			}
			if !strings.HasPrefix(verdict, "VERDICT scenario="+name+" pass=true ") || !res.Pass || err != nil {
				t.Fatalf("verdict failed: %s\nfailures: %q\nrun: %v", verdict, res.Failures, err)
			}
			c := res.Check
			if c.Lost+c.Unexpected+c.WrongStatus+c.Missing != 0 || c.DeadLetters != 0 {
				t.Errorf("effect check %+v, want no lost, unexpected or misplaced step and no dead letter", c)
			}
			// Steps are at least once: only a step in flight on a killed replica, or abandoned at its
			// deadline by a slow portal, may arrive twice (those verdicts bound them); no other fault
			// may repeat one.
			if name != "kill-replica" && name != "slow-partner" && c.Duplicated != 0 {
				t.Errorf("%d steps duplicated at the portal", c.Duplicated)
			}
			if res.Load.Confirmed == 0 || res.Load.Confirmed != res.Load.Events {
				t.Errorf("%d of %d events accepted, want all of them (and some)", res.Load.Confirmed, res.Load.Events)
			}
		})
	}
}

func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		limit, cover time.Duration
		want         []time.Duration
	}{
		{"short", 2 * time.Second, 7 * time.Second,
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"capped below the first doubling", 500 * time.Millisecond, time.Second,
			[]time.Duration{500 * time.Millisecond, 500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := retrySchedule(tt.limit, tt.cover)
			if len(got) != len(tt.want) {
				t.Fatalf("retrySchedule(%s, %s) = %v, want %v", tt.limit, tt.cover, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("retrySchedule(%s, %s) = %v, want %v", tt.limit, tt.cover, got, tt.want)
				}
			}
		})
	}
}

func TestPromTextSum(t *testing.T) {
	t.Parallel()
	text := promText(`# HELP gateway_breaker_transitions_total Circuit breaker state transitions.
# TYPE gateway_breaker_transitions_total counter
gateway_breaker_transitions_total{operation="lookup_dossier",partner="dvcqg",to="open"} 3
gateway_breaker_transitions_total{operation="add_progress",partner="dvcqg",to="open"} 1
gateway_breaker_transitions_total{operation="lookup_dossier",partner="dvcqg",to="closed"} 1
gateway_breaker_transitions_total{operation="notify",partner="onestop",to="open"} 7
gateway_breaker_transitions_total_other{partner="dvcqg",to="open"} 100
`)
	if got := text.sum("gateway_breaker_transitions_total", map[string]string{"partner": "dvcqg", "to": "open"}); got != 4 {
		t.Errorf("sum of dvcqg opens = %v, want 4", got)
	}
	if got := text.sum("gateway_breaker_transitions_total", nil); got != 12 {
		t.Errorf("sum of every series = %v, want 12", got)
	}
}

func TestFaultFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"no redis flag", []string{"-scenario", "partner-outage", "-redis", "redis://127.0.0.1:6379/0"}},
		{"fault after the load", []string{"-scenario", "slow-partner", "-short", "-duration", "4s", "-slow-at", "5s"}},
		{"closed loop", []string{"-scenario", "redis-restart", "-rate", "0"}},
		{"one replica cannot lose one", []string{"-scenario", "kill-replica", "-replicas", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, progress bytes.Buffer
			if err := run(t.Context(), tt.args, &out, &progress); err != errUsage {
				t.Fatalf("run(%q) = %v, want a usage error; output:\n%s", tt.args, err, progress.String())
			}
		})
	}
}
