package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/faults"
)

// syncBuffer is a bytes.Buffer safe for the gateway's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsCarryTheJourneyAndNoPersonalData runs a scenario through sync, retry, dead letter and
// notification with debug logging on, then scans every log line: none holds the personal data or
// secrets the scenario sent, and every record about a message names its correlation id and dossier.
func TestLogsCarryTheJourneyAndNoPersonalData(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	cfg := apptest.Config(t, apptest.Embedded)
	gw := apptest.StartLogged(t, cfg, &logs)

	const phone, idNumber, email, address = "0912345678", "001085012345", "nguyenvana@example.vn", "12 Tran Hung Dao"
	ev := statusEvent("l1", 1, 1)
	d := dossierOf(ev)
	d["SoDienThoai"], d["MaDoiTuong"], d["Email"], d["TrichYeuHoSo"] = phone, idNumber, email, address
	post(t, gw, ev)
	apptest.Eventually(t, 10*time.Second, "synced", func() bool { return syncedVersion(t, gw) == 1 })

	// A retry, then a dead letter with its sync_failed notification.
	gw.Sandboxes.Portal.Faults().Set(faults.Settings{Down: true})
	post(t, gw, statusEvent("l2", 2, 2))
	apptest.Eventually(t, 10*time.Second, "a parked message logged", func() bool {
		return strings.Contains(logs.String(), "parked for a delayed retry")
	})
	gw.Sandboxes.Portal.Faults().Set(faults.Settings{ErrorRate: 1, Status: http.StatusUnprocessableEntity})
	apptest.Eventually(t, 15*time.Second, "a dead letter logged", func() bool {
		return strings.Contains(logs.String(), "message dead-lettered")
	})
	apptest.Eventually(t, 10*time.Second, "the notification delivered", func() bool {
		return len(gw.Sandboxes.Onestop.Received()) > 0
	})
	// A rejected request carrying personal data.
	bad := statusEvent("l3", 3, 99)
	dossierOf(bad)["SoDienThoai"] = phone
	post(t, gw, bad)
	time.Sleep(200 * time.Millisecond)

	forbidden := []string{"Nguyen Van A", "Tran Thi B", phone, idNumber, email, address,
		config.DemoClientToken, config.DemoAdminToken, config.DemoPortalPassword, config.DemoOnestopSecret,
		strings.TrimPrefix(config.DemoOnestopSecret, "whsec_")}
	journeys := 0
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines := 0
	for sc.Scan() {
		line := sc.Text()
		lines++
		for _, f := range forbidden {
			if strings.Contains(line, f) {
				t.Errorf("log line holds %q: %s", f, line)
			}
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		msg, _ := rec["msg"].(string)
		if strings.HasPrefix(msg, "message ") || strings.HasPrefix(msg, "event ") {
			journeys++
			if rec["correlation_id"] == "" || rec["correlation_id"] == nil || rec["dossier_code"] == nil || rec["dossier_code"] == "" {
				t.Errorf("a record of a message's journey lacks its correlation id or dossier code: %s", line)
			}
		}
	}
	if lines < 10 || journeys < 5 {
		t.Fatalf("the scenario logged too little to prove anything (%d lines, %d journey records)", lines, journeys)
	}
}
