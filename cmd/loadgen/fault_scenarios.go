package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/routing"
)

// The four fault scenarios. Each short version finishes within about a minute on a 2-core
// machine; the long ones take minutes.
var (
	killReplica = &faultSpec{
		name:     "kill-replica",
		summary:  "3 gateway processes, kill -9 one mid-run: every accepted event's effect exactly once",
		replicas: 3, minReplicas: 2,
		atFlag: "kill-at", atHelp: "when to kill -9 one replica (the second)",
		latencyHelp: "latency of the sandbox portal throughout, so the replicas have work in hand when one is killed",
		extraFlags: func(fs *flag.FlagSet, o *faultOptions) {
			fs.StringVar(&o.killMoment, "kill-moment", killAtStep, fmt.Sprintf("what the replica is doing when killed: %q, a step call "+
				"to the portal in flight for one of its messages (the worst moment); %q, any message in hand", killAtStep, killAtPending))
		},
		short:  faultTimes{at: 8 * time.Second, tail: 12 * time.Second, latency: 20 * time.Millisecond, retryCap: 2 * time.Second, drainTimeout: time.Minute},
		long:   faultTimes{at: time.Minute, tail: 2 * time.Minute, latency: 20 * time.Millisecond, retryCap: 10 * time.Second, drainTimeout: 10 * time.Minute},
		action: func(*faultOptions) faultAction { return &killAction{} },
	}
	partnerOutage = &faultSpec{
		name:     "partner-outage",
		summary:  "the portal down under load: 0 lost, 0 dead-lettered, breaker opens and closes",
		replicas: 1, minReplicas: 1,
		atFlag: "outage-at", atHelp: "when the sandbox portal goes down (connections dropped)",
		lengthFlag: "outage", lengthHelp: "how long the portal stays down",
		short:  faultTimes{at: 5 * time.Second, length: 20 * time.Second, retryCap: 2 * time.Second, drainTimeout: 90 * time.Second},
		long:   faultTimes{at: 30 * time.Second, length: 3 * time.Minute, retryCap: 30 * time.Second, drainTimeout: 10 * time.Minute},
		action: func(*faultOptions) faultAction { return &outageAction{} },
	}
	redisRestart = &faultSpec{
		name:     "redis-restart",
		summary:  "Redis (AOF) restarted mid-run: gateways recover unrestarted, lose nothing accepted",
		replicas: 1, minReplicas: 1,
		atFlag: "restart-at", atHelp: "when Redis is shut down (SIGTERM: AOF flushed, as an operator's restart)",
		lengthFlag: "down", lengthHelp: "how long Redis stays down before it is started again on the same port and directory",
		short:  faultTimes{at: 8 * time.Second, length: 2 * time.Second, tail: 10 * time.Second, retryCap: 2 * time.Second, drainTimeout: time.Minute},
		long:   faultTimes{at: time.Minute, length: 10 * time.Second, tail: 110 * time.Second, retryCap: 10 * time.Second, drainTimeout: 10 * time.Minute},
		action: func(*faultOptions) faultAction { return &redisAction{} },
	}
	slowPartner = &faultSpec{
		name:     "slow-partner",
		summary:  "the portal slower than the handler timeout for a while: no step processed twice",
		replicas: 1, minReplicas: 1,
		atFlag: "slow-at", atHelp: "when the sandbox portal turns slow",
		lengthFlag: "slow", lengthHelp: "how long the portal stays slow",
		latencyHelp: "latency of the portal while slow (the gateways' handler timeout is " + faultHandlerTimeout.String() + ")",
		short:       faultTimes{at: 5 * time.Second, length: 10 * time.Second, tail: 5 * time.Second, latency: faultHandlerTimeout * 3 / 2, retryCap: 2 * time.Second, drainTimeout: 90 * time.Second},
		long:        faultTimes{at: 30 * time.Second, length: 2 * time.Minute, tail: 30 * time.Second, latency: faultHandlerTimeout * 3 / 2, retryCap: 10 * time.Second, drainTimeout: 10 * time.Minute},
		action:      func(*faultOptions) faultAction { return &slowAction{} },
	}
)

// sumGateways adds a metric over every gateway still running.
func (r *faultRun) sumGateways(ctx context.Context, name string, match map[string]string) (float64, error) {
	total := 0.0
	for _, g := range r.sys.gateways {
		if !g.alive() {
			continue
		}
		m, err := r.sys.metrics(ctx, g)
		if err != nil {
			return 0, err
		}
		total += m.sum(name, match)
	}
	return total, nil
}

