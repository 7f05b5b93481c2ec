package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/vntime"
)

// TestSyncVerifyAndReplay: an update the portal lost shows in `sync verify`, `sync replay
// -dossiers FILE -wait` repairs it, and the next `sync verify` is clean; unknown dossiers and
// bad arguments are refused.
func TestSyncVerifyAndReplay(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	day := time.Now().In(vntime.Zone).Format(time.DateOnly)
	gw.Sandboxes.Portal.SetDrops(sandbox.DropSettings{Dossiers: []string{"D-CTL-lost"}})
	postEvent(t, gw, "lost", 1)
	postEvent(t, gw, "kept", 1)
	apptest.Eventually(t, 10*time.Second, "both synced", func() bool {
		a, _ := gw.Store.DossierSyncState(t.Context(), "D-CTL-lost")
		b, _ := gw.Store.DossierSyncState(t.Context(), "D-CTL-kept")
		return a.SyncedVersion == 1 && b.SyncedVersion == 1
	})
	gw.Sandboxes.Portal.SetDrops(sandbox.DropSettings{})

	code, out := ctl(t, gw, "sync", "verify", "-date", day)
	if code != 0 || !strings.Contains(out, `"class": "missing_at_portal"`) || !strings.Contains(out, `"dossier_code": "D-CTL-lost"`) || strings.Contains(out, `"dossier_code": "D-CTL-kept"`) {
		t.Fatalf("sync verify: %d %s", code, out)
	}
	if code, stored := ctl(t, gw, "sync", "verify", "-date", day, "-stored"); code != 0 || stored != out {
		t.Fatalf("sync verify -stored: %d %s", code, stored)
	}

	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.txt")
	_ = os.WriteFile(unknown, []byte("D-CTL-lost\nD-CTL-never\n"), 0o600)
	if code, out := ctl(t, gw, "sync", "replay", "-dossiers", unknown); code != 1 || !strings.Contains(out, "D-CTL-never") || !strings.Contains(out, "unknown_dossiers") {
		t.Fatalf("replay of an unknown dossier: %d %s", code, out)
	}
	list := filepath.Join(dir, "lost.txt")
	_ = os.WriteFile(list, []byte("# lost by the portal\nD-CTL-lost\n\n"), 0o600)
	if code, out := ctl(t, gw, "sync", "replay", "-dossiers", list, "-wait"); code != 0 || !strings.Contains(out, `"status": "done"`) || !strings.Contains(out, `"sent": 1`) {
		t.Fatalf("replay: %d %s", code, out)
	}
	apptest.Eventually(t, 10*time.Second, "the lost dossier at the portal", func() bool {
		_, ok := gw.Sandboxes.Portal.Dossier("D-CTL-lost")
		return ok
	})
	if code, out := ctl(t, gw, "sync", "verify", "-date", day); code != 0 || !strings.Contains(out, `"status": "clean"`) {
		t.Fatalf("sync verify after the replay: %d %s", code, out)
	}
	for _, args := range [][]string{
		{"sync"}, {"sync", "replay"}, {"sync", "replay", "-since", day, "-dossiers", list}, {"sync", "verify", "extra"},
	} {
		if code, _ := ctl(t, gw, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
	if code, out := ctl(t, gw, "sync", "replay", "-job", "rs-none"); code != 1 || !strings.Contains(out, "404") {
		t.Errorf("unknown job: %d %s", code, out)
	}
}
