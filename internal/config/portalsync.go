package config

import (
	"strconv"
	"time"
)

// PortalSyncConfig tunes the status reconciliation with the portal and the bulk re-sync
// (internal/portalsync).
type PortalSyncConfig struct {
	// VerifyAt is when the daily status reconciliation of the previous day runs, "hh:mm" in
	// Vietnam's time.
	VerifyAt string `yaml:"verify_at"`
	// RatePerSecond bounds the portal calls of bulk work (the reconciliation's look-ups and the
	// re-sync's sends share it), so the portal is not flooded; normal traffic is not limited.
	RatePerSecond float64 `yaml:"rate_per_second"`
}

func defaultPortalSync() PortalSyncConfig {
	return PortalSyncConfig{VerifyAt: "02:30", RatePerSecond: 5}
}

// applyPortalSyncEnv reads GATEWAY_PORTAL_SYNC_VERIFY_AT and GATEWAY_PORTAL_SYNC_RATE_PER_SECOND.
func applyPortalSyncEnv(p *PortalSyncConfig, get func(string) (string, bool)) []error {
	if v, ok := get("GATEWAY_PORTAL_SYNC_VERIFY_AT"); ok {
		p.VerifyAt = v
	}
	if v, ok := get("GATEWAY_PORTAL_SYNC_RATE_PER_SECOND"); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return []error{errNotNumber("GATEWAY_PORTAL_SYNC_RATE_PER_SECOND")}
		}
		p.RatePerSecond = f
	}
	return nil
}

type errNotNumber string

func (e errNotNumber) Error() string { return string(e) + ": not a number" }

func validatePortalSync(p PortalSyncConfig, bad func(string, ...any)) {
	if t, err := time.Parse("15:04", p.VerifyAt); err != nil || t.Format("15:04") != p.VerifyAt {
		bad("portal_sync.verify_at: %q is not a time of day hh:mm", p.VerifyAt)
	}
	if !(p.RatePerSecond > 0 && p.RatePerSecond <= 1000) {
		bad("portal_sync.rate_per_second: %v must be above 0 and at most 1000", p.RatePerSecond)
	}
}
