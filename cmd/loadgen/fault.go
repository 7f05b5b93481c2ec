package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/egov-vn/gateway/routing"
)

// A fault scenario runs the production setup as separate processes (its own redis-server with
// AOF, the partnersim, one or more gateways in the production profile), offers dossier status
// changes at a steady rate, does something bad to one part mid-run (kills a replica, takes the
// portal down, restarts Redis, slows the portal), waits until the gateway has done all its work,
// then counts the effect at the sandbox portal: every dossier must hold exactly one processing
// step per accepted event and its highest version's status. It prints the figures, a VERDICT
// line and the RESULT line, and fails (exit status 1) when the verdict does.

// faultSpec describes one fault scenario: its name, defaults and what it does.
type faultSpec struct {
	name    string
	summary string
	// replicas is the default number of gateway processes; minReplicas the least it needs.
	replicas, minReplicas int
	// atFlag names the flag of when the fault starts, counted from the start of the load;
	// lengthFlag the flag of how long it lasts ("" for a fault that is not undone, a kill).
	atFlag, atHelp         string
	lengthFlag, lengthHelp string
	short, long            faultTimes
	// latencyHelp, when set, gives the scenario a -latency flag (portal latency).
	latencyHelp string
	// extraFlags registers flags of this scenario alone (nil: none).
	extraFlags func(fs *flag.FlagSet, o *faultOptions)
	// action builds what the scenario does to the running system.
	action func(o *faultOptions) faultAction
}

// faultTimes are a version's defaults. The load lasts at + length + tail unless -duration says
// otherwise.
type faultTimes struct {
	at, length, tail time.Duration
	latency          time.Duration
	retryCap         time.Duration // the delayed-retry schedule's longest step
	drainTimeout     time.Duration // how long the gateway may take to finish after the load
}

// faultAction is what a fault scenario does, and what it adds to the verdict.
type faultAction interface {
	// before runs once everything is up, before the load starts.
	before(ctx context.Context, r *faultRun) error
	// inject starts the fault at its time; heal ends it after its length (never called for a
	// fault without a length).
	inject(ctx context.Context, r *faultRun) error
	heal(ctx context.Context, r *faultRun) error
	// judge adds the scenario's figures and checks, once the gateway is done.
	judge(ctx context.Context, r *faultRun, v *verdict)
}

// faultOptions are the flags of a fault scenario.
type faultOptions struct {
	spec         *faultSpec
	short        bool
	versions     int
	dossiers     int // derived: rate × duration / versions
	replicas     int
	consumers    int
	bin          string
	at, length   time.Duration
	latency      time.Duration
	retryCap     time.Duration
	drainTimeout time.Duration
	giveUp       time.Duration // how long the load keeps retrying one event
	killMoment   string        // kill-replica: "step" or "pending"
	schedule     []time.Duration
	shape        shape
}

// faultConcurrency is the default number of load workers: enough that events retried while
// Redis is down (each holding a worker) do not stop the others from going out on time.
const faultConcurrency = 256

func newFault(spec *faultSpec) *scenario {
	o := &faultOptions{spec: spec}
	return &scenario{
		name:      spec.name,
		summary:   spec.summary,
		phases:    1,
		ownSystem: true,
		flags:     o.register,
		prepare:   o.prepare,
		check:     o.validate,
		bound:     o.bound,
		run:       o.run,
	}
}

