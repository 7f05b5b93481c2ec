package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/sandboxes"
)

// Goal of the end-to-end flow scenarios: the gateway's rate over the minimal pipeline's.
const flowMinRatio = 0.7

// A flow scenario (sync, postal, mixed) loads one flow end to end, events in at POST /v1/events,
// their effect at a sandbox partner out, in two phases with the same partner work per event,
// against the same sandboxes served by this process on a loopback listener of its own:
//
//  1. baseline: the least a pipeline can do: -producers goroutines XADD the events to a stream;
//     -consumers × -in-flight × -replicas goroutines (as many as the gateways' handler slots)
//     read it with XREADGROUP (-read-batch entries at a time), make the partner calls for each
//     entry with a hand-written client, and XACK the batch in one call.
//  2. gateway: -replicas whole gateways in this process on one key prefix, -consumers consumers
//     per handler each with -in-flight messages at once, their partners pointed at the same
//     sandboxes; -producers goroutines POST the events to the first replica's /v1/events.
//
// Each phase is timed from its first event sent to the last effect seen at the partner, so the
// gateway's figure includes its HTTP ingest and the work it does beside the partner call
// (its records, its downstream events). With -backlog the partner is paused (ops pause) while
// the events go in: they wait in Redis, the gateway's RSS is read with the whole backlog parked,
// and the timed part is the drain after the resume (the baseline then measures its consumers
// draining a pre-filled stream). -duration and -warmup do not apply: the run is a fixed count,
// after -warmup-events sent first through the same path and waited for (neither timed nor
// counted; a tenth of -events unless given, none with -backlog), so that connections, pools,
// scripts and the runtime are warm when the timed part starts.
// Each phase also times every event from its sending to its effect at the partner (p50 … p99.9;
// not with -backlog). Sent as fast as the producers can (the default), the events queue up and
// that latency is mostly queueing; -rate R sends R events per second in all (open loop), below
// what both phases sustain, for the latency of a flow that keeps up.

// flowKind is what one flow adds to the common runner.
type flowKind interface {
	// describe is the run's header line (after "NAME: ").
	describe(o *flowOptions) string
	// register adds the flow's own flags; check validates them with the common ones.
	register(fs *flag.FlagSet)
	check(o *flowOptions) error
	// newGen is a phase's event generator; tag makes its ids and codes unique to the phase.
	newGen(tag string, o *flowOptions) flowGen
	// newBaseline logs in to the sandboxes and returns the minimal pipeline's partner work for
	// one event, safe for concurrent use by conns workers.
	newBaseline(ctx context.Context, sandboxURL string, conns int) (func(ctx context.Context, event []byte) error, error)
	// configure points the gateway's partners at the sandboxes at sandboxURL.
	configure(cfg *config.Config, sandboxURL string)
	// parked is where the flow's messages wait while their partner is paused (-backlog): the
	// partner's name and the topic of the flow's events.
	parked() (partner, topic string)
	// delivered counts the events whose effect the partners hold (one each);
	// setHook has fn told of each effect as it lands: the partner's key for it (dossier code,
	// order number) and its rank for that key (1 for the first). fn nil removes it.
	delivered(sb *sandboxes.Set) int
	setHook(sb *sandboxes.Set, fn func(key string, nth int))
}

// phaseSetter is a flow that sets a phase up before it starts (after its gateways run), and
// sends some of its requests itself (sender wraps the phase's send of CloudEvents).
type phaseSetter interface {
	setUpBaseline(ctx context.Context, e *env, rdb *redis.Client, o *flowOptions) (stop func(context.Context) error, err error)
	setUpGateway(ctx context.Context, e *env, gw *gateway, o *flowOptions) error
	sender(send func(ctx context.Context, n uint64, body []byte) error) func(ctx context.Context, n uint64, body []byte) error
}

// kindSplitter is a flow of several kinds of request, whose latency is also reported by kind.
type kindSplitter interface {
	kindNames() []string
	kindOf(n uint64) int // the kind of request n, an index in kindNames
}

