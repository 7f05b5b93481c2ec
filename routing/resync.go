package routing

import (
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/store"
)

// MetaResync marks a dossier state re-sent by a bulk re-sync (its value is the job id). The
// portal sync sends such a message when its version is the last synced one too, not only when it
// is newer: the portal may have lost it. An older version is still never sent.
const MetaResync = "resync"

// resending reports whether msg re-sends its dossier's last synced version.
func resending(msg *message.Message, version, synced int64) bool {
	return msg.Metadata.Get(MetaResync) != "" && version == synced
}

// syncedSummary is what store.CommitSync keeps of a synced version (store.RecordSynced): the
// compared fields, without personal data.
func (h *dossierSync) syncedSummary(sc *events.StatusChanged) store.SyncedSummary {
	c := portal.ComparableOf(sc.Dossier)
	return store.SyncedSummary{
		Version: sc.Version, At: nowFunc(), Status: int(c.Status), FeeTotal: c.FeeTotal, Fees: c.Fees,
		DueAt: c.DueAt, ReturnedAt: c.ReturnedAt,
	}
}
