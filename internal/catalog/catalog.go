// Package catalog keeps the national catalogues (procedures, agencies, fields) cached in Redis,
// refreshed from the portal on a schedule by one replica at a time, and the ops-kept mapping of
// the one-stop system's own procedure codes to national MaTTHC codes.
//
// A refresh replaces a catalogue only with a whole, well-formed answer: a truncated or malformed
// one (portal.ErrIncompleteCatalog) or a failed call keeps the last good catalogue, and is
// counted and logged. Changes are counted per entry (added, removed, changed).
//
// Keys share the hash tag {catalog} (so the replacement by RENAME and the mapping's check against
// the procedures run on Redis Cluster too):
//
//	<prefix>:{catalog}:<name>          hash code → entry JSON (name: procedures, agencies, fields)
//	<prefix>:{catalog}:meta            hash <name>:refreshed_at → Unix ms of the last good refresh
//	<prefix>:{catalog}:mappings        hash local procedure code → national MaTTHC
//	<prefix>:{catalog}:lock            the refresh lock
//
// # Local and national procedure codes
//
// A national code is MaTTHC as the portal writes it: digits, a dot and six digits (1.011442),
// optionally followed by a provincial instance's agency suffix (1.001612.000.00.00.H37). Any other
// procedure code the one-stop system sends in MaTTHC is its own local code, which the dossier sync
// replaces with the mapped national code before sending; a local code without a mapping is a
// permanent error naming the code, so the dossier is dead-lettered visibly (and the one-stop
// system notified with dossier.sync_failed) instead of being skipped or sent with a code the
// portal would not know.
package catalog

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
)

// The catalogues.
const (
	Procedures = "procedures"
	Agencies   = "agencies"
	Fields     = "fields"
)

// Names lists the catalogues in refresh order.
var Names = []string{Procedures, Agencies, Fields}

// ErrBusy is returned by Refresh when another replica is refreshing.
var ErrBusy = errors.New("another replica is refreshing the catalogues")

// ErrNotLoaded is returned when a catalogue has never been refreshed successfully.
var ErrNotLoaded = errors.New("catalogue not loaded yet")

var nationalCode = regexp.MustCompile(`^[0-9]+\.[0-9]{6}(\.[0-9A-Za-z.]+)?$`)

// localCode is what a local procedure code may hold.
var localCode = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._/-]{0,63}$`)

// IsNational reports whether a procedure code is a national MaTTHC (see the package
// documentation).
func IsNational(code string) bool { return nationalCode.MatchString(code) }

// Service is the catalogues and the mapping.
type Service struct {
	Store   *store.Store
	Source  portal.Catalogs
	Metrics *observability.NationalMetrics
	Log     *slog.Logger
	// Interval between refreshes; LockLease bounds one refresh (the lock expires after it if
	// the replica dies mid-refresh).
	Interval  time.Duration
	LockLease time.Duration
	// Replica names the lock holder.
	Replica string
}

func (s *Service) key(name string) string { return s.Store.Keys.Prefix + ":{catalog}:" + name }

// Run refreshes every Interval (and at once when onStart) until ctx ends. Refreshes another
// replica is doing are skipped; every replica reads the sizes for its gauge at each tick.
func (s *Service) Run(ctx context.Context, onStart bool) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	s.loadSizes(ctx)
	if !onStart {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	for {
		switch _, err := s.Refresh(ctx); {
		case err == nil, errors.Is(err, ErrBusy), ctx.Err() != nil:
		case errors.Is(err, failure.ErrPartnerPaused):
			s.Log.Debug("portal paused: catalogues not refreshed")
		default:
			s.Log.Warn("refreshing national catalogues", "err", err)
		}
		s.loadSizes(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) loadSizes(ctx context.Context) {
	for _, name := range Names {
		if n, err := s.Store.Client.HLen(ctx, s.key(name)).Result(); err == nil {
			s.Metrics.CatalogEntries.WithLabelValues(name).Set(float64(n))
		}
	}
}

// Result is what one catalogue's refresh did.
type Result struct {
	Catalog string `json:"catalog"`
	Outcome string `json:"outcome"`
	Entries int    `json:"entries"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
	Changed int    `json:"changed"`
	// Error is the reason of an incomplete or failed refresh (no partner body in it).
	Error string `json:"error,omitempty"`
}