// kindLatency is the latency of one kind of request.
type kindLatency struct {
	Count  int64   `json:"count"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p999_ms"`
}

// flowGen generates a phase's events.
type flowGen interface {
	// bodyOf is event n's request body (nil for a request the flow sends itself). Safe for
	// concurrent use.
	bodyOf(n uint64) []byte
	// eventOf is the sequence number of the event whose effect is key's nth at the partner.
	eventOf(key string, nth int) (uint64, bool)
}

// flowOptions are the flags every flow scenario has.
type flowOptions struct {
	name   string
	events int
	// warmup events go first in each phase, through the same path, and are neither timed nor
	// counted (not with -backlog).
	warmup    int
	consumers int
	inFlight  int
	replicas  int
	producers int
	readBatch int
	rate      float64
	backlog   bool
	drain     bool
	timeout   time.Duration
	profile   string
	kind      flowKind
}

// newFlow is the scenario of a flow.
func newFlow(name, summary string, kind flowKind) *scenario {
	o := &flowOptions{name: name, kind: kind}
	return &scenario{
		name:    name,
		summary: summary,
		phases:  2,
		flags:   o.register,
		check:   o.validate,
		bound:   func(shape) time.Duration { return 2*o.timeout + setupAllowance },
		run:     o.run,
	}
}

func (o *flowOptions) register(fs *flag.FlagSet) {
	fs.IntVar(&o.events, "events", 20_000, "events per phase")
	fs.IntVar(&o.warmup, "warmup-events", -1, "events sent first in each phase and waited for, not timed or counted (default: a tenth of -events; none with -backlog)")
	fs.IntVar(&o.consumers, "consumers", config.Defaults().Routing.ConsumersPerHandler, "consumers per handler (per replica); the baseline runs consumers × replicas")
	fs.IntVar(&o.replicas, "replicas", 1, "gateway replicas in this process, on one Redis key prefix")
	fs.IntVar(&o.producers, "producers", 16, "goroutines sending the events")
	fs.IntVar(&o.inFlight, "in-flight", config.Defaults().Routing.InFlightPerConsumer, "messages each consumer of the gateway handles at once; the baseline runs as many workers per consumer")
	fs.IntVar(&o.readBatch, "read-batch", 100, "entries per XREADGROUP of the baseline's consumers")
	fs.BoolVar(&o.backlog, "backlog", false, "fill the backlog first (partner paused), then time the drain")
	fs.BoolVar(&o.drain, "drain", true, "with -backlog: drain it (false: only fill it and read the RSS; no baseline, no ratio)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up on a phase after this long")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the gateway phase's timed part to `FILE`")
	o.kind.register(fs)
}

func (o *flowOptions) validate() error {
	var errs []error
	if o.events < 1 || o.events > 2_000_000 {
		errs = append(errs, fmt.Errorf("-events %d is outside 1..2000000", o.events))
	}
	switch {
	case o.backlog:
		o.warmup = 0
	case o.warmup < 0:
		o.warmup = o.events / 10
	case o.warmup > o.events:
		errs = append(errs, fmt.Errorf("-warmup-events %d is more than -events", o.warmup))
	}
	errs = append(errs, checkConsumers(o.consumers))
	if o.inFlight < 1 || o.inFlight > 256 {
		errs = append(errs, fmt.Errorf("-in-flight %d is outside 1..256", o.inFlight))
	}
	if o.replicas < 1 || o.replicas > 8 {
		errs = append(errs, fmt.Errorf("-replicas %d is outside 1..8", o.replicas))
	}
	if o.producers < 1 || o.producers > 512 {
		errs = append(errs, fmt.Errorf("-producers %d is outside 1..512", o.producers))
	}
	if o.readBatch < 1 || o.readBatch > 10_000 {
		errs = append(errs, fmt.Errorf("-read-batch %d is outside 1..10000", o.readBatch))
	}
	if o.timeout <= 0 || o.timeout > time.Hour {
		errs = append(errs, fmt.Errorf("-timeout %s is outside (0, 1h]", o.timeout))
	}
	return errors.Join(append(errs, o.kind.check(o))...)
}

