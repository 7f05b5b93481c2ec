package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/egov-vn/gateway/internal/catalog"
	"github.com/egov-vn/gateway/internal/events"
)

// Catalogue routes, bound by name (Catalog.apiRoutes and Catalog.adminRoutes), not by index.
const (
	RouteCatalogProcedures    = "GET /v1/catalog/procedures"
	RouteCatalogAgencies      = "GET /v1/catalog/agencies"
	RouteCatalogFields        = "GET /v1/catalog/fields"
	RouteCatalogMappings      = "GET /admin/v1/catalog/mappings"
	RouteCatalogMappingSet    = "PUT /admin/v1/catalog/mappings/{local_code}"
	RouteCatalogMappingDelete = "DELETE /admin/v1/catalog/mappings/{local_code}"
	RouteCatalogRefresh       = "POST /admin/v1/catalog/refresh"
)

// Catalog serves the cached national catalogues to the one-stop system (read-only) and the
// procedure code mapping and the refresh to ops. A nil Catalog answers 404 on every route.
type Catalog struct {
	Service *catalog.Service
}

func (c *Catalog) apiRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		RouteCatalogProcedures: c.list(catalog.Procedures, "q", "agency", "field"),
		RouteCatalogAgencies:   c.list(catalog.Agencies, "q", "parent"),
		RouteCatalogFields:     c.list(catalog.Fields, "q"),
	}
}

func (c *Catalog) adminRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		RouteCatalogMappings:      c.mappings,
		RouteCatalogMappingSet:    c.setMapping,
		RouteCatalogMappingDelete: c.deleteMapping,
		RouteCatalogRefresh:       c.refresh,
	}
}

func (c *Catalog) missing(w http.ResponseWriter, r *http.Request) bool {
	if c == nil || c.Service == nil {
		notFound(w, r, "Catalogue")
		return true
	}
	return false
}

// list answers a page of a catalogue. Query: the filters allowed for it, limit (1..500, 100 by
// default) and cursor (the next_cursor of the previous page). Unknown or repeated parameters are
// refused.
func (c *Catalog) list(name string, filters ...string) http.HandlerFunc {
	allowed := map[string]int{"limit": 8, "cursor": 128}
	for _, f := range filters {
		allowed[f] = 100
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if c.missing(w, r) {
			return
		}
		var bad events.FieldErrors
		qs := r.URL.Query()
		for k, v := range qs {
			max, ok := allowed[k]
			switch {
			case !ok:
				bad = append(bad, events.FieldError{Field: k, Message: "is not a parameter of this catalogue (allowed: " + strings.Join(append([]string{"limit", "cursor"}, filters...), ", ") + ")"})
			case len(v) != 1:
				bad = append(bad, events.FieldError{Field: k, Message: "must be given once"})
			case len(v[0]) > max:
				bad = append(bad, events.FieldError{Field: k, Message: "at most " + strconv.Itoa(max) + " characters"})
			}
		}
		q := catalog.Query{Q: qs.Get("q"), Field: qs.Get("field"), Cursor: qs.Get("cursor"), Limit: 100}
		q.Agency = qs.Get("agency")
		if p := qs.Get("parent"); p != "" {
			q.Agency = p
		}
		if v := qs.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 500 {
				bad = append(bad, events.FieldError{Field: "limit", Message: "must be a whole number within 1..500"})
			}
			q.Limit = n
		}
		if len(bad) > 0 {
			badRequest(w, r, bad)
			return
		}
		page, err := c.Service.List(r.Context(), name, q)
		if errors.Is(err, catalog.ErrNotLoaded) {
			w.Header().Set("Retry-After", "60")
			writeProblem(w, r, http.StatusServiceUnavailable, "catalog-not-loaded", "The national catalogue has not been loaded from the portal yet", "", nil)
			return
		}
		if err != nil {
			unavailable(w, r)
			return
		}
		writeJSON(w, http.StatusOK, page)
	}
}

func (c *Catalog) mappings(w http.ResponseWriter, r *http.Request) {
	if c.missing(w, r) {
		return
	}
	all, err := c.Service.Mappings(r.Context())
	if err != nil {
		unavailable(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"mappings": all})
}

// mappingRequest is the body of PUT /admin/v1/catalog/mappings/{local_code}.
type mappingRequest struct {
	NationalCode string `json:"national_code"`
	Reason       string `json:"reason"`
	Actor        string `json:"actor"`
}

func (c *Catalog) setMapping(w http.ResponseWriter, r *http.Request) {
	if c.missing(w, r) {
		return
	}
	var body mappingRequest
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err != nil || dec.Decode(&body) != nil {
		badRequest(w, r, events.FieldErrors{{Field: "body", Message: `must be {"national_code", "reason"?, "actor"?} (at most 4096 bytes)`}})
		return
	}
	if body.Actor == "" {
		body.Actor = "admin"
	}
	if bad := opsFields(body.Reason, body.Actor); len(bad) > 0 {
		badRequest(w, r, bad)
		return
	}
	m, err := c.Service.SetMapping(r.Context(), r.PathValue("local_code"), strings.TrimSpace(body.NationalCode), body.Actor, body.Reason)
	var bm *catalog.BadMappingError
	if errors.As(err, &bm) {
		badRequest(w, r, events.FieldErrors{{Field: bm.Field, Message: bm.Message}})
		return
	}
	if err != nil {
		unavailable(w, r)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (c *Catalog) deleteMapping(w http.ResponseWriter, r *http.Request) {
	if c.missing(w, r) {
		return
	}
	body, err := readOpsRequest(w, r)
	if err != nil {
		badRequest(w, r, err)
		return
	}
	ok, err := c.Service.DeleteMapping(r.Context(), r.PathValue("local_code"), body.Actor, body.Reason)
	var bm *catalog.BadMappingError
	switch {
	case errors.As(err, &bm):
		badRequest(w, r, events.FieldErrors{{Field: bm.Field, Message: bm.Message}})
	case err != nil:
		unavailable(w, r)
	case !ok:
		notFound(w, r, "Mapping")
	default:
		writeJSON(w, http.StatusOK, map[string]string{"local_code": r.PathValue("local_code"), "status": "deleted"})
	}
}

// refresh fetches every catalogue now; 409 when another replica is refreshing. A catalogue that
// could not be fetched whole keeps its last good version: its result says so.
func (c *Catalog) refresh(w http.ResponseWriter, r *http.Request) {
	if c.missing(w, r) {
		return
	}
	results, err := c.Service.Refresh(r.Context())
	if errors.Is(err, catalog.ErrBusy) {
		writeProblem(w, r, http.StatusConflict, "refresh-running", "Another replica is refreshing the catalogues", "", nil)
		return
	}
	if results == nil {
		unavailable(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// opsFields checks an ops action's reason and actor.
func opsFields(reason, actor string) events.FieldErrors {
	var bad events.FieldErrors
	if len(reason) > 500 {
		bad = append(bad, events.FieldError{Field: "reason", Message: "at most 500 characters"})
	}
	if len(actor) > 100 {
		bad = append(bad, events.FieldError{Field: "actor", Message: "at most 100 characters"})
	}
	return bad
}