// pause waits d unless ctx ends first; it reports whether to go on.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// killAction kills one replica with SIGKILL while it holds pending messages, then watches its
// pending entries until other replicas have claimed and acknowledged them, and their events'
// steps until they reached the portal.
type killAction struct {
	victim      *gatewayProc
	victimIndex int
	moment      string // what the victim was found doing when killed: step, pending or idle
	killedAt    time.Time
	pending     []string // entry ids pending for the victim when it died
	events      []uint64 // their events (sequence numbers)
	unreadable  int      // pending entries whose event could not be read
	// Set by the watcher; read after it finished.
	clearedAt, effectsAt time.Time
}

func (a *killAction) before(ctx context.Context, r *faultRun) error {
	if r.o.latency > 0 {
		return r.sys.setPortalFaults(ctx, faults.Settings{LatencyMS: int(r.o.latency.Milliseconds())})
	}
	return nil
}

// Moments to kill a replica at.
const (
	killAtStep    = "step"
	killAtPending = "pending"
)

func (a *killAction) inject(ctx context.Context, r *faultRun) error {
	a.victimIndex = len(r.sys.gateways) / 2
	a.victim = r.sys.gateways[a.victimIndex]
	// Kill it while it holds work, at the moment asked for, waiting at most 5 s for it; then
	// settle for any message in hand, or none.
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		ps, err := r.sys.pendingOf(ctx, a.victim.replica)
		if err != nil {
			return err
		}
		a.moment = "idle"
		if len(ps) > 0 {
			a.moment = killAtPending
			if r.o.killMoment == killAtPending {
				break
			}
		}
		if a.stepInFlight(ctx, r, ps) {
			a.moment = killAtStep
			break
		}
		if !pause(ctx, 2*time.Millisecond) {
			return ctx.Err()
		}
	}
	pid := a.victim.pid()
	if !a.victim.signal(syscall.SIGKILL, 10*time.Second) {
		return fmt.Errorf("killing %s: still running 10s after SIGKILL", a.victim.replica)
	}
	a.killedAt = time.Now()
	r.load.targets[a.victimIndex].down.Store(true)
	ps, err := r.sys.pendingOf(ctx, a.victim.replica)
	if err != nil {
		return err
	}
	for _, p := range ps {
		a.pending = append(a.pending, p.ID)
		n, ok := a.eventOf(ctx, r, p.ID)
		if !ok {
			a.unreadable++
			continue
		}
		a.events = append(a.events, n)
	}
	r.logf("killed %s (pid %d) with SIGKILL (moment: %s); it held %d pending entries", a.victim.replica, pid, a.moment, len(a.pending))
	r.watch(func(ctx context.Context) { a.watchPending(ctx, r) })
	return nil
}

// stepInFlight reports whether one of the pending entries is at its step call: the portal holds
// its version's state (so the upsert is done) but not its step yet.
func (a *killAction) stepInFlight(ctx context.Context, r *faultRun, ps []redis.XPendingExt) bool {
	for _, p := range ps {
		n, ok := a.eventOf(ctx, r, p.ID)
		if !ok {
			continue
		}
		d, version := r.load.gen.locate(n)
		rec, found, err := r.sys.portalDossier(ctx, r.load.gen.codes[d])
		if err != nil || !found {
			continue
		}
		status, _ := rec.DossierField("TrangThaiHoSo")
		if status == strconv.FormatUint(statusOf(version), 10) && !hasStep(rec.Steps, version) {
			return true
		}
	}
	return false
}

// eventOf reads which event a stream entry carries, from its metadata.
func (a *killAction) eventOf(ctx context.Context, r *faultRun, id string) (uint64, bool) {
	msgs, err := r.sys.rdb.XRange(ctx, r.sys.stream(), id, id).Result()
	if err != nil || len(msgs) != 1 {
		return 0, false
	}
	raw, _ := msgs[0].Values[store.FieldMetadata].(string)
	var md map[string]string
	if json.Unmarshal([]byte(raw), &md) != nil {
		return 0, false
	}
	return r.load.eventOfID(md[routing.MetaEventID])
}

func (a *killAction) watchPending(ctx context.Context, r *faultRun) {
	for a.clearedAt.IsZero() {
		all, err := r.sys.pendingAll(ctx)
		if err == nil {
			left := 0
			for _, p := range all {
				for _, id := range a.pending {
					if p.ID == id {
						left++
					}
				}
			}
			if left == 0 {
				a.clearedAt = time.Now()
				r.logf("every entry the killed replica held was acknowledged by another replica")
			}
		}
		if a.clearedAt.IsZero() && !pause(ctx, 100*time.Millisecond) {
			return
		}
	}
	for a.effectsAt.IsZero() {
		all := true
		for _, n := range a.events {
			d, version := r.load.gen.locate(n)
			rec, found, err := r.sys.portalDossier(ctx, r.load.gen.codes[d])
			if err != nil || !found || !hasStep(rec.Steps, version) {
				all = false
				break
			}
		}
		if all {
			a.effectsAt = time.Now()
			r.logf("the steps of every event the killed replica held are at the portal")
			return
		}
		if !pause(ctx, 250*time.Millisecond) {
			return
		}
	}
}