// flowResult is the RESULT line of a flow scenario.
type flowResult struct {
	Scenario string `json:"scenario"`
	Events   int    `json:"events"`
	// WarmupEvents went first in each phase, neither timed nor counted.
	WarmupEvents int       `json:"warmup_events"`
	Versions     int       `json:"versions,omitempty"` // sync, mixed: status changes per dossier
	Consumers    int       `json:"consumers"`
	InFlight     int       `json:"in_flight"`
	Replicas     int       `json:"replicas"`
	Producers    int       `json:"producers"`
	Rate         float64   `json:"rate,omitempty"`
	Backlog      bool      `json:"backlog"`
	Baseline     flowPhase `json:"baseline"`
	Gateway      flowPhase `json:"gateway"`
	Ratio        float64   `json:"ratio"`
	MinRatio     float64   `json:"min_ratio"`
	Verdict      string    `json:"verdict"`
}

// flowPhase is one phase's figures.
type flowPhase struct {
	// ElapsedS runs from the first event sent (with -backlog: from the resume) to the last
	// effect seen at the partner.
	ElapsedS   float64 `json:"elapsed_s"`
	EventsPerS float64 `json:"events_per_s"`
	// Delivered is how many of the phase's events the partners show the effect of at the end.
	Delivered int `json:"delivered"`
	// CPU of this whole process (load, gateway or pipeline, sandboxes) over the timed part.
	CPUS             float64 `json:"cpu_s"`
	CPUMsPer1kEvents float64 `json:"cpu_ms_per_1k_events"`
	RSSPeakMiB       float64 `json:"rss_peak_mib"`
	// Latency of an event from its sending (POST or XADD) to its effect at the partner, without
	// -backlog: the k-th effect a key receives is timed against the k-th event sent for it.
	P50Ms  float64 `json:"p50_ms,omitempty"`
	P90Ms  float64 `json:"p90_ms,omitempty"`
	P99Ms  float64 `json:"p99_ms,omitempty"`
	P999Ms float64 `json:"p999_ms,omitempty"`
	// ByKind splits the latency by kind of request (mixed).
	ByKind map[string]kindLatency `json:"by_kind,omitempty"`
	// RSSBacklogMiB is the RSS with the whole backlog parked (-backlog, gateway phase).
	RSSBacklogMiB float64 `json:"rss_backlog_mib,omitempty"`
	// RSSIdleMiB is the RSS before the events went in (-backlog, gateway phase).
	RSSIdleMiB float64 `json:"rss_idle_mib,omitempty"`
	// PartnerConnections is how many connections the sandbox partners accepted in the phase.
	PartnerConnections int64 `json:"partner_connections"`
	// ClientConnections is how many connections the producers opened to the gateway (gateway
	// phase): more than -producers means churn.
	ClientConnections int64 `json:"client_connections,omitempty"`
}

