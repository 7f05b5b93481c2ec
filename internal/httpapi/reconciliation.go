package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/reconcile"
)

// Reconciliation serves the daily reconciliation reports. GET answers the stored report and never
// calls a provider (404 when the day has none: the daily job has not run it yet, or ops never
// did); POST runs the day now, replacing its stored report, and answers it.
type Reconciliation struct {
	Reconciler *reconcile.Reconciler
}

func (rc *Reconciliation) day(w http.ResponseWriter, r *http.Request) (string, bool) {
	date := r.PathValue("date")
	if _, err := reconcile.ParseDay(date); err != nil {
		badRequest(w, r, events.FieldErrors{{Field: "date", Message: "must be a day, yyyy-mm-dd"}})
		return "", false
	}
	return date, true
}

func (rc *Reconciliation) get(w http.ResponseWriter, r *http.Request) {
	date, ok := rc.day(w, r)
	if !ok {
		return
	}
	day, _ := reconcile.ParseDay(date)
	rep, err := rc.Reconciler.Stored(r.Context(), day)
	switch {
	case errors.Is(err, reconcile.ErrNoReport):
		writeProblem(w, r, http.StatusNotFound, "not-found", "No reconciliation report for the day",
			"the daily job has not run the day yet; POST to this path runs it now", nil)
	case err != nil:
		unavailable(w, r)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

func (rc *Reconciliation) run(w http.ResponseWriter, r *http.Request) {
	date, ok := rc.day(w, r)
	if !ok {
		return
	}
	day, _ := reconcile.ParseDay(date)
	rep, err := rc.Reconciler.Run(context.WithoutCancel(r.Context()), day)
	switch {
	case errors.Is(err, reconcile.ErrFutureDay):
		badRequest(w, r, events.FieldErrors{{Field: "date", Message: "the day has not begun (Asia/Ho_Chi_Minh)"}})
	case errors.Is(err, reconcile.ErrRunning):
		w.Header().Set("Retry-After", "10")
		writeProblem(w, r, http.StatusConflict, "conflict", "A reconciliation of the day is running", "", nil)
	case err != nil:
		unavailable(w, r)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}
