// Command partnersim serves every sandbox partner (the national portal DVCQG, the one-stop
// system's webhook receiver, ...) as a standalone server, for docker-compose and load runs. The
// paths are the same as under /sandbox/ of the dev profile's API listener.
//
// Credentials come from the environment, defaulting to the dev profile's demo credentials:
// PARTNERSIM_PORTAL_USERNAME, PARTNERSIM_PORTAL_PASSWORD, PARTNERSIM_PORTAL_DSTCODE,
// PARTNERSIM_ONESTOP_SECRETS (comma separated whsec_... secrets).
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/egov-vn/gateway/internal/sandboxes"
)

func main() {
	addr := flag.String("addr", envOr("PARTNERSIM_ADDR", "127.0.0.1:8081"), "listen address")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	creds := sandboxes.DevCredentials()
	creds.PortalUser = envOr("PARTNERSIM_PORTAL_USERNAME", creds.PortalUser)
	creds.PortalPassword = envOr("PARTNERSIM_PORTAL_PASSWORD", creds.PortalPassword)
	creds.PortalDstCode = envOr("PARTNERSIM_PORTAL_DSTCODE", creds.PortalDstCode)
	if v := os.Getenv("PARTNERSIM_ONESTOP_SECRETS"); v != "" {
		creds.OnestopSecrets = strings.Split(v, ",")
	}
	set := sandboxes.New(creds)
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", set.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("partner sandboxes listening", "addr", *addr, "portal", "/sandbox/dvcqg/", "onestop", "/sandbox/onestop/")
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serving", "err", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