func (o *flowOptions) run(ctx context.Context, e *env) (any, error) {
	o.rate = e.shape.Rate // -rate: events per second in all, open loop (0: as fast as the producers can)
	rdb, err := newRedisClient(ctx, e.redisURL)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	res := &flowResult{Scenario: o.name, Events: o.events, WarmupEvents: o.warmup, Consumers: o.consumers, InFlight: o.inFlight, Replicas: o.replicas,
		Producers: o.producers, Rate: o.rate, Backlog: o.backlog, MinRatio: flowMinRatio}
	if v, ok := o.kind.(interface{ versionsPerDossier() int }); ok {
		res.Versions = v.versionsPerDossier()
	}

	sb, err := startFlowSandbox()
	if err != nil {
		return nil, err
	}
	defer sb.stop()

	fillOnly := o.backlog && !o.drain
	if fillOnly {
		fmt.Fprintln(e.progress, "baseline: skipped (-drain=false measures the gateway's memory with a parked backlog only)")
	} else if res.Baseline, err = o.baselinePhase(ctx, e, rdb, sb); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	res.Baseline.PartnerConnections = sb.accepted.Swap(0)
	sb.reset()
	if res.Gateway, err = o.gatewayPhase(ctx, e, rdb, sb); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	res.Gateway.PartnerConnections = sb.accepted.Swap(0)
	if res.Baseline.EventsPerS > 0 {
		res.Ratio = round(res.Gateway.EventsPerS/res.Baseline.EventsPerS, 3)
	}
	res.Verdict = "MISS"
	switch {
	case fillOnly:
		res.Verdict = "NOT JUDGED (-drain=false: memory only)"
	case o.rate > 0:
		// Both phases were offered the same rate: the ratio says nothing of their capacity.
		res.Verdict = "NOT JUDGED (open loop)"
	case res.Ratio >= flowMinRatio:
		res.Verdict = "PASS"
	}
	fmt.Fprintf(e.out, "%s: %s after %d warm-up events, %d consumers × %d in flight × %d replicas, %d producers, backlog %v\n",
		o.name, o.kind.describe(o), o.warmup, o.consumers, o.inFlight, o.replicas, o.producers, o.backlog)
	for _, p := range []struct {
		name string
		ph   flowPhase
	}{{"baseline", res.Baseline}, {"gateway", res.Gateway}} {
		fmt.Fprintf(e.out, "  %-8s %8.1f events/s  %6.2f s  delivered %d  CPU %.1f ms/1k events  RSS peak %.1f MiB  partner connections %d",
			p.name, p.ph.EventsPerS, p.ph.ElapsedS, p.ph.Delivered, p.ph.CPUMsPer1kEvents, p.ph.RSSPeakMiB, p.ph.PartnerConnections)
		if p.ph.ClientConnections > 0 {
			fmt.Fprintf(e.out, "  client connections %d", p.ph.ClientConnections)
		}
		if p.ph.P99Ms > 0 {
			fmt.Fprintf(e.out, "  latency p50 %.1f / p90 %.1f / p99 %.1f / p99.9 %.1f ms", p.ph.P50Ms, p.ph.P90Ms, p.ph.P99Ms, p.ph.P999Ms)
		}
		for _, k := range slices.Sorted(maps.Keys(p.ph.ByKind)) {
			l := p.ph.ByKind[k]
			fmt.Fprintf(e.out, "\n           %-8s %6d  p50 %.1f / p99 %.1f / p99.9 %.1f ms", k, l.Count, l.P50Ms, l.P99Ms, l.P999Ms)
		}
		if p.ph.RSSBacklogMiB > 0 {
			fmt.Fprintf(e.out, "  RSS idle %.1f → with backlog %.1f MiB", p.ph.RSSIdleMiB, p.ph.RSSBacklogMiB)
		}
		fmt.Fprintln(e.out)
	}
	fmt.Fprintf(e.out, "  ratio %.3f (goal ≥ %.1f): %s\n", res.Ratio, flowMinRatio, res.Verdict)
	var errs []error
	for _, p := range []flowPhase{res.Baseline, res.Gateway} {
		if p.Delivered != o.events && !fillOnly {
			errs = append(errs, fmt.Errorf("the partners show the effect of %d of %d events", p.Delivered, o.events))
		}
	}
	return res, errors.Join(errs...)
}

// total is how many events a phase sends: the warm-up, then the timed ones.
func (o *flowOptions) total() int { return o.warmup + o.events }

// workers is the baseline's concurrency: as many sequential workers as the gateways have handler
// slots for the topic, so that both phases may have as many partner calls in flight.
func (o *flowOptions) workers() int { return o.consumers * o.inFlight * o.replicas }

// flowSandbox is every sandbox partner on a loopback listener of this process.
type flowSandbox struct {
	set *sandboxes.Set
	url string
	srv *http.Server
	// accepted counts the connections the sandbox accepted: a client that churns connections
	// instead of keeping them alive shows here.
	accepted atomic.Int64
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func startFlowSandbox() (*flowSandbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("binding sandbox listener: %w", err)
	}
	url := "http://" + ln.Addr().String()
	creds := sandboxes.DevCredentials()
	creds.GatewayURL, creds.PublicURL = url, url
	sb := &flowSandbox{set: sandboxes.New(creds), url: url}
	sb.srv = &http.Server{Handler: sb.set.Handler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = sb.srv.Serve(countingListener{ln, &sb.accepted}) }()
	return sb, nil
}