// Refresh fetches every catalogue once under the refresh lock; ErrBusy when another replica
// holds it. A catalogue that cannot be fetched whole keeps its last good version; the others
// are refreshed anyway.
func (s *Service) Refresh(ctx context.Context) ([]Result, error) {
	release, err := s.Store.Lock(ctx, s.key("lock"), s.Replica+"-"+strconv.FormatInt(time.Now().UnixNano(), 36), s.LockLease)
	if errors.Is(err, store.ErrLockHeld) {
		return nil, ErrBusy
	}
	if err != nil {
		return nil, err
	}
	defer release(context.WithoutCancel(ctx))
	ctx, cancel := context.WithTimeout(ctx, s.LockLease)
	defer cancel()
	var out []Result
	var errs []error
	for _, name := range Names {
		r, err := s.refreshOne(ctx, name)
		out = append(out, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("refreshing %s: %w", name, err))
		}
	}
	return out, errors.Join(errs...)
}

// fetch reads one catalogue from the portal as code → entry JSON.
func (s *Service) fetch(ctx context.Context, name string) (map[string]string, error) {
	switch name {
	case Procedures:
		return fetchAs(ctx, s.Source.Procedures, func(p portal.Procedure) string { return p.Code })
	case Agencies:
		return fetchAs(ctx, s.Source.Agencies, func(a portal.Agency) string { return a.Code })
	default:
		return fetchAs(ctx, s.Source.Fields, func(f portal.Field) string { return f.Code })
	}
}

func fetchAs[T any](ctx context.Context, fetch func(context.Context) ([]T, error), code func(T) string) (map[string]string, error) {
	items, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		raw, err := json.Marshal(it)
		if err != nil {
			return nil, fmt.Errorf("encoding entry: %w", err)
		}
		out[code(it)] = string(raw)
	}
	return out, nil
}

func (s *Service) refreshOne(ctx context.Context, name string) (Result, error) {
	r := Result{Catalog: name}
	fresh, err := s.fetch(ctx, name)
	if err != nil {
		r.Outcome = observability.RefreshFailed
		if errors.Is(err, portal.ErrIncompleteCatalog) {
			r.Outcome = observability.RefreshIncomplete
		}
		r.Error = truncate(err.Error(), 300)
		s.Metrics.Refreshes.WithLabelValues(name, r.Outcome).Inc()
		s.Log.Warn("national catalogue not refreshed; the last good one is kept", "catalog", name, "outcome", r.Outcome, "err", err)
		return r, err
	}
	key := s.key(name)
	old, err := s.Store.Client.HGetAll(ctx, key).Result()
	if err != nil {
		r.Outcome = observability.RefreshFailed
		s.Metrics.Refreshes.WithLabelValues(name, r.Outcome).Inc()
		return r, fmt.Errorf("reading cached catalogue: %w", err)
	}
	for code, v := range fresh {
		prev, ok := old[code]
		switch {
		case !ok:
			r.Added++
		case prev != v:
			r.Changed++
		}
	}
	for code := range old {
		if _, ok := fresh[code]; !ok {
			r.Removed++
		}
	}
	r.Entries = len(fresh)
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	_, err = s.Store.Client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if r.Added+r.Removed+r.Changed > 0 {
			tmp := key + ":next"
			p.Del(ctx, tmp)
			p.HSet(ctx, tmp, fresh)
			p.Rename(ctx, tmp, key)
		}
		p.HSet(ctx, s.key("meta"), name+":refreshed_at", now)
		return nil
	})
	if err != nil {
		r.Outcome = observability.RefreshFailed
		s.Metrics.Refreshes.WithLabelValues(name, r.Outcome).Inc()
		return r, fmt.Errorf("storing catalogue: %w", err)
	}
	r.Outcome = observability.RefreshUnchanged
	if r.Added+r.Removed+r.Changed > 0 {
		r.Outcome = observability.RefreshChanged
		s.Metrics.CatalogChanges.WithLabelValues(name, observability.ChangeAdded).Add(float64(r.Added))
		s.Metrics.CatalogChanges.WithLabelValues(name, observability.ChangeRemoved).Add(float64(r.Removed))
		s.Metrics.CatalogChanges.WithLabelValues(name, observability.ChangeChanged).Add(float64(r.Changed))
		s.Log.Info("national catalogue changed", "catalog", name, "entries", r.Entries, "added", r.Added, "removed", r.Removed, "changed", r.Changed)
	}
	s.Metrics.Refreshes.WithLabelValues(name, r.Outcome).Inc()
	s.Metrics.CatalogEntries.WithLabelValues(name).Set(float64(r.Entries))
	return r, nil
}

