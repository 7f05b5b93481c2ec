package app_test

import (
	"context"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/routing"
)

// TestShutdownNeverDeadLetters stops a gateway while a message is in a slow partner call: the call
// is finished, never cut off, dead-lettered or parked, and a restarted replica (same name, same
// Redis) settles the message without calling the portal again.
func TestShutdownNeverDeadLetters(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t, apptest.RealRedis)
	cfg.Routing.HandlerTimeout = time.Second
	cfg.Routing.ShortRetries = 0
	cfg.Routing.MaxIdleTime = 2 * time.Second
	cfg.Routing.ClaimInterval = 300 * time.Millisecond
	first := apptest.Start(t, cfg)
	first.Sandboxes.Portal.Faults().Set(faults.Settings{LatencyMS: 150}) // four portal calls: about 600 ms
	post(t, first, statusEvent("s1", 1, 1))
	time.Sleep(250 * time.Millisecond) // the portal calls are under way
	if err := first.Stop(); err != nil {
		t.Fatalf("stopping: %v", err)
	}
	ctx := context.Background()
	returned := testutil.ToFloat64(first.Metrics.HandlerOutcomes.WithLabelValues(routing.HandlerDossierToPortal, "returned"))
	done := testutil.ToFloat64(first.Metrics.HandlerOutcomes.WithLabelValues(routing.HandlerDossierToPortal, "ok"))
	if done != 1 || returned != 0 {
		t.Fatalf("the in-flight call was not finished at shutdown (ok %v, returned %v)", done, returned)
	}
	rec, ok := first.Sandboxes.Portal.Dossier(dossierCode)
	if !ok || rec.Upserts != 1 {
		t.Fatalf("the portal did not receive the in-flight update once: %+v", rec)
	}
	dlq := first.Store.Keys.Stream(routing.TopicDeadLetter)
	if n := first.Store.Client.XLen(ctx, dlq).Val(); n != 0 {
		t.Fatalf("shutdown dead-lettered %d messages", n)
	}
	if n := first.Store.Client.ZCard(ctx, first.Store.Keys.RetrySchedule(routing.TopicDossierStatusChanged, routing.PartnerPortal)).Val(); n != 0 {
		t.Fatalf("shutdown parked %d messages", n)
	}

	second := apptest.Start(t, cfg)
	apptest.Eventually(t, 15*time.Second, "version 1 synced", func() bool { return syncedVersion(t, second) == 1 })
	stream := second.Store.Keys.Stream(routing.TopicDossierStatusChanged)
	apptest.Eventually(t, 10*time.Second, "nothing pending", func() bool {
		p, err := second.Store.Client.XPending(ctx, stream, routing.HandlerDossierToPortal).Result()
		return err == nil && p.Count == 0
	})
	if n := second.Store.Client.XLen(ctx, dlq).Val(); n != 0 {
		t.Fatalf("%d dead letters after the restart", n)
	}
	if _, called := second.Sandboxes.Portal.Dossier(dossierCode); called {
		t.Fatal("the restarted replica sent the finished update to the portal again")
	}
}
