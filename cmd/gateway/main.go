// Command gateway runs the integration gateway. With no flags it runs the dev profile: an
// embedded in-memory store, the sandbox partners under /sandbox/ and the documented demo
// credentials. With -config FILE (or GATEWAY_CONFIG) it runs that profile, taking secrets from
// the environment. -role (or GATEWAY_ROLE) picks what the process runs: all (the default), api
// (the API and admin listeners only) or worker (the consumers, the background loops and the
// admin listener).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/egov-vn/gateway/internal/app"
	"github.com/egov-vn/gateway/internal/config"
)

func main() {
	os.Exit(run())
}

func run() int {
	path := flag.String("config", os.Getenv("GATEWAY_CONFIG"), "configuration file (empty: the dev profile)")
	check := flag.Bool("check-config", false, "load and validate the configuration, then exit")
	role := flag.String("role", "", "process role: all, api (API and admin listeners only) or worker (consumers and background loops, no API listener); overrides GATEWAY_ROLE and the file's role")
	flag.Parse()

	env := os.Getenv
	if *role != "" {
		// The flag is applied as the environment variable, so it goes through the same override
		// and validation as GATEWAY_ROLE.
		env = func(k string) string {
			if k == "GATEWAY_ROLE" {
				return *role
			}
			return os.Getenv(k)
		}
	}
	cfg, err := config.Load(*path, env)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gateway: invalid configuration:\n%v\n", err)
		return 2
	}
	if *check {
		fmt.Println("configuration is valid")
		return 0
	}
	log := newLogger(cfg.Log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := app.New(ctx, cfg, log)
	if err != nil {
		log.Error("starting gateway", "err", err)
		return 1
	}
	if cfg.Profile == config.ProfileDev {
		log.Warn("DEV PROFILE: demo credentials in force; sandbox partners mounted at /sandbox/",
			"api", "http://"+a.APIAddr(), "admin", "http://"+a.AdminAddr(),
			"client_token", config.DemoClientToken, "admin_token", config.DemoAdminToken)
	}
	if err := a.Run(ctx); err != nil {
		log.Error("gateway stopped", "err", err)
		return 1
	}
	return 0
}

func newLogger(c config.LogConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
