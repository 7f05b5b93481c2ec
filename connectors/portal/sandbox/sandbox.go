package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/egov-vn/gateway/internal/faults"
)

// The adapter's answer codes (see the package documentation).
const (
	codeOK       = "00"
	codeSession  = "01"
	codeLogin    = "02"
	codeUnit     = "03"
	codeService  = "04"
	codeRejected = "10"
	codeUnknown  = "11"
)

// maxBody bounds a request body; a DongBoHoSoMC batch of whole dossiers stays far below it.
const maxBody = 4 << 20

// Config is the one account the sandbox accepts. The fields are compared as given, so the zero
// Config accepts an empty username, password and dstcode.
type Config struct {
	Username string
	Password string
	DstCode  string
	// SessionTTL is how long a session stays valid after its login; 30 minutes when zero.
	SessionTTL time.Duration
	// Now is the sandbox's clock (tests move it to expire sessions); time.Now when nil.
	Now func() time.Time
}

// Record is what the sandbox holds about one dossier.
type Record struct {
	// Dossier is the latest DongBoHoSoMC element as received.
	Dossier json.RawMessage `json:"dossier"`
	// Steps are the CapNhatTienDoHoSoMC elements as received, in arrival order, duplicates
	// included.
	Steps []json.RawMessage `json:"steps"`
	// Upserts counts accepted DongBoHoSoMC elements; Creates those sent with isUpdating "False",
	// Updates those sent with "True".
	Upserts int `json:"upserts"`
	Creates int `json:"creates"`
	Updates int `json:"updates"`
}

// DossierField reads one field of the latest dossier state as text: a string's value, a
// number's literal, or a list's JSON. ok is false when the field was not sent.
func (r Record) DossierField(name string) (value string, ok bool) {
	return field(r.Dossier, name)
}

// StepField reads one field of the i-th step received, like DossierField.
func (r Record) StepField(i int, name string) (value string, ok bool) {
	if i < 0 || i >= len(r.Steps) {
		return "", false
	}
	return field(r.Steps[i], name)
}

// Summary is one line of GET /dossiers.
type Summary struct {
	Code    string `json:"MaHoSo"`
	Upserts int    `json:"upserts"`
	Creates int    `json:"creates"`
	Updates int    `json:"updates"`
	Steps   int    `json:"steps"`
}

// Sandbox is the fake adapter.
type Sandbox struct {
	cfg     Config
	faults  faults.Injector
	handler http.Handler

	mu       sync.Mutex
	sessions map[string]time.Time // session → expiry
	dossiers map[string]*Record
	logins   int
	// steps counts the steps recorded (StepsReceived).
	steps int
	// onStep, when set, is told of each step recorded (SetStepHook).
	onStep func(code string, nth int)

	national *National
	drops    *dropSwitch
}

// New builds a sandbox that accepts the account of cfg.
func New(cfg Config) *Sandbox {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sandbox{cfg: cfg, sessions: map[string]time.Time{}, dossiers: map[string]*Record{}, national: newNational(cfg.Now), drops: newDropSwitch()}
	mux := http.NewServeMux()
	s.national.routes(mux)
	mux.Handle("POST /auth", s.faults.Wrap(http.HandlerFunc(s.login)))
	mux.Handle("POST /integration", s.faults.Wrap(s.dropping(http.HandlerFunc(s.integration))))
	s.drops.routes(mux)
	mux.HandleFunc("GET /dossiers", s.listDossiers)
	mux.HandleFunc("GET /dossiers/{code...}", s.getDossier)
	mux.Handle("/faults", &s.faults)
	mux.HandleFunc("POST /sessions/expire", s.expireSessions)
	s.handler = mux
	return s
}

// Handler serves the sandbox's paths relative to its mount point.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// National is the sandbox's portal-to-province half: submissions made on the portal and the
// national catalogues.
func (s *Sandbox) National() *National { return s.national }

// Faults is the sandbox's fault injector.
func (s *Sandbox) Faults() *faults.Injector { return &s.faults }

// Dossier returns what the sandbox holds about a dossier.
func (s *Sandbox) Dossier(code string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.dossiers[code]
	if !ok {
		return Record{}, false
	}
	return r.clone(), true
}

