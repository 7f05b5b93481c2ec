package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/sandboxes"
	"github.com/egov-vn/gateway/routing"
)

// Goal of the sync scenario: the gateway's end-to-end dossier sync rate over the minimal
// pipeline's.
const syncMinRatio = 0.7

// syncOptions are the sync scenario's own flags.
type syncOptions struct {
	events    int
	versions  int
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
}

// newSync is the end-to-end dossier sync scenario: events in, dossiers at the portal out.
//
// Both phases do the same partner work per event, against the same sandbox portal served by this
// process on a loopback listener of its own: the three calls of the DVCQG protocol for a dossier
// status change with a step (TraCuuHoSo to choose isUpdating, DongBoHoSoMC with the whole state,
// CapNhatTienDoHoSoMC with the step), every event a dossier of its own.
//
//  1. baseline: the least a pipeline can do: -producers goroutines XADD the events to a stream;
//     -consumers × -in-flight × -replicas goroutines (as many as the gateways' handler slots)
//     read it with XREADGROUP (-read-batch entries at a time),
//     make the three calls for each entry, and XACK the batch in one call.
//  2. gateway: -replicas whole gateways in this process on one key prefix, -consumers consumers
//     with -in-flight messages each
//     per handler each, their portal and one-stop system pointed at the same sandboxes;
//     -producers goroutines POST the events to the first replica's /v1/events.
//
// Each phase is timed from its first event sent to the last dossier seen at the portal, so the
// gateway's figure includes its HTTP ingest. With -backlog the portal is paused (ops pause)
// while the events go in: they wait in Redis, the gateway's RSS is read with the whole backlog
// parked, and the timed part is the drain after the resume (the baseline then measures its
// consumers draining a pre-filled stream). -duration and -warmup do not apply: the run is a fixed
// count. Each phase also times every event from its sending to its step at the portal (p50 …
// p99.9; not with -backlog). Sent as fast as the producers can (the default), the events queue up
// and that latency is mostly queueing; -rate R sends R events per second in all (open loop), below
// what both phases sustain, for the latency of a flow that keeps up.
func newSync() *scenario {
	o := &syncOptions{}
	return &scenario{
		name:    "sync",
		summary: "dossier sync end to end: a minimal XADD→XREADGROUP→portal→XACK pipeline, then the gateway",
		phases:  2,
		flags:   o.register,
		check:   o.validate,
		bound:   func(shape) time.Duration { return 2*o.timeout + setupAllowance },
		run:     o.run,
	}
}

func (o *syncOptions) register(fs *flag.FlagSet) {
	fs.IntVar(&o.events, "events", 20_000, "events per phase")
	fs.IntVar(&o.versions, "versions", 1, "status changes per dossier (events/versions dossiers, each version with a step)")
	fs.IntVar(&o.consumers, "consumers", config.Defaults().Routing.ConsumersPerHandler, "consumers per handler (per replica); the baseline runs consumers × replicas")
	fs.IntVar(&o.replicas, "replicas", 1, "gateway replicas in this process, on one Redis key prefix")
	fs.IntVar(&o.producers, "producers", 16, "goroutines sending the events")
	fs.IntVar(&o.inFlight, "in-flight", config.Defaults().Routing.InFlightPerConsumer, "messages each consumer of the gateway handles at once; the baseline runs as many workers per consumer")
	fs.IntVar(&o.readBatch, "read-batch", 100, "entries per XREADGROUP of the baseline's consumers")
	fs.BoolVar(&o.backlog, "backlog", false, "fill the backlog first (portal paused), then time the drain")
	fs.BoolVar(&o.drain, "drain", true, "with -backlog: drain it (false: only fill it and read the RSS; no baseline, no ratio)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up on a phase after this long")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the gateway phase's timed part to `FILE`")
}

