package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/egov-vn/gateway/internal/events"
)

// TestIngestScenario runs the ingest scenario briefly against the real test Redis and checks that
// it completes and reports sound numbers. It asserts nothing about speed.
func TestIngestScenario(t *testing.T) {
	line := resultLine(t, "ingest", "-duration", "300ms", "-warmup", "100ms", "-concurrency", "4")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		t.Fatalf("RESULT line is not JSON: %v", err)
	}
	for _, k := range []string{"scenario", "mode", "concurrency", "batch", "duration_s", "warmup_s", "target",
		"baseline", "gateway", "ratio", "goal", "stream_check"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("RESULT has no %q", k)
		}
	}
	var res ingestResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("decoding RESULT: %v", err)
	}
	if res.Scenario != "ingest" {
		t.Errorf("scenario %q, want ingest", res.Scenario)
	}
	for _, p := range []struct {
		name string
		r    phaseResult
	}{{"baseline", res.Baseline}, {"gateway", res.Gateway}} {
		if p.r.Requests == 0 || p.r.Events == 0 {
			t.Errorf("%s accepted %d requests (%d events), want > 0", p.name, p.r.Requests, p.r.Events)
		}
		if p.r.Errors != 0 {
			t.Errorf("%s had %d errors: %v", p.name, p.r.Errors, p.r.ErrorsByStatus)
		}
		if p.r.RequestsPerS <= 0 || p.r.P99Ms <= 0 || p.r.P50Ms > p.r.P99Ms {
			t.Errorf("%s: implausible figures %+v", p.name, p.r)
		}
	}
	if c := res.StreamCheck; c == nil || !c.Match || c.Entries != res.Gateway.AcceptedWholeTime {
		t.Errorf("stream check %+v, want a match with %d accepted events", c, res.Gateway.AcceptedWholeTime)
	}
	for _, v := range []string{res.Goal.Throughput, res.Goal.P99, res.Goal.Verdict} {
		if v != "PASS" && v != "MISS" {
			t.Errorf("goal verdict %q, want PASS or MISS", v)
		}
	}
}

// TestEventsAreValid checks the generated bodies against the gateway's own validation, single
// and batched.
func TestEventsAreValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		batch int
	}{
		{"single", 1},
		{"batch", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newEventGen("t0", 7, tt.batch)
			for range 20 {
				b := g.body()
				if tt.batch == 1 {
					if n := len(b); n < eventSize-16 || n > eventSize+16 {
						t.Fatalf("event is %d bytes, want about %d", n, eventSize)
					}
					if _, err := events.Parse(b, ""); err != nil {
						t.Fatalf("invalid event: %v\n%s", err, b)
					}
					continue
				}
				evs, errs, err := events.ParseBatch(b)
				if err != nil || len(evs) != tt.batch {
					t.Fatalf("batch: %v, %d events", err, len(evs))
				}
				for i, e := range errs {
					if e != nil {
						t.Fatalf("batch event %d invalid: %v", i, e)
					}
				}
			}
		})
	}
}

func TestScenarioArg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"separate value", []string{"-duration", "1s", "-scenario", "ingest"}, "ingest"},
		{"equals", []string{"--scenario=payments"}, "payments"},
		{"absent", []string{"-json"}, ""},
		{"after terminator", []string{"--", "-scenario", "x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scenarioArg(tt.args); got != tt.want {
				t.Fatalf("scenarioArg(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

// TestIngestScenarioAPIRole loads an API-only gateway: every accepted event is in its stream, and
// the RESULT line says the role and no consumers; a worker, which serves no API, is refused.
func TestIngestScenarioAPIRole(t *testing.T) {
	line := resultLine(t, "ingest", "-duration", "300ms", "-warmup", "100ms", "-concurrency", "4", "-role", "api")
	var res ingestResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("decoding RESULT: %v", err)
	}
	if res.Role != "api" || res.Consumers != 0 {
		t.Errorf("role %q with %d consumers, want api with none", res.Role, res.Consumers)
	}
	if c := res.StreamCheck; c == nil || !c.Match || c.Entries == 0 {
		t.Errorf("stream check %+v, want a match", c)
	}
	var out, progress bytes.Buffer
	if err := run(t.Context(), []string{"-scenario", "ingest", "-role", "worker"}, &out, &progress); !errors.Is(err, errUsage) {
		t.Errorf("-role worker: %v, want a usage error", err)
	}
}
