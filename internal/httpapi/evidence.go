package httpapi

import (
	"net/http"
	"strconv"

	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/evidence"
)

// CallbackEndpoints names each callback route in the evidence log and the metrics.
var CallbackEndpoints = map[string]string{
	RouteVNPayIPN:         "vnpay_ipn",
	RoutePayGovConfirm:    "paygov_confirm",
	RoutePayGovBill:       "paygov_bill",
	RouteBankTransactions: "bank_transactions",
}

// Evidence serves the evidence log of the callbacks: a day's records, paged, and the check of
// its hash chain.
type Evidence struct {
	Log *evidence.Log
}

func (e *Evidence) day(w http.ResponseWriter, r *http.Request) (string, bool) {
	date := r.PathValue("date")
	if !evidence.ValidDate(date) {
		badRequest(w, r, events.FieldErrors{{Field: "date", Message: "must be a day, yyyy-mm-dd"}})
		return "", false
	}
	return date, true
}

func (e *Evidence) list(w http.ResponseWriter, r *http.Request) {
	date, ok := e.day(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var bad events.FieldErrors
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			bad = append(bad, events.FieldError{Field: "limit", Message: "must be a whole number within 1..500"})
		}
		limit = n
	}
	cursor := q.Get("cursor")
	if cursor != "" && !validStreamID(cursor) {
		bad = append(bad, events.FieldError{Field: "cursor", Message: "must be a next_cursor this endpoint returned"})
	}
	if len(bad) > 0 {
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "Invalid query", "", bad)
		return
	}
	// One more than asked says whether a next page exists.
	recs, err := e.Log.List(r.Context(), date, cursor, limit+1)
	if err != nil {
		unavailable(w, r)
		return
	}
	out := map[string]any{"date": date}
	if len(recs) > limit {
		recs = recs[:limit]
		out["next_cursor"] = recs[limit-1].ID
	}
	out["items"] = recs
	writeJSONPlain(w, http.StatusOK, out)
}

func (e *Evidence) verify(w http.ResponseWriter, r *http.Request) {
	date, ok := e.day(w, r)
	if !ok {
		return
	}
	v, err := e.Log.Verify(r.Context(), date)
	if err != nil {
		unavailable(w, r)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