func (o *syncOptions) validate() error {
	var errs []error
	if o.events < 1 || o.events > 2_000_000 {
		errs = append(errs, fmt.Errorf("-events %d is outside 1..2000000", o.events))
	}
	if o.versions < 1 || o.versions > 100 || o.events%o.versions != 0 {
		errs = append(errs, fmt.Errorf("-versions %d is outside 1..100 or does not divide -events", o.versions))
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
	return errors.Join(errs...)
}

// syncResult is the RESULT line of the sync scenario.
type syncResult struct {
	Scenario  string    `json:"scenario"`
	Events    int       `json:"events"`
	Versions  int       `json:"versions"`
	Consumers int       `json:"consumers"`
	InFlight  int       `json:"in_flight"`
	Replicas  int       `json:"replicas"`
	Producers int       `json:"producers"`
	Rate      float64   `json:"rate,omitempty"`
	Backlog   bool      `json:"backlog"`
	Baseline  syncPhase `json:"baseline"`
	Gateway   syncPhase `json:"gateway"`
	Ratio     float64   `json:"ratio"`
	MinRatio  float64   `json:"min_ratio"`
	Verdict   string    `json:"verdict"`
}

// syncPhase is one phase's figures.
type syncPhase struct {
	// ElapsedS runs from the first event sent (with -backlog: from the resume) to the last
	// dossier seen at the portal.
	ElapsedS   float64 `json:"elapsed_s"`
	EventsPerS float64 `json:"events_per_s"`
	// AtPortal is how many of the phase's events the portal shows at the end (a step each).
	AtPortal int `json:"at_portal"`
	// CPU of this whole process (load, gateway or pipeline, sandboxes) over the timed part.
	CPUS             float64 `json:"cpu_s"`
	CPUMsPer1kEvents float64 `json:"cpu_ms_per_1k_events"`
	RSSPeakMiB       float64 `json:"rss_peak_mib"`
	// Latency of an event from its sending (POST or XADD) to its step at the portal, without
	// -backlog: the k-th step a dossier receives is timed against the k-th event sent for it.
	P50Ms  float64 `json:"p50_ms,omitempty"`
	P90Ms  float64 `json:"p90_ms,omitempty"`
	P99Ms  float64 `json:"p99_ms,omitempty"`
	P999Ms float64 `json:"p999_ms,omitempty"`
	// RSSBacklogMiB is the RSS with the whole backlog parked (-backlog, gateway phase).
	RSSBacklogMiB float64 `json:"rss_backlog_mib,omitempty"`
	// RSSIdleMiB is the RSS before the events went in (-backlog, gateway phase).
	RSSIdleMiB float64 `json:"rss_idle_mib,omitempty"`
	// PartnerConnections is how many connections the sandbox partners accepted in the phase.
	PartnerConnections int64 `json:"partner_connections"`
}

func (o *syncOptions) run(ctx context.Context, e *env) (any, error) {
	o.rate = e.shape.Rate // -rate: events per second in all, open loop (0: as fast as the producers can)
	rdb, err := newRedisClient(ctx, e.redisURL)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	res := &syncResult{Scenario: "sync", Events: o.events, Versions: o.versions, Consumers: o.consumers, InFlight: o.inFlight, Replicas: o.replicas,
		Producers: o.producers, Rate: o.rate, Backlog: o.backlog, MinRatio: syncMinRatio}

	sb, err := startSyncSandbox()
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
	sb.set.Portal.Reset()
	if res.Gateway, err = o.gatewayPhase(ctx, e, rdb, sb); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	res.Gateway.PartnerConnections = sb.accepted.Swap(0)
	if res.Baseline.EventsPerS > 0 {
		res.Ratio = round(res.Gateway.EventsPerS/res.Baseline.EventsPerS, 3)
	}
	res.Verdict = "MISS"
	switch {
	case o.rate > 0:
		// Both phases were offered the same rate: the ratio says nothing of their capacity.
		res.Verdict = "NOT JUDGED (open loop)"
	case res.Ratio >= syncMinRatio:
		res.Verdict = "PASS"
	}
	fmt.Fprintf(e.out, "sync: %d events (%d per dossier), %d consumers × %d in flight × %d replicas, %d producers, backlog %v\n",
		o.events, o.versions, o.consumers, o.inFlight, o.replicas, o.producers, o.backlog)
	for _, p := range []struct {
		name string
		ph   syncPhase
	}{{"baseline", res.Baseline}, {"gateway", res.Gateway}} {
		fmt.Fprintf(e.out, "  %-8s %8.1f events/s  %6.2f s  at portal %d  CPU %.1f ms/1k events  RSS peak %.1f MiB  partner connections %d",
			p.name, p.ph.EventsPerS, p.ph.ElapsedS, p.ph.AtPortal, p.ph.CPUMsPer1kEvents, p.ph.RSSPeakMiB, p.ph.PartnerConnections)
		if p.ph.P99Ms > 0 {
			fmt.Fprintf(e.out, "  latency p50 %.1f / p90 %.1f / p99 %.1f / p99.9 %.1f ms", p.ph.P50Ms, p.ph.P90Ms, p.ph.P99Ms, p.ph.P999Ms)
		}
		if p.ph.RSSBacklogMiB > 0 {
			fmt.Fprintf(e.out, "  RSS idle %.1f → with backlog %.1f MiB", p.ph.RSSIdleMiB, p.ph.RSSBacklogMiB)
		}
		fmt.Fprintln(e.out)
	}
	fmt.Fprintf(e.out, "  ratio %.3f (goal ≥ %.1f): %s\n", res.Ratio, syncMinRatio, res.Verdict)
	var errs []error
	for _, p := range []syncPhase{res.Baseline, res.Gateway} {
		if p.AtPortal != o.events && !fillOnly {
			errs = append(errs, fmt.Errorf("the portal shows %d of %d events", p.AtPortal, o.events))
		}
	}
	return res, errors.Join(errs...)
}

// workers is the baseline's concurrency: as many sequential workers as the gateways have handler
// slots for the topic, so that both phases may have as many partner calls in flight.
func (o *syncOptions) workers() int { return o.consumers * o.inFlight * o.replicas }

// syncSandbox is every sandbox partner on a loopback listener of this process.
type syncSandbox struct {
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

func startSyncSandbox() (*syncSandbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("binding sandbox listener: %w", err)
	}
	url := "http://" + ln.Addr().String()
	creds := sandboxes.DevCredentials()
	creds.GatewayURL, creds.PublicURL = url, url
	sb := &syncSandbox{set: sandboxes.New(creds), url: url}
	sb.srv = &http.Server{Handler: sb.set.Handler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = sb.srv.Serve(countingListener{ln, &sb.accepted}) }()
	return sb, nil
}

func (s *syncSandbox) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	s.set.Close()
}

