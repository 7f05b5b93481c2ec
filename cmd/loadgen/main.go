// Command loadgen is the gateway's load harness. It runs one scenario and reports throughput,
// latency percentiles, errors, CPU and memory, ending with a machine-readable RESULT line.
//
//	go run ./cmd/loadgen -scenario ingest -duration 10s -warmup 2s -concurrency 64
//
// Every run is bounded: each phase lasts -warmup plus -duration plus at most one request timeout
// (10 s) for the requests still in flight, the whole run is cut off after that plus two minutes of
// set-up allowance, and the only traffic goes to loopback addresses (a non-loopback -redis or
// -target is refused). Interrupting it (Ctrl-C) still deletes the Redis keys it wrote.
//
// # Scenarios
//
// ingest (the default) measures POST /v1/events in two phases, one after the other, with the
// same load:
//
//  1. baseline: a bare net/http handler started in this process that reads the body, does one
//     XADD to the same Redis (a stream of its own, deleted afterwards) and answers 202. It is the
//     least any ingest endpoint can do on this machine.
//  2. gateway: a whole gateway started in this process with app.New (the dev profile, but on the
//     real Redis under a key prefix of its own, deleted afterwards), loaded with valid
//     vn.gov.dossier.status_changed CloudEvents of about 1 KiB (an id unique per event, spread
//     over -dossiers dossier codes with increasing versions) and the demo client token. Its
//     consumers run as they would in production, syncing to the sandbox portal on its own
//     listener, so they compete with the ingest path for the CPU. With -target the gateway at
//     that URL is loaded instead.
//
// After the gateway phase the length of its dossier.status_changed stream is compared with the
// number of events it accepted (202 answers; "accepted" results of a batch); a mismatch ends the
// run with exit status 1 after the report.
//
// sync measures dossier sync end to end (events in, dossiers at the sandbox portal out) against a
// minimal hand-written pipeline (XADD → XREADGROUP → the portal's calls → XACK, batched), on the
// same Redis and the same sandbox portal; -replicas runs several gateways on one key prefix and
// -backlog parks the whole load first (portal paused) to read the RSS with the backlog and time
// the drain after the resume. flow.go describes the runner it shares with postal and mixed, and
// their flags (-events, -warmup-events, -consumers, -in-flight, -replicas, -producers, -read-batch, -rate,
// -backlog, -drain, -timeout, -cpuprofile); sync.go adds -versions.
//
// postal measures postal delivery end to end the same way: vn.gov.delivery.requested events in,
// orders at the MyVNPost sandbox out, against a minimal pipeline making the same two MyVNPost
// calls (look-up, create) per request (postal.go).
//
// mixed interleaves a working day's traffic in one stream of requests: status changes (synced to
// the portal), VNPay IPNs (answered 00) and delivery requests (orders at the post), by default 17,
// 2 and 1 in every 20 (-mix status=17,ipn=2,delivery=1; -versions 4 status changes per dossier),
// against the minimal pipelines of sync and postal and the ipn scenario's bare handler (mixed.go).
//
// ipn measures VNPay's IPN (GET /v1/callbacks/vnpay/ipn) the same way. An in-process gateway
// (dev profile, real Redis, own key prefix) first gets -payments VNPay payments through POST
// /v1/payments (not measured); each payment's IPN is signed in advance as VNPay signs it, with a
// forged copy. Each phase then sends a mix: the first valid IPN of the next payment (answered 00),
// a repeat of one already sent (-duplicates, answered 02) and a forged one (-bad-signatures,
// answered 97); once every payment had its first IPN, valid IPNs are repeats. The baseline is a
// bare net/http handler on the gateway's server settings making one Redis round trip per IPN
// (HSETNX, same Redis, same go-redis client). Requests are IPNs answered as their kind must be,
// events the 00 answers (payments that became paid). After the load the gateway is stopped and
// the store is read: every payment a valid IPN was sent for must be paid with exactly one
// transition to paid and one payment.settled entry (the retry schedule's redeliveries aside),
// the others still pending, and the 00 answers as many as the paid payments; otherwise the run
// ends with exit status 1. Goals: at least 0.6× the baseline's IPNs/s, p99 at most 10 ms. Its
// own flags: -payments N (40000), -duplicates S (0.2), -bad-signatures S (0.1), -consumers N,
// -role R (as ingest's: api answers IPNs without the consumers that notify the one-stop system
// and the portal of each paid payment), -cpuprofile FILE.
//
// The fault scenarios (kill-replica, partner-outage, redis-restart, slow-partner) are described
// below. Further scenarios are further files of this package, each a scenario with a name, its
// own flags and a run function, listed in scenarios.
//
// # Flags
//
// Common to the ingest scenario (the fault scenarios have their own, below):
//
//	-scenario NAME     the scenario to run (default ingest); it decides which other flags exist
//	-redis URL         the Redis every phase writes to (default redis://127.0.0.1:6379/0)
//	-duration D        the measured window of each phase (default 10s, at most 1h)
//	-warmup D          load offered before each window and not counted (default 2s)
//	-concurrency N     workers, each with at most one request in flight (default 64, at most
//	                   1024); the one HTTP client opens at most N connections per host and keeps
//	                   them alive
//	-rate R            open loop: R requests per second in all, on a fixed schedule; latency
//	                   counts from each request's scheduled time, so queueing in the load
//	                   generator is not hidden. 0 (the default) is closed loop: each worker sends
//	                   its next request as soon as the previous one is answered
//	-max-requests N    end a measured window early after N requests (default 5000000; 0: none)
//	-json              write the report as indented JSON instead of the text table
//
// Of the ingest scenario:
//
//	-batch N           events per request (default 1); above 1 the body is a CloudEvents batch
//	                   (at most 500). The baseline still does one XADD per request
//	-dossiers N        dossier codes the events spread over (default 1000)
//	-consumers N       consumers per handler of the in-process gateway (default: the config's, 4)
//	-role R            the in-process gateway's process role: all (the default: its consumers sync
//	                   what it ingests, sharing the cores) or api (ingest only, as an API replica
//	                   of a split deployment runs: like for like with the baseline)
//	-target URL        base URL of a running gateway (http://127.0.0.1:PORT) to load instead of
//	                   starting one; the baseline still runs in process; no stream check
//	-cpuprofile FILE   write a CPU profile (pprof) of the gateway phase's measured window; read it
//	                   with go tool pprof -top FILE. In process, it includes the load generator
//
// # Fault scenarios
//
//	go run ./cmd/loadgen -scenario kill-replica -short
//
// Each runs the production setup as real processes on free 127.0.0.1 ports: its own
// redis-server (AOF on, appendfsync everysec, no RDB, in a temporary directory; it must be
// installed: apt-get install redis-server), one partnersim, and gateway processes started with
// -config on a copy of configs/production.yaml whose addresses point at them and whose times are
// shorter (handler timeout 1s, max idle time 8s, claim interval 1s, breaker open for 2s, a
// delayed-retry schedule of 500ms, 1s, 2s, ... up to -retry-cap, long enough never to run out
// during the run), with the secrets in their environment. The binaries are built once per run
// (go build into the temporary directory) unless -bin names a directory that holds them.
//
// The load is vn.gov.dossier.status_changed events of the ingest scenario's generator: dossiers
// × versions of them, at -rate per second, open loop, so that every dossier gets versions 1..N in
// order; the dossier count follows from -rate × -duration / -versions. Requests go to the
// gateways' API listeners in turn. An event not answered 2xx (a 503 while Redis is down, a
// refused connection to a killed replica) is sent again with the same id to the next gateway, as
// a real client would, for up to 30 s (or twice the fault's length); a repeat of a stored event is
// answered 200 "duplicate".
//
// After the load the run waits (at most -drain-timeout) until the gateways have nothing left to
// do for the portal: no pending, unread or parked message of the dossier.status_changed flow.
// Then it reads every dossier at the sandbox portal and checks that each holds exactly one
// processing step per accepted event (none lost, none twice, none of an event never accepted),
// the status of its highest version (versions up to 10 have distinct statuses), and that the
// dead-letter stream is empty. A failed check fails the verdict.
//
//   - kill-replica: three gateways; from -kill-at the second is watched and killed with SIGKILL
//     (then taken out of the rotation) at the moment -kill-moment names: "step" (the default),
//     while one of its messages has its step call to the portal in flight (the portal holds
//     the message's version but not yet its step), the worst moment for a crash; "pending",
//     while it holds any message. It waits at most 5 s for that moment, then kills anyway. The
//     portal answers after -latency (20ms) throughout, so work is in hand. Figures: the moment
//     found, the killed replica's pending entries, the time until other replicas had claimed
//     and acknowledged all of them (XPENDING), until those events' steps were at the portal,
//     and how many of those steps arrived twice.
//   - partner-outage: one gateway; the portal drops every connection from -outage-at for
//     -outage. Figures: the breaker's open and closed transitions (gateway /metrics) and when
//     they came, the gateway's CPU per second before and during the outage (/proc/PID/stat),
//     the backlog when the portal came back and the drain rate until the portal held every step.
//     Fails unless the breaker opened and closed.
//   - redis-restart: one gateway; at -restart-at Redis gets SIGTERM (handled like SHUTDOWN: AOF
//     flushed; not SHUTDOWN NOSAVE) and is started again after -down on the same port and
//     directory. Figures: 503 answers, events retried, the time until ingest and sync worked
//     again. Fails if a gateway exited or is not ready afterwards.
//   - slow-partner: one gateway; the portal answers after -latency (1.5s, above the 1s handler
//     timeout) from -slow-at for -slow. Figures: failed portal calls, breaker openings and
//     redeliveries the idempotent consumer skipped.
//
// Flags of the fault scenarios:
//
//	-short             the short version (20-30 s of load, about 30-60 s in all); without it
//	                   the long one (minutes)
//	-duration D        how long the load lasts (default: the fault's start + its length + a
//	                   tail, which depend on -short)
//	-rate R            events per second (default 100)
//	-concurrency N     workers, each with one event in flight, retries included (default 256)
//	-versions N        versions per dossier (default 10)
//	-replicas N        gateway processes (default 3 for kill-replica, else 1)
//	-consumers N       consumers per handler in each gateway (default 4)
//	-bin DIR           prebuilt gateway and partnersim binaries
//	-retry-cap D       longest step of the delayed-retry schedule (default 2s short; 10s or
//	                   30s long)
//	-drain-timeout D   how long the gateways may take to finish after the load
//	-kill-at, -outage-at, -restart-at, -slow-at D    when the fault starts
//	-outage, -down, -slow D                          how long it lasts
//	-latency D         the portal's latency (kill-replica, slow-partner)
//	-kill-moment M     kill-replica: step or pending (above)
//	-json              the report as JSON
//
// The report ends with a line "VERDICT scenario=NAME pass=BOOL key=value ..." with the figures,
// then the RESULT line. A failed verdict exits with status 1 and keeps the temporary directory
// (every process's log, Redis's data) for inspection; otherwise it is removed. Every process
// started is stopped when the run ends, fails or is interrupted, and dies with the load
// generator if that is killed.
//
// # Reading the result
//
// Each phase reports requests/s (2xx answers only) and events/s accepted in the measured window;
// latency percentiles p50, p90, p99, p99.9 and the maximum of successful requests, from a
// log-linear histogram (within 1.6 %); errors by HTTP status, or "timeout", "transport",
// "canceled"; the connections the client opened (more than -concurrency means churn); in open
// loop, the scheduled sends that never went out (the offered rate was not sustained); the CPU
// seconds this process used in the window (getrusage) and its RSS (VmRSS) at the end of it and
// at its peak. The process holds the load generator in both phases, and the gateway too when it
// runs in process, so compare the phases' CPU per 1k events rather than absolute figures.
//
// Then the ratio of the gateway's events/s to the baseline's, and the goals: throughput at least
// 0.8× the baseline and a gateway p99 of at most 15 ms, each PASS or MISS. The throughput ratio
// measures capacity in closed loop only; in open loop both phases are offered the same rate, so
// it only says whether the gateway kept up, and the p99 at that rate is the figure to read. In
// closed loop, latency follows from throughput (mean ≈ concurrency / requests per second).
// A MISS is a finding, not a failure: the exit status stays 0. The machine is noisy (see
// ../shared/docs/performance.md): compare ratios measured in one run, never absolute numbers
// from different runs.
//
// The last line is the result as one JSON object, for scripts:
//
//	RESULT {"scenario":"ingest","mode":"closed",...,"baseline":{...},"gateway":{...},
//	        "ratio":0.41,"goal":{"throughput":"MISS","p99":"PASS","verdict":"MISS",...},
//	        "stream_check":{"entries":...,"accepted":...,"match":true}}
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limits that keep every run bounded.
const (
	maxDuration    = time.Hour
	maxWarmup      = 10 * time.Minute
	maxConcurrency = 1024
	maxRate        = 1e6
	// setupAllowance covers starting and stopping what a scenario needs and deleting its keys.
	setupAllowance = 2 * time.Minute
)

