package events

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/egov-vn/gateway/connectors/portal"
)

// This file is the one-pass decoder behind Parse: it reads an event straight into its typed
// values and applies every rule to them. It names no field: whenever the walk (walk.go) would
// report a problem, or the input is unusual in a way not worth a fast path (nesting deeper than
// maxDepth, a number beyond 18 digits), it declines, and Parse runs the walk. So it accepts only
// what the walk accepts, with the same result, which FuzzParseAgrees checks.
//
// As with encoding/json, a duplicate key's last value is the one that counts. The decoder applies
// a value's own rules at each occurrence, declining if any occurrence breaks them, and checks
// required fields and the rules between fields once the object is read.

// text reads a string field of at most maxLen characters the way the walk's str does; present is
// false for null. A required text must not be blank.
func (r *reader) text(maxLen int, required bool) (s string, present, ok bool) {
	if r.peek() == 'n' {
		return "", false, r.null()
	}
	s, ascii, ok := r.str()
	if !ok || (required && strings.TrimSpace(s) == "") {
		return "", false, false
	}
	if ascii {
		return s, true, len(s) <= maxLen
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "", false, false
		}
	}
	return s, true, len(s) <= maxLen || utf8.RuneCountInString(s) <= maxLen
}

// code reads an identifier (see IsCode); "" is allowed when it is not required.
func (r *reader) code(maxLen int, required bool) (string, bool, bool) {
	s, present, ok := r.text(maxLen, required)
	return s, present, ok && (s == "" || IsCode(s))
}

// date reads a date as ParseDate does; "" is the zero time when it is not required.
func (r *reader) date(required bool) (time.Time, bool, bool) {
	s, present, ok := r.text(40, required)
	if !ok || s == "" {
		return time.Time{}, present, ok
	}
	t, err := ParseDate(s)
	return t, present, err == nil
}

// integer reads a whole number within [min, max].
func (r *reader) integer(min, max int64) (n int64, present, ok bool) {
	if r.peek() == 'n' {
		return 0, false, r.null()
	}
	start := r.pos
	integer, ok := r.number()
	if !ok || !integer {
		return 0, false, false
	}
	b := r.data[start:r.pos]
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) > 18 { // larger than any bound of the contract, and than int64 can hold at 19 digits
		return 0, false, false
	}
	for _, c := range b {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true, n >= min && n <= max
}

// nullOr reports whether the value is null (consuming it) or starts with c.
func (r *reader) nullOr(c byte) (isNull, ok bool) {
	switch r.peek() {
	case 'n':
		return true, r.null()
	case c:
		return false, true
	}
	return false, false
}