// hasStep reports whether steps (as the sandbox portal records them) hold the step of version.
func hasStep(steps []json.RawMessage, version uint64) bool { return countStep(steps, version) > 0 }

// countStep counts the copies of the step of version in steps.
func countStep(steps []json.RawMessage, version uint64) int {
	want := fmt.Sprintf("%s%d", stepPrefix, version)
	n := 0
	for _, s := range steps {
		var f struct {
			Content string `json:"NoiDungXuLy"`
		}
		if json.Unmarshal(s, &f) == nil && f.Content == want {
			n++
		}
	}
	return n
}

func (a *killAction) heal(context.Context, *faultRun) error { return nil }

func (a *killAction) judgesDuplicates() {}

func (a *killAction) judge(ctx context.Context, r *faultRun, v *verdict) {
	if a.victim == nil {
		v.fail("no replica was killed")
		return
	}
	v.add("killed", a.victim.replica)
	v.add("killed_at_s", r.since(a.killedAt))
	v.add("kill_moment", a.moment)
	v.add("pending_at_kill", len(a.pending))
	if a.clearedAt.IsZero() {
		v.fail("the killed replica's %d pending entries were still pending at the end", len(a.pending))
	} else {
		v.add("pending_handled_s", seconds(a.clearedAt.Sub(a.killedAt)))
	}
	if a.effectsAt.IsZero() {
		v.fail("the steps of the killed replica's pending events did not all reach the portal")
	} else {
		v.add("pending_effects_s", seconds(a.effectsAt.Sub(a.killedAt)))
	}
	if a.unreadable > 0 {
		v.fail("%d of the killed replica's pending entries carried no event of this run", a.unreadable)
	}
	// Which of the killed replica's events reached the portal more than once: the duplicates a
	// claim caused, as opposed to any other.
	twice := 0
	for _, n := range a.events {
		d, version := r.load.gen.locate(n)
		if rec, found, err := r.sys.portalDossier(ctx, r.load.gen.codes[d]); err == nil && found && countStep(rec.Steps, version) > 1 {
			twice++
		}
	}
	v.add("pending_steps_twice", twice)
	// Only a step whose call was in flight on the killed replica may arrive twice; one in flight
	// is at most one per killed consumer.
	if r.check.Duplicated > twice {
		v.fail("%d steps duplicated at the portal beyond the killed replica's in-flight ones (%d)", r.check.Duplicated-twice, twice)
	}
	if twice > r.o.consumers {
		v.fail("%d of the killed replica's steps arrived twice, more than its %d consumers can have had in flight", twice, r.o.consumers)
	}
	if len(a.pending) == 0 {
		v.add("note", "the replica held no pending entry when killed: only its listener's loss was exercised")
	}
}

// outageAction takes the sandbox portal down (connections dropped) and brings it back; it
// watches the breaker transitions and measures the gateways' CPU during the outage and the drain
// after it.
type outageAction struct {
	mu           sync.Mutex // guards upAt, read by the watcher
	downAt, upAt time.Time
	cpuDown      time.Duration
	cpuUp        time.Duration
	stepsUp      int
	retriesDown  float64
	retriesUp    float64
	// Set by the watcher; read after it finished.
	openAt, closedAt time.Time
}

var (
	breakerOpen   = map[string]string{"partner": routing.PartnerPortal, "to": "open"}
	breakerClosed = map[string]string{"partner": routing.PartnerPortal, "to": "closed"}
	shortRetries  = map[string]string{"handler": routing.HandlerDossierToPortal}
)

func (a *outageAction) before(context.Context, *faultRun) error { return nil }

func (a *outageAction) inject(ctx context.Context, r *faultRun) error {
	a.retriesDown, _ = r.sumGateways(ctx, "gateway_handler_retries_total", shortRetries)
	a.cpuDown = r.gatewayCPU()
	if err := r.sys.setPortalFaults(ctx, faults.Settings{Down: true}); err != nil {
		return err
	}
	a.downAt = time.Now()
	r.logf("portal down")
	r.watch(func(ctx context.Context) { a.watchBreaker(ctx, r) })
	return nil
}