// Query selects and pages a catalogue's entries. Entries are ordered by code; Cursor is the last
// code of the previous page.
type Query struct {
	Q      string // case-insensitive substring of the code or the name
	Agency string // procedures carried out by this agency; agencies under this parent
	Field  string // procedures of this field
	Limit  int
	Cursor string
}

// Page is one answer of List.
type Page struct {
	Catalog     string            `json:"catalog"`
	Items       []json.RawMessage `json:"items"`
	Total       int               `json:"total"`
	NextCursor  string            `json:"next_cursor,omitempty"`
	RefreshedAt *time.Time        `json:"refreshed_at,omitempty"`
}

// entryView is what the filters read of an entry of any catalogue.
type entryView struct {
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	FieldCode string   `json:"field_code"`
	Agencies  []string `json:"agencies"`
	Parent    string   `json:"parent"`
}

// List answers a page of a catalogue; ErrNotLoaded when it was never refreshed.
func (s *Service) List(ctx context.Context, name string, q Query) (Page, error) {
	all, err := s.Store.Client.HGetAll(ctx, s.key(name)).Result()
	if err != nil {
		return Page{}, fmt.Errorf("reading catalogue: %w", err)
	}
	at, err := s.Store.Client.HGet(ctx, s.key("meta"), name+":refreshed_at").Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Page{}, fmt.Errorf("reading catalogue: %w", err)
	}
	if len(all) == 0 && at == 0 {
		return Page{}, ErrNotLoaded
	}
	type entry struct {
		code string
		raw  string
	}
	var matched []entry
	needle := strings.ToLower(q.Q)
	for code, raw := range all {
		var v entryView
		if json.Unmarshal([]byte(raw), &v) != nil {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(v.Code), needle) && !strings.Contains(strings.ToLower(v.Name), needle) {
			continue
		}
		if q.Field != "" && v.FieldCode != q.Field {
			continue
		}
		if q.Agency != "" && !slices.Contains(v.Agencies, q.Agency) && v.Parent != q.Agency {
			continue
		}
		matched = append(matched, entry{code, raw})
	}
	slices.SortFunc(matched, func(a, b entry) int { return cmp.Compare(a.code, b.code) })
	p := Page{Catalog: name, Total: len(matched), Items: []json.RawMessage{}}
	if at > 0 {
		t := time.UnixMilli(at).UTC()
		p.RefreshedAt = &t
	}
	start, _ := slices.BinarySearchFunc(matched, q.Cursor, func(e entry, c string) int { return cmp.Compare(e.code, c) })
	if q.Cursor != "" && start < len(matched) && matched[start].code == q.Cursor {
		start++
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	end := min(start+q.Limit, len(matched))
	for _, e := range matched[start:end] {
		p.Items = append(p.Items, json.RawMessage(e.raw))
	}
	if end < len(matched) && end > start {
		p.NextCursor = matched[end-1].code
	}
	return p, nil
}

// Mapping is one local procedure code and its national MaTTHC.
type Mapping struct {
	Local    string `json:"local_code"`
	National string `json:"national_code"`
	// Name is the national procedure's name as cached, "" when the catalogue no longer has it.
	Name string `json:"national_name,omitempty"`
}