// reset forgets what the partners received between the phases.
func (s *flowSandbox) reset() {
	s.set.Portal.Reset()
	s.set.VNPost.Reset()
	s.set.Onestop.Reset()
}

func (s *flowSandbox) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	s.set.Close()
}

// warmUp sends the warm-up events and waits until the partners hold their effects.
func (o *flowOptions) warmUp(ctx context.Context, e *env, phase string, sb *flowSandbox, send func(ctx context.Context, n uint64, body []byte) error, gen flowGen) error {
	if o.warmup == 0 {
		return nil
	}
	t0 := time.Now()
	if err := o.produce(ctx, send, gen, 0, o.warmup); err != nil {
		return fmt.Errorf("warming up: %w", err)
	}
	if _, err := o.waitDelivered(ctx, sb, o.warmup); err != nil {
		return fmt.Errorf("warming up: %w", err)
	}
	fmt.Fprintf(e.progress, "%s: warmed up with %d events in %s\n", phase, o.warmup, time.Since(t0).Round(time.Millisecond))
	return nil
}

// waitDelivered polls the partners until they hold want events' effects, or ctx ends.
func (o *flowOptions) waitDelivered(ctx context.Context, sb *flowSandbox, want int) (int, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		n := o.kind.delivered(sb.set)
		if n >= want {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, fmt.Errorf("waiting for the partners: %d of %d events delivered after the timeout", n, want)
		case <-t.C:
		}
	}
}

// produce calls send for events first..end-1 from -producers goroutines; with -rate, event first
// is due at once and the others at the rate.
func (o *flowOptions) produce(ctx context.Context, send func(ctx context.Context, n uint64, body []byte) error, gen flowGen, first, end int) error {
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	var next atomic.Uint64
	next.Store(uint64(first))
	start := time.Now()
	for range o.producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1) - 1
				if n >= uint64(end) || ctx.Err() != nil || firstErr.Load() != nil {
					return
				}
				if o.rate > 0 {
					due := start.Add(time.Duration(float64(n-uint64(first)) / o.rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(d):
						}
					}
				}
				if err := send(ctx, n, gen.bodyOf(n)); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		return *p
	}
	return ctx.Err()
}

// phaseMeter measures CPU and peak RSS of this process over a timed part.
type phaseMeter struct {
	start   time.Time
	cpu0    time.Duration
	peak    atomic.Int64
	stopped chan struct{}
}