func (a *outageAction) heal(ctx context.Context, r *faultRun) error {
	a.cpuUp = r.gatewayCPU()
	a.retriesUp, _ = r.sumGateways(ctx, "gateway_handler_retries_total", shortRetries)
	if err := r.sys.setPortalFaults(ctx, faults.Settings{}); err != nil {
		return err
	}
	a.mu.Lock()
	a.upAt = time.Now()
	a.mu.Unlock()
	steps, err := r.sys.portalSteps(ctx)
	if err != nil {
		return err
	}
	a.stepsUp = steps
	r.logf("portal back up; it holds %d steps", steps)
	return nil
}

func (a *outageAction) watchBreaker(ctx context.Context, r *faultRun) {
	for {
		opens, err1 := r.sumGateways(ctx, "gateway_breaker_transitions_total", breakerOpen)
		closes, err2 := r.sumGateways(ctx, "gateway_breaker_transitions_total", breakerClosed)
		if err1 == nil && err2 == nil {
			now := time.Now()
			if a.openAt.IsZero() && opens > 0 {
				a.openAt = now
				r.logf("breaker open")
			}
			a.mu.Lock()
			up := !a.upAt.IsZero()
			a.mu.Unlock()
			if up && !a.openAt.IsZero() && a.closedAt.IsZero() && closes > 0 {
				a.closedAt = now
				r.logf("breaker closed")
				return
			}
		}
		if !pause(ctx, 200*time.Millisecond) {
			return
		}
	}
}

func (a *outageAction) judge(ctx context.Context, r *faultRun, v *verdict) {
	if a.downAt.IsZero() || a.upAt.IsZero() {
		v.fail("the outage did not take place")
		return
	}
	outage := a.upAt.Sub(a.downAt)
	v.add("outage_s", seconds(outage))
	opens, _ := r.sumGateways(ctx, "gateway_breaker_transitions_total", breakerOpen)
	closes, _ := r.sumGateways(ctx, "gateway_breaker_transitions_total", breakerClosed)
	v.add("breaker_opens", opens)
	v.add("breaker_closes", closes)
	if a.openAt.IsZero() {
		v.fail("the portal breaker never opened")
	} else {
		v.add("breaker_opened_after_s", seconds(a.openAt.Sub(a.downAt)))
	}
	if a.closedAt.IsZero() {
		v.fail("the portal breaker never closed after the outage")
	} else {
		v.add("breaker_closed_after_s", seconds(a.closedAt.Sub(a.upAt)))
	}
	before := a.downAt.Sub(r.loadStart)
	if before > 0 {
		v.add("cpu_before_ms_per_s", round(float64((a.cpuDown-r.cpuStart).Milliseconds())/before.Seconds(), 1))
	}
	v.add("cpu_outage_ms_per_s", round(float64((a.cpuUp-a.cpuDown).Milliseconds())/outage.Seconds(), 1))
	v.add("short_retries_outage", a.retriesUp-a.retriesDown)
	_, confirmed, _, _ := r.load.counts()
	backlog := confirmed - int64(a.stepsUp)
	v.add("backlog_at_recovery", backlog)
	if !r.stepsComplete.IsZero() {
		drain := r.stepsComplete.Sub(a.upAt)
		v.add("drain_s", seconds(drain))
		if drain > 0 {
			v.add("drain_events_per_s", round(float64(backlog)/drain.Seconds(), 1))
		}
	}
}

// redisAction shuts Redis down (SIGTERM: AOF flushed) and starts it again on the same port and
// directory; the gateways must carry on without being restarted.
type redisAction struct {
	pids                 []int
	stopAt, downAt, upAt time.Time
	stepsUp              int
	// Set by the watcher; read after it finished.
	syncAt time.Time
}

func (a *redisAction) before(context.Context, *faultRun) error {
	return nil
}

func (a *redisAction) inject(_ context.Context, r *faultRun) error {
	for _, g := range r.sys.gateways {
		a.pids = append(a.pids, g.pid())
	}
	a.stopAt = time.Now()
	if err := r.sys.stopRedis(); err != nil {
		return err
	}
	a.downAt = time.Now()
	r.logf("redis-server stopped (SIGTERM, %s)", a.downAt.Sub(a.stopAt).Round(time.Millisecond))
	return nil
}

func (a *redisAction) heal(ctx context.Context, r *faultRun) error {
	if err := r.sys.startRedis(ctx); err != nil {
		return err
	}
	a.upAt = time.Now()
	r.load.setMark(a.upAt)
	steps, err := r.sys.portalSteps(ctx)
	if err != nil {
		return err
	}
	a.stepsUp = steps
	r.logf("redis-server started again on the same port and directory (AOF loaded)")
	r.watch(func(ctx context.Context) {
		for {
			if n, err := r.sys.portalSteps(ctx); err == nil && n > a.stepsUp {
				a.syncAt = time.Now()
				return
			}
			if !pause(ctx, 100*time.Millisecond) {
				return
			}
		}
	})
	return nil
}

