package app_test

import (
	"context"
	"encoding/json"
	"github.com/egov-vn/gateway/internal/config"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/routing"
)

// TestOutageParksThenSyncs: while the portal is down the message waits in the retry schedule
// (never dead-lettered); once the portal is back it is synced.
func TestOutageParksThenSyncs(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t, apptest.Embedded)
	cfg.Retry.Schedule = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond,
		300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}
	gw := apptest.Start(t, cfg)
	gw.Sandboxes.Portal.Faults().Set(faults.Settings{Down: true})
	post(t, gw, statusEvent("o1", 1, 1))
	sched := gw.Router.Schedules()[routing.HandlerDossierToPortal]
	apptest.Eventually(t, 10*time.Second, "the message parked", func() bool {
		n, _, _ := sched.Len(context.Background())
		return n == 1
	})
	gw.Sandboxes.Portal.Faults().Set(faults.Settings{})
	apptest.Eventually(t, 10*time.Second, "synced after the outage", func() bool { return syncedVersion(t, gw) == 1 })
	if n := gw.Store.Client.XLen(context.Background(), gw.Store.Keys.Stream(routing.TopicDeadLetter)).Val(); n != 0 {
		t.Fatalf("an outage dead-lettered %d messages", n)
	}
}

// TestRejectedDossierIsDeadLetteredAndNotified: a dossier the portal refuses for its content goes
// to the dead-letter stream at once and the one-stop system receives a signed
// dossier.sync_failed notification.
func TestRejectedDossierIsDeadLetteredAndNotified(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	gw.Sandboxes.Portal.Faults().Set(faults.Settings{ErrorRate: 1, Status: http.StatusUnprocessableEntity})
	post(t, gw, statusEvent("r1", 1, 1))
	apptest.Eventually(t, 10*time.Second, "a dead letter", func() bool {
		return gw.Store.Client.XLen(context.Background(), gw.Store.Keys.Stream(routing.TopicDeadLetter)).Val() == 1
	})
	apptest.Eventually(t, 10*time.Second, "dossier.sync_failed at the one-stop system", func() bool {
		return len(gw.Sandboxes.Onestop.Unique(onestop.TypeDossierSyncFailed)) == 1
	})
	got := gw.Sandboxes.Onestop.Unique(onestop.TypeDossierSyncFailed)[0]
	if !got.Accepted() {
		t.Fatalf("notification signature was not accepted: %+v", got)
	}
	raw, _ := json.Marshal(got)
	if !strings.Contains(string(raw), dossierCode) || strings.Contains(string(raw), "Nguyen Van A") {
		t.Fatalf("notification must name the dossier and no personal data: %s", raw)
	}
	if n, _, _ := gw.Router.Schedules()[routing.HandlerDossierToPortal].Len(context.Background()); n != 0 {
		t.Fatalf("a permanent failure was parked for retry (%d parked)", n)
	}
	// The dossier view tells the whole story, in time order.
	var view struct {
		Timeline []struct {
			At     time.Time `json:"at"`
			Kind   string    `json:"kind"`
			Detail string    `json:"detail"`
		} `json:"timeline"`
	}
	apptest.Eventually(t, 5*time.Second, "the notification in the dossier's timeline", func() bool {
		_, body := apptest.Do(t, http.MethodGet, gw.API+"/v1/dossiers/"+dossierCode, config.DemoClientToken, "", "")
		_ = json.Unmarshal(body, &view)
		return len(view.Timeline) > 0 && view.Timeline[len(view.Timeline)-1].Kind == "notified"
	})
	var kinds []string
	for i, e := range view.Timeline {
		kinds = append(kinds, e.Kind)
		if i > 0 && e.At.Before(view.Timeline[i-1].At) {
			t.Fatalf("timeline out of order: %+v", view.Timeline)
		}
	}
	if got := strings.Join(kinds, ","); got != "sync_failed,dead_lettered,notified" {
		t.Fatalf("timeline %s, want sync_failed,dead_lettered,notified", got)
	}
	if !strings.Contains(view.Timeline[2].Detail, onestop.TypeDossierSyncFailed) {
		t.Fatalf("notification entry %q does not name its type", view.Timeline[2].Detail)
	}
}