// event reads one CloudEvent object, or returns nil to decline it. Raw is the object's bytes.
func (r *reader) event() *Event {
	start := r.pos
	if !r.open('{') {
		return nil
	}
	e := &Event{}
	var (
		hasSpec, hasID, hasSource, hasType, hasSubject bool
		dataAt                                         = -1 // where data starts; -1: absent or null
		dataType                                       string
	)
	for i := 0; ; i++ {
		key, done, ok := r.member(i)
		if !ok {
			return nil
		}
		if done {
			break
		}
		switch string(key) {
		case "specversion":
			var s string
			s, hasSpec, ok = r.text(8, true)
			ok = ok && (!hasSpec || s == "1.0")
		case "id":
			e.ID, hasID, ok = r.text(128, true)
		case "source":
			e.Source, hasSource, ok = r.text(256, true)
		case "type":
			e.Type, hasType, ok = r.text(128, true)
		case "subject":
			e.Subject, hasSubject, ok = r.code(64, true)
		case "time":
			var s string
			s, _, ok = r.text(40, false)
			e.Time = time.Time{}
			if ok && s != "" {
				var err error
				e.Time, err = time.Parse(time.RFC3339, s)
				ok = err == nil
			}
		case "datacontenttype":
			var s string
			s, _, ok = r.text(64, false)
			ok = ok && (s == "" || s == "application/json")
		case "data_base64":
			ok = r.null()
		case "data":
			var isNull bool
			if isNull, ok = r.nullOr('{'); !ok {
				return nil
			}
			dataAt, dataType = -1, ""
			e.StatusChanged, e.Delivery = nil, nil
			if isNull {
				break
			}
			dataAt = r.pos
			// The type usually comes first: decode data now under it, and again below in the
			// rare event that a later type differs.
			ok = r.eventData(e, e.Type)
			if ok {
				dataType = e.Type
			}
		default:
			ok = r.skip()
		}
		if !ok {
			return nil
		}
	}
	end := r.pos
	if !hasSpec || !hasID || !hasSource || !hasType || !hasSubject || dataAt < 0 {
		return nil
	}
	if e.Type != TypeDossierStatusChanged && e.Type != TypeDeliveryRequested {
		return nil
	}
	if _, err := url.Parse(e.Source); err != nil {
		return nil
	}
	if dataType != e.Type {
		r.pos, r.depth = dataAt, r.depth+1
		if !r.eventData(e, e.Type) {
			return nil
		}
		r.pos, r.depth = end, r.depth-1
	}
	if sc := e.StatusChanged; sc != nil {
		if sc.Dossier.Code != e.Subject {
			return nil
		}
		if st := sc.Step; st != nil {
			if st.DossierCode == "" {
				st.DossierCode = e.Subject
			} else if st.DossierCode != e.Subject {
				return nil
			}
		}
	}
	if d := e.Delivery; d != nil && d.DossierCode != e.Subject {
		return nil
	}
	e.Raw = r.data[start:end:end]
	return e
}

// eventData reads the data object of an event of type typ into e; for another type it only
// checks the syntax.
func (r *reader) eventData(e *Event, typ string) bool {
	e.StatusChanged, e.Delivery = nil, nil
	switch typ {
	case TypeDossierStatusChanged:
		e.StatusChanged = r.statusChanged()
		return e.StatusChanged != nil
	case TypeDeliveryRequested:
		e.Delivery = r.delivery()
		return e.Delivery != nil
	}
	return r.skip()
}

func (r *reader) statusChanged() *StatusChanged {
	if !r.open('{') {
		return nil
	}
	sc := &StatusChanged{}
	var (
		hasVersion, hasDossier, hasStep bool
		step                            portal.Step
	)
	for i := 0; ; i++ {
		key, done, ok := r.member(i)
		if !ok {
			return nil
		}
		if done {
			break
		}
		switch string(key) {
		case "version":
			sc.Version, hasVersion, ok = r.integer(0, 1<<53)
		case "dossier":
			var isNull bool
			isNull, ok = r.nullOr('{')
			sc.Dossier, hasDossier = portal.Dossier{}, false
			if ok && !isNull {
				ok = r.dossier(&sc.Dossier)
				hasDossier = true
			}
		case "step":
			var isNull bool
			isNull, ok = r.nullOr('{')
			step, hasStep = portal.Step{}, false
			if ok && !isNull {
				ok = r.step(&step)
				hasStep = true
			}
		default:
			ok = r.skip()
		}
		if !ok {
			return nil
		}
	}
	if !hasVersion || !hasDossier {
		return nil
	}
	if hasStep {
		sc.Step = &step
	}
	return sc
}