func startMeter() *phaseMeter {
	m := &phaseMeter{start: time.Now(), cpu0: cpuTime(), stopped: make(chan struct{})}
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			if r := residentBytes(); r > m.peak.Load() {
				m.peak.Store(r)
			}
			select {
			case <-m.stopped:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *phaseMeter) finish(delivered int) flowPhase {
	elapsed := time.Since(m.start)
	cpu := cpuTime() - m.cpu0
	close(m.stopped)
	p := flowPhase{ElapsedS: round(elapsed.Seconds(), 3), Delivered: delivered, CPUS: round(cpu.Seconds(), 3),
		RSSPeakMiB: round(float64(max(m.peak.Load(), residentBytes()))/(1<<20), 1)}
	if elapsed > 0 {
		p.EventsPerS = round(float64(delivered)/elapsed.Seconds(), 1)
	}
	if delivered > 0 {
		p.CPUMsPer1kEvents = round(float64(cpu.Milliseconds())/float64(delivered)*1000, 2)
	}
	return p
}

// baselinePhase runs the minimal pipeline.
func (o *flowOptions) baselinePhase(ctx context.Context, e *env, rdb *redis.Client, sb *flowSandbox) (flowPhase, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	stream, group := "loadgen:"+e.runID+":"+o.name+"-baseline", "pipeline"
	defer func() {
		cctx, ccancel := cleanupContext(ctx)
		defer ccancel()
		_ = rdb.Del(cctx, stream).Err()
	}()
	if err := rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil {
		return flowPhase{}, fmt.Errorf("creating consumer group: %w", err)
	}
	work, err := o.kind.newBaseline(ctx, sb.url, o.workers())
	if err != nil {
		return flowPhase{}, err
	}
	gen := o.kind.newGen("b"+e.runID, o)
	xadd := func(ctx context.Context, _ uint64, body []byte) error {
		return rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"payload", body}}).Err()
	}
	if ps, ok := o.kind.(phaseSetter); ok {
		stop, err := ps.setUpBaseline(ctx, e, rdb, o)
		if err != nil {
			return flowPhase{}, err
		}
		defer func() {
			cctx, ccancel := cleanupContext(ctx)
			defer ccancel()
			_ = stop(cctx)
		}()
		xadd = ps.sender(xadd)
	}
	fmt.Fprintf(e.progress, "baseline: %d events, %d consumers, sandbox %s\n", o.events, o.workers(), sb.url)

	var m *phaseMeter
	if o.backlog {
		if err := o.produce(ctx, xadd, gen, 0, o.total()); err != nil {
			return flowPhase{}, fmt.Errorf("filling stream: %w", err)
		}
		m = startMeter()
	}
	runCtx, stopConsumers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var consumeErr atomic.Pointer[error]
	for i := range o.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := consume(runCtx, rdb, stream, group, fmt.Sprintf("c%d", i), o.readBatch, work); err != nil && runCtx.Err() == nil {
				consumeErr.CompareAndSwap(nil, &err)
				stopConsumers()
			}
		}()
	}
	var timer *effectTimer
	if !o.backlog {
		err := o.warmUp(runCtx, e, "baseline", sb, xadd, gen)
		if err == nil {
			timer = o.startTimer(sb, gen)
			m = startMeter()
			err = o.produce(runCtx, timer.timed(xadd), gen, o.warmup, o.total())
		}
		if err != nil {
			stopConsumers()
			wg.Wait()
			if p := consumeErr.Load(); p != nil {
				err = errors.Join(err, *p)
			}
			return flowPhase{}, fmt.Errorf("adding events: %w", err)
		}
	}
	n, werr := o.waitDelivered(runCtx, sb, o.total())
	ph := m.finish(n - o.warmup)
	timer.finish(&ph)
	stopConsumers()
	wg.Wait()
	if p := consumeErr.Load(); p != nil {
		return ph, *p
	}
	return ph, werr
}

