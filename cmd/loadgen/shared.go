package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/egov-vn/gateway/internal/config"
)

// gatewayFlags are the flags of a two-phase scenario that starts one in-process gateway and may
// profile it: -consumers and -cpuprofile.
type gatewayFlags struct {
	consumers  int
	cpuprofile string
}

func (g *gatewayFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&g.consumers, "consumers", config.Defaults().Routing.ConsumersPerHandler, "consumers per handler of the in-process gateway")
	fs.StringVar(&g.cpuprofile, "cpuprofile", "", "write a CPU profile of the gateway phase's measured window to `FILE`")
}

// checkConsumers checks -consumers of a scenario's in-process gateway.
func checkConsumers(n int) error {
	if n < 1 || n > 256 {
		return fmt.Errorf("-consumers %d is outside 1..256", n)
	}
	return nil
}

// openProfile creates the CPU profile's file; without a path it returns a nil io.Writer (an
// interface that is nil, as measureHTTP expects) and a close that does nothing.
func openProfile(path string) (io.Writer, func() error, error) {
	if path == "" {
		return nil, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("creating CPU profile: %w", err)
	}
	return f, func() error {
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing CPU profile: %w", err)
		}
		return nil
	}, nil
}

// notJudged is the throughput verdict of an open-loop run: both phases were offered the same
// rate, so their ratio says only that both kept up, not how they compare.
const notJudged = "NOT JUDGED (open loop)"

// judgeGoal compares a scenario's gateway phase and its ratio to the baseline with the goals. In
// an open-loop run (open) the throughput is not judged and the verdict is the p99's.
func judgeGoal(minRatio float64, maxP99 time.Duration, ratio float64, gw phaseResult, open bool) goal {
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "MISS"
	}
	g := goal{
		MinRatio: minRatio, MaxP99Ms: ms(maxP99),
		Throughput: verdict(ratio >= minRatio),
		P99:        verdict(gw.Requests > 0 && gw.P99Ms <= ms(maxP99)),
	}
	g.Verdict = verdict(g.Throughput == "PASS" && g.P99 == "PASS")
	if open {
		g.Throughput, g.Verdict = notJudged, g.P99
	}
	return g
}

// writeJSON writes a report's result as indented JSON (-json).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// loadLine describes how a two-phase scenario sent its load.
func loadLine(mode string, rate float64, concurrency int) string {
	if mode == "open" {
		return fmt.Sprintf("open loop at %g req/s, %d workers", rate, concurrency)
	}
	return fmt.Sprintf("closed loop, %d workers", concurrency)
}
