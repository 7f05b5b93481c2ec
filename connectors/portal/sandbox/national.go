package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/egov-vn/gateway/internal/vntime"
)

// Catalogue names, as in the sandbox's paths.
const (
	CatalogProcedures = "procedures"
	CatalogAgencies   = "agencies"
	CatalogFields     = "fields"
)

// Ways to break a catalogue answer (PUT /catalogs/{name}/break).
const (
	// BreakTruncated answers half the list with the whole list's TongSo.
	BreakTruncated = "truncated"
	// BreakMalformed answers error_code 00 with a result that is not the catalogue object.
	BreakMalformed = "malformed"
)

// Submission is what the sandbox holds about one dossier submitted on the portal.
type Submission struct {
	// Seq is the portal's sequence number (SoThuTu) of this entry.
	Seq int64 `json:"SoThuTu"`
	// Code is the dossier's MaHoSo.
	Code string `json:"MaHoSo"`
	// Served counts the answers of LayDanhSachHoSoDVCQG that carried this entry.
	Served int `json:"served"`
	// Acks counts XacNhanHoSoDVCQG calls for this dossier code (every entry of the code).
	Acks int `json:"acks"`

	raw map[string]json.RawMessage
}

// National is the portal-to-province half of the sandbox: submissions made on the portal and the
// national catalogues.
type National struct {
	now func() time.Time

	mu       sync.Mutex
	seq      int64
	entries  []*Submission
	acks     map[string]int
	catalogs map[string][]json.RawMessage
	breaks   map[string]string
}

var catalogServices = map[string]string{
	"LayDanhSachTTHC":   CatalogProcedures,
	"LayDanhMucCoQuan":  CatalogAgencies,
	"LayDanhMucLinhVuc": CatalogFields,
}

func newNational(now func() time.Time) *National {
	n := &National{now: now}
	n.reset()
	return n
}

// reset forgets the submissions and acknowledgements and restores the seed catalogues.
func (n *National) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq = 0
	n.entries = nil
	n.acks = map[string]int{}
	n.breaks = map[string]string{}
	n.catalogs = map[string][]json.RawMessage{}
	for name, items := range seedCatalogs {
		for _, it := range items {
			raw, _ := json.Marshal(it)
			n.catalogs[name] = append(n.catalogs[name], raw)
		}
	}
}

// seedCatalogs are the catalogues a new sandbox serves: a few of Lạng Sơn's procedures, agencies
// and fields, enough for a demo.
var seedCatalogs = map[string][]map[string]any{
	CatalogProcedures: {
		{"MaTTHC": "1.011442", "TenTTHC": "Cấp giấy phép xây dựng mới đối với công trình cấp III, cấp IV", "MaLinhVuc": "XD-HDXD",
			"MaCoQuanThucHien": []string{"000.00.15.H37", "000.00.37.H37"}, "MucDo": 4},
		{"MaTTHC": "1.001612", "TenTTHC": "Đăng ký thành lập hộ kinh doanh", "MaLinhVuc": "KH-HKD",
			"MaCoQuanThucHien": []string{"000.00.37.H37"}, "MucDo": 4},
		{"MaTTHC": "2.000488", "TenTTHC": "Cấp bản sao trích lục hộ tịch", "MaLinhVuc": "TP-HT",
			"MaCoQuanThucHien": []string{"000.00.00.H37"}, "MucDo": 3},
	},
	CatalogAgencies: {
		{"MaCoQuan": "000.00.00.H37", "TenCoQuan": "Ủy ban nhân dân tỉnh Lạng Sơn"},
		{"MaCoQuan": "000.00.15.H37", "TenCoQuan": "Sở Xây dựng tỉnh Lạng Sơn", "MaCoQuanCha": "000.00.00.H37"},
		{"MaCoQuan": "000.00.37.H37", "TenCoQuan": "Trung tâm Phục vụ hành chính công tỉnh Lạng Sơn", "MaCoQuanCha": "000.00.00.H37"},
	},
	CatalogFields: {
		{"MaLinhVuc": "XD-HDXD", "TenLinhVuc": "Hoạt động xây dựng"},
		{"MaLinhVuc": "KH-HKD", "TenLinhVuc": "Thành lập và hoạt động của hộ kinh doanh"},
		{"MaLinhVuc": "TP-HT", "TenLinhVuc": "Hộ tịch"},
	},
}

func (n *National) routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /submissions", n.submit)
	mux.HandleFunc("GET /submissions", n.listSubmissions)
	mux.HandleFunc("GET /catalogs/{name}", n.getCatalog)
	mux.HandleFunc("PUT /catalogs/{name}", n.putCatalog)
	mux.HandleFunc("PUT /catalogs/{name}/break", n.breakCatalog)
}

// serve answers the services of this half; false when the service is not one of them.
func (n *National) serve(w http.ResponseWriter, req integrationRequest) bool {
	switch req.Service {
	case "LayDanhSachHoSoDVCQG":
		n.fetch(w, req)
	case "XacNhanHoSoDVCQG":
		n.ack(w, req)
	default:
		name, ok := catalogServices[req.Service]
		if !ok {
			return false
		}
		n.catalog(w, name)
	}
	return true
}

