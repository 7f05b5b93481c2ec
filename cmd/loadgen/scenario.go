package main

import (
	"context"
	"flag"
	"io"
	"strings"
	"time"
)

// scenario is one kind of load run. A scenario lives in its own file of this package; adding one
// is that file plus a line in scenarios.
type scenario struct {
	name    string
	summary string
	// phases is how many measured phases a run has; it bounds the run's total time.
	phases int
	// flags registers the scenario's own flags. They exist only when the scenario is selected,
	// so two scenarios may each have a flag of the same name.
	flags func(fs *flag.FlagSet)
	// check validates the scenario's flags once they are parsed.
	check func() error
	// ownSystem marks a scenario that starts the processes it loads (its own Redis among them)
	// and sends a load of its own shape: it has no -redis, -warmup or -max-requests, and its
	// -duration is 0 unless given.
	ownSystem bool
	// prepare, when set, runs right after parsing, before check: it completes the common
	// settings with the scenario's own defaults, which may depend on its flags.
	prepare func(sh *shape) error
	// bound, when set, replaces the run's time bound computed from phases.
	bound func(sh shape) time.Duration
	// run runs the scenario with the common settings and its own flags, writes its report, and
	// returns the value printed on the RESULT line (a struct with a "scenario" field). A result
	// that missed its goals is not an error.
	run func(ctx context.Context, env *env) (any, error)
}

// scenarios lists every scenario, the default first.
func scenarios() []*scenario {
	return []*scenario{
		newIngest(),
		newSync(),
		newPostal(),
		newMixed(),
		newIPN(),
		newFault(killReplica),
		newFault(partnerOutage),
		newFault(redisRestart),
		newFault(slowPartner),
	}
}

// env is what every scenario gets: the settings common to all, and where to write.
type env struct {
	redisURL string
	shape    shape
	json     bool   // report as JSON instead of text
	runID    string // unique to this run: names keys, event ids, replicas
	out      io.Writer
	progress io.Writer
}

// scenarioArg finds the value of -scenario in args before the flags are parsed, because the
// scenario decides which flags exist.
func scenarioArg(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "scenario" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}
