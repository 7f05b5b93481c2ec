package routing

import (
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/store"
)

// unsyncedMark is the mark that puts the dossier in the portal sync backlog before a version
// newer than the one synced is sent (store.MarkUnsynced), with its NgayHenTra, so a dossier that
// does not reach the portal before its processing deadline is seen (gateway_portal_unsynced_*).
// store.BeginSync makes it in the round trip that takes the dossier's lock, before the synced
// version is known; a version found synced already has it taken out again (store.BeginSync when
// another consumer holds the lock, store.SyncSuperseded otherwise). The backlog is a measure: a
// failure to record it is left to the next version or attempt and never fails the sync. The
// dossier leaves the backlog in store.CommitSync once the version reached the portal.
func (h *dossierSync) unsyncedMark(sc *events.StatusChanged) store.UnsyncedMark {
	return store.UnsyncedMark{Version: sc.Version, Now: nowFunc(), Due: sc.Dossier.DueAt}
}
