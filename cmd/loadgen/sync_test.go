package main

import (
	"encoding/json"
	"testing"
)

// flowResultOf runs a flow scenario with args and decodes its RESULT line.
func flowResultOf(t *testing.T, scenario string, args ...string) flowResult {
	t.Helper()
	line := resultLine(t, scenario, args...)
	var res flowResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("decoding RESULT %q: %v", line, err)
	}
	return res
}

// TestSyncScenario runs the end-to-end sync scenario briefly, two replicas, and checks that both
// phases delivered every dossier to the portal and that the figures are consistent. It asserts
// nothing about speed.
func TestSyncScenario(t *testing.T) {
	res := flowResultOf(t, "sync", "-events", "300", "-consumers", "2", "-replicas", "2", "-producers", "4")
	if res.Scenario != "sync" || res.Events != 300 || res.Replicas != 2 || res.WarmupEvents != 30 {
		t.Errorf("RESULT describes %+v", res)
	}
	checkFlowPhases(t, res, 300)
}

// checkFlowPhases checks that both phases of a closed-loop flow run delivered every event and
// that their figures are consistent.
func checkFlowPhases(t *testing.T, res flowResult, events int) {
	t.Helper()
	for name, p := range map[string]flowPhase{"baseline": res.Baseline, "gateway": res.Gateway} {
		if p.Delivered != events {
			t.Errorf("%s: %d events delivered, want %d", name, p.Delivered, events)
		}
		if p.ElapsedS <= 0 || p.EventsPerS <= 0 || p.CPUS <= 0 || p.RSSPeakMiB <= 0 {
			t.Errorf("%s: figures missing: %+v", name, p)
		}
		if !(0 < p.P50Ms && p.P50Ms <= p.P90Ms && p.P90Ms <= p.P99Ms && p.P99Ms <= p.P999Ms) || p.P999Ms > p.ElapsedS*1000 {
			t.Errorf("%s: latencies out of order or longer than the phase: %+v", name, p)
		}
	}
	// The producers keep their connections to the gateway: one each at most.
	if c := res.Gateway.ClientConnections; c < 1 || c > int64(res.Producers) {
		t.Errorf("the producers opened %d connections to the gateway; want 1..%d (no churn)", c, res.Producers)
	}
	if want := round(res.Gateway.EventsPerS/res.Baseline.EventsPerS, 3); res.Ratio != want {
		t.Errorf("ratio %v, want %v", res.Ratio, want)
	}
	if res.Verdict != "PASS" && res.Verdict != "MISS" {
		t.Errorf("closed loop verdict %q", res.Verdict)
	}
}

// TestSyncScenarioOpenLoop: with -rate both phases are offered the same rate; the run reports
// their latency and does not judge the ratio, which only says both kept up.
func TestSyncScenarioOpenLoop(t *testing.T) {
	res := flowResultOf(t, "sync", "-events", "200", "-consumers", "1", "-rate", "400")
	if res.Rate != 400 || res.Verdict != "NOT JUDGED (open loop)" {
		t.Errorf("open loop run: rate %v, verdict %q", res.Rate, res.Verdict)
	}
	for name, p := range map[string]flowPhase{"baseline": res.Baseline, "gateway": res.Gateway} {
		if p.Delivered != 200 || p.P99Ms <= 0 {
			t.Errorf("%s: %+v", name, p)
		}
		// 200 events at 400/s take half a second to send, whatever the consumers do.
		if p.ElapsedS < 0.45 {
			t.Errorf("%s: %d events in %.2f s: not paced at 400/s", name, p.Delivered, p.ElapsedS)
		}
	}
}

// TestSyncScenarioBacklog fills a backlog with the portal paused and drains it: the RSS with the
// backlog parked is reported, and every dossier still reaches the portal once resumed.
func TestSyncScenarioBacklog(t *testing.T) {
	res := flowResultOf(t, "sync", "-events", "300", "-backlog")
	if !res.Backlog || res.Gateway.RSSBacklogMiB <= 0 || res.Gateway.RSSIdleMiB <= 0 {
		t.Errorf("backlog figures missing: %+v", res.Gateway)
	}
	if res.Gateway.Delivered != 300 || res.Baseline.Delivered != 300 {
		t.Errorf("at portal: baseline %d, gateway %d, want 300", res.Baseline.Delivered, res.Gateway.Delivered)
	}
}

// TestSyncScenarioFillOnly: -drain=false parks the backlog and reads the memory, with no
// baseline, no ratio and no verdict on a ratio.
func TestSyncScenarioFillOnly(t *testing.T) {
	res := flowResultOf(t, "sync", "-events", "200", "-backlog", "-drain=false")
	if res.Verdict != "NOT JUDGED (-drain=false: memory only)" || res.Gateway.RSSBacklogMiB <= 0 || res.Gateway.RSSIdleMiB <= 0 ||
		res.Baseline.EventsPerS != 0 {
		t.Errorf("fill-only run: verdict %q, gateway %+v, baseline %+v", res.Verdict, res.Gateway, res.Baseline)
	}
}