func (o *faultOptions) register(fs *flag.FlagSet) {
	s := o.spec
	fs.BoolVar(&o.short, "short", false, "the short version (about 30-60 s in all); without it the long one (minutes)")
	fs.IntVar(&o.versions, "versions", 10, "versions per dossier (the dossier count follows from -rate × -duration); "+
		"the final-status check tells versions apart up to 10")
	fs.IntVar(&o.replicas, "replicas", s.replicas, "gateway processes sharing the Redis")
	fs.IntVar(&o.consumers, "consumers", 4, "consumers per handler in each gateway")
	fs.StringVar(&o.bin, "bin", "", "`DIR` holding prebuilt gateway and partnersim binaries (default: build them into the run's directory)")
	fs.DurationVar(&o.at, s.atFlag, 0, s.atHelp+fmt.Sprintf(", counted from the start of the load (default %s; %s with -short)", s.long.at, s.short.at))
	if s.lengthFlag != "" {
		fs.DurationVar(&o.length, s.lengthFlag, 0, s.lengthHelp+fmt.Sprintf(" (default %s; %s with -short)", s.long.length, s.short.length))
	}
	if s.latencyHelp != "" {
		fs.DurationVar(&o.latency, "latency", 0, s.latencyHelp+fmt.Sprintf(" (default %s)", s.long.latency))
	}
	if s.extraFlags != nil {
		s.extraFlags(fs, o)
	}
	fs.DurationVar(&o.retryCap, "retry-cap", 0, fmt.Sprintf("longest step of the gateways' delayed-retry schedule 500ms, 1s, 2s, ... (default %s; %s with -short)",
		s.long.retryCap, s.short.retryCap))
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 0, fmt.Sprintf("how long the gateways may take to finish their work after the load (default %s; %s with -short)",
		s.long.drainTimeout, s.short.drainTimeout))
}

// prepare fills the defaults of the short or long version and derives the load: dossiers ×
// versions events at -rate, open loop, no warmup.
func (o *faultOptions) prepare(sh *shape) error {
	t := o.spec.long
	if o.short {
		t = o.spec.short
	}
	if o.at == 0 {
		o.at = t.at
	}
	if o.length == 0 {
		o.length = t.length
	}
	if o.latency == 0 {
		o.latency = t.latency
	}
	if o.retryCap == 0 {
		o.retryCap = t.retryCap
	}
	if o.drainTimeout == 0 {
		o.drainTimeout = t.drainTimeout
	}
	if sh.Duration == 0 {
		sh.Duration = o.at + o.length + t.tail
	}
	o.giveUp = max(30*time.Second, 2*o.length)
	if sh.Rate <= 0 {
		return fmt.Errorf("-rate must be positive: %s runs open loop", o.spec.name)
	}
	if o.versions > 0 && sh.Duration > 0 {
		// Every dossier gets versions 1..N: the load is exactly dossiers × versions events, and
		// lasts as long as that takes at the rate (at least -duration).
		o.dossiers = int(math.Ceil(sh.Rate * sh.Duration.Seconds() / float64(o.versions)))
		events := o.dossiers * o.versions
		sh.MaxRequests = int64(events)
		sh.Duration = time.Duration(float64(events)/sh.Rate*float64(time.Second)) + time.Millisecond
	}
	o.shape = *sh
	return nil
}

func (o *faultOptions) validate() error {
	var errs []error
	s := o.spec
	if o.versions < 1 || o.versions > 1000 {
		errs = append(errs, fmt.Errorf("-versions %d is outside 1..1000", o.versions))
	}
	if o.dossiers > 100_000 {
		errs = append(errs, fmt.Errorf("%d dossiers (rate × duration / versions) is more than 100000", o.dossiers))
	}
	if o.replicas < s.minReplicas || o.replicas > 9 {
		errs = append(errs, fmt.Errorf("-replicas %d is outside %d..9", o.replicas, s.minReplicas))
	}
	if o.consumers < 1 || o.consumers > 64 {
		errs = append(errs, fmt.Errorf("-consumers %d is outside 1..64", o.consumers))
	}
	if o.at <= 0 || o.at >= o.shape.Duration {
		errs = append(errs, fmt.Errorf("-%s %s must fall inside the load (0, %s)", s.atFlag, o.at, o.shape.Duration.Round(time.Millisecond)))
	}
	if s.lengthFlag != "" && (o.length <= 0 || o.length > time.Hour) {
		errs = append(errs, fmt.Errorf("-%s %s is outside (0, 1h]", s.lengthFlag, o.length))
	}
	if o.spec == killReplica && o.killMoment != killAtStep && o.killMoment != killAtPending {
		errs = append(errs, fmt.Errorf("-kill-moment %q is neither %q nor %q", o.killMoment, killAtStep, killAtPending))
	}
	if o.latency < 0 || o.latency > time.Minute {
		errs = append(errs, fmt.Errorf("-latency %s is outside [0, 1m]", o.latency))
	}
	if o.retryCap < 500*time.Millisecond || o.retryCap > time.Hour {
		errs = append(errs, fmt.Errorf("-retry-cap %s is outside [500ms, 1h]", o.retryCap))
	}
	if o.drainTimeout <= 0 || o.drainTimeout > 2*time.Hour {
		errs = append(errs, fmt.Errorf("-drain-timeout %s is outside (0, 2h]", o.drainTimeout))
	}
	if len(errs) == 0 {
		o.schedule = retrySchedule(o.retryCap, o.at+o.length+o.shape.Duration+o.drainTimeout)
	}
	return errors.Join(errs...)
}

