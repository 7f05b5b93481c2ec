package routing

import (
	"context"

	"github.com/egov-vn/gateway/internal/events"
)

// markUnsynced puts the dossier in the portal sync backlog before a version newer than the one
// synced is sent (store.MarkUnsynced), with its NgayHenTra, so a dossier that does not reach the
// portal before its processing deadline is seen (gateway_portal_unsynced_*). The backlog is a
// measure: a failure to record it is left to the next version or attempt and never fails the
// sync. The dossier leaves the backlog in store.CommitSync once the version reached the portal.
func (h *dossierSync) markUnsynced(ctx context.Context, sc *events.StatusChanged) {
	_ = h.store.MarkUnsynced(context.WithoutCancel(ctx), sc.Dossier.Code, sc.Version, nowFunc(), sc.Dossier.DueAt)
}