// consume reads batches, does the partner work for each entry, and acknowledges each batch at
// once: the baseline's consumer.
func consume(ctx context.Context, rdb *redis.Client, stream, group, name string, batch int, work func(context.Context, []byte) error) error {
	for ctx.Err() == nil {
		res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: name,
			Streams: []string{stream, ">"}, Count: int64(batch), Block: 100 * time.Millisecond}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return err
		}
		var ids []string
		for _, s := range res {
			for _, m := range s.Messages {
				body, _ := m.Values["payload"].(string)
				if err := work(ctx, []byte(body)); err != nil {
					return err
				}
				ids = append(ids, m.ID)
			}
		}
		if len(ids) > 0 {
			if err := rdb.XAck(ctx, stream, group, ids...).Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// gatewayPhase runs -replicas gateways on one prefix and sends the events to the first.
func (o *flowOptions) gatewayPhase(ctx context.Context, e *env, rdb *redis.Client, sb *flowSandbox) (ph flowPhase, err error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	prefix := "loadgen" + e.runID
	var gws []*gateway
	defer func() {
		for _, g := range gws {
			err = errors.Join(err, g.stop())
		}
		// About three keys per event: a million-event run left three million, and 30 s deleted
		// 2.97 million of them; allow 100 µs more per event (about 33 s per million keys).
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second+time.Duration(o.total())*100*time.Microsecond)
		defer ccancel()
		n, derr := deleteKeys(cctx, rdb, prefix)
		fmt.Fprintf(e.progress, "gateway: deleted %d keys under %s\n", n, prefix)
		err = errors.Join(err, derr)
	}()
	for i := range o.replicas {
		cfg, err := gatewayConfig(e.redisURL, prefix, fmt.Sprintf("loadgen-%s-%d", e.runID, i), o.consumers)
		if err != nil {
			return ph, err
		}
		cfg.Routing.InFlightPerConsumer = o.inFlight
		cfg.Onestop.URL = sb.url + "/sandbox/onestop/notifications"
		o.kind.configure(&cfg, sb.url)
		g, err := startGateway(ctx, cfg)
		if err != nil {
			return ph, err
		}
		gws = append(gws, g)
	}
	client := newLoadClient(o.producers)
	defer client.CloseIdleConnections()
	url := gws[0].URL()
	post := func(ctx context.Context, _ uint64, body []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set("Authorization", "Bearer "+config.DemoClientToken)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		// Read to the end, or the transport closes the connection instead of reusing it.
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("POST /v1/events answered %d", resp.StatusCode)
		}
		return nil
	}
	gen := o.kind.newGen("g"+e.runID, o)
	if ps, ok := o.kind.(phaseSetter); ok {
		if err := ps.setUpGateway(ctx, e, gws[0], o); err != nil {
			return ph, err
		}
		post = ps.sender(post)
	}
	fmt.Fprintf(e.progress, "gateway: %d replicas × %d consumers × %d in flight, prefix %s\n", o.replicas, o.consumers, o.inFlight, prefix)

	var m *phaseMeter
	var timer *effectTimer
	var idle, parked int64
	var stopProfile func() error
	defer func() {
		if stopProfile != nil && m == nil {
			_ = stopProfile()
		}
	}()
	startProfile := func() {
		w, closeFile, perr := openProfile(o.profile) // w nil without -cpuprofile
		if perr == nil && w != nil {
			if perr = pprof.StartCPUProfile(w); perr != nil {
				_ = closeFile()
			}
		}
		if perr != nil {
			fmt.Fprintf(e.progress, "gateway: no CPU profile: %v\n", perr)
			return
		}
		if w != nil {
			stopProfile = func() error { pprof.StopCPUProfile(); return closeFile() }
		}
	}
	if o.backlog {
		partner, topic := o.kind.parked()
		pauses := gws[0].app.Pauses
		if err := pauses.Pause(ctx, partner, time.Time{}, "loadgen", "backlog run"); err != nil {
			return ph, err
		}
		// Both readings after a GC, so that they compare what the process holds.
		runtime.GC()
		debug.FreeOSMemory()
		idle = residentBytes()
		if err := o.produce(ctx, post, gen, 0, o.total()); err != nil {
			return ph, fmt.Errorf("filling backlog: %w", err)
		}
		// The events are parked once each has been tried (a paused partner parks at once).
		if err := waitParked(ctx, rdb, gws[0], topic, partner, o.events); err != nil {
			return ph, err
		}
		// What the process holds, not garbage the runtime has yet to give back.
		runtime.GC()
		debug.FreeOSMemory()
		parked = residentBytes()
		fmt.Fprintf(e.progress, "gateway: %d events parked, RSS %.1f MiB (idle %.1f)\n",
			o.events, float64(parked)/(1<<20), float64(idle)/(1<<20))
		if !o.drain {
			ph = flowPhase{RSSIdleMiB: round(float64(idle)/(1<<20), 1), RSSBacklogMiB: round(float64(parked)/(1<<20), 1)}
			return ph, nil
		}
		startProfile()
		m = startMeter()
		if err := pauses.Resume(ctx, partner, "loadgen", "backlog run"); err != nil {
			return ph, err
		}
		for _, g := range gws {
			if _, err := g.app.Router.Release(ctx, partner); err != nil {
				return ph, err
			}
		}
	} else {
		if err := o.warmUp(ctx, e, "gateway", sb, post, gen); err != nil {
			return ph, err
		}
		timer = o.startTimer(sb, gen)
		startProfile()
		m = startMeter()
		if err := o.produce(ctx, timer.timed(post), gen, o.warmup, o.total()); err != nil {
			return ph, fmt.Errorf("sending events: %w", err)
		}
	}
	n, werr := o.waitDelivered(ctx, sb, o.total())
	ph = m.finish(n - o.warmup)
	timer.finish(&ph)
	ph.ClientConnections = client.dials.Load()
	if stopProfile != nil {
		err = errors.Join(err, stopProfile())
	}
	if o.backlog {
		ph.RSSIdleMiB = round(float64(idle)/(1<<20), 1)
		ph.RSSBacklogMiB = round(float64(parked)/(1<<20), 1)
	}
	return ph, werr
}

