package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/routing"
)

// Goals of the ingest scenario.
const (
	ingestMinRatio = 0.8                   // gateway events/s over baseline events/s
	ingestMaxP99   = 15 * time.Millisecond // gateway p99
)

// ingestOptions are the ingest scenario's own flags.
type ingestOptions struct {
	batch    int
	dossiers int
	target   string
	gatewayFlags
}

func newIngest() *scenario {
	o := &ingestOptions{}
	return &scenario{
		name:    "ingest",
		summary: "POST /v1/events: a bare net/http+XADD baseline, then the gateway, same load",
		phases:  2,
		flags:   o.register,
		check:   o.validate,
		run:     o.run,
	}
}

func (o *ingestOptions) register(fs *flag.FlagSet) {
	fs.IntVar(&o.batch, "batch", 1, fmt.Sprintf("events per request (1: one CloudEvent; 2..%d: a batch)", events.MaxBatch))
	fs.IntVar(&o.dossiers, "dossiers", 1000, "distinct dossier codes the events spread over")
	fs.StringVar(&o.target, "target", "", "base `URL` of a running gateway (loopback only) to load instead of starting one")
	o.gatewayFlags.register(fs)
}

func (o *ingestOptions) validate() error {
	var errs []error
	if o.batch < 1 || o.batch > events.MaxBatch {
		errs = append(errs, fmt.Errorf("-batch %d is outside 1..%d", o.batch, events.MaxBatch))
	}
	if o.dossiers < 1 || o.dossiers > 100_000 {
		errs = append(errs, fmt.Errorf("-dossiers %d is outside 1..100000", o.dossiers))
	}
	errs = append(errs, checkConsumers(o.consumers))
	if o.target != "" {
		if err := checkLoopbackURL("-target", o.target); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, o.checkRole())
	if o.target != "" && o.role != config.RoleAll {
		errs = append(errs, fmt.Errorf("-role %s sets the in-process gateway's role; an external -target runs its own", o.role))
	}
	return errors.Join(errs...)
}

func (o *ingestOptions) run(ctx context.Context, e *env) (any, error) {
	rdb, err := newRedisClient(ctx, e.redisURL)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	client := newLoadClient(e.shape.Concurrency)
	defer client.CloseIdleConnections()
	res := &ingestResult{
		Scenario: "ingest", Mode: e.shape.mode(), Rate: e.shape.Rate, Concurrency: e.shape.Concurrency,
		Batch: o.batch, Dossiers: o.dossiers, DurationS: e.shape.Duration.Seconds(), WarmupS: e.shape.Warmup.Seconds(),
		Target: "in-process",
	}
	if o.target != "" {
		res.Target = o.target
	}

	base, err := o.baselinePhase(ctx, e, rdb, client)
	if err != nil {
		return nil, err
	}
	res.Baseline = newPhaseResult(base)

	gw, check, err := o.gatewayPhase(ctx, e, rdb, client)
	if err != nil {
		return nil, err
	}
	res.Gateway = newPhaseResult(gw)
	res.StreamCheck = check
	if o.target == "" {
		res.Role = o.role
		if o.role != config.RoleAPI { // an api gateway runs no consumers
			res.Consumers = o.consumers
		}
	}
	res.judge()
	if err := res.report(e); err != nil {
		return res, err
	}
	if check != nil && !check.Match {
		return res, fmt.Errorf("checking stream: %s holds %d entries, but %d events were accepted", check.Stream, check.Entries, check.Accepted)
	}
	return res, nil
}

// cleanupContext outlives an interrupted run, so keys are deleted even after Ctrl-C.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

func (o *ingestOptions) baselinePhase(ctx context.Context, e *env, rdb *redis.Client, client *loadClient) (st *phaseStats, err error) {
	b, err := startBaseline(rdb, "loadgen:"+e.runID+":baseline")
	if err != nil {
		return nil, err
	}
	defer func() {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if serr := b.stop(cctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("stopping baseline: %w", serr))
		}
	}()
	fmt.Fprintf(e.progress, "baseline: %s, XADD to %s; warming up %s, measuring %s\n", b.URL(), b.stream, e.shape.Warmup, e.shape.Duration)
	p := o.poster(client, b.URL(), newEventGen("b"+e.runID, o.dossiers, o.batch))
	p.accepted = func(int, []byte) int { return o.batch }
	st, err = measureHTTP(ctx, e.shape, client, p, nil)
	if err != nil {
		return nil, fmt.Errorf("measuring baseline: %w", err)
	}
	return st, nil
}

