package app

import (
	"context"
	"time"

	"github.com/egov-vn/gateway/internal/observability"
)

// portalBacklogCollector reports the portal sync backlog (store.PortalBacklog) at scrape time.
func (a *App) portalBacklogCollector() *observability.PortalBacklogCollector {
	st := a.Store
	return observability.NewPortalBacklogCollector(func(ctx context.Context) (observability.PortalBacklog, error) {
		b, err := st.PortalBacklog(ctx, time.Now())
		if err != nil {
			return observability.PortalBacklog{}, err
		}
		return observability.PortalBacklog{ByAge: b.ByAge, PastDue: b.PastDue, Oldest: b.Oldest}, nil
	})
}
