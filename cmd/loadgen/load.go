package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// shape is how load is offered. Every phase of a scenario runs with the same shape, so that
// phases measured one after the other in one run can be compared.
type shape struct {
	Duration    time.Duration // measured window
	Warmup      time.Duration // load before the window, not measured
	Concurrency int           // workers, each with at most one request in flight
	// Rate paces requests open loop at this many per second (the workers serve a schedule and
	// latency counts from the scheduled send time, so a slow server cannot hide its queueing).
	// 0 is closed loop: each worker sends its next request as soon as the previous one returns.
	Rate float64
	// MaxRequests ends the measured window early once this many requests were sent in it.
	MaxRequests int64
}

func (s shape) mode() string {
	if s.Rate > 0 {
		return "open"
	}
	return "closed"
}

// outcome is what one operation returned.
type outcome struct {
	Status int   // HTTP status; 0 when no answer came back
	Events int   // events the answer accepted
	Err    error // transport failure
}

// op performs one operation (one request) of a phase.
type op func(ctx context.Context) outcome

// phaseStats is what a phase measured.
type phaseStats struct {
	Elapsed  time.Duration // the measured window as it really ran
	Requests int64         // successful (2xx) requests started in the window
	Events   int64         // events those requests accepted
	Errors   int64         // failed requests started in the window
	ErrorsBy map[string]int64
	// Missed counts, open loop only, scheduled sends of the window that never went out because
	// every worker was still busy when the window closed.
	Missed  int64
	Latency *histogram // successful requests only
	CPU     time.Duration
	RSS     int64 // at the end of the window
	RSSPeak int64 // highest sample during the window
	// Accepted counts events accepted over the whole phase (warmup and the tail included): what
	// the system under test must have stored.
	Accepted int64
	// Connections is how many connections the client opened during the phase.
	Connections int64
}

// runLoad offers load to do with shape s and measures the window after the warmup. When profile
// is not nil, a CPU profile of the measured window is written to it. In-flight requests finish
// after the window closes; they are counted when they started inside it.
func runLoad(ctx context.Context, s shape, do op, profile io.Writer) (*phaseStats, error) {
	runtime.GC()
	var (
		measuring atomic.Bool
		stopped   atomic.Bool
		started   atomic.Int64 // requests started inside the window
		stopOnce  sync.Once
		stopCh    = make(chan struct{})
	)
	stop := func() { stopOnce.Do(func() { stopped.Store(true); close(stopCh) }) }
	t0 := time.Now()
	measureFrom := t0.Add(s.Warmup)
	measureTo := measureFrom.Add(s.Duration)
	// admit reports whether a request may start; those inside the window count toward
	// MaxRequests.
	admit := func(measured bool) bool {
		if stopped.Load() || ctx.Err() != nil {
			return false
		}
		if measured && s.MaxRequests > 0 && started.Add(1) > s.MaxRequests {
			stop()
			return false
		}
		return true
	}

	workers := make([]*workerStats, s.Concurrency)
	for i := range workers {
		workers[i] = &workerStats{latency: newHistogram(), errorsBy: map[string]int64{}}
	}
	var wg sync.WaitGroup
	var ticks chan time.Time
	var pace *pacer
	if s.Rate > 0 {
		ticks = make(chan time.Time, s.Concurrency)
		pace = &pacer{rate: s.Rate, from: t0, measureFrom: measureFrom, measureTo: measureTo}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pace.run(ctx, ticks, stopCh, admit)
		}()
	}
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ticks != nil {
				for sched := range ticks {
					w.record(do(ctx), time.Since(sched), !sched.Before(measureFrom))
				}
				return
			}
			for {
				measured := measuring.Load()
				if !admit(measured) {
					return
				}
				start := time.Now()
				w.record(do(ctx), time.Since(start), measured)
			}
		}()
	}

	// The controller opens and closes the window and samples the process around it.
	st := &phaseStats{Latency: newHistogram(), ErrorsBy: map[string]int64{}}
	var profErr error
	wait := time.NewTimer(time.Until(measureFrom))
	select {
	case <-wait.C:
	case <-ctx.Done():
		wait.Stop()
	}
	cpu0 := cpuTime()
	from := time.Now()
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			profErr = fmt.Errorf("starting CPU profile: %w", err)
		}
	}
	measuring.Store(true)
	end := time.NewTimer(time.Until(measureTo))
	sample := time.NewTicker(200 * time.Millisecond)
	st.RSSPeak = residentBytes()