func main() {
	// go-redis logs every failed dial on its own; the error that ends the run says it once.
	redis.SetLogger(quietLogger{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// quietLogger drops go-redis's internal log lines.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// run parses args, runs the selected scenario, writes its report and its RESULT line to out and
// progress to progress.
func run(ctx context.Context, args []string, out, progress io.Writer) error {
	all := scenarios()
	name := scenarioArg(args)
	if name == "" {
		name = all[0].name
	}
	var sc *scenario
	var names []string
	for _, s := range all {
		names = append(names, s.name)
		if s.name == name {
			sc = s
		}
	}
	if sc == nil {
		fmt.Fprintf(progress, "loadgen: unknown scenario %q (known: %s)\n", name, strings.Join(names, ", "))
		return errUsage
	}

	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(progress)
	fs.Usage = func() {
		fmt.Fprintf(progress, "usage: loadgen -scenario NAME [flags]\n\nscenarios:\n")
		for _, s := range all {
			fmt.Fprintf(progress, "  %-15s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(progress, "\nflags (with -scenario %s):\n", sc.name)
		fs.PrintDefaults()
	}
	fs.String("scenario", all[0].name, "scenario to run: "+strings.Join(names, ", "))
	var (
		redisURL, duration, warmup = new(string), new(time.Duration), new(time.Duration)
		concurrency, rate          = new(int), new(float64)
		maxRequests                = new(int64)
	)
	if sc.ownSystem {
		// The scenario starts the processes it loads, and sends a fixed number of events.
		fs.DurationVar(duration, "duration", 0, "how long the load lasts (default: the scenario's, which depends on -short)")
		fs.IntVar(concurrency, "concurrency", faultConcurrency, "workers, each with at most one event in flight (its retries included)")
		fs.Float64Var(rate, "rate", 100, "events per second, open loop")
	} else {
		fs.StringVar(redisURL, "redis", "redis://127.0.0.1:6379/0", "Redis `URL` (loopback only) the phases write to")
		fs.DurationVar(duration, "duration", 10*time.Second, "measured window of each phase")
		fs.DurationVar(warmup, "warmup", 2*time.Second, "load before each measured window, not counted")
		fs.IntVar(concurrency, "concurrency", 64, "workers, each with at most one request in flight")
		fs.Float64Var(rate, "rate", 0, "open loop: send this many requests per second in all (0: closed loop)")
		fs.Int64Var(maxRequests, "max-requests", 5_000_000, "end a measured window early after this many requests (0: no limit)")
	}
	asJSON := fs.Bool("json", false, "write the report as JSON instead of text")
	sc.flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(progress, "loadgen: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	sh := shape{Duration: *duration, Warmup: *warmup, Concurrency: *concurrency, Rate: *rate, MaxRequests: *maxRequests}
	if sc.prepare != nil {
		if err := sc.prepare(&sh); err != nil {
			fmt.Fprintln(progress, "loadgen:", err)
			return errUsage
		}
	}
	if err := errors.Join(sh.validate(), sc.check()); err != nil {
		fmt.Fprintln(progress, "loadgen:", err)
		return errUsage
	}

	id := make([]byte, 4)
	_, _ = rand.Read(id)
	e := &env{redisURL: *redisURL, shape: sh, json: *asJSON, runID: hex.EncodeToString(id), out: out, progress: progress}
	bound := time.Duration(sc.phases)*(sh.Warmup+sh.Duration+requestTimeout) + setupAllowance
	if sc.bound != nil {
		bound = sc.bound(sh)
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	res, err := sc.run(ctx, e)
	if res != nil {
		b, merr := json.Marshal(res)
		if merr != nil {
			return errors.Join(err, fmt.Errorf("encoding result: %w", merr))
		}
		fmt.Fprintf(out, "RESULT %s\n", b)
	}
	return err
}

func (s shape) validate() error {
	var errs []error
	if s.Duration <= 0 || s.Duration > maxDuration {
		errs = append(errs, fmt.Errorf("-duration %s is outside (0, %s]", s.Duration, maxDuration))
	}
	if s.Warmup < 0 || s.Warmup > maxWarmup {
		errs = append(errs, fmt.Errorf("-warmup %s is outside [0, %s]", s.Warmup, maxWarmup))
	}
	if s.Concurrency < 1 || s.Concurrency > maxConcurrency {
		errs = append(errs, fmt.Errorf("-concurrency %d is outside 1..%d", s.Concurrency, maxConcurrency))
	}
	if s.Rate < 0 || s.Rate > maxRate {
		errs = append(errs, fmt.Errorf("-rate %v is outside 0..%v", s.Rate, maxRate))
	}
	if s.MaxRequests < 0 {
		errs = append(errs, errors.New("-max-requests must not be negative"))
	}
	return errors.Join(errs...)
}
