package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// dropSwitch makes the sandbox lose dossier updates, as a portal does when it answers success
// and keeps nothing: a DongBoHoSoMC request it drops is checked like any other (session, fields)
// and answered error_code "00", but the sandbox's state is left as it was. It exists so the
// gateway's status reconciliation has drift to find. Steps (CapNhatTienDoHoSoMC) are never
// dropped.
//
//	GET  /drop   the settings and what was dropped so far
//	PUT  /drop   {"dossiers": [MaHoSo...], "rate": 0..1, "next": N}: drop every update of those
//	             dossiers, a share of the others, and the next N whatever they are; {} stops
//	             dropping (the record of what was dropped stays until Reset)
type dropSwitch struct {
	mu       sync.Mutex
	settings DropSettings
	dropped  []string // MaHoSo of each dropped update, in order
}

// DropSettings say which DongBoHoSoMC updates the sandbox answers without applying.
type DropSettings struct {
	Dossiers []string `json:"dossiers,omitempty"`
	Rate     float64  `json:"rate,omitempty"`
	Next     int      `json:"next,omitempty"`
}

func newDropSwitch() *dropSwitch { return &dropSwitch{} }

func (d *dropSwitch) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /drop", d.get)
	mux.HandleFunc("PUT /drop", d.put)
}

// SetDrops replaces the drop settings; the zero value stops dropping.
func (s *Sandbox) SetDrops(ds DropSettings) {
	s.drops.mu.Lock()
	s.drops.settings = ds
	s.drops.mu.Unlock()
}

// Dropped returns the MaHoSo of every update dropped since the sandbox was built or reset.
func (s *Sandbox) Dropped() []string {
	s.drops.mu.Lock()
	defer s.drops.mu.Unlock()
	return slices.Clone(s.drops.dropped)
}

// SetDossierField changes one field of the dossier the sandbox holds, as a change made on the
// portal itself would (value is encoded as JSON). It reports false when the dossier is unknown.
func (s *Sandbox) SetDossierField(code, name string, value any) bool {
	raw, err := json.Marshal(value)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.dossiers[code]
	if !ok {
		return false
	}
	var o map[string]json.RawMessage
	if json.Unmarshal(rec.Dossier, &o) != nil {
		return false
	}
	o[name] = raw
	b, err := json.Marshal(o)
	if err != nil {
		return false
	}
	rec.Dossier = b
	return true
}

func (d *dropSwitch) reset() {
	d.mu.Lock()
	d.settings = DropSettings{}
	d.dropped = nil
	d.mu.Unlock()
}

func (d *dropSwitch) get(w http.ResponseWriter, _ *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	answer(w, http.StatusOK, map[string]any{"settings": d.settings, "dropped": append([]string{}, d.dropped...)})
}

func (d *dropSwitch) put(w http.ResponseWriter, r *http.Request) {
	var ds DropSettings
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ds); err != nil {
		answer(w, http.StatusBadRequest, map[string]string{"error": `want {"dossiers": [...], "rate": 0..1, "next": N}`})
		return
	}
	if ds.Rate < 0 || ds.Rate > 1 || ds.Next < 0 {
		answer(w, http.StatusBadRequest, map[string]string{"error": "rate must be within 0..1 and next not negative"})
		return
	}
	d.mu.Lock()
	d.settings = ds
	d.mu.Unlock()
	answer(w, http.StatusOK, map[string]any{"settings": ds})
}

// decide reports whether an update of these dossiers is dropped, and records it.
func (d *dropSwitch) decide(codes []string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	drop := false
	switch {
	case slices.ContainsFunc(codes, func(c string) bool { return slices.Contains(d.settings.Dossiers, c) }):
		drop = true
	case d.settings.Next > 0:
		d.settings.Next--
		drop = true
	case d.settings.Rate > 0 && rand.Float64() < d.settings.Rate:
		drop = true
	}
	if drop {
		d.dropped = append(d.dropped, codes...)
	}
	return drop
}

// dropping answers a valid DongBoHoSoMC request that the switch drops with success and passes every
// other request on unchanged.
func (s *Sandbox) dropping(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			answer(w, http.StatusBadRequest, map[string]string{"error_code": codeRejected, "message": "body is not a JSON object"})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if codes, ok := s.droppable(r, body); ok && s.drops.decide(codes) {
			replyCode(w, codeOK, "success")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// droppable returns the dossier codes of a DongBoHoSoMC request that the sandbox would apply;
// ok is false for any other request, which then gets its usual answer.
func (s *Sandbox) droppable(r *http.Request, body []byte) ([]string, bool) {
	var req integrationRequest
	if json.Unmarshal(body, &req) != nil || req.Service != "DongBoHoSoMC" {
		return nil, false
	}
	if !s.dstcodeOK(r) || req.Session == "" || !s.sessionOK(req.Session) || strings.TrimSpace(req.MaDonVi) == "" {
		return nil, false
	}
	if v, ok := scalar(req.IsUpdating); !ok || (v != "True" && v != "False") {
		return nil, false
	}
	items, ok := objects(req.Data)
	if !ok || len(items) == 0 {
		return nil, false
	}
	codes := make([]string, 0, len(items))
	for i, e := range items {
		if len(checkDossier(i, e.fields)) > 0 {
			return nil, false
		}
		code, _ := scalar(e.fields["MaHoSo"])
		codes = append(codes, code)
	}
	return codes, true
}