// Dossiers lists the dossiers received, by code.
func (s *Sandbox) Dossiers() []Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Summary, 0, len(s.dossiers))
	for code, r := range s.dossiers {
		out = append(out, Summary{Code: code, Upserts: r.Upserts, Creates: r.Creates, Updates: r.Updates, Steps: len(r.Steps)})
	}
	slices.SortFunc(out, func(a, b Summary) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// StepsReceived counts the progress steps recorded since the sandbox was built or reset (a step
// is only recorded for a dossier whose state was received): what a load run polls to know how
// many events have reached the portal, without Dossiers' copy and sort or a walk of every record.
func (s *Sandbox) StepsReceived() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.steps
}

// SetStepHook makes the sandbox call fn for each progress step it records, with the dossier's
// code and the step's rank for that dossier (1 for its first); a load run times the events' way
// end to end with it. fn runs under the sandbox's lock: it must be quick and must not call the
// sandbox. nil removes the hook; Reset removes it too.
func (s *Sandbox) SetStepHook(fn func(code string, nth int)) {
	s.mu.Lock()
	s.onStep = fn
	s.mu.Unlock()
}

// Logins counts the successful logins since the sandbox was built or reset.
func (s *Sandbox) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// ExpireSessions invalidates every session, as the real adapter does on its own schedule.
func (s *Sandbox) ExpireSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.sessions)
	clear(s.sessions)
	return n
}

// Reset forgets every dossier, session and login and clears the faults.
func (s *Sandbox) Reset() {
	s.mu.Lock()
	clear(s.sessions)
	clear(s.dossiers)
	s.logins = 0
	s.steps = 0
	s.onStep = nil
	s.mu.Unlock()
	s.national.reset()
	s.drops.reset()
	s.faults.Set(faults.Settings{})
}

func (r *Record) clone() Record {
	c := *r
	c.Steps = slices.Clone(r.Steps)
	if c.Steps == nil {
		c.Steps = []json.RawMessage{}
	}
	return c
}

// answer writes the adapter's JSON reply.
func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// refuse answers an application error with HTTP 200, as the adapter does.
func replyCode(w http.ResponseWriter, code, message string) {
	answer(w, http.StatusOK, map[string]string{"error_code": code, "message": message})
}

func (s *Sandbox) dstcodeOK(r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("dstcode")), []byte(s.cfg.DstCode)) == 1
}

// decode reads a JSON body; it answers HTTP 400 itself when the body is not JSON.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(v); err != nil {
		answer(w, http.StatusBadRequest, map[string]string{"error_code": codeRejected, "message": "body is not a JSON object"})
		return false
	}
	return true
}

func (s *Sandbox) login(w http.ResponseWriter, r *http.Request) {
	if !s.dstcodeOK(r) {
		replyCode(w, codeUnit, "dstcode not accepted")
		return
	}
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !decode(w, r, &req) {
		return
	}
	userOK := subtle.ConstantTimeCompare([]byte(req.Username), []byte(s.cfg.Username)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(req.Password), []byte(s.cfg.Password)) == 1
	if !userOK || !passOK {
		replyCode(w, codeLogin, "wrong username or password")
		return
	}
	session := rand.Text()
	now := s.cfg.Now()
	s.mu.Lock()
	for k, exp := range s.sessions {
		if !now.Before(exp) {
			delete(s.sessions, k)
		}
	}
	s.sessions[session] = now.Add(s.cfg.SessionTTL)
	s.logins++
	s.mu.Unlock()
	answer(w, http.StatusOK, map[string]any{"session": session, "error_code": 0})
}

func (s *Sandbox) sessionOK(session string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.sessions[session]
	return ok && s.cfg.Now().Before(exp)
}

// integrationRequest is the envelope of every service plus the fields of each.
type integrationRequest struct {
	Session    string          `json:"session"`
	MaDonVi    string          `json:"madonvi"`
	Service    string          `json:"service"`
	MaHoSo     json.RawMessage `json:"MaHoSo"`
	IsUpdating json.RawMessage `json:"isUpdating"`
	Data       json.RawMessage `json:"data"`
	// TuSoThuTu and SoLuong page LayDanhSachHoSoDVCQG (national.go).
	TuSoThuTu json.RawMessage `json:"TuSoThuTu"`
	SoLuong   json.RawMessage `json:"SoLuong"`
}

