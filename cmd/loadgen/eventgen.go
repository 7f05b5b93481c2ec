package main

import (
	"bytes"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/vntime"
)

// eventSize is the size the generated CloudEvents are padded to.
const eventSize = 1024

// eventGen generates valid vn.gov.dossier.status_changed CloudEvents, each with an id unique to
// the run. Event n belongs to dossier n mod dossiers with version n / dossiers + 1, so every
// dossier sees increasing versions, and its status cycles through 1..10.
type eventGen struct {
	idPrefix string
	codes    []string
	batch    int
	seq      atomic.Uint64
	filler   string
	sentAt   string
	stepBase time.Time
}

func newEventGen(runID string, dossiers, batch int) *eventGen {
	g := &eventGen{
		idPrefix: "lg-" + runID + "-",
		codes:    make([]string, dossiers),
		batch:    batch,
		sentAt:   time.Now().UTC().Format(time.RFC3339),
		stepBase: time.Date(2025, 11, 26, 8, 0, 0, 0, vntime.Zone),
	}
	for i := range g.codes {
		g.codes[i] = "LG" + runID + "-" + leftPad(strconv.Itoa(i), 5)
	}
	// Pad with a summary (TrichYeuHoSo) so that a typical event is eventSize bytes.
	if n := eventSize - len(g.event(nil, 0)); n > 0 {
		const text = "Ho so de nghi cap giay phep xay dung nha o rieng le tai xa Hoang Dong. "
		g.filler = strings.Repeat(text, n/len(text)+1)[:n]
	}
	return g
}

func leftPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}

// contentType is the media type of the bodies: one CloudEvent, or a batch.
func (g *eventGen) contentType() string {
	if g.batch == 1 {
		return "application/cloudevents+json"
	}
	return "application/cloudevents-batch+json"
}

// body is the next request body. Safe for concurrent use.
func (g *eventGen) body() []byte {
	n := g.seq.Add(uint64(g.batch)) - uint64(g.batch)
	if g.batch == 1 {
		return g.event(make([]byte, 0, eventSize+64), n)
	}
	b := make([]byte, 0, g.batch*(eventSize+64)+2)
	b = append(b, '[')
	for i := range uint64(g.batch) {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.event(b, n+i)
	}
	return append(b, ']')
}

// next is the next single event and its sequence number. Safe for concurrent use.
func (g *eventGen) next() (uint64, []byte) {
	n := g.seq.Add(1) - 1
	return n, g.event(make([]byte, 0, eventSize+64), n)
}

// locate names event n's dossier (its index in codes) and version.
func (g *eventGen) locate(n uint64) (dossier int, version uint64) {
	return int(n % uint64(len(g.codes))), n/uint64(len(g.codes)) + 1
}

// eventIndex is the sequence number of the event of dossier (an index in codes) and version.
func (g *eventGen) eventIndex(dossier int, version uint64) uint64 {
	return (version-1)*uint64(len(g.codes)) + uint64(dossier)
}

// statusOf is the dossier status an event of version carries: 1..10, cycling.
func statusOf(version uint64) uint64 { return (version-1)%10 + 1 }

// stepPrefix starts the NoiDungXuLy of every generated processing step; the version follows, so
// a step at the portal tells which event it came from.
const stepPrefix = "buoc "

// event appends event n. Every value written is plain ASCII without quotes or backslashes, so
// it needs no escaping.
func (g *eventGen) event(b []byte, n uint64) []byte {
	d, version := g.locate(n)
	code := g.codes[d]
	status := strconv.FormatUint(statusOf(version), 10)
	v := strconv.FormatUint(version, 10)
	b = append(b, `{"specversion":"1.0","id":"`...)
	b = append(b, g.idPrefix...)
	b = strconv.AppendUint(b, n, 10)
	b = append(b, `","source":"/onestop/loadgen","type":"`...)
	b = append(b, events.TypeDossierStatusChanged...)
	b = append(b, `","subject":"`...)
	b = append(b, code...)
	b = append(b, `","time":"`...)
	b = append(b, g.sentAt...)
	b = append(b, `","datacontenttype":"application/json","data":{"version":`...)
	b = append(b, v...)
	b = append(b, `,"dossier":{"MaHoSo":"`...)
	b = append(b, code...)
	b = append(b, `","MaTTHC":"1.011442","TenTTHC":"Cap giay phep xay dung","ChuHoSo":"Nguyen Van A","LoaiDoiTuong":1,"TrangThaiHoSo":`...)
	b = append(b, status...)
	b = append(b, `,"NgayTiepNhan":"20251126083000","NgayHenTra":"20251210170000","DonViXuLy":"UBND xa Hoang Dong","TrichYeuHoSo":"`...)
	b = append(b, g.filler...)
	b = append(b, `","DanhSachLePhi":[{"TenPhiLePhi":"Le phi","MaPhiLePhi":"LP01","Gia":50000}]},"step":{"NguoiXuLy":"Tran Thi B","ThoiDiemXuLy":"`...)
	b = g.stepBase.Add(time.Duration(version)*time.Minute).AppendFormat(b, vntime.Layout)
	b = append(b, `","NoiDungXuLy":"`+stepPrefix...)
	b = append(b, v...)
	b = append(b, `","TrangThai":`...)
	b = append(b, status...)
	return append(b, "}}}"...)
}

// gatewayAccepted counts the events a 2xx answer of /v1/events accepted: a single event is
// accepted with 202 (200 is a duplicate); a batch answers with a status per event.
func gatewayAccepted(status int, body []byte) int {
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte(`{"results"`)) {
		if status == 202 {
			return 1
		}
		return 0
	}
	return bytes.Count(body, []byte(`"status":"accepted"`))
}