// retrySchedule is 500ms, 1s, 2s, ... doubling up to limit, then limit again until the steps add
// up to cover: a message parked during the run is never past its schedule (and dead-lettered as
// exhausted) before the run ends.
func retrySchedule(limit, cover time.Duration) []time.Duration {
	var out []time.Duration
	var sum time.Duration
	for d := 500 * time.Millisecond; sum < cover; d = min(d*2, limit) {
		d = min(d, limit)
		out = append(out, d)
		sum += d
	}
	return out
}

// buildAllowance covers building the binaries and starting the processes.
const buildAllowance = 3 * time.Minute

func (o *faultOptions) bound(sh shape) time.Duration {
	return buildAllowance + max(sh.Duration, o.at+o.length) + o.giveUp + o.drainTimeout + setupAllowance
}

// faultRun is one run of a fault scenario in progress.
type faultRun struct {
	o         *faultOptions
	e         *env
	sys       *system
	load      *faultLoad
	loadStart time.Time
	loadEnd   time.Time
	cpuStart  time.Duration // the gateways' CPU time when the load started

	// stepsComplete is when the portal first held a step for every confirmed event, after the
	// load; done when, besides, the gateway had nothing left (pending, unread, parked).
	stepsComplete, done time.Time
	lastBacklog         backlog

	watchers  sync.WaitGroup
	stopWatch context.CancelFunc
	watchCtx  context.Context

	// check is the count at the portal, for the scenario's own judgement.
	check effectCheck
}

// inFlightDuplicates is implemented by a fault that can legitimately make a step reach the
// portal twice: a step call in flight when a replica dies may have been applied although nobody
// learned it, and the claiming replica sends it again (steps are at least once; the portal has no
// way to tell a repeat). Such a fault judges the duplicates itself; any other fault fails on them.
type inFlightDuplicates interface {
	judgesDuplicates()
}

// logf writes a progress line stamped with the time since the load started.
func (r *faultRun) logf(format string, args ...any) {
	stamp := "setup"
	if !r.loadStart.IsZero() {
		stamp = fmt.Sprintf("t+%.1fs", time.Since(r.loadStart).Seconds())
	}
	fmt.Fprintf(r.e.progress, "%s: [%s] %s\n", r.o.spec.name, stamp, fmt.Sprintf(format, args...))
}

// since is the time from the start of the load to t, in seconds.
func (r *faultRun) since(t time.Time) float64 { return round(t.Sub(r.loadStart).Seconds(), 2) }

// watch runs fn in the background until the run's checks are over.
func (r *faultRun) watch(fn func(ctx context.Context)) {
	r.watchers.Add(1)
	go func() {
		defer r.watchers.Done()
		fn(r.watchCtx)
	}()
}

// finishWatchers waits for the background watchers to finish their observations (they end by
// themselves once they saw what they watch for); after grace it stops them.
func (r *faultRun) finishWatchers(grace time.Duration) {
	done := make(chan struct{})
	go func() {
		r.watchers.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		r.stopWatch()
		<-done
	}
}

