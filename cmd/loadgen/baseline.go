package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// baseline is the least an ingest endpoint can do: read the body, XADD it to a stream, answer
// 202. It is what the gateway's own ingest is measured against, on the same machine and Redis.
type baseline struct {
	rdb    *redis.Client
	stream string
	srv    *http.Server
	ln     net.Listener
	done   chan error
}

// maxBaselineBody matches the gateway's default body limit.
const maxBaselineBody = 1 << 20

// newRedisClient opens a client to the loopback Redis at rawURL with the pool the gateway's store
// uses, so the two phases differ only in what they do per request.
func newRedisClient(ctx context.Context, rawURL string) (*redis.Client, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing -redis: %w", err)
	}
	if err := checkLoopback("-redis", o.Addr); err != nil {
		return nil, err
	}
	o.PoolSize = 64
	c := redis.NewClient(o)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("reaching redis at %s: %w", o.Addr, err)
	}
	return c, nil
}

// startBaseline serves the baseline handler on a free loopback port; it writes to stream.
func startBaseline(rdb *redis.Client, stream string) (*baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("binding baseline listener: %w", err)
	}
	b := &baseline{rdb: rdb, stream: stream, ln: ln, done: make(chan error, 1)}
	b.srv = &http.Server{
		Handler:           b,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	go func() { b.done <- b.srv.Serve(ln) }()
	return b, nil
}

func (b *baseline) URL() string { return "http://" + b.ln.Addr().String() + "/v1/events" }

func (b *baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBaselineBody))
	if err != nil {
		http.Error(w, "reading body", http.StatusBadRequest)
		return
	}
	if err := b.rdb.XAdd(r.Context(), &redis.XAddArgs{Stream: b.stream, Values: []any{"payload", body}}).Err(); err != nil {
		http.Error(w, "storing event", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"accepted"}`))
}

// stop shuts the server down and deletes its stream.
func (b *baseline) stop(ctx context.Context) error {
	err := b.srv.Shutdown(ctx)
	if serr := <-b.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if derr := b.rdb.Del(ctx, b.stream).Err(); derr != nil {
		err = errors.Join(err, fmt.Errorf("deleting baseline stream: %w", derr))
	}
	return err
}