func (a *redisAction) judge(ctx context.Context, r *faultRun, v *verdict) {
	if a.upAt.IsZero() {
		v.fail("Redis was not restarted")
		return
	}
	v.add("redis_down_s", seconds(a.upAt.Sub(a.stopAt)))
	failed := r.load.failedAttempts()
	v.add("ingest_503", failed["503"])
	total := int64(0)
	for _, n := range failed {
		total += n
	}
	v.add("failed_attempts", total)
	v.add("retried_events", r.load.retried.Load())
	if first := r.load.firstOK.Load(); first == 0 {
		v.fail("no event was accepted after Redis came back")
	} else {
		v.add("ingest_recovered_s", seconds(time.Unix(0, first).Sub(a.upAt)))
	}
	if a.syncAt.IsZero() {
		v.fail("no step reached the portal after Redis came back")
	} else {
		v.add("sync_recovered_s", seconds(a.syncAt.Sub(a.upAt)))
	}
	restarted := 0
	for i, g := range r.sys.gateways {
		if !g.alive() || g.pid() != a.pids[i] {
			restarted++
			v.fail("gateway %s exited (%s)", g.replica, g.exited())
			continue
		}
		if !r.sys.ready(ctx, g) {
			v.fail("gateway %s is not ready after the restart", g.replica)
		}
	}
	v.add("gateways_restarted", restarted)
}

// slowAction makes the sandbox portal answer after a latency above the gateways' handler
// timeout for a while, then normally again.
type slowAction struct {
	slowAt, fastAt time.Time
}

var (
	portalTransient = map[string]string{"partner": routing.PartnerPortal, "outcome": "transient_error"}
	skippedRepeats  = map[string]string{"handler": routing.HandlerDossierToPortal, "outcome": "duplicate"}
)

func (a *slowAction) before(context.Context, *faultRun) error { return nil }

func (a *slowAction) inject(ctx context.Context, r *faultRun) error {
	if err := r.sys.setPortalFaults(ctx, faults.Settings{LatencyMS: int(r.o.latency.Milliseconds())}); err != nil {
		return err
	}
	a.slowAt = time.Now()
	r.logf("portal slow: %s per call (handler timeout %s)", r.o.latency, faultHandlerTimeout)
	return nil
}

func (a *slowAction) heal(ctx context.Context, r *faultRun) error {
	if err := r.sys.setPortalFaults(ctx, faults.Settings{}); err != nil {
		return err
	}
	a.fastAt = time.Now()
	r.logf("portal fast again")
	return nil
}

func (a *slowAction) judge(ctx context.Context, r *faultRun, v *verdict) {
	if a.fastAt.IsZero() {
		v.fail("the portal was not slowed down")
		return
	}
	v.add("latency_ms", r.o.latency.Milliseconds())
	v.add("handler_timeout_ms", faultHandlerTimeout.Milliseconds())
	v.add("slow_s", seconds(a.fastAt.Sub(a.slowAt)))
	if n, err := r.sumGateways(ctx, "gateway_partner_calls_total", portalTransient); err == nil {
		v.add("portal_calls_failed", n)
	}
	if n, err := r.sumGateways(ctx, "gateway_breaker_transitions_total", breakerOpen); err == nil {
		v.add("breaker_opens", n)
	}
	if n, err := r.sumGateways(ctx, "gateway_handler_outcomes_total", skippedRepeats); err == nil {
		v.add("redeliveries_skipped", n)
	}
	// A step call the gateway abandoned at its deadline may still be applied by a slow portal, and
	// the retry sends it again: steps are at least once. Every repeat must come from such an
	// abandoned call; a repeat beyond them would be a message handled twice (the idle-claim race).
	abandoned, err := r.sumGateways(ctx, "gateway_partner_calls_total",
		map[string]string{"partner": "dvcqg", "operation": "add_progress", "outcome": "transient_error"})
	if err != nil {
		v.fail("reading abandoned step calls: %v", err)
		return
	}
	v.add("step_calls_abandoned", abandoned)
	v.add("steps_repeated", r.check.Duplicated)
	if float64(r.check.Duplicated) > abandoned {
		v.fail("%d steps repeated at the portal, more than the %v step calls abandoned at their deadline", r.check.Duplicated, abandoned)
	}
}

func (a *slowAction) judgesDuplicates() {}