// dossier reads a dossier's fields; the caller checks MaHoSo against the subject.
func (r *reader) dossier(d *portal.Dossier) bool {
	if !r.open('{') {
		return false
	}
	var hasCode, hasProcedure, hasOwnerKind, hasStatus bool
	for i := 0; ; i++ {
		key, done, ok := r.member(i)
		if !ok {
			return false
		}
		if done {
			break
		}
		var n int64
		switch string(key) {
		case "MaHoSo":
			d.Code, hasCode, ok = r.code(64, true)
		case "MaTTHC":
			d.ProcedureCode, hasProcedure, ok = r.code(64, true)
		case "TenTTHC":
			d.ProcedureName, _, ok = r.text(1000, false)
		case "MaLinhVuc":
			d.FieldCode, _, ok = r.code(64, false)
		case "TenLinhVuc":
			d.FieldName, _, ok = r.text(500, false)
		case "ChuHoSo":
			d.Owner, _, ok = r.text(300, false)
		case "LoaiDoiTuong":
			n, hasOwnerKind, ok = r.integer(1, 2)
			d.OwnerKind = int(n)
		case "MaDoiTuong":
			d.OwnerID, _, ok = r.text(64, false)
		case "SoDienThoai":
			d.Phone, _, ok = r.text(32, false)
		case "Email":
			d.Email, _, ok = r.text(254, false)
		case "TrichYeuHoSo":
			d.Summary, _, ok = r.text(2000, false)
		case "NgayTiepNhan":
			d.ReceivedAt, _, ok = r.date(false)
		case "NgayHenTra":
			d.DueAt, _, ok = r.date(false)
		case "NgayTra":
			d.ReturnedAt, _, ok = r.date(false)
		case "TrangThaiHoSo":
			n, hasStatus, ok = r.integer(1, 10)
			d.Status = portal.Status(n)
		case "HinhThuc":
			n, _, ok = r.integer(0, 1)
			d.Channel = int(n)
		case "DonViXuLy":
			d.Agency, _, ok = r.text(300, false)
		case "DanhSachLePhi":
			d.Fees, ok = r.fees()
		case "TaiLieuNop":
			d.Documents, ok = r.documents()
		case "DanhSachGiayToKetQua":
			d.Results, ok = r.documents()
		default:
			ok = r.skip()
		}
		if !ok {
			return false
		}
	}
	return hasCode && hasProcedure && hasOwnerKind && hasStatus
}

// objectArray reads null, or an array of objects: for each object, item reads its members with
// members and says whether the object is acceptable.
func (r *reader) objectArray(item func() bool) bool {
	if isNull, ok := r.nullOr('['); !ok || isNull {
		return ok
	}
	if !r.open('[') {
		return false
	}
	for i := 0; ; i++ {
		done, ok := r.element(i)
		if !ok || done {
			return ok
		}
		if !r.open('{') || !item() {
			return false
		}
	}
}

// members reads the members of an object already opened, handing each key to field, which reads
// (or skips) its value.
func (r *reader) members(field func(key []byte) bool) bool {
	for j := 0; ; j++ {
		key, done, ok := r.member(j)
		if !ok {
			return false
		}
		if done {
			return true
		}
		if !field(key) {
			return false
		}
	}
}

// fees reads DanhSachLePhi: null, or an array of fee objects.
func (r *reader) fees() ([]portal.Fee, bool) {
	var out []portal.Fee
	ok := r.objectArray(func() bool {
		var (
			fee       portal.Fee
			hasAmount bool
		)
		read := r.members(func(key []byte) (ok bool) {
			switch string(key) {
			case "TenPhiLePhi":
				fee.Name, _, ok = r.text(500, false)
			case "MaPhiLePhi":
				fee.Code, _, ok = r.code(64, false)
			case "HinhThucThu":
				fee.PaymentMethod, _, ok = r.text(64, false)
			case "LoaiPhiLePhi":
				fee.Kind, _, ok = r.text(64, false)
			case "Gia":
				fee.Amount, hasAmount, ok = r.integer(0, 1e13)
			default:
				ok = r.skip()
			}
			return ok
		})
		if !read || !hasAmount {
			return false
		}
		out = append(out, fee)
		return true
	})
	if !ok {
		return nil, false
	}
	return out, true
}

// documents reads TaiLieuNop or DanhSachGiayToKetQua: null, or an array of document objects.
func (r *reader) documents() ([]portal.Document, bool) {
	var out []portal.Document
	ok := r.objectArray(func() bool {
		var doc portal.Document
		read := r.members(func(key []byte) (ok bool) {
			switch string(key) {
			case "MaGiayTo":
				doc.Code, _, ok = r.text(128, false)
			case "TenGiayTo":
				doc.Name, _, ok = r.text(500, false)
			case "DuongDanTapTin":
				doc.URL, _, ok = r.text(2000, false)
			default:
				ok = r.skip()
			}
			return ok
		})
		if !read {
			return false
		}
		if doc.URL != "" {
			if u, err := url.Parse(doc.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
				return false
			}
		}
		out = append(out, doc)
		return true
	})
	if !ok {
		return nil, false
	}
	return out, true
}