func (o *ingestOptions) gatewayPhase(ctx context.Context, e *env, rdb *redis.Client, client *loadClient) (st *phaseStats, check *streamCheck, err error) {
	url := strings.TrimSuffix(o.target, "/") + "/v1/events"
	var prefix string
	if o.target == "" {
		prefix = "loadgen" + e.runID
		var stop func() error
		url, stop, err = o.startInProcess(ctx, e, rdb, prefix)
		defer func() { err = errors.Join(err, stop()) }()
		if err != nil {
			return nil, nil, err
		}
	} else {
		fmt.Fprintf(e.progress, "gateway: external, %s\n", url)
	}
	profile, closeProfile, perr := openProfile(o.cpuprofile) // profile: a nil interface without -cpuprofile
	if perr != nil {
		return nil, nil, perr
	}
	defer func() {
		if cerr := closeProfile(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	fmt.Fprintf(e.progress, "gateway: warming up %s, measuring %s\n", e.shape.Warmup, e.shape.Duration)
	p := o.poster(client, url, newEventGen("g"+e.runID, o.dossiers, o.batch))
	p.token = config.DemoClientToken
	p.accepted = gatewayAccepted
	st, err = measureHTTP(ctx, e.shape, client, p, profile)
	if err != nil {
		return nil, nil, fmt.Errorf("measuring gateway: %w", err)
	}
	if prefix != "" {
		stream := store.Keys{Prefix: prefix}.Stream(routing.TopicDossierStatusChanged)
		n, xerr := rdb.XLen(ctx, stream).Result()
		if xerr != nil {
			return nil, nil, fmt.Errorf("checking stream length: %w", xerr)
		}
		check = &streamCheck{Stream: stream, Entries: n, Accepted: st.Accepted, Match: n == st.Accepted}
	}
	return st, check, nil
}

// startInProcess starts a gateway in this process under prefix and returns its ingest URL and
// the function that stops it and deletes its keys; stop is never nil, because a gateway that
// failed to start may still have written keys.
func (o *ingestOptions) startInProcess(ctx context.Context, e *env, rdb *redis.Client, prefix string) (url string, stop func() error, err error) {
	var g *gateway
	stop = func() error {
		var serr error
		if g != nil {
			serr = g.stop()
		}
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		n, derr := deleteKeys(cctx, rdb, prefix)
		fmt.Fprintf(e.progress, "gateway: deleted %d keys under %s\n", n, prefix)
		return errors.Join(serr, derr)
	}
	cfg, err := gatewayConfig(e.redisURL, prefix, "loadgen-"+e.runID, o.consumers)
	if err != nil {
		return "", stop, err
	}
	if err := o.configure(&cfg); err != nil {
		return "", stop, err
	}
	g, err = startGateway(ctx, cfg)
	if err != nil {
		return "", stop, err
	}
	fmt.Fprintf(e.progress, "gateway: in process (%s), %s, key prefix %s\n", o.describe(), g.URL(), prefix)
	return g.URL(), stop, nil
}

func (o *ingestOptions) poster(client *loadClient, url string, gen *eventGen) *poster {
	return &poster{client: client, url: url, contentType: gen.contentType(), body: gen.body}
}

// ingestResult is the RESULT line of the ingest scenario.
type ingestResult struct {
	Scenario    string  `json:"scenario"`
	Mode        string  `json:"mode"` // closed or open loop
	Rate        float64 `json:"rate"` // requests per second offered, open loop
	Concurrency int     `json:"concurrency"`
	Batch       int     `json:"batch"`
	Dossiers    int     `json:"dossiers"`
	DurationS   float64 `json:"duration_s"`
	WarmupS     float64 `json:"warmup_s"`
	Target      string  `json:"target"`              // "in-process" or the -target URL
	Role        string  `json:"role,omitempty"`      // in-process gateway only: all or api
	Consumers   int     `json:"consumers,omitempty"` // in-process gateway with consumers only

	Baseline phaseResult `json:"baseline"`
	Gateway  phaseResult `json:"gateway"`
	// Ratio is the gateway's events/s over the baseline's.
	Ratio float64 `json:"ratio"`
	Goal  goal    `json:"goal"`
	// StreamCheck is null when loading an external gateway (its key prefix is unknown).
	StreamCheck *streamCheck `json:"stream_check"`
}

// goal is the verdict against the ingest goals: PASS or MISS each, and overall.
type goal struct {
	MinRatio   float64 `json:"min_ratio"`
	MaxP99Ms   float64 `json:"max_p99_ms"`
	Throughput string  `json:"throughput"`
	P99        string  `json:"p99"`
	Verdict    string  `json:"verdict"`
}

// streamCheck compares the gateway's stream with what it accepted.
type streamCheck struct {
	Stream   string `json:"stream"`
	Entries  int64  `json:"entries"`
	Accepted int64  `json:"accepted"`
	Match    bool   `json:"match"`
}

func (r *ingestResult) judge() {
	if r.Baseline.EventsPerS > 0 {
		r.Ratio = round(r.Gateway.EventsPerS/r.Baseline.EventsPerS, 3)
	}
	r.Goal = judgeGoal(ingestMinRatio, ingestMaxP99, r.Ratio, r.Gateway, r.Mode == "open")
}
