package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/routing"
)

// TestLostConsumerGroupIsRecreated: when Redis loses a consumer group (a restart without
// persistence, a flushed key), the consumers recreate it and go on without a gateway restart.
func TestLostConsumerGroupIsRecreated(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.RealRedis))
	post(t, gw, statusEvent("g1", 1, 1))
	apptest.Eventually(t, 10*time.Second, "version 1 synced", func() bool { return syncedVersion(t, gw) == 1 })
	stream := gw.Store.Keys.Stream(routing.TopicDossierStatusChanged)
	if err := gw.Store.Client.XGroupDestroy(context.Background(), stream, routing.HandlerDossierToPortal).Err(); err != nil {
		t.Fatalf("destroying group: %v", err)
	}
	post(t, gw, statusEvent("g2", 2, 2))
	apptest.Eventually(t, 15*time.Second, "version 2 synced after the group was lost", func() bool { return syncedVersion(t, gw) == 2 })
}