// Submit records a dossier submitted on the portal, as a citizen would, and returns its sequence
// number. The element is kept as given (SoThuTu set by the sandbox; NgayNopHoSo set to now when
// absent). Submitting the same MaHoSo again makes a second entry: the portal serving one dossier
// twice.
func (n *National) Submit(element map[string]json.RawMessage) (Submission, bool) {
	code, ok := scalar(element["MaHoSo"])
	if !ok || strings.TrimSpace(code) == "" {
		return Submission{}, false
	}
	if _, present := element["NgayNopHoSo"]; !present {
		element["NgayNopHoSo"], _ = json.Marshal(vntime.Format(n.now()))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	element["SoThuTu"] = json.RawMessage(strconv.FormatInt(n.seq, 10))
	e := &Submission{Seq: n.seq, Code: code, raw: element}
	n.entries = append(n.entries, e)
	return n.view(e), true
}

func (n *National) view(e *Submission) Submission {
	c := *e
	c.Acks = n.acks[e.Code]
	c.raw = nil
	return c
}

// Submissions lists every entry in sequence order with its counts.
func (n *National) Submissions() []Submission {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Submission, 0, len(n.entries))
	for _, e := range n.entries {
		out = append(out, n.view(e))
	}
	return out
}

func (n *National) submit(w http.ResponseWriter, r *http.Request) {
	var element map[string]json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&element); err != nil || element == nil {
		answer(w, http.StatusBadRequest, map[string]string{"error": "body must be one DVCQG dossier object"})
		return
	}
	s, ok := n.Submit(element)
	if !ok {
		answer(w, http.StatusBadRequest, map[string]string{"error": "MaHoSo is required"})
		return
	}
	answer(w, http.StatusCreated, s)
}

func (n *National) listSubmissions(w http.ResponseWriter, _ *http.Request) {
	answer(w, http.StatusOK, map[string]any{"submissions": n.Submissions()})
}

func (n *National) fetch(w http.ResponseWriter, req integrationRequest) {
	after, ok := scalar(req.TuSoThuTu)
	from, err := strconv.ParseInt(after, 10, 64)
	if after == "" {
		from, err = 0, nil
	}
	if !ok || err != nil || from < 0 {
		replyCode(w, codeRejected, "TuSoThuTu must be a non-negative sequence number")
		return
	}
	limitText, ok := scalar(req.SoLuong)
	limit, err := strconv.Atoi(limitText)
	if !ok || err != nil || limit < 1 || limit > 500 {
		replyCode(w, codeRejected, "SoLuong must be within 1..500")
		return
	}
	result := []map[string]json.RawMessage{}
	n.mu.Lock()
	for _, e := range n.entries {
		if e.Seq > from && len(result) < limit {
			e.Served++
			result = append(result, e.raw)
		}
	}
	n.mu.Unlock()
	answer(w, http.StatusOK, map[string]any{"error_code": codeOK, "message": "success", "result": result})
}

func (n *National) ack(w http.ResponseWriter, req integrationRequest) {
	code, ok := scalar(req.MaHoSo)
	if !ok || code == "" {
		replyCode(w, codeRejected, "MaHoSo is required")
		return
	}
	n.mu.Lock()
	known := slices.ContainsFunc(n.entries, func(e *Submission) bool { return e.Code == code })
	if known {
		n.acks[code]++
	}
	n.mu.Unlock()
	if !known {
		replyCode(w, codeUnknown, "dossier unknown")
		return
	}
	replyCode(w, codeOK, "success")
}

func (n *National) catalog(w http.ResponseWriter, name string) {
	n.mu.Lock()
	items := slices.Clone(n.catalogs[name])
	mode := n.breaks[name]
	n.mu.Unlock()
	total := len(items)
	switch mode {
	case BreakMalformed:
		answer(w, http.StatusOK, map[string]any{"error_code": codeOK, "message": "success", "result": "<html>maintenance</html>"})
		return
	case BreakTruncated:
		items = items[:len(items)/2]
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	answer(w, http.StatusOK, map[string]any{"error_code": codeOK, "message": "success",
		"result": map[string]any{"TongSo": total, "DanhSach": items}})
}

func catalogName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	switch name {
	case CatalogProcedures, CatalogAgencies, CatalogFields:
		return name, true
	}
	answer(w, http.StatusNotFound, map[string]string{"error": "catalogue must be procedures, agencies or fields"})
	return "", false
}

func (n *National) getCatalog(w http.ResponseWriter, r *http.Request) {
	name, ok := catalogName(w, r)
	if !ok {
		return
	}
	n.mu.Lock()
	items, mode := slices.Clone(n.catalogs[name]), n.breaks[name]
	n.mu.Unlock()
	if items == nil {
		items = []json.RawMessage{}
	}
	answer(w, http.StatusOK, map[string]any{"items": items, "break": mode})
}

// SetCatalog replaces a catalogue with the given wire elements.
func (n *National) SetCatalog(name string, items []json.RawMessage) {
	n.mu.Lock()
	n.catalogs[name] = slices.Clone(items)
	n.mu.Unlock()
}

// BreakCatalog makes a catalogue's answers truncated or malformed ("" repairs it).
func (n *National) BreakCatalog(name, mode string) {
	n.mu.Lock()
	n.breaks[name] = mode
	n.mu.Unlock()
}

func (n *National) putCatalog(w http.ResponseWriter, r *http.Request) {
	name, ok := catalogName(w, r)
	if !ok {
		return
	}
	var items []json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&items); err != nil {
		answer(w, http.StatusBadRequest, map[string]string{"error": "body must be a JSON list of catalogue elements"})
		return
	}
	n.SetCatalog(name, items)
	answer(w, http.StatusOK, map[string]int{"items": len(items)})
}

func (n *National) breakCatalog(w http.ResponseWriter, r *http.Request) {
	name, ok := catalogName(w, r)
	if !ok {
		return
	}
	var body struct {
		Mode string `json:"mode"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil ||
		(body.Mode != "" && body.Mode != BreakTruncated && body.Mode != BreakMalformed) {
		answer(w, http.StatusBadRequest, map[string]string{"error": `body must be {"mode": "truncated" | "malformed" | ""}`})
		return
	}
	n.BreakCatalog(name, body.Mode)
	answer(w, http.StatusOK, map[string]string{"break": body.Mode})
}