// gatewayCPU is the CPU time the gateway processes still running have used so far.
func (r *faultRun) gatewayCPU() time.Duration {
	var total time.Duration
	for _, g := range r.sys.gateways {
		if !g.alive() {
			continue
		}
		if d, err := procCPUTime(g.pid()); err == nil {
			total += d
		}
	}
	return total
}

// sleepUntil waits until offset after the start of the load.
func (r *faultRun) sleepUntil(ctx context.Context, offset time.Duration) error {
	t := time.NewTimer(time.Until(r.loadStart.Add(offset)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (o *faultOptions) run(ctx context.Context, e *env) (res any, err error) {
	act := o.spec.action(o)
	fmt.Fprintf(e.progress, "%s: %d gateway(s) × %d consumers, %d dossiers × %d versions at %g events/s (%s), %s at %s",
		o.spec.name, o.replicas, o.consumers, o.dossiers, o.versions, o.shape.Rate, o.shape.Duration.Round(time.Millisecond), o.spec.atFlag, o.at)
	if o.spec.lengthFlag != "" {
		fmt.Fprintf(e.progress, ", %s %s", o.spec.lengthFlag, o.length)
	}
	fmt.Fprintln(e.progress)

	sys, err := startSystem(ctx, systemConfig{bin: o.bin, replicas: o.replicas, consumers: o.consumers, schedule: o.schedule}, e.progress)
	if err != nil {
		return nil, err
	}
	keep := true
	defer func() {
		sys.stop()
		if keep {
			fmt.Fprintf(e.progress, "%s: logs kept in %s\n", o.spec.name, sys.dir)
			return
		}
		if rerr := os.RemoveAll(sys.dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("removing run directory: %w", rerr))
		}
	}()

	r := &faultRun{o: o, e: e, sys: sys}
	r.watchCtx, r.stopWatch = context.WithCancel(ctx)
	defer func() {
		r.stopWatch()
		r.watchers.Wait()
	}()
	var urls []string
	for _, g := range sys.gateways {
		urls = append(urls, g.apiURL)
	}
	client := newLoadClient(o.shape.Concurrency)
	defer client.CloseIdleConnections()
	gen := newEventGen(e.runID, o.dossiers, 1)
	r.load = newFaultLoad(gen, o.dossiers*o.versions, client, urls, sys.clientToken, o.giveUp)
	if err := act.before(ctx, r); err != nil {
		return nil, err
	}

	r.cpuStart = r.gatewayCPU()
	r.loadStart = time.Now()
	timeline := make(chan error, 1)
	tctx, cancelTimeline := context.WithCancel(ctx)
	defer cancelTimeline()
	go func() { timeline <- r.timeline(tctx, act) }()
	r.logf("load started")
	st, lerr := runLoad(ctx, o.shape, r.load.op, nil)
	r.loadEnd = time.Now()
	sent, _, _, _ := r.load.counts()
	r.logf("load ended: %d events sent", sent)
	if terr := <-timeline; terr != nil || lerr != nil {
		return nil, errors.Join(lerr, terr)
	}

	r.waitDone(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	v := &verdict{}
	result, err := r.judge(ctx, act, st, v)
	if err != nil {
		return nil, err
	}
	keep = !result.Pass
	if err := result.report(e, v); err != nil {
		return result, err
	}
	if !result.Pass {
		return result, fmt.Errorf("verdict: %s failed: %s", o.spec.name, strings.Join(result.Failures, "; "))
	}
	return result, nil
}

// timeline injects the fault at its time and heals it after its length.
func (r *faultRun) timeline(ctx context.Context, act faultAction) error {
	if err := r.sleepUntil(ctx, r.o.at); err != nil {
		return err
	}
	if err := act.inject(ctx, r); err != nil {
		return err
	}
	if r.o.spec.lengthFlag == "" {
		return nil
	}
	// Interrupted during the fault, the run stops every process: nothing to heal.
	if err := r.sleepUntil(ctx, r.o.at+r.o.length); err != nil {
		return err
	}
	return act.heal(ctx, r)
}

// waitDone waits, after the load, until the gateway has nothing left to do for the portal (no
// pending, unread or parked message, seen twice 250 ms apart) and the portal holds a step for
// every confirmed event; or until nothing was left to do for quietFor although steps are missing
// (the check then reports them lost); or until the drain timeout.
func (r *faultRun) waitDone(ctx context.Context) {
	const quietFor = 3 * time.Second
	_, confirmed, _, _ := r.load.counts()
	deadline := r.loadEnd.Add(r.o.drainTimeout)
	var quietSince time.Time
	polls := 0
	lastLog := time.Now()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		now := time.Now()
		steps, serr := r.sys.portalSteps(ctx)
		b, berr := r.sys.backlog(ctx)
		if serr == nil && berr == nil {
			r.lastBacklog = b
			complete := int64(steps) >= confirmed
			if r.stepsComplete.IsZero() && complete {
				r.stepsComplete = now
			}
			if b.empty() {
				if quietSince.IsZero() {
					quietSince = now
				}
				polls++
			} else {
				quietSince, polls = time.Time{}, 0
			}
			if polls >= 2 && (complete || now.Sub(quietSince) >= quietFor) {
				r.done = quietSince
				r.logf("done: nothing pending, unread or parked; the portal holds %d steps for %d confirmed events", steps, confirmed)
				return
			}
		}
		if time.Since(lastLog) >= 5*time.Second {
			if err := errors.Join(serr, berr); err != nil {
				r.logf("waiting: %v", err)
			} else {
				r.logf("waiting: portal steps %d of %d; %s", steps, confirmed, b)
			}
			lastLog = time.Now()
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// effectCheck is the count of the effect at the sandbox portal.
type effectCheck struct {
	Dossiers    int   `json:"dossiers"`         // dossiers with at least one confirmed event
	Missing     int   `json:"missing_dossiers"` // of those, never received by the portal
	Steps       int   `json:"steps"`            // processing steps the portal holds for them
	Lost        int   `json:"lost"`             // confirmed events without their step
	Duplicated  int   `json:"duplicated"`       // steps received more than once (the extra copies)
	Unexpected  int   `json:"unexpected"`       // steps of events that were never sent or were rejected
	Uncertain   int   `json:"uncertain"`        // steps of unconfirmed events (allowed once)
	Unreadable  int   `json:"unreadable_steps"` // steps whose content names no version
	WrongStatus int   `json:"wrong_status"`     // final status is not the highest version's
	DeadLetters int64 `json:"deadletters"`
	// Examples name a few problems, for the report.
	Examples []string `json:"examples,omitempty"`
}

func (c *effectCheck) example(format string, args ...any) {
	if len(c.Examples) < 10 {
		c.Examples = append(c.Examples, fmt.Sprintf(format, args...))
	}
}

// checkEffects reads every dossier of the run at the sandbox portal and compares it with what
// became of each event.
func (r *faultRun) checkEffects(ctx context.Context) (effectCheck, error) {
	var c effectCheck
	gen := r.load.gen
	for d, code := range gen.codes {
		var confirmedAny bool
		for v := uint64(1); v <= uint64(r.o.versions); v++ {
			if r.load.state[gen.eventIndex(d, v)].Load() == evConfirmed {
				confirmedAny = true
			}
		}
		rec, found, err := r.sys.portalDossier(ctx, code)
		if err != nil {
			return c, err
		}
		if confirmedAny {
			c.Dossiers++
		}
		if !found {
			if confirmedAny {
				c.Missing++
				c.example("dossier %s was never received by the portal", code)
				for v := uint64(1); v <= uint64(r.o.versions); v++ {
					if r.load.state[gen.eventIndex(d, v)].Load() == evConfirmed {
						c.Lost++
					}
				}
			}
			continue
		}
		c.Steps += len(rec.Steps)
		seen := map[uint64]int{}
		for i := range rec.Steps {
			content, _ := rec.StepField(i, "NoiDungXuLy")
			rest, ok := strings.CutPrefix(content, stepPrefix)
			v, err := strconv.ParseUint(rest, 10, 64)
			if !ok || err != nil || v < 1 || v > uint64(r.o.versions) {
				c.Unreadable++
				c.example("dossier %s: step %d has content %q", code, i, content)
				continue
			}
			seen[v]++
		}
		var highest uint64
		for v := uint64(1); v <= uint64(r.o.versions); v++ {
			n := seen[v]
			if n > 0 {
				highest = v
			}
			if n > 1 {
				c.Duplicated += n - 1
				c.example("dossier %s: the step of version %d reached the portal %d times", code, v, n)
			}
			switch r.load.state[gen.eventIndex(d, v)].Load() {
			case evConfirmed:
				if n == 0 {
					c.Lost++
					c.example("dossier %s: the step of accepted version %d never reached the portal", code, v)
				}
			case evUnconfirmed, evInFlight:
				if n > 0 {
					c.Uncertain++
				}
			default:
				if n > 0 {
					c.Unexpected++
					c.example("dossier %s: the step of version %d, never sent or rejected, reached the portal", code, v)
				}
			}
		}
		status, _ := rec.DossierField("TrangThaiHoSo")
		if highest > 0 && status != strconv.FormatUint(statusOf(highest), 10) {
			c.WrongStatus++
			c.example("dossier %s: final status %s, but its highest version %d has status %d", code, status, highest, statusOf(highest))
		}
	}
	n, err := r.sys.deadLetters(ctx)
	if err != nil {
		return c, err
	}
	c.DeadLetters = n
	return c, nil
}

// verdict collects a scenario's figures, in the order they are printed, and its failures.
type verdict struct {
	keys     []string
	values   map[string]any
	failures []string
}

func (v *verdict) add(key string, value any) {
	if v.values == nil {
		v.values = map[string]any{}
	}
	if _, ok := v.values[key]; !ok {
		v.keys = append(v.keys, key)
	}
	v.values[key] = value
}

func (v *verdict) fail(format string, args ...any) {
	v.failures = append(v.failures, fmt.Sprintf(format, args...))
}

// seconds is a duration as seconds with two decimals, for figures.
func seconds(d time.Duration) float64 { return round(d.Seconds(), 2) }

// faultResult is the RESULT line of a fault scenario.
type faultResult struct {
	Scenario            string   `json:"scenario"`
	Short               bool     `json:"short"`
	Pass                bool     `json:"pass"`
	Failures            []string `json:"failures"`
	Rate                float64  `json:"rate"`
	Concurrency         int      `json:"concurrency"`
	DurationS           float64  `json:"duration_s"`
	Dossiers            int      `json:"dossiers"`
	Versions            int      `json:"versions"`
	Replicas            int      `json:"replicas"`
	ConsumersPerReplica int      `json:"consumers_per_replica"`
	RetrySchedule       []string `json:"retry_schedule"`
	FaultAtS            float64  `json:"fault_at_s"`
	FaultForS           float64  `json:"fault_for_s,omitempty"`

	Load faultLoadResult `json:"load"`
	// DoneAfterLoadS is how long after the load the gateway was done (null: not within the
	// drain timeout); StepsCompleteAfterLoadS when the portal first held every step.
	DoneAfterLoadS          *float64       `json:"done_after_load_s"`
	StepsCompleteAfterLoadS *float64       `json:"steps_complete_after_load_s"`
	Check                   effectCheck    `json:"check"`
	Fault                   map[string]any `json:"fault"`
	// Gateway sums the surviving gateways' handler outcomes and retries of the portal flow.
	Gateway map[string]float64 `json:"gateway"`
}

// faultLoadResult is the load as offered and answered.
type faultLoadResult struct {
	Events        int64            `json:"events"`      // sent
	Confirmed     int64            `json:"confirmed"`   // answered 202 (or 200 for a retry)
	Unconfirmed   int64            `json:"unconfirmed"` // never answered 2xx in time
	Rejected      int64            `json:"rejected"`    // answered a definitive 4xx
	Retried       int64            `json:"retried"`     // confirmed after more than one attempt
	Duplicates    int64            `json:"duplicates"`  // confirmed by a 200: stored by an attempt whose answer was lost
	FailedAttempt map[string]int64 `json:"failed_attempts"`
	Missed        int64            `json:"missed"` // scheduled sends that never went out
	// Latency from each event's scheduled send to its acceptance, retries included.
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

func (r *faultRun) judge(ctx context.Context, act faultAction, st *phaseStats, v *verdict) (*faultResult, error) {
	o := r.o
	sent, confirmed, unconfirmed, rejected := r.load.counts()
	res := &faultResult{
		Scenario: o.spec.name, Short: o.short, Rate: o.shape.Rate, Concurrency: o.shape.Concurrency,
		DurationS: seconds(o.shape.Duration), Dossiers: o.dossiers, Versions: o.versions, Replicas: o.replicas,
		ConsumersPerReplica: o.consumers, FaultAtS: seconds(o.at),
		Load: faultLoadResult{
			Events: sent, Confirmed: confirmed, Unconfirmed: unconfirmed, Rejected: rejected,
			Retried: r.load.retried.Load(), Duplicates: r.load.duplicates.Load(), FailedAttempt: r.load.failedAttempts(),
			Missed: st.Missed, P50Ms: ms(st.Latency.quantile(0.5)), P99Ms: ms(st.Latency.quantile(0.99)), MaxMs: ms(st.Latency.quantile(1)),
		},
		Gateway: map[string]float64{},
	}
	if o.spec.lengthFlag != "" {
		res.FaultForS = seconds(o.length)
	}
	for _, d := range o.schedule {
		res.RetrySchedule = append(res.RetrySchedule, d.String())
	}
	check, err := r.checkEffects(ctx)
	if err != nil {
		return nil, err
	}
	res.Check = check
	r.check = check
	_, ownDuplicates := act.(inFlightDuplicates)

	v.add("events", sent)
	v.add("confirmed", confirmed)
	v.add("lost", check.Lost)
	v.add("duplicated", check.Duplicated)
	v.add("unexpected", check.Unexpected)
	v.add("wrong_status", check.WrongStatus)
	v.add("missing_dossiers", check.Missing)
	v.add("deadletters", check.DeadLetters)
	if r.done.IsZero() {
		v.fail("the gateway was not done %s after the load (%s)", o.drainTimeout, r.lastBacklog)
	} else {
		d := seconds(r.done.Sub(r.loadEnd))
		res.DoneAfterLoadS = &d
		v.add("done_after_load_s", d)
	}
	if !r.stepsComplete.IsZero() {
		d := seconds(r.stepsComplete.Sub(r.loadEnd))
		res.StepsCompleteAfterLoadS = &d
	}
	for _, p := range []struct {
		n    int
		what string
	}{
		{check.Lost, "accepted events lost (no step at the portal)"},
		{dupsUnlessJudged(check.Duplicated, ownDuplicates), "steps duplicated at the portal"},
		{check.Unexpected, "steps of events never sent"},
		{check.Unreadable, "unreadable steps"},
		{check.WrongStatus, "dossiers with a wrong final status"},
		{check.Missing, "dossiers missing at the portal"},
		{int(check.DeadLetters), "dead letters"},
		{int(unconfirmed), "events never accepted within " + o.giveUp.String()},
		{int(rejected), "events rejected"},
	} {
		if p.n > 0 {
			v.fail("%d %s", p.n, p.what)
		}
	}
	if sent == 0 {
		v.fail("no event was sent")
	}

	common := len(v.keys)
	r.finishWatchers(5 * time.Second)
	act.judge(ctx, r, v)

	for _, g := range r.sys.gateways {
		if !g.alive() {
			continue
		}
		m, err := r.sys.metrics(ctx, g)
		if err != nil {
			continue
		}
		for _, outcome := range []string{"ok", "duplicate", "parked", "dead_lettered", "returned"} {
			res.Gateway["outcome_"+outcome] += m.sum("gateway_handler_outcomes_total",
				map[string]string{"handler": routing.HandlerDossierToPortal, "outcome": outcome})
		}
		res.Gateway["short_retries"] += m.sum("gateway_handler_retries_total", map[string]string{"handler": routing.HandlerDossierToPortal})
	}

	res.Fault = map[string]any{}
	for _, k := range v.keys[common:] {
		res.Fault[k] = v.values[k]
	}
	res.Failures = v.failures
	if res.Failures == nil {
		res.Failures = []string{}
	}
	res.Pass = len(v.failures) == 0
	return res, nil
}

// report writes the figures (text, or the result as indented JSON with -json), then the
// VERDICT line.
func (res *faultResult) report(e *env, v *verdict) error {
	var b strings.Builder
	if e.json {
		if err := writeJSON(&b, res); err != nil {
			return err
		}
	} else {
		l := res.Load
		fmt.Fprintf(&b, "scenario %s (%s): %d gateway(s) × %d consumers; %d dossiers × %d versions at %g events/s over %gs; fault at %gs",
			res.Scenario, map[bool]string{true: "short", false: "long"}[res.Short], res.Replicas, res.ConsumersPerReplica,
			res.Dossiers, res.Versions, res.Rate, res.DurationS, res.FaultAtS)
		if res.FaultForS > 0 {
			fmt.Fprintf(&b, " for %gs", res.FaultForS)
		}
		fmt.Fprintf(&b, "\nload: %d events sent, %d accepted (%d after a retry, %d of them answered duplicate), %d never accepted, %d rejected, %d sends missed\n",
			l.Events, l.Confirmed, l.Retried, l.Duplicates, l.Unconfirmed, l.Rejected, l.Missed)
		if len(l.FailedAttempt) > 0 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(l.FailedAttempt)) {
				parts = append(parts, fmt.Sprintf("%s ×%d", k, l.FailedAttempt[k]))
			}
			fmt.Fprintf(&b, "failed attempts (retried with the same event id): %s\n", strings.Join(parts, ", "))
		}
		fmt.Fprintf(&b, "acceptance latency from the scheduled send, retries included: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", l.P50Ms, l.P99Ms, l.MaxMs)
		c := res.Check
		fmt.Fprintf(&b, "portal: %d dossiers, %d steps; lost %d, duplicated %d, unexpected %d, unconfirmed but present %d, unreadable %d, wrong final status %d, missing dossiers %d; dead letters %d\n",
			c.Dossiers, c.Steps, c.Lost, c.Duplicated, c.Unexpected, c.Uncertain, c.Unreadable, c.WrongStatus, c.Missing, c.DeadLetters)
		for _, ex := range c.Examples {
			fmt.Fprintf(&b, "  %s\n", ex)
		}
		if len(res.Gateway) > 0 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(res.Gateway)) {
				parts = append(parts, fmt.Sprintf("%s %g", k, res.Gateway[k]))
			}
			fmt.Fprintf(&b, "gateways still running, portal flow: %s\n", strings.Join(parts, ", "))
		}
		for _, f := range res.Failures {
			fmt.Fprintf(&b, "FAILED: %s\n", f)
		}
	}
	b.WriteString(verdictLine(res, v))
	if _, err := io.WriteString(e.out, b.String()); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// verdictLine is "VERDICT scenario=NAME pass=BOOL key=value ...\n".
func verdictLine(res *faultResult, v *verdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "VERDICT scenario=%s pass=%t", res.Scenario, res.Pass)
	for _, k := range v.keys {
		switch x := v.values[k].(type) {
		case float64:
			fmt.Fprintf(&b, " %s=%s", k, strconv.FormatFloat(x, 'f', -1, 64))
		case string:
			if strings.ContainsAny(x, " \"") || x == "" {
				fmt.Fprintf(&b, " %s=%q", k, x)
			} else {
				fmt.Fprintf(&b, " %s=%s", k, x)
			}
		default:
			fmt.Fprintf(&b, " %s=%v", k, x)
		}
	}
	b.WriteString("\n")
	return b.String()
}

func dupsUnlessJudged(n int, judged bool) int {
	if judged {
		return 0
	}
	return n
}
