package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// What became of one event of a fault run.
const (
	evUnsent      uint32 = iota // never sent (the load ended before it)
	evInFlight                  // being sent
	evConfirmed                 // answered 202, or 200 "duplicate" (stored by an earlier try)
	evUnconfirmed               // never answered 2xx in its time: stored or not, nobody knows
	evRejected                  // answered a definitive 4xx: not stored
)

// faultLoad is the load of a fault scenario: every event of the generator sent once, in
// sequence, at the run's rate, to the gateways' API listeners in turn. An event not answered 2xx
// (a 503 while Redis is down, a refused connection to a killed replica, a timeout) is sent again
// with the same id, to the next gateway, as a real client would, until it is accepted or giveUp
// has passed. The gateway answers a repeat of a stored event with 200 "duplicate", so a retry
// never stores an event twice; what each event became is kept for the verdict.
type faultLoad struct {
	gen     *eventGen
	client  *loadClient
	targets []*loadTarget
	token   string
	giveUp  time.Duration

	turn  atomic.Uint64
	state []atomic.Uint32 // by sequence number

	retried    atomic.Int64 // events that needed more than one attempt
	duplicates atomic.Int64 // events answered 200: an earlier attempt stored it, its answer was lost

	mu       sync.Mutex
	failures map[string]int64 // failed attempts by HTTP status or transport failure

	// mark is a moment (unix ns) a scenario cares about; firstOK the first accepted answer
	// received after it (0 until then).
	mark, firstOK atomic.Int64
}

// loadTarget is one gateway's ingest URL; down takes it out of the rotation (a load balancer's
// health check would).
type loadTarget struct {
	url  string
	down atomic.Bool
}

func newFaultLoad(gen *eventGen, events int, client *loadClient, urls []string, token string, giveUp time.Duration) *faultLoad {
	l := &faultLoad{
		gen: gen, client: client, token: token, giveUp: giveUp,
		state: make([]atomic.Uint32, events), failures: map[string]int64{},
	}
	for _, u := range urls {
		l.targets = append(l.targets, &loadTarget{url: u + "/v1/events"})
	}
	return l
}

// pick is the i-th target in rotation, skipping those taken out (all of them down: the i-th).
func (l *faultLoad) pick(i uint64) *loadTarget {
	n := uint64(len(l.targets))
	for k := range n {
		if t := l.targets[(i+k)%n]; !t.down.Load() {
			return t
		}
	}
	return l.targets[i%n]
}

// op sends the next event until it is accepted, rejected or its time is up.
func (l *faultLoad) op(ctx context.Context) outcome {
	n, body := l.gen.next()
	if n >= uint64(len(l.state)) {
		return outcome{Err: fmt.Errorf("sending event %d: the run has only %d events", n, len(l.state))}
	}
	l.state[n].Store(evInFlight)
	deadline := time.Now().Add(l.giveUp)
	backoff := 50 * time.Millisecond
	turn := l.turn.Add(1)
	for attempt := uint64(0); ; attempt++ {
		o := l.post(ctx, l.pick(turn+attempt).url, body)
		switch {
		case o.Err == nil && o.Status >= 200 && o.Status < 300:
			if attempt > 0 {
				l.retried.Add(1)
			}
			if o.Status == http.StatusOK {
				l.duplicates.Add(1)
			}
			l.state[n].Store(evConfirmed)
			if mark := l.mark.Load(); mark != 0 {
				if now := time.Now().UnixNano(); now > mark {
					l.firstOK.CompareAndSwap(0, now)
				}
			}
			return outcome{Status: o.Status, Events: 1}
		case o.Err == nil && definitive(o.Status):
			l.state[n].Store(evRejected)
			return o
		}
		l.mu.Lock()
		l.failures[errorClass(o)]++
		l.mu.Unlock()
		if ctx.Err() != nil || time.Now().Add(backoff).After(deadline) {
			l.state[n].Store(evUnconfirmed)
			return o
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		backoff = min(backoff*2, time.Second)
	}
}

// definitive reports whether an answer means the event will never be stored, however often it
// is sent: the request itself is wrong.
func definitive(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return status >= 400 && status < 500
}

func (l *faultLoad) post(ctx context.Context, url string, body []byte) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return outcome{Err: err}
	}
	req.Header.Set("Content-Type", l.gen.contentType())
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := l.client.Do(req)
	if err != nil {
		return outcome{Err: err}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return outcome{Status: resp.StatusCode, Err: err}
}

// setMark records now as the moment firstOK counts from.
func (l *faultLoad) setMark(t time.Time) {
	l.firstOK.Store(0)
	l.mark.Store(t.UnixNano())
}

// counts tallies the events by what became of them.
func (l *faultLoad) counts() (sent, confirmed, unconfirmed, rejected int64) {
	for i := range l.state {
		switch l.state[i].Load() {
		case evUnsent:
			continue
		case evConfirmed:
			confirmed++
		case evUnconfirmed, evInFlight:
			unconfirmed++
		case evRejected:
			rejected++
		}
		sent++
	}
	return sent, confirmed, unconfirmed, rejected
}

// failedAttempts is a copy of the failed attempts by class.
func (l *faultLoad) failedAttempts() map[string]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.failures)
}

// eventOfID is the sequence number in an event id of this load ("lg-<run>-<n>").
func (l *faultLoad) eventOfID(id string) (uint64, bool) {
	rest, ok := strings.CutPrefix(id, l.gen.idPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || n >= uint64(len(l.state)) {
		return 0, false
	}
	return n, true
}