// complete counts the events whose effect the portal holds: the steps it recorded (one per
// version; a step is only recorded for a dossier whose state it received).
func (s *syncSandbox) complete() int {
	return s.set.Portal.StepsReceived()
}

// waitComplete polls the portal until it holds want events' effects, or ctx ends.
func (s *syncSandbox) waitComplete(ctx context.Context, want int) (int, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		n := s.complete()
		if n >= want {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, fmt.Errorf("waiting for the portal: %d of %d events after the timeout", n, want)
		case <-t.C:
		}
	}
}

// produce calls send for event indexes 0..events-1 from -producers goroutines.
func (o *syncOptions) produce(ctx context.Context, send func(ctx context.Context, n uint64, body []byte) error, gen *eventGen) error {
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	start := time.Now()
	for range o.producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, body := gen.next()
				if n >= uint64(o.events) || ctx.Err() != nil || firstErr.Load() != nil {
					return
				}
				if o.rate > 0 {
					due := start.Add(time.Duration(float64(n) / o.rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(d):
						}
					}
				}
				if err := send(ctx, n, body); err != nil {
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

func (m *phaseMeter) finish(events, atPortal int) syncPhase {
	elapsed := time.Since(m.start)
	cpu := cpuTime() - m.cpu0
	close(m.stopped)
	p := syncPhase{ElapsedS: round(elapsed.Seconds(), 3), AtPortal: atPortal, CPUS: round(cpu.Seconds(), 3),
		RSSPeakMiB: round(float64(max(m.peak.Load(), residentBytes()))/(1<<20), 1)}
	if elapsed > 0 {
		p.EventsPerS = round(float64(atPortal)/elapsed.Seconds(), 1)
	}
	if atPortal > 0 {
		p.CPUMsPer1kEvents = round(float64(cpu.Milliseconds())/float64(atPortal)*1000, 2)
	}
	return p
}

// baselinePhase runs the minimal pipeline.
func (o *syncOptions) baselinePhase(ctx context.Context, e *env, rdb *redis.Client, sb *syncSandbox) (syncPhase, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	stream, group := "loadgen:"+e.runID+":sync-baseline", "pipeline"
	defer func() {
		cctx, ccancel := cleanupContext(ctx)
		defer ccancel()
		_ = rdb.Del(cctx, stream).Err()
	}()
	if err := rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err(); err != nil {
		return syncPhase{}, fmt.Errorf("creating consumer group: %w", err)
	}
	portal, err := newMiniPortal(ctx, sb.url+"/sandbox/dvcqg", o.workers())
	if err != nil {
		return syncPhase{}, err
	}
	gen := newEventGen("sb"+e.runID, o.events/o.versions, 1)
	xadd := func(ctx context.Context, _ uint64, body []byte) error {
		return rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"payload", body}}).Err()
	}
	fmt.Fprintf(e.progress, "baseline: %d events, %d consumers, sandbox %s\n", o.events, o.workers(), sb.url)

	var m *phaseMeter
	if o.backlog {
		if err := o.produce(ctx, xadd, gen); err != nil {
			return syncPhase{}, fmt.Errorf("filling stream: %w", err)
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
			if err := portal.consume(runCtx, rdb, stream, group, fmt.Sprintf("c%d", i), o.readBatch); err != nil && runCtx.Err() == nil {
				consumeErr.CompareAndSwap(nil, &err)
				stopConsumers()
			}
		}()
	}
	var timer *stepTimer
	if !o.backlog {
		timer = startStepTimer(sb, gen, o.events)
		m = startMeter()
		if err := o.produce(ctx, timer.timed(xadd), gen); err != nil {
			stopConsumers()
			wg.Wait()
			return syncPhase{}, fmt.Errorf("adding events: %w", err)
		}
	}
	n, werr := sb.waitComplete(runCtx, o.events)
	ph := m.finish(o.events, n)
	timer.finish(&ph)
	stopConsumers()
	wg.Wait()
	if p := consumeErr.Load(); p != nil {
		return ph, *p
	}
	return ph, werr
}

