package config

import "time"

// SubmissionsConfig tunes the polling of dossiers submitted on the national portal.
type SubmissionsConfig struct {
	// Interval between polls (one replica polls at a time).
	Interval time.Duration `yaml:"interval"`
	// Batch is the page size asked of the portal (1..500); MaxPages the pages read per poll.
	Batch    int `yaml:"batch"`
	MaxPages int `yaml:"max_pages"`
	// DedupTTL is how long a delivered dossier code is remembered, so the portal serving it
	// again is not a second delivery.
	DedupTTL time.Duration `yaml:"dedup_ttl"`
}

// CatalogConfig tunes the refresh of the national catalogues.
type CatalogConfig struct {
	// Interval between refreshes (one replica refreshes at a time).
	Interval time.Duration `yaml:"interval"`
	// OnStart refreshes once at start-up instead of after the first Interval.
	OnStart bool `yaml:"on_start"`
}

// DevAgencies are the agencies the dev profile serves: the sandbox's Lạng Sơn agencies.
var DevAgencies = []string{"000.00.00.H37", "000.00.15.H37", "000.00.37.H37"}

func defaultSubmissions() SubmissionsConfig {
	return SubmissionsConfig{Interval: 30 * time.Second, Batch: 100, MaxPages: 10, DedupTTL: 90 * 24 * time.Hour}
}

func defaultCatalog() CatalogConfig { return CatalogConfig{Interval: 6 * time.Hour, OnStart: true} }

// applyNationalEnv reads GATEWAY_PORTAL_AGENCIES (comma separated) and the intervals.
func applyNationalEnv(p *PortalConfig, get func(string) (string, bool), dur func(string, *time.Duration)) {
	if v, ok := get("GATEWAY_PORTAL_AGENCIES"); ok {
		p.Agencies = splitList(v)
	}
	dur("GATEWAY_PORTAL_SUBMISSIONS_INTERVAL", &p.Submissions.Interval)
	dur("GATEWAY_PORTAL_CATALOG_INTERVAL", &p.Catalog.Interval)
}

func validateNational(p PortalConfig, bad func(string, ...any)) {
	s := p.Submissions
	if s.Interval <= 0 {
		bad("portal.submissions.interval: must be positive")
	}
	if s.Batch < 1 || s.Batch > 500 {
		bad("portal.submissions.batch: %d is outside 1..500", s.Batch)
	}
	if s.MaxPages < 1 {
		bad("portal.submissions.max_pages: must be at least 1")
	}
	if s.DedupTTL < 24*time.Hour {
		bad("portal.submissions.dedup_ttl: %s is shorter than a day", s.DedupTTL)
	}
	if p.Catalog.Interval < time.Second {
		bad("portal.catalog.interval: %s is shorter than a second", p.Catalog.Interval)
	}
	for i, a := range p.Agencies {
		if a == "" || len(a) > 64 {
			bad("portal.agencies[%d]: must be an agency code of 1..64 characters", i)
		}
	}
}
