package config

import (
	"strings"
	"testing"
)

func TestPortalSyncSettings(t *testing.T) {
	t.Parallel()
	c, err := Load("", envFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.PortalSync.VerifyAt != "02:30" || c.PortalSync.RatePerSecond != 5 {
		t.Fatalf("defaults %+v, want 02:30 and 5 a second", c.PortalSync)
	}
	c, err = Load("", envFrom(map[string]string{"GATEWAY_PORTAL_SYNC_VERIFY_AT": "03:15", "GATEWAY_PORTAL_SYNC_RATE_PER_SECOND": "2.5"}))
	if err != nil || c.PortalSync.VerifyAt != "03:15" || c.PortalSync.RatePerSecond != 2.5 {
		t.Fatalf("from the environment: %+v, %v", c.PortalSync, err)
	}
	for _, tc := range []struct{ env, value, want string }{
		{"GATEWAY_PORTAL_SYNC_VERIFY_AT", "25:00", "portal_sync.verify_at"},
		{"GATEWAY_PORTAL_SYNC_VERIFY_AT", "2:30", "portal_sync.verify_at"},
		{"GATEWAY_PORTAL_SYNC_RATE_PER_SECOND", "0", "portal_sync.rate_per_second"},
		{"GATEWAY_PORTAL_SYNC_RATE_PER_SECOND", "-1", "portal_sync.rate_per_second"},
		{"GATEWAY_PORTAL_SYNC_RATE_PER_SECOND", "2000", "portal_sync.rate_per_second"},
		{"GATEWAY_PORTAL_SYNC_RATE_PER_SECOND", "NaN", "portal_sync.rate_per_second"},
	} {
		if _, err := Load("", envFrom(map[string]string{tc.env: tc.value})); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: %v, want a refusal naming %s", tc.env, tc.value, err, tc.want)
		}
	}
	if _, err := Load("", envFrom(map[string]string{"GATEWAY_PORTAL_SYNC_RATE_PER_SECOND": "fast"})); err == nil ||
		!strings.Contains(err.Error(), "GATEWAY_PORTAL_SYNC_RATE_PER_SECOND") {
		t.Errorf("a rate that is not a number: %v", err)
	}
}
