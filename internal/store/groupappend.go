package store

import (
	"context"
	"sync"
	"time"
)

// GroupAppender writes events like AppendOnce, but merges the batches of concurrent callers into
// one pipeline (group commit). Under load the ingest endpoint's requests each made their own
// round trip to Redis; their syscalls were most of its CPU. Here a caller queues its batch; when
// fewer than Flushers flushes are running, it starts one, which sends everything queued (up to
// MaxEvents) in one pipeline and goes on while the queue is not empty. A lone request is sent at
// once (no timer, no added delay); concurrent requests ride along with the flush that follows.
//
// Every event is still written by its own script, atomically with its idempotency check, so the
// outcome of each event is exactly what AppendOnce gives it alone; a failure of the whole
// pipeline fails every batch in it, and those callers answer with an error and are retried by
// their clients, where the idempotency check makes the retry safe.
type GroupAppender struct {
	store     *Store
	ttl       time.Duration
	flushers  int
	maxEvents int

	mu      sync.Mutex
	queue   []*appendCall
	running int
}

type appendCall struct {
	events []Append
	res    []AppendResult
	err    error
	done   chan struct{}
}

// NewGroupAppender returns a group appender with idempotency ttl, at most flushers pipelines in
// flight and at most maxEvents events per pipeline (a larger batch goes alone).
func (s *Store) NewGroupAppender(ttl time.Duration, flushers, maxEvents int) *GroupAppender {
	return &GroupAppender{store: s, ttl: ttl, flushers: max(flushers, 1), maxEvents: max(maxEvents, 1)}
}

// flushTimeout bounds one pipeline: callers whose context ends sooner stop waiting, the write
// still completes or fails on its own.
const flushTimeout = 10 * time.Second

// Append writes events (results in input order), sharing a pipeline with concurrent callers.
// When ctx ends first it returns ctx's error; the events may still be written (an idempotent
// retry then finds them).
func (g *GroupAppender) Append(ctx context.Context, events []Append) ([]AppendResult, error) {
	if len(events) == 0 {
		return nil, nil
	}
	call := &appendCall{events: events, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, call)
	start := g.running < g.flushers
	if start {
		g.running++
	}
	g.mu.Unlock()
	if start {
		go g.flush()
	}
	select {
	case <-call.done:
		return call.res, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// flush sends queued batches until the queue is empty.
func (g *GroupAppender) flush() {
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		n, events := 0, 0
		for n < len(g.queue) && (n == 0 || events+len(g.queue[n].events) <= g.maxEvents) {
			events += len(g.queue[n].events)
			n++
		}
		batch := make([]*appendCall, n)
		copy(batch, g.queue)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		g.send(batch, events)
	}
}

func (g *GroupAppender) send(batch []*appendCall, events int) {
	merged := batch[0].events
	if len(batch) > 1 {
		merged = make([]Append, 0, events)
		for _, c := range batch {
			merged = append(merged, c.events...)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	res, err := g.store.AppendOnce(ctx, g.ttl, merged)
	cancel()
	off := 0
	for _, c := range batch {
		if err != nil {
			c.err = err
		} else {
			c.res = res[off : off+len(c.events) : off+len(c.events)]
		}
		off += len(c.events)
		close(c.done)
	}
}