// step reads a processing step; the caller checks MaHoSo against the subject.
func (r *reader) step(s *portal.Step) bool {
	if !r.open('{') {
		return false
	}
	var hasAt, hasStatus bool
	for i := 0; ; i++ {
		key, done, ok := r.member(i)
		if !ok {
			return false
		}
		if done {
			break
		}
		switch string(key) {
		case "MaHoSo":
			s.DossierCode, _, ok = r.code(64, false)
		case "NguoiXuLy":
			s.Handler, _, ok = r.text(300, false)
		case "ChucDanh":
			s.Title, _, ok = r.text(300, false)
		case "ThoiDiemXuLy":
			s.At, hasAt, ok = r.date(true)
		case "PhongBanXuLy":
			s.Department, _, ok = r.text(300, false)
		case "NoiDungXuLy":
			s.Content, _, ok = r.text(2000, false)
		case "TrangThai":
			var n int64
			n, hasStatus, ok = r.integer(1, 10)
			s.Status = portal.Status(n)
		case "NgayBatDau":
			s.StartedAt, _, ok = r.date(false)
		case "NgayKetThucTheoQuyDinh":
			s.DueAt, _, ok = r.date(false)
		default:
			ok = r.skip()
		}
		if !ok {
			return false
		}
	}
	return hasAt && hasStatus
}

// delivery reads the data of a delivery request; the caller checks dossier_code against the
// subject.
func (r *reader) delivery() *DeliveryRequest {
	if !r.open('{') {
		return nil
	}
	d := &DeliveryRequest{}
	var hasCode, hasKind, hasRecipient, hasService bool
	for i := 0; ; i++ {
		key, done, ok := r.member(i)
		if !ok {
			return nil
		}
		if done {
			break
		}
		switch string(key) {
		case "dossier_code":
			d.DossierCode, hasCode, ok = r.code(64, true)
		case "kind":
			d.Kind, hasKind, ok = r.text(32, true)
			ok = ok && (!hasKind || deliveryKinds[d.Kind])
		case "recipient":
			var isNull bool
			isNull, ok = r.nullOr('{')
			d.Recipient, hasRecipient = Recipient{}, false
			if ok && !isNull {
				ok = r.recipient(&d.Recipient)
				hasRecipient = true
			}
		case "service":
			d.Service, hasService, ok = r.code(16, true)
			ok = ok && (!hasService || postalServices[d.Service])
		case "cod_amount":
			d.CODAmount, _, ok = r.integer(0, 1e11)
		case "weight_grams":
			d.WeightGrams, _, ok = r.integer(1, 100000)
		case "note":
			d.Note, _, ok = r.text(500, false)
		default:
			ok = r.skip()
		}
		if !ok {
			return nil
		}
	}
	if !hasCode || !hasKind || !hasRecipient || !hasService {
		return nil
	}
	return d
}

func (r *reader) recipient(rc *Recipient) bool {
	if !r.open('{') {
		return false
	}
	var hasName, hasPhone, hasAddress, hasProvince, hasCommune bool
	for i := 0; ; i++ {
		key, done, ok := r.member(i)
		if !ok {
			return false
		}
		if done {
			break
		}
		switch string(key) {
		case "name":
			rc.Name, hasName, ok = r.text(200, true)
		case "phone":
			rc.Phone, hasPhone, ok = r.text(20, true)
			ok = ok && (!hasPhone || IsVietnamesePhone(rc.Phone))
		case "address":
			rc.Address, hasAddress, ok = r.text(500, true)
		case "province_code":
			rc.ProvinceCode, hasProvince, ok = r.code(8, true)
		case "commune_code":
			rc.CommuneCode, hasCommune, ok = r.code(8, true)
		case "district_code":
			rc.DistrictCode, _, ok = r.code(8, false)
		default:
			ok = r.skip()
		}
		if !ok {
			return false
		}
	}
	return hasName && hasPhone && hasAddress && hasProvince && hasCommune
}
