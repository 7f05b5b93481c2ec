// Command partnersim serves every sandbox partner (the national portal DVCQG, the one-stop
// system's webhook receiver, ...) as a standalone server, for docker-compose and load runs. The
// paths are the same as under /sandbox/ of the dev profile's API listener.
//
// Credentials come from the environment, defaulting to the dev profile's demo credentials:
// PARTNERSIM_PORTAL_USERNAME, PARTNERSIM_PORTAL_PASSWORD, PARTNERSIM_PORTAL_DSTCODE,
// PARTNERSIM_ONESTOP_SECRETS (comma separated whsec_... secrets), PARTNERSIM_VNPAY_TMN_CODE,
// PARTNERSIM_VNPAY_SECRET, PARTNERSIM_PAYGOV_CLIENT_ID, PARTNERSIM_PAYGOV_KEY1,
// PARTNERSIM_PAYGOV_KEY2, PARTNERSIM_BANK_SECRET (the dev profile's bank), PARTNERSIM_VNPOST_USERNAME,
// PARTNERSIM_VNPOST_PASSWORD (MyVNPost), PARTNERSIM_NGSP_CLIENT_ID, PARTNERSIM_NGSP_CLIENT_SECRET and
// PARTNERSIM_NGSP_CUSTOMER_CODE (NGSP). The payment
// sandboxes send their callbacks to PARTNERSIM_GATEWAY_URL (default http://127.0.0.1:8080) and
// give payment URLs under PARTNERSIM_PUBLIC_URL (default http://<addr>).
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
	creds.VNPayTmnCode = envOr("PARTNERSIM_VNPAY_TMN_CODE", creds.VNPayTmnCode)
	creds.VNPaySecret = envOr("PARTNERSIM_VNPAY_SECRET", creds.VNPaySecret)
	creds.PayGovClientID = envOr("PARTNERSIM_PAYGOV_CLIENT_ID", creds.PayGovClientID)
	creds.PayGovKey1 = envOr("PARTNERSIM_PAYGOV_KEY1", creds.PayGovKey1)
	creds.PayGovKey2 = envOr("PARTNERSIM_PAYGOV_KEY2", creds.PayGovKey2)
	for name, b := range creds.Banks {
		b.Secret = envOr("PARTNERSIM_BANK_SECRET", b.Secret)
		creds.Banks[name] = b
	}
	creds.VNPostUser = envOr("PARTNERSIM_VNPOST_USERNAME", creds.VNPostUser)
	creds.VNPostPassword = envOr("PARTNERSIM_VNPOST_PASSWORD", creds.VNPostPassword)
	creds.NGSPClientID = envOr("PARTNERSIM_NGSP_CLIENT_ID", creds.NGSPClientID)
	creds.NGSPClientSecret = envOr("PARTNERSIM_NGSP_CLIENT_SECRET", creds.NGSPClientSecret)
	creds.NGSPCustomerCode = envOr("PARTNERSIM_NGSP_CUSTOMER_CODE", creds.NGSPCustomerCode)
	creds.GatewayURL = envOr("PARTNERSIM_GATEWAY_URL", "http://127.0.0.1:8080")
	creds.PublicURL = envOr("PARTNERSIM_PUBLIC_URL", "http://"+*addr)
	set := sandboxes.New(creds)
	defer set.Close()
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
	log.Info("partner sandboxes listening", "addr", *addr, "portal", "/sandbox/dvcqg/", "onestop", "/sandbox/onestop/",
		"vnpay", "/sandbox/vnpay/", "paygov", "/sandbox/paygov/", "bank", "/sandbox/bank/", "vnpost", "/sandbox/vnpost/", "gateway", creds.GatewayURL)
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
