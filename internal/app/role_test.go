package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/app"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/routing"
)

// readiness reads /readyz of a gateway's admin listener.
func readiness(t *testing.T, gw *apptest.Gateway) (int, struct {
	Status string            `json:"status"`
	Role   string            `json:"role"`
	Checks map[string]string `json:"checks"`
}) {
	t.Helper()
	code, body := apptest.Do(t, http.MethodGet, gw.Admin+"/readyz", "", "", "")
	var r struct {
		Status string            `json:"status"`
		Role   string            `json:"role"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("readyz answer %q: %v", body, err)
	}
	return code, r
}

// An api gateway stores what it takes and consumes nothing; a worker on the same Redis and key
// prefix, with no API listener of its own, consumes it and syncs the portal (the api gateway's
// sandbox portal: the dev sandboxes live on the API listener).
func TestRolesSplitIngestFromConsumers(t *testing.T) {
	t.Parallel()
	apiCfg := apptest.Config(t, apptest.RealRedis)
	apiCfg.Role = config.RoleAPI
	api := apptest.Start(t, apiCfg)
	if api.API == "" {
		t.Fatal("an api gateway has no API listener")
	}
	code, ready := readiness(t, api)
	if code != http.StatusOK || ready.Role != config.RoleAPI || ready.Checks["redis"] != "ok" {
		t.Fatalf("api gateway readiness: %d %+v, want 200, role api, redis ok", code, ready)
	}
	if _, ok := ready.Checks["router"]; ok {
		t.Fatalf("api gateway readiness checks a router it does not run: %+v", ready)
	}

	if code, out := post(t, api, statusEvent("role-evt-1", 2, 2)); code != http.StatusAccepted {
		t.Fatalf("api gateway took an event with %d %v, want 202", code, out)
	}
	ctx := context.Background()
	stream := api.Store.Keys.Stream(routing.TopicDossierStatusChanged)
	if n := api.Store.Client.XLen(ctx, stream).Val(); n != 1 {
		t.Fatalf("stream %s holds %d entries after one accepted event, want 1", stream, n)
	}
	// No consumer group exists on the stream: nothing in this process reads it (the groups are
	// created by the consumers when they subscribe).
	groups, err := api.Store.Client.XInfoGroups(ctx, stream).Result()
	if err != nil || len(groups) != 0 {
		t.Fatalf("consumer groups on %s under an api gateway: %v %v, want none", stream, groups, err)
	}
	if rec, ok := portalState(t, api); ok {
		t.Fatalf("the sandbox portal has the dossier without any consumer running: %+v", rec)
	}
	// Creating a payment calls the provider at once (PayGov's create, on the sandbox): API work.
	out := createPayment(t, api, "role-api-paygov", "paygov", 30000)
	if u, _ := out["payment_url"].(string); !strings.HasPrefix(u, api.API+"/sandbox/paygov/") || out["status"] != "pending" {
		t.Fatalf("payment created by an api gateway: %v", out)
	}

	workerCfg := apptest.Config(t, apptest.RealRedis)
	workerCfg.Role = config.RoleWorker
	workerCfg.Redis.KeyPrefix = apiCfg.Redis.KeyPrefix
	workerCfg.Routing.Replica = apiCfg.Routing.Replica + "w"
	workerCfg.HTTP.Addr = freePort(t)
	workerCfg.Portal.BaseURL = api.API + "/sandbox/dvcqg"
	workerCfg.Onestop.URL = api.API + "/sandbox/onestop/notifications"
	config.FillDevPaymentURLs(&workerCfg.Payments, api.API)
	config.FillDevPostalURL(&workerCfg.Postal, api.API)
	worker := apptest.Start(t, workerCfg)
	if worker.API != "" || worker.APIAddr() != "" {
		t.Fatalf("a worker serves an API listener at %q", worker.APIAddr())
	}
	// http.addr was left free: the worker never bound it.
	ln, err := net.Listen("tcp", workerCfg.HTTP.Addr)
	if err != nil {
		t.Fatalf("a worker holds http.addr %s: %v", workerCfg.HTTP.Addr, err)
	}
	ln.Close()
	code, ready = readiness(t, worker)
	if code != http.StatusOK || ready.Role != config.RoleWorker || ready.Checks["router"] != "ok" || ready.Checks["redis"] != "ok" {
		t.Fatalf("worker readiness: %d %+v, want 200, role worker, router and redis ok", code, ready)
	}

	apptest.Eventually(t, 15*time.Second, "the worker to sync the dossier the api gateway took", func() bool {
		rec, ok := portalState(t, api)
		return ok && rec.Upserts == 1 && len(rec.Steps) == 1
	})
	if v := syncedVersion(t, api); v != 2 {
		t.Fatalf("synced version read through the api gateway: %v, want 2", v)
	}
	// Without a worker the api gateway still takes events and stays ready: it needs only Redis.
	if err := worker.Stop(); err != nil {
		t.Fatal(err)
	}
	if code, out := post(t, api, statusEvent("role-evt-3", 3, 2)); code != http.StatusAccepted {
		t.Fatalf("api gateway without a worker took an event with %d %v, want 202", code, out)
	}
	if code, ready := readiness(t, api); code != http.StatusOK || ready.Role != config.RoleAPI {
		t.Fatalf("api gateway readiness after the worker stopped: %d %+v", code, ready)
	}
}

// An api gateway followed by an all gateway (today's single process) on the same prefix: the
// all gateway consumes what the api gateway stored.
func TestAllGatewayConsumesWhatAnAPIGatewayStored(t *testing.T) {
	t.Parallel()
	apiCfg := apptest.Config(t, apptest.RealRedis)
	apiCfg.Role = config.RoleAPI
	api := apptest.Start(t, apiCfg)
	if code, out := post(t, api, statusEvent("role-evt-2", 3, 2)); code != http.StatusAccepted {
		t.Fatalf("api gateway took an event with %d %v, want 202", code, out)
	}
	if err := api.Stop(); err != nil {
		t.Fatal(err)
	}

	allCfg := apptest.Config(t, apptest.RealRedis)
	allCfg.Redis.KeyPrefix = apiCfg.Redis.KeyPrefix
	all := apptest.Start(t, allCfg)
	if all.Role() != config.RoleAll {
		t.Fatalf("default role %q, want all", all.Role())
	}
	code, ready := readiness(t, all)
	if code != http.StatusOK || ready.Role != config.RoleAll || ready.Checks["router"] != "ok" {
		t.Fatalf("all gateway readiness: %d %+v", code, ready)
	}
	apptest.Eventually(t, 15*time.Second, "the all gateway to sync the stored dossier", func() bool {
		rec, ok := portalState(t, all)
		return ok && rec.Upserts == 1
	})
}

// app.New checks the role again once the dev profile's URLs are filled in: a worker left with
// its own sandbox URLs would call a listener it does not serve.
func TestDevWorkerWithOwnSandboxesDoesNotStart(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t, apptest.Embedded)
	cfg.Role = config.RoleWorker
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		a.Run(canceled())
		t.Fatal("a dev worker whose partners are its own, unserved sandboxes was built")
	}
	if !strings.Contains(err.Error(), "role: worker") || !strings.Contains(err.Error(), "sandbox") {
		t.Fatalf("refusal %q does not explain the role and the sandboxes", err)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
