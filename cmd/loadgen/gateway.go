package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/app"
	"github.com/egov-vn/gateway/internal/config"
)

// gateway is a whole gateway running in this process: the dev profile (sandbox partners on its
// own API listener, demo credentials) on a real Redis, under a key prefix of its own.
type gateway struct {
	app    *app.App
	prefix string
	cancel context.CancelFunc
	done   chan error
}

// gatewayConfig is the dev profile on free loopback ports and the given Redis.
func gatewayConfig(redisURL, prefix, replica string, consumers int) (config.Config, error) {
	cfg := config.DevProfile()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Admin.Addr = "127.0.0.1:0"
	cfg.Redis.Embedded = false
	cfg.Redis.URL = redisURL
	cfg.Redis.KeyPrefix = prefix
	cfg.Routing.Replica = replica
	if consumers > 0 {
		cfg.Routing.ConsumersPerHandler = consumers
	}
	// The load run stops the gateway with a backlog in its streams; do not wait long for it.
	cfg.Routing.ShutdownGrace = 5 * time.Second
	// The sandbox URLs depend on the port bound in app.New, which fills them in; validation
	// needs placeholders of the right shape until then.
	cfg.HTTP.PublicURL = "http://" + cfg.HTTP.Addr
	cfg.Portal.BaseURL = cfg.HTTP.PublicURL + "/sandbox/dvcqg"
	cfg.Onestop.URL = cfg.HTTP.PublicURL + "/sandbox/onestop/notifications"
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("validating gateway configuration: %w", err)
	}
	return cfg, nil
}

// startGateway builds and runs the gateway and waits until what its role runs has started (its
// router, unless it is an api gateway, which runs none).
func startGateway(ctx context.Context, cfg config.Config) (*gateway, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a, err := app.New(runCtx, cfg, log)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting gateway: %w", err)
	}
	g := &gateway{app: a, prefix: cfg.Redis.KeyPrefix, cancel: cancel, done: make(chan error, 1)}
	go func() { g.done <- a.Run(runCtx) }()
	select {
	case <-a.Ready():
		return g, nil
	case err := <-g.done:
		cancel()
		return nil, fmt.Errorf("starting gateway: %w", errors.Join(err, errors.New("stopped before it was ready")))
	case <-time.After(10 * time.Second):
		return nil, errors.Join(fmt.Errorf("starting gateway: role %s not ready within 10s", a.Role()), g.stop())
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), g.stop())
	}
}

// URL is the gateway's ingest endpoint.
func (g *gateway) URL() string { return "http://" + g.app.APIAddr() + "/v1/events" }

// stop shuts the gateway down and waits for it.
func (g *gateway) stop() error {
	g.cancel()
	select {
	case err := <-g.done:
		if err != nil {
			return fmt.Errorf("stopping gateway: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("stopping gateway: still running after 30s")
	}
}

// deleteKeys removes every key under prefix (SCAN and UNLINK, in batches).
func deleteKeys(ctx context.Context, rdb *redis.Client, prefix string) (int, error) {
	iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var keys []string
	n := 0
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		if err := rdb.Unlink(ctx, keys...).Err(); err != nil {
			return err
		}
		n += len(keys)
		keys = keys[:0]
		return nil
	}
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 500 {
			if err := flush(); err != nil {
				return n, fmt.Errorf("deleting keys under %s: %w", prefix, err)
			}
		}
	}
	if err := errors.Join(iter.Err(), flush()); err != nil {
		return n, fmt.Errorf("deleting keys under %s: %w", prefix, err)
	}
	return n, nil
}