func (s *Sandbox) integration(w http.ResponseWriter, r *http.Request) {
	if !s.dstcodeOK(r) {
		replyCode(w, codeUnit, "dstcode not accepted")
		return
	}
	var req integrationRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Session == "" || !s.sessionOK(req.Session) {
		replyCode(w, codeSession, "session invalid or expired")
		return
	}
	if strings.TrimSpace(req.MaDonVi) == "" {
		replyCode(w, codeUnit, "madonvi is required")
		return
	}
	switch req.Service {
	case "TraCuuHoSo":
		s.lookup(w, req)
	case "DongBoHoSoMC":
		s.sync(w, req)
	case "CapNhatTienDoHoSoMC":
		s.progress(w, req)
	default:
		if !s.national.serve(w, req) {
			replyCode(w, codeService, "unknown service")
		}
	}
}

func (s *Sandbox) lookup(w http.ResponseWriter, req integrationRequest) {
	code, ok := scalar(req.MaHoSo)
	if !ok || code == "" {
		replyCode(w, codeRejected, "MaHoSo is required")
		return
	}
	result := []json.RawMessage{}
	s.mu.Lock()
	if rec, found := s.dossiers[code]; found {
		result = append(result, rec.Dossier)
	}
	s.mu.Unlock()
	answer(w, http.StatusOK, map[string]any{"error_code": codeOK, "message": "success", "result": result})
}

// elements decodes a service's data: a non-empty list of objects.
func elements(w http.ResponseWriter, data json.RawMessage) ([]element, bool) {
	items, ok := objects(data)
	if !ok || len(items) == 0 {
		replyCode(w, codeRejected, "data must be a non-empty list of objects")
		return nil, false
	}
	return items, true
}

func (s *Sandbox) sync(w http.ResponseWriter, req integrationRequest) {
	updating, ok := scalar(req.IsUpdating)
	if !ok || (updating != "True" && updating != "False") {
		replyCode(w, codeRejected, `isUpdating must be "True" or "False"`)
		return
	}
	items, ok := elements(w, req.Data)
	if !ok {
		return
	}
	var problems []string
	for i, e := range items {
		problems = append(problems, checkDossier(i, e.fields)...)
	}
	if len(problems) > 0 {
		replyCode(w, codeRejected, strings.Join(problems, "; "))
		return
	}
	s.mu.Lock()
	for _, e := range items {
		code, _ := scalar(e.fields["MaHoSo"])
		rec, found := s.dossiers[code]
		if !found {
			rec = &Record{}
			s.dossiers[code] = rec
		}
		rec.Dossier = e.raw
		rec.Upserts++
		if updating == "True" {
			rec.Updates++
		} else {
			rec.Creates++
		}
	}
	s.mu.Unlock()
	replyCode(w, codeOK, "success")
}

func (s *Sandbox) progress(w http.ResponseWriter, req integrationRequest) {
	items, ok := elements(w, req.Data)
	if !ok {
		return
	}
	var problems []string
	for i, e := range items {
		problems = append(problems, checkStep(i, e.fields)...)
	}
	if len(problems) > 0 {
		replyCode(w, codeRejected, strings.Join(problems, "; "))
		return
	}
	if !s.appendSteps(items) {
		replyCode(w, codeUnknown, "dossier unknown")
		return
	}
	replyCode(w, codeOK, "success")
}

// appendSteps records a batch of steps, all or none: none when one names an unknown dossier.
func (s *Sandbox) appendSteps(items []element) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range items {
		code, _ := scalar(e.fields["MaHoSo"])
		if _, found := s.dossiers[code]; !found {
			return false
		}
	}
	for _, e := range items {
		code, _ := scalar(e.fields["MaHoSo"])
		rec := s.dossiers[code]
		rec.Steps = append(rec.Steps, e.raw)
		s.steps++
		if s.onStep != nil {
			s.onStep(code, len(rec.Steps))
		}
	}
	return true
}

func (s *Sandbox) listDossiers(w http.ResponseWriter, _ *http.Request) {
	answer(w, http.StatusOK, map[string]any{"dossiers": s.Dossiers(), "logins": s.Logins()})
}

func (s *Sandbox) getDossier(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.Dossier(r.PathValue("code"))
	if !ok {
		answer(w, http.StatusNotFound, map[string]string{"error": "dossier not found"})
		return
	}
	answer(w, http.StatusOK, rec)
}

func (s *Sandbox) expireSessions(w http.ResponseWriter, _ *http.Request) {
	answer(w, http.StatusOK, map[string]int{"expired": s.ExpireSessions()})
}
