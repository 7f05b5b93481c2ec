package app

import (
	"context"
	"fmt"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/connectors/postal/myvnpost"
	"github.com/egov-vn/gateway/connectors/postal/ngsp"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/routing"
)

// buildPostal builds the postal dialect of the configuration and the delivery metrics; the
// dialect is nil when postal delivery is off.
func (a *App) buildPostal() (postal.Postal, routing.DeliveryConfig, error) {
	cfg := a.cfg.Postal
	var err error
	if a.DeliveryMetrics, err = observability.NewDeliveryMetrics(a.Metrics.Registry); err != nil {
		return nil, routing.DeliveryConfig{}, err
	}
	delivery := routing.DeliveryConfig{
		Agency: postal.Party{Name: cfg.Agency.Name, Phone: cfg.Agency.Phone, Address: cfg.Agency.Address,
			ProvinceCode: cfg.Agency.ProvinceCode, CommuneCode: cfg.Agency.CommuneCode, DistrictCode: cfg.Agency.DistrictCode},
		DefaultService: cfg.DefaultService, DefaultWeightGrams: cfg.DefaultWeightGrams,
	}
	if !cfg.Enabled() {
		return nil, delivery, nil
	}
	resolver, err := address.New(cfg.AddressFiles...)
	if err != nil {
		return nil, delivery, fmt.Errorf("loading postal address codes: %w", err)
	}
	// The dialects, by name: adding one is a line here and a config stanza.
	dialects := map[string]struct {
		operations []string
		build      func() (postal.Postal, error)
	}{
		config.PostalMyVNPost: {myvnpost.Operations, func() (postal.Postal, error) {
			c, err := a.partnerClient(routing.PartnerPostal, cfg.BaseURL, myvnpost.Operations)
			if err != nil {
				return nil, err
			}
			return myvnpost.New(myvnpost.Config{Username: cfg.Username, Password: cfg.Password, Resolver: resolver}, c)
		}},
		config.PostalNGSP: {ngsp.Operations, func() (postal.Postal, error) {
			c, err := a.partnerClient(routing.PartnerPostal, cfg.BaseURL, ngsp.Operations)
			if err != nil {
				return nil, err
			}
			return ngsp.New(ngsp.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, CustomerCode: cfg.CustomerCode,
				Resolver: resolver}, c)
		}},
	}
	d, ok := dialects[cfg.Dialect]
	if !ok {
		return nil, delivery, fmt.Errorf("postal dialect %q is unknown", cfg.Dialect) // refused by Validate already
	}
	p, err := d.build()
	if err != nil {
		return nil, delivery, fmt.Errorf("building postal dialect %s: %w", cfg.Dialect, err)
	}
	// Agency codes that the mapping does not know would refuse every order: say so at start-up.
	if _, err := resolver.ResolveParty(delivery.Agency); err != nil {
		return nil, delivery, fmt.Errorf("postal.agency: %w", err)
	}
	return p, delivery, nil
}

// runTracking polls the postal partner for tracking records until ctx ends (one replica at a
// time polls, under a Redis lock).
func (a *App) runTracking(ctx context.Context) {
	if a.Tracker == nil {
		return
	}
	a.Tracker.Run(ctx)
	_ = a.Tracker.Close()
}