// effectTimer times each event from its sending to its effect at the partner, through the
// sandbox's hook.
type effectTimer struct {
	kind flowKind
	sb   *flowSandbox
	gen  flowGen
	sent []atomic.Int64 // unix ns when event n was sent (0: not yet)
	// hist, byKind and unmatched are written by the hook, under mu (the partners' hooks run
	// under their own sandboxes' locks, which do not exclude each other).
	mu        sync.Mutex
	hist      *histogram
	byKind    []*histogram // by kindSplitter's kinds; nil for a flow of one kind
	unmatched int
}

func (o *flowOptions) startTimer(sb *flowSandbox, gen flowGen) *effectTimer {
	t := &effectTimer{kind: o.kind, sb: sb, gen: gen, sent: make([]atomic.Int64, o.total()), hist: newHistogram()}
	if ks, ok := o.kind.(kindSplitter); ok {
		for range ks.kindNames() {
			t.byKind = append(t.byKind, newHistogram())
		}
	}
	o.kind.setHook(sb.set, t.effect)
	return t
}

// timed wraps a send so that it records when each event went out.
func (t *effectTimer) timed(send func(ctx context.Context, n uint64, body []byte) error) func(ctx context.Context, n uint64, body []byte) error {
	return func(ctx context.Context, n uint64, body []byte) error {
		if n < uint64(len(t.sent)) {
			t.sent[n].Store(time.Now().UnixNano())
		}
		return send(ctx, n, body)
	}
}

func (t *effectTimer) effect(key string, nth int) {
	n, ok := t.gen.eventOf(key, nth)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !ok || n >= uint64(len(t.sent)) || t.sent[n].Load() == 0 {
		t.unmatched++
		return
	}
	d := time.Duration(time.Now().UnixNano() - t.sent[n].Load())
	t.hist.record(d)
	if t.byKind != nil {
		t.byKind[t.kind.(kindSplitter).kindOf(n)].record(d)
	}
}

// finish removes the hook (after which the histogram is ours to read) and fills ph's latencies.
func (t *effectTimer) finish(ph *flowPhase) {
	if t == nil {
		return
	}
	t.kind.setHook(t.sb.set, nil)
	t.mu.Lock()
	defer t.mu.Unlock()
	ms := func(h *histogram, q float64) float64 { return round(float64(h.quantile(q))/1e6, 2) }
	ph.P50Ms, ph.P90Ms, ph.P99Ms, ph.P999Ms = ms(t.hist, 0.5), ms(t.hist, 0.9), ms(t.hist, 0.99), ms(t.hist, 0.999)
	for i, h := range t.byKind {
		if h.total == 0 {
			continue
		}
		if ph.ByKind == nil {
			ph.ByKind = map[string]kindLatency{}
		}
		ph.ByKind[t.kind.(kindSplitter).kindNames()[i]] = kindLatency{Count: int64(h.total), P50Ms: ms(h, 0.5), P99Ms: ms(h, 0.99), P999Ms: ms(h, 0.999)}
	}
}

// waitParked waits until the retry schedule of the topic's messages for partner holds want
// messages.
func waitParked(ctx context.Context, rdb *redis.Client, g *gateway, topic, partner string, want int) error {
	key := g.app.Store.Keys.RetrySchedule(topic, partner)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		n, err := rdb.ZCard(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("counting parked messages: %w", err)
		}
		if n >= int64(want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the backlog to park: %d of %d", n, want)
		case <-t.C:
		}
	}
}
