package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/egov-vn/gateway/internal/config"
)

// phaseResult is one phase as reported.
type phaseResult struct {
	Requests     int64   `json:"requests"` // successful (2xx) requests in the window
	Events       int64   `json:"events"`   // events those accepted
	ElapsedS     float64 `json:"elapsed_s"`
	RequestsPerS float64 `json:"requests_per_s"`
	EventsPerS   float64 `json:"events_per_s"`
	// Latency of successful requests, milliseconds.
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p999_ms"`
	MeanMs float64 `json:"mean_ms"`
	MaxMs  float64 `json:"max_ms"`
	Errors int64   `json:"errors"`
	// ErrorsByStatus counts failures by HTTP status, or "timeout", "transport", "canceled".
	ErrorsByStatus map[string]int64 `json:"errors_by_status"`
	Missed         int64            `json:"missed,omitempty"` // open loop: sends that never went out
	Connections    int64            `json:"connections"`
	// CPU and memory of this whole process over the window.
	CPUS              float64 `json:"cpu_s"`
	CPUMsPer1kEvents  float64 `json:"cpu_ms_per_1k_events"`
	RSSMiB            float64 `json:"rss_mib"`
	RSSPeakMiB        float64 `json:"rss_peak_mib"`
	AcceptedWholeTime int64   `json:"accepted_total"` // warmup and tail included
}

func newPhaseResult(st *phaseStats) phaseResult {
	secs := st.Elapsed.Seconds()
	r := phaseResult{
		Requests: st.Requests, Events: st.Events, ElapsedS: round(secs, 3),
		P50Ms: ms(st.Latency.quantile(0.50)), P90Ms: ms(st.Latency.quantile(0.90)),
		P99Ms: ms(st.Latency.quantile(0.99)), P999Ms: ms(st.Latency.quantile(0.999)),
		MeanMs: ms(st.Latency.mean()), MaxMs: ms(st.Latency.quantile(1)),
		Errors: st.Errors, ErrorsByStatus: st.ErrorsBy, Missed: st.Missed, Connections: st.Connections,
		CPUS: round(st.CPU.Seconds(), 3), RSSMiB: round(float64(st.RSS)/(1<<20), 1),
		RSSPeakMiB: round(float64(st.RSSPeak)/(1<<20), 1), AcceptedWholeTime: st.Accepted,
	}
	if secs > 0 {
		r.RequestsPerS = round(float64(st.Requests)/secs, 1)
		r.EventsPerS = round(float64(st.Events)/secs, 1)
	}
	if st.Events > 0 {
		r.CPUMsPer1kEvents = round(float64(st.CPU.Milliseconds())/float64(st.Events)*1000, 2)
	}
	return r
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// report writes the human-readable report (or, with -json, the result as indented JSON).
func (r *ingestResult) report(e *env) error {
	if e.json {
		return writeJSON(e.out, r)
	}
	var b strings.Builder
	load := loadLine(r.Mode, r.Rate, r.Concurrency)
	target := "in-process gateway"
	switch {
	case r.Role == config.RoleAPI:
		target += " (role api: no consumers)"
	case r.Consumers > 0:
		target += fmt.Sprintf(" (role %s, %d consumers per handler)", r.Role, r.Consumers)
	}
	if r.Target != "in-process" {
		target = "external gateway " + r.Target
	}
	fmt.Fprintf(&b, "scenario ingest: %s, %d event(s) per request over %d dossiers, %gs measured after %gs warmup, %s\n\n",
		load, r.Batch, r.Dossiers, r.DurationS, r.WarmupS, target)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\treq/s\tevents/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\tconns\tCPU s\tCPU ms/1k ev\tRSS MiB\tpeak MiB\t")
	for _, p := range []struct {
		name string
		r    phaseResult
	}{{"baseline", r.Baseline}, {"gateway", r.Gateway}} {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%.2f\t%.1f\t%.0f\t%.0f\t\n",
			p.name, p.r.RequestsPerS, p.r.EventsPerS, p.r.P50Ms, p.r.P90Ms, p.r.P99Ms, p.r.P999Ms, p.r.MaxMs,
			p.r.Errors, p.r.Connections, p.r.CPUS, p.r.CPUMsPer1kEvents, p.r.RSSMiB, p.r.RSSPeakMiB)
	}
	tw.Flush()
	for _, p := range []struct {
		name string
		r    phaseResult
	}{{"baseline", r.Baseline}, {"gateway", r.Gateway}} {
		if len(p.r.ErrorsByStatus) > 0 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(p.r.ErrorsByStatus)) {
				parts = append(parts, fmt.Sprintf("%s ×%d", k, p.r.ErrorsByStatus[k]))
			}
			fmt.Fprintf(&b, "%s errors: %s\n", p.name, strings.Join(parts, ", "))
		}
		if p.r.Missed > 0 {
			fmt.Fprintf(&b, "%s: %d scheduled sends never went out (the offered rate was not sustained)\n", p.name, p.r.Missed)
		}
	}
	if r.Target == "in-process" {
		what := "ingest and its consumers"
		if r.Role == config.RoleAPI {
			what = "ingest only: role api runs no consumers"
		}
		b.WriteString("CPU and RSS are this whole process: the load generator is included in both phases, and the\n" +
			"in-process gateway (" + what + ") in the second; compare the CPU per 1k events.\n\n")
	} else {
		b.WriteString("CPU and RSS are this process: the load generator and the baseline; the external gateway's\n" +
			"own CPU is not included.\n\n")
	}
	if c := r.StreamCheck; c != nil {
		verdict := "MATCH"
		if !c.Match {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(&b, "stream check: %s holds %d entries; %d events were accepted: %s\n", c.Stream, c.Entries, c.Accepted, verdict)
	} else {
		b.WriteString("stream check: skipped (external gateway)\n")
	}
	p99x := 0.0
	if r.Baseline.P99Ms > 0 {
		p99x = r.Gateway.P99Ms / r.Baseline.P99Ms
	}
	fmt.Fprintf(&b, "gateway/baseline: throughput %.2f×, p99 %.2f×\n", r.Ratio, p99x)
	fmt.Fprintf(&b, "goal throughput ≥ %.2f× baseline: %s (%.2f×)\n", r.Goal.MinRatio, r.Goal.Throughput, r.Ratio)
	fmt.Fprintf(&b, "goal p99 ≤ %g ms: %s (%.2f ms)\n", r.Goal.MaxP99Ms, r.Goal.P99, r.Gateway.P99Ms)
	fmt.Fprintf(&b, "verdict: %s\n", r.Goal.Verdict)
	if _, err := io.WriteString(e.out, b.String()); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
