package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/egov-vn/gateway/internal/config"
)

// gatewayFlags are the flags of a two-phase scenario that starts one in-process gateway and may
// profile it: -consumers, -role and -cpuprofile.
type gatewayFlags struct {
	consumers  int
	cpuprofile string
	// role is the in-process gateway's process role: config.RoleAll or config.RoleAPI.
	role string
}

func (g *gatewayFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&g.consumers, "consumers", config.Defaults().Routing.ConsumersPerHandler, "consumers per handler of the in-process gateway")
	fs.StringVar(&g.cpuprofile, "cpuprofile", "", "write a CPU profile of the gateway phase's measured window to `FILE`")
	fs.StringVar(&g.role, "role", config.RoleAll, "process `role` of the in-process gateway: all (its consumers do the downstream "+
		"work of what it takes in, on the same cores, as one replica runs by default) or api (no consumers and no background "+
		"loops, as an API replica of a split deployment: like for like with the baseline, which does no downstream work); "+
		"worker serves no API and is refused")
}

// checkRole checks -role.
func (g *gatewayFlags) checkRole() error {
	switch {
	case g.role == config.RoleWorker:
		return errors.New("-role worker: a worker serves no API listener, so there is nothing to load (use all or api)")
	case !slices.Contains(config.Roles, g.role):
		return fmt.Errorf("-role %q is not one of all, api", g.role)
	}
	return nil
}

// configure sets the role in cfg and validates it again.
func (g *gatewayFlags) configure(cfg *config.Config) error {
	cfg.Role = g.role
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("validating gateway configuration: %w", err)
	}
	return nil
}

// describe says what the in-process gateway runs, for the progress lines and reports.
func (g *gatewayFlags) describe() string {
	if g.role == config.RoleAPI {
		return "role api: no consumers"
	}
	return fmt.Sprintf("role %s, %d consumers per handler", g.role, g.consumers)
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