// miniPortal is the baseline's hand-written DVCQG client: one login, then the three calls.
type miniPortal struct {
	client  *http.Client
	url     string
	session string
}

func newMiniPortal(ctx context.Context, url string, conns int) (*miniPortal, error) {
	p := &miniPortal{url: url, client: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
		MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: 90 * time.Second}}}
	var reply struct {
		Session string `json:"session"`
	}
	body, _ := json.Marshal(map[string]string{"username": config.DemoPortalUser, "password": config.DemoPortalPassword})
	if err := p.post(ctx, "/auth", body, &reply); err != nil {
		return nil, fmt.Errorf("logging in to the sandbox portal: %w", err)
	}
	if reply.Session == "" {
		return nil, errors.New("logging in to the sandbox portal: the answer holds no session")
	}
	p.session = reply.Session
	return p, nil
}

func (p *miniPortal) post(ctx context.Context, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dstcode", config.DemoDstCode)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading answer: %w", path, err)
	}
	var r struct {
		ErrorCode json.RawMessage `json:"error_code"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("%s: decoding answer: %w", path, err)
	}
	if code := strings.Trim(string(r.ErrorCode), `"`); code != "0" && code != "00" {
		return fmt.Errorf("%s: error_code %s", path, r.ErrorCode)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// consume reads batches, makes the three calls per entry, and acknowledges each batch at once.
func (p *miniPortal) consume(ctx context.Context, rdb *redis.Client, stream, group, name string, batch int) error {
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
				if err := p.sync(ctx, []byte(body)); err != nil {
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

// sync makes the DVCQG calls for one CloudEvent.
func (p *miniPortal) sync(ctx context.Context, event []byte) error {
	var ev struct {
		Subject string `json:"subject"`
		Data    struct {
			Dossier json.RawMessage `json:"dossier"`
			Step    json.RawMessage `json:"step"`
		} `json:"data"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return fmt.Errorf("decoding event: %w", err)
	}
	type envelope struct {
		Session string `json:"session"`
		MaDonVi string `json:"madonvi"`
		Service string `json:"service"`
	}
	env := func(service string) envelope { return envelope{p.session, config.DemoDstCode, service} }
	lookup, _ := json.Marshal(struct {
		envelope
		MaHoSo string `json:"MaHoSo"`
	}{env("TraCuuHoSo"), ev.Subject})
	var found struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := p.post(ctx, "/integration", lookup, &found); err != nil {
		return err
	}
	updating := "False"
	if len(found.Result) > 0 {
		updating = "True"
	}
	upsert, _ := json.Marshal(struct {
		envelope
		IsUpdating string            `json:"isUpdating"`
		Data       []json.RawMessage `json:"data"`
	}{env("DongBoHoSoMC"), updating, []json.RawMessage{ev.Data.Dossier}})
	if err := p.post(ctx, "/integration", upsert, nil); err != nil {
		return err
	}
	step := append([]byte(`{"MaHoSo":"`+ev.Subject+`",`), bytes.TrimPrefix(bytes.TrimSpace(ev.Data.Step), []byte("{"))...)
	progress, _ := json.Marshal(struct {
		envelope
		Data []json.RawMessage `json:"data"`
	}{env("CapNhatTienDoHoSoMC"), []json.RawMessage{step}})
	return p.post(ctx, "/integration", progress, nil)
}

// gatewayPhase runs -replicas gateways on one prefix and sends the events to the first.
func (o *syncOptions) gatewayPhase(ctx context.Context, e *env, rdb *redis.Client, sb *syncSandbox) (ph syncPhase, err error) {
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
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second+time.Duration(o.events)*100*time.Microsecond)
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
		cfg.Portal.BaseURL = sb.url + "/sandbox/dvcqg"
		cfg.Onestop.URL = sb.url + "/sandbox/onestop/notifications"
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
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("POST /v1/events answered %d", resp.StatusCode)
		}
		return nil
	}
	gen := newEventGen("sg"+e.runID, o.events/o.versions, 1)
	fmt.Fprintf(e.progress, "gateway: %d replicas × %d consumers × %d in flight, prefix %s\n", o.replicas, o.consumers, o.inFlight, prefix)

	var m *phaseMeter
	var timer *stepTimer
	var idle, parked int64
	var stopProfile func() error
	defer func() {
		if stopProfile != nil && m == nil {
			_ = stopProfile()
		}
	}()
	startProfile := func() {
		if o.profile == "" {
			return
		}
		f, perr := os.Create(o.profile)
		if perr != nil {
			fmt.Fprintf(e.progress, "gateway: no CPU profile: %v\n", perr)
			return
		}
		if perr := pprof.StartCPUProfile(f); perr != nil {
			f.Close()
			fmt.Fprintf(e.progress, "gateway: no CPU profile: %v\n", perr)
			return
		}
		stopProfile = func() error { pprof.StopCPUProfile(); return f.Close() }
	}
	if o.backlog {
		pauses := gws[0].app.Pauses
		if err := pauses.Pause(ctx, routing.PartnerPortal, time.Time{}, "loadgen", "backlog run"); err != nil {
			return ph, err
		}
		idle = residentBytes()
		if err := o.produce(ctx, post, gen); err != nil {
			return ph, fmt.Errorf("filling backlog: %w", err)
		}
		// The events are parked once each has been tried (a paused partner parks at once).
		if err := waitParked(ctx, rdb, gws[0], o.events); err != nil {
			return ph, err
		}
		// What the process holds, not garbage the runtime has yet to give back.
		runtime.GC()
		debug.FreeOSMemory()
		parked = residentBytes()
		fmt.Fprintf(e.progress, "gateway: %d events parked, RSS %.1f MiB (idle %.1f)\n",
			o.events, float64(parked)/(1<<20), float64(idle)/(1<<20))
		if !o.drain {
			ph = syncPhase{RSSIdleMiB: round(float64(idle)/(1<<20), 1), RSSBacklogMiB: round(float64(parked)/(1<<20), 1)}
			return ph, nil
		}
		startProfile()
		m = startMeter()
		if err := pauses.Resume(ctx, routing.PartnerPortal, "loadgen", "backlog run"); err != nil {
			return ph, err
		}
		for _, g := range gws {
			if _, err := g.app.Router.Release(ctx, routing.PartnerPortal); err != nil {
				return ph, err
			}
		}
	} else {
		timer = startStepTimer(sb, gen, o.events)
		startProfile()
		m = startMeter()
		if err := o.produce(ctx, timer.timed(post), gen); err != nil {
			return ph, fmt.Errorf("sending events: %w", err)
		}
	}
	n, werr := sb.waitComplete(ctx, o.events)
	ph = m.finish(o.events, n)
	timer.finish(&ph)
	if stopProfile != nil {
		err = errors.Join(err, stopProfile())
	}
	if o.backlog {
		ph.RSSIdleMiB = round(float64(idle)/(1<<20), 1)
		ph.RSSBacklogMiB = round(float64(parked)/(1<<20), 1)
	}
	return ph, werr
}

// stepTimer times each event from its sending to its step at the portal, through the sandbox's
// step hook.
type stepTimer struct {
	sb    *syncSandbox
	gen   *eventGen
	index map[string]int
	sent  []atomic.Int64 // unix ns when event n was sent (0: not yet)
	// hist and unmatched are written by the hook, under the sandbox's lock.
	hist      *histogram
	unmatched int
}

func startStepTimer(sb *syncSandbox, gen *eventGen, events int) *stepTimer {
	t := &stepTimer{sb: sb, gen: gen, index: make(map[string]int, len(gen.codes)), sent: make([]atomic.Int64, events), hist: newHistogram()}
	for i, c := range gen.codes {
		t.index[c] = i
	}
	sb.set.Portal.SetStepHook(t.step)
	return t
}

// timed wraps a send so that it records when each event went out.
func (t *stepTimer) timed(send func(ctx context.Context, n uint64, body []byte) error) func(ctx context.Context, n uint64, body []byte) error {
	return func(ctx context.Context, n uint64, body []byte) error {
		if n < uint64(len(t.sent)) {
			t.sent[n].Store(time.Now().UnixNano())
		}
		return send(ctx, n, body)
	}
}

func (t *stepTimer) step(code string, nth int) {
	d, ok := t.index[code]
	n := t.gen.eventIndex(d, uint64(nth))
	if !ok || n >= uint64(len(t.sent)) || t.sent[n].Load() == 0 {
		t.unmatched++
		return
	}
	t.hist.record(time.Duration(time.Now().UnixNano() - t.sent[n].Load()))
}

// finish removes the hook (after which the histogram is ours to read) and fills ph's latencies.
func (t *stepTimer) finish(ph *syncPhase) {
	if t == nil {
		return
	}
	t.sb.set.Portal.SetStepHook(nil)
	ms := func(q float64) float64 { return round(float64(t.hist.quantile(q))/1e6, 2) }
	ph.P50Ms, ph.P90Ms, ph.P99Ms, ph.P999Ms = ms(0.5), ms(0.9), ms(0.99), ms(0.999)
}

// waitParked waits until the portal handler's retry schedule holds want messages.
func waitParked(ctx context.Context, rdb *redis.Client, g *gateway, want int) error {
	key := g.app.Store.Keys.RetrySchedule(routing.TopicDossierStatusChanged, routing.PartnerPortal)
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
