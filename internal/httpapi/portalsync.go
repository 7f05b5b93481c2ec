package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/portalsync"
	"github.com/egov-vn/gateway/internal/vntime"
)

// Admin routes of the status reconciliation with the portal and of the bulk re-sync. They are
// bound by name in NewAdmin, not by their index in AdminRoutes.
const (
	RouteDriftGet    = "GET /admin/v1/sync/drift/{date}"
	RouteDriftRun    = "POST /admin/v1/sync/drift/{date}"
	RouteResyncStart = "POST /admin/v1/sync/replay"
	RouteResyncGet   = "GET /admin/v1/sync/replay/{job}"
)

// maxResyncBody bounds a re-sync request: portalsync.MaxDossiers codes of up to 64 characters.
const maxResyncBody = 8 << 20

// PortalSync serves the drift reports and the re-sync jobs. GET of a report never calls the
// portal (404 when the day has none); POST checks the day now, replacing its stored report.
//
// A check of many dossiers takes long (the portal is asked at its bulk rate): POST answers the
// report when the check ends within AnswerWithin (20 s when zero), else 202 with the time it
// started, and the check goes on; its report is then read with GET.
type PortalSync struct {
	Verifier     *portalsync.Verifier
	Replayer     *portalsync.Replayer
	AnswerWithin time.Duration
}

func (ps *PortalSync) day(w http.ResponseWriter, r *http.Request) (string, bool) {
	date := r.PathValue("date")
	if _, err := portalsync.ParseDay(date); err != nil {
		badRequest(w, r, events.FieldErrors{{Field: "date", Message: "must be a day, yyyy-mm-dd"}})
		return "", false
	}
	return date, true
}

func (ps *PortalSync) getDrift(w http.ResponseWriter, r *http.Request) {
	date, ok := ps.day(w, r)
	if !ok {
		return
	}
	day, _ := portalsync.ParseDay(date)
	rep, err := ps.Verifier.Stored(r.Context(), day)
	switch {
	case errors.Is(err, portalsync.ErrNoReport):
		writeProblem(w, r, http.StatusNotFound, "not-found", "No drift report for the day",
			"the daily check has not run the day yet; POST to this path runs it now", nil)
	case err != nil:
		unavailable(w, r)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

func (ps *PortalSync) runDrift(w http.ResponseWriter, r *http.Request) {
	date, ok := ps.day(w, r)
	if !ok {
		return
	}
	day, _ := portalsync.ParseDay(date)
	type result struct {
		rep portalsync.Report
		err error
	}
	done := make(chan result, 1)
	started := time.Now()
	go func() {
		rep, err := ps.Verifier.Run(context.WithoutCancel(r.Context()), day)
		done <- result{rep, err}
	}()
	wait := ps.AnswerWithin
	if wait <= 0 {
		wait = 20 * time.Second
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var res result
	select {
	case res = <-done:
	case <-timer.C:
		// A long day goes on in the background; its report replaces the stored one when done.
		w.Header().Set("Location", "/admin/v1/sync/drift/"+date)
		writeJSON(w, http.StatusAccepted, map[string]string{
			"date": date, "status": "running", "started_at": started.In(vntime.Zone).Format(time.RFC3339),
		})
		return
	}
	switch err := res.err; {
	case errors.Is(err, portalsync.ErrFutureDay):
		badRequest(w, r, events.FieldErrors{{Field: "date", Message: "the day has not begun (Asia/Ho_Chi_Minh)"}})
	case errors.Is(err, portalsync.ErrTooOld):
		badRequest(w, r, events.FieldErrors{{Field: "date", Message: "older than the index of synced dossiers"}})
	case errors.Is(err, portalsync.ErrRunning):
		w.Header().Set("Retry-After", "10")
		writeProblem(w, r, http.StatusConflict, "conflict", "A drift check of the day is running", "", nil)
	case err != nil:
		unavailable(w, r)
	default:
		writeJSON(w, http.StatusOK, res.rep)
	}
}

// resyncRequest is the body of POST /admin/v1/sync/replay.
type resyncRequest struct {
	portalsync.Request
	Actor string `json:"actor,omitempty"`
}

// unknownDossiers is the problem answered for a re-sync naming dossiers never synced.
type unknownDossiers struct {
	Problem
	Unknown []string `json:"unknown_dossiers"`
}

func (ps *PortalSync) startResync(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResyncBody))
	if err != nil {
		writeProblem(w, r, http.StatusRequestEntityTooLarge, "too-large", "The request is too large", "at most 8 MiB", nil)
		return
	}
	var req resyncRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		badRequest(w, r, events.FieldErrors{{Field: "body", Message: `must be {"since"} or {"dossiers": [...]}, with "actor"?`}})
		return
	}
	if req.Actor == "" {
		req.Actor = "admin"
	}
	if len(req.Actor) > 100 {
		badRequest(w, r, events.FieldErrors{{Field: "actor", Message: "at most 100 characters"}})
		return
	}
	job, created, err := ps.Replayer.Create(r.Context(), req.Request, req.Actor)
	var re *portalsync.RequestError
	switch {
	case errors.As(err, &re) && len(re.Unknown) > 0:
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(unknownDossiers{Problem: Problem{
			Type: problemBase + "unknown-dossiers", Title: "Some dossiers are unknown", Status: http.StatusUnprocessableEntity,
			Detail: re.Message, Instance: r.URL.Path, Errors: []events.FieldError{{Field: re.Field, Message: re.Message}},
		}, Unknown: re.Unknown})
		return
	case errors.As(err, &re):
		badRequest(w, r, events.FieldErrors{{Field: re.Field, Message: re.Message}})
		return
	case err != nil:
		unavailable(w, r)
		return
	}
	ps.Replayer.Start(r.Context(), job.ID)
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/admin/v1/sync/replay/"+job.ID)
	writeJSON(w, status, job)
}

func (ps *PortalSync) getResync(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("job")
	if len(id) > 64 || !events.IsCode(id) {
		notFound(w, r, "Re-sync job")
		return
	}
	job, err := ps.Replayer.Get(r.Context(), id)
	switch {
	case errors.Is(err, portalsync.ErrNoJob):
		notFound(w, r, "Re-sync job")
	case err != nil:
		unavailable(w, r)
	default:
		writeJSON(w, http.StatusOK, job)
	}
}

// routes maps each route to its handler.
func (ps *PortalSync) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		RouteDriftGet: ps.getDrift, RouteDriftRun: ps.runDrift, RouteResyncStart: ps.startResync, RouteResyncGet: ps.getResync,
	}
}
