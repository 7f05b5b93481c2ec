package httpapi

import (
	"net/http"
	"time"

	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/payments"
	"github.com/egov-vn/gateway/internal/store"
)

// DossierView is GET /v1/dossiers/{dossier_code}: everything the gateway knows of a dossier. It
// holds no personal data: the timeline records versions, statuses and outcomes only.
type DossierView struct {
	Store *store.Store
	// Payments, when set, lists the dossier's payments (without the payer's personal data).
	Payments *payments.Service
}

// DossierTimeline is the answer.
type DossierTimeline struct {
	DossierCode string                `json:"dossier_code"`
	Sync        DossierSync           `json:"sync"`
	Timeline    []store.TimelineEntry `json:"timeline"`
	Payments    []payments.View       `json:"payments"`
	// Shipments are the dossier's postal shipments, oldest first, each with its status history
	// (no personal data: the recipient is not kept).
	Shipments []store.Shipment `json:"shipments"`
}

// DossierSync is the portal sync state.
type DossierSync struct {
	LastVersionSynced *int64     `json:"last_version_synced"`
	SyncedAt          *time.Time `json:"synced_at,omitempty"`
	Attempts          int64      `json:"attempts"`
	Failures          int64      `json:"failures"`
	LastError         string     `json:"last_error,omitempty"`
	LastErrorAt       *time.Time `json:"last_error_at,omitempty"`
}

func (v *DossierView) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("dossier_code")
	if len(code) > 64 || !events.IsCode(code) {
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "Invalid dossier code", "",
			[]events.FieldError{{Field: "dossier_code", Message: "must contain only ASCII letters, digits, '.', '_' and '-' (at most 64)"}})
		return
	}
	st, err := v.Store.DossierSyncState(r.Context(), code)
	if err != nil {
		unavailable(w, r)
		return
	}
	tl, err := v.Store.Timeline(r.Context(), code)
	if err != nil {
		unavailable(w, r)
		return
	}
	pays := []payments.View{}
	if v.Payments != nil {
		if pays, err = v.Payments.ByDossier(r.Context(), code); err != nil {
			unavailable(w, r)
			return
		}
	}
	ships, err := v.Store.Shipments(r.Context(), code)
	if err != nil {
		unavailable(w, r)
		return
	}
	if !st.Known && len(tl) == 0 && len(pays) == 0 && len(ships) == 0 {
		notFound(w, r, "Dossier")
		return
	}
	out := DossierTimeline{DossierCode: code, Timeline: tl, Payments: pays, Shipments: ships}
	out.Sync = DossierSync{Attempts: st.Attempts, Failures: st.Failures, LastError: st.LastError}
	if st.SyncedVersion >= 0 {
		out.Sync.LastVersionSynced = &st.SyncedVersion
	}
	if !st.SyncedAt.IsZero() {
		out.Sync.SyncedAt = &st.SyncedAt
	}
	if !st.LastErrorAt.IsZero() {
		out.Sync.LastErrorAt = &st.LastErrorAt
	}
	writeJSON(w, http.StatusOK, out)
}