window:
	for {
		select {
		case <-end.C:
			break window
		case <-stopCh:
			break window
		case <-ctx.Done():
			break window
		case <-sample.C:
			st.RSSPeak = max(st.RSSPeak, residentBytes())
		}
	}
	sample.Stop()
	end.Stop()
	stop()
	st.Elapsed = time.Since(from)
	st.CPU = cpuTime() - cpu0
	st.RSS = residentBytes()
	st.RSSPeak = max(st.RSSPeak, st.RSS)
	if profile != nil && profErr == nil {
		pprof.StopCPUProfile()
	}
	wg.Wait()

	for _, w := range workers {
		st.Requests += w.requests
		st.Events += w.events
		st.Errors += w.errors
		st.Accepted += w.accepted
		st.Latency.merge(w.latency)
		for k, n := range w.errorsBy {
			st.ErrorsBy[k] += n
		}
	}
	if pace != nil {
		st.Missed = pace.missed()
	}
	if profErr != nil {
		return st, profErr
	}
	return st, ctx.Err()
}

// workerStats is one worker's share of a phase's counts.
type workerStats struct {
	requests, events, errors, accepted int64
	errorsBy                           map[string]int64
	latency                            *histogram
}

func (w *workerStats) record(o outcome, latency time.Duration, measured bool) {
	ok := o.Err == nil && o.Status >= 200 && o.Status < 300
	if ok {
		w.accepted += int64(o.Events)
	}
	if !measured {
		return
	}
	if !ok {
		w.errors++
		w.errorsBy[errorClass(o)]++
		return
	}
	w.requests++
	w.events += int64(o.Events)
	w.latency.record(latency)
}

// errorClass names a failure for the report: the HTTP status, or how the transport failed.
func errorClass(o outcome) string {
	if o.Err == nil {
		return strconv.Itoa(o.Status)
	}
	var ne net.Error
	var named interface{ Class() string }
	switch {
	case errors.As(o.Err, &named):
		return named.Class()
	case errors.Is(o.Err, context.Canceled):
		return "canceled"
	case errors.Is(o.Err, context.DeadlineExceeded), errors.As(o.Err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "transport"
	}
}

// pacer hands out the open-loop schedule: send i is due at from + i/rate. When every worker is
// busy it waits, so late sends carry their original due time and their latency includes the wait.
type pacer struct {
	rate                   float64
	from                   time.Time
	measureFrom, measureTo time.Time
	// until is when the schedule ended: measureTo, or earlier when the window closed early.
	until                   time.Time
	sentInWindow, nextIndex int64
}

func (p *pacer) due(i int64) time.Time {
	return p.from.Add(time.Duration(float64(i) * float64(time.Second) / p.rate))
}

func (p *pacer) run(ctx context.Context, ticks chan<- time.Time, stopCh <-chan struct{}, admit func(measured bool) bool) {
	defer close(ticks)
	p.until = p.measureTo
	for {
		next := p.due(p.nextIndex)
		if next.Before(p.measureFrom) && !time.Now().Before(p.measureFrom) {
			// The warmup's backlog is dropped: the window starts on its own schedule.
			p.nextIndex = int64(math.Ceil(p.measureFrom.Sub(p.from).Seconds() * p.rate))
			continue
		}
		if !next.Before(p.measureTo) {
			return
		}
		if d := time.Until(next); d > 0 {
			// Sleep at least a millisecond (the timer floor) and send whatever fell due meanwhile.
			t := time.NewTimer(max(d, time.Millisecond))
			select {
			case <-t.C:
			case <-stopCh:
				t.Stop()
				p.flush(ticks)
				return
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		if !admit(!next.Before(p.measureFrom)) {
			p.flush(ticks)
			return
		}
		select {
		case ticks <- next:
			p.sent(next)
		case <-stopCh:
			p.flush(ticks)
			return
		case <-ctx.Done():
			return
		}
	}
}

func (p *pacer) sent(t time.Time) {
	if !t.Before(p.measureFrom) {
		p.sentInWindow++
	}
	p.nextIndex++
}

// flush runs when the window closes: the sends already due go out if a worker can still take
// them (the pacer may merely have been asleep); the rest are missed.
func (p *pacer) flush(ticks chan<- time.Time) {
	if now := time.Now(); now.Before(p.until) {
		p.until = now
	}
	for {
		next := p.due(p.nextIndex)
		if !next.Before(p.until) {
			return
		}
		select {
		case ticks <- next:
			p.sent(next)
		default:
			return
		}
	}
}

// missed is the number of sends due inside the window that never went out. Only valid after run
// returned.
func (p *pacer) missed() int64 {
	// Sends due before offset t: the i >= 0 with i/rate < t, that is ceil(t*rate) of them.
	dueBefore := func(t time.Time) int64 {
		return int64(math.Ceil(t.Sub(p.from).Seconds() * p.rate))
	}
	return max(dueBefore(p.until)-dueBefore(p.measureFrom)-p.sentInWindow, 0)
}