// BadMappingError is a mapping refused for its content; Field names the offending field.
type BadMappingError struct{ Field, Message string }

func (e *BadMappingError) Error() string { return e.Field + " " + e.Message }

// SetMapping maps a local procedure code to a national MaTTHC that the cached procedures
// catalogue holds, and audits it.
func (s *Service) SetMapping(ctx context.Context, local, national, actor, reason string) (Mapping, error) {
	if err := checkLocal(local); err != nil {
		return Mapping{}, err
	}
	if !IsNational(national) {
		return Mapping{}, &BadMappingError{"national_code", "must be a national MaTTHC such as 1.011442"}
	}
	raw, err := s.Store.Client.HGet(ctx, s.key(Procedures), national).Result()
	if errors.Is(err, redis.Nil) {
		n, lerr := s.Store.Client.HLen(ctx, s.key(Procedures)).Result()
		if lerr == nil && n == 0 {
			return Mapping{}, &BadMappingError{"national_code", "cannot be checked: the national procedures catalogue is not loaded yet (refresh it first)"}
		}
		return Mapping{}, &BadMappingError{"national_code", fmt.Sprintf("%s is not in the national procedures catalogue", national)}
	}
	if err != nil {
		return Mapping{}, fmt.Errorf("reading procedures catalogue: %w", err)
	}
	if err := s.Store.Client.HSet(ctx, s.key("mappings"), local, national).Err(); err != nil {
		return Mapping{}, fmt.Errorf("storing mapping: %w", err)
	}
	_ = s.Store.Audit(ctx, actor, "catalog.map.set", local+" -> "+national, reason)
	var v entryView
	_ = json.Unmarshal([]byte(raw), &v)
	return Mapping{Local: local, National: national, Name: v.Name}, nil
}

func checkLocal(local string) error {
	if !localCode.MatchString(local) {
		return &BadMappingError{"local_code", "must be 1..64 letters, digits or . _ / - (starting with a letter or digit)"}
	}
	if IsNational(local) {
		return &BadMappingError{"local_code", "is a national MaTTHC already; only local codes are mapped"}
	}
	return nil
}

// DeleteMapping removes a mapping and audits it; false when there was none.
func (s *Service) DeleteMapping(ctx context.Context, local, actor, reason string) (bool, error) {
	if err := checkLocal(local); err != nil {
		return false, err
	}
	n, err := s.Store.Client.HDel(ctx, s.key("mappings"), local).Result()
	if err != nil {
		return false, fmt.Errorf("deleting mapping: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	_ = s.Store.Audit(ctx, actor, "catalog.map.delete", local, reason)
	return true, nil
}

// Mappings lists every mapping by local code, with the national names as cached.
func (s *Service) Mappings(ctx context.Context) ([]Mapping, error) {
	all, err := s.Store.Client.HGetAll(ctx, s.key("mappings")).Result()
	if err != nil {
		return nil, fmt.Errorf("reading mappings: %w", err)
	}
	out := make([]Mapping, 0, len(all))
	for local, national := range all {
		m := Mapping{Local: local, National: national}
		if raw, err := s.Store.Client.HGet(ctx, s.key(Procedures), national).Result(); err == nil {
			var v entryView
			_ = json.Unmarshal([]byte(raw), &v)
			m.Name = v.Name
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Mapping) int { return cmp.Compare(a.Local, b.Local) })
	return out, nil
}

// ResolveProcedure returns the national MaTTHC for a procedure code the one-stop system sent: a
// national code as it is, a local code through its mapping. A local code without a mapping is a
// permanent error that names it.
func (s *Service) ResolveProcedure(ctx context.Context, code string) (string, error) {
	if IsNational(code) {
		return code, nil
	}
	national, err := s.Store.Client.HGet(ctx, s.key("mappings"), code).Result()
	if errors.Is(err, redis.Nil) {
		return "", failure.Permanentf("procedure code %q is a local code with no national MaTTHC mapping (gatewayctl catalog map set %s MaTTHC)", code, code)
	}
	if err != nil {
		return "", fmt.Errorf("reading procedure mapping: %w", err)
	}
	return national, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
