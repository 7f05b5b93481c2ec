package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNationalSettings(t *testing.T) {
	t.Parallel()
	c, err := Load("", envFrom(map[string]string{
		"GATEWAY_PORTAL_AGENCIES": " 000.00.15.H37, 000.00.37.H37 ,", "GATEWAY_PORTAL_CATALOG_INTERVAL": "1h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Portal.Agencies, []string{"000.00.15.H37", "000.00.37.H37"}) || c.Portal.Catalog.Interval != time.Hour {
		t.Fatalf("agencies %q, catalogue interval %s", c.Portal.Agencies, c.Portal.Catalog.Interval)
	}
	if dev := DevProfile(); !slices.Equal(dev.Portal.Agencies, DevAgencies) || !dev.Portal.Catalog.OnStart {
		t.Fatalf("dev profile: agencies %q, on start %v", dev.Portal.Agencies, dev.Portal.Catalog.OnStart)
	}

	bad := DevProfile()
	bad.HTTP.PublicURL = "http://127.0.0.1:8080"
	bad.fillDerived()
	bad.Portal.Submissions.Batch = 501
	bad.Portal.Submissions.DedupTTL = time.Hour
	bad.Portal.Submissions.Interval = 0
	bad.Portal.Catalog.Interval = time.Millisecond
	bad.Portal.Agencies = []string{""}
	err = bad.Validate()
	for _, want := range []string{"portal.submissions.batch", "portal.submissions.dedup_ttl", "portal.submissions.interval",
		"portal.catalog.interval", "portal.agencies[0]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want a problem naming %s", err, want)
		}
	}
}
