package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/egov-vn/gateway/connectors/portal"
)

// parseWalk is Parse done field by field: each object is read into a map of raw values and each
// value checked on its own, so that every bad field is named. It is what defines the contract;
// the one-pass decoder (decode.go) accepts only what it accepts.
func parseWalk(raw json.RawMessage, prefix string) (*Event, error) {
	var errs FieldErrors
	ev, ok := newObject(prefix, raw, &errs)
	if !ok {
		return nil, errs
	}
	e := &Event{}
	if sv := ev.str("specversion", true, 8); sv != "" && sv != "1.0" {
		errs.add(ev.name("specversion"), `must be "1.0"`)
	}
	e.ID = ev.str("id", true, 128)
	e.Source = ev.str("source", true, 256)
	if e.Source != "" {
		if _, err := url.Parse(e.Source); err != nil {
			errs.add(ev.name("source"), "must be a URI reference")
		}
	}
	e.Type = ev.str("type", true, 128)
	switch e.Type {
	case "", TypeDossierStatusChanged, TypeDeliveryRequested:
	default:
		errs.add(ev.name("type"), "unknown type; accepted: %s, %s", TypeDossierStatusChanged, TypeDeliveryRequested)
	}
	e.Subject = ev.code("subject", true, 64)
	if ev.has("time") {
		if s := ev.str("time", false, 40); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				errs.add(ev.name("time"), "must be an RFC 3339 timestamp")
			}
			e.Time = t
		}
	}
	if ct := ev.str("datacontenttype", false, 64); ct != "" && ct != "application/json" {
		errs.add(ev.name("datacontenttype"), `must be "application/json" when present`)
	}
	if ev.has("data_base64") {
		errs.add(ev.name("data_base64"), "is not accepted; send data as JSON")
	}
	if !ev.has("data") {
		errs.add(ev.name("data"), "is required")
	} else {
		data, ok := newObject(ev.name("data"), ev.fields["data"], &errs)
		if ok {
			switch e.Type {
			case TypeDossierStatusChanged:
				e.StatusChanged = parseStatusChanged(data, e.Subject)
			case TypeDeliveryRequested:
				e.Delivery = parseDelivery(data, e.Subject)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	// newObject's json.Unmarshal has already checked the whole of raw is valid JSON.
	e.Raw = raw
	return e, nil
}

func parseStatusChanged(data object, subject string) *StatusChanged {
	sc := &StatusChanged{}
	sc.Version, _ = data.integer("version", true, 0, 1<<53)
	if !data.has("dossier") {
		data.errs.add(data.name("dossier"), "is required")
	} else if d, ok := newObject(data.name("dossier"), data.fields["dossier"], data.errs); ok {
		sc.Dossier = parseDossier(d, subject)
	}
	if data.has("step") {
		if s, ok := newObject(data.name("step"), data.fields["step"], data.errs); ok {
			step := parseStep(s, subject)
			sc.Step = &step
		}
	}
	return sc
}

func parseDossier(d object, subject string) portal.Dossier {
	var out portal.Dossier
	out.Code = d.code("MaHoSo", true, 64)
	if out.Code != "" && subject != "" && out.Code != subject {
		d.errs.add(d.name("MaHoSo"), "must equal the event's subject")
	}
	out.ProcedureCode = d.code("MaTTHC", true, 64)
	out.ProcedureName = d.str("TenTTHC", false, 1000)
	out.FieldCode = d.code("MaLinhVuc", false, 64)
	out.FieldName = d.str("TenLinhVuc", false, 500)
	out.Owner = d.str("ChuHoSo", false, 300)
	if k, ok := d.integer("LoaiDoiTuong", true, 1, 2); ok {
		out.OwnerKind = int(k)
	}
	out.OwnerID = d.str("MaDoiTuong", false, 64)
	out.Phone = d.str("SoDienThoai", false, 32)
	out.Email = d.str("Email", false, 254)
	out.Summary = d.str("TrichYeuHoSo", false, 2000)
	out.ReceivedAt = d.date("NgayTiepNhan", false)
	out.DueAt = d.date("NgayHenTra", false)
	out.ReturnedAt = d.date("NgayTra", false)
	if st, ok := d.integer("TrangThaiHoSo", true, 1, 10); ok {
		out.Status = portal.Status(st)
	}
	if h, ok := d.integer("HinhThuc", false, 0, 1); ok {
		out.Channel = int(h)
	}
	out.Agency = d.str("DonViXuLy", false, 300)
	for i, raw := range d.array("DanhSachLePhi") {
		f, ok := newObject(fmt.Sprintf("%s[%d]", d.name("DanhSachLePhi"), i), raw, d.errs)
		if !ok {
			continue
		}
		fee := portal.Fee{
			Name:          f.str("TenPhiLePhi", false, 500),
			Code:          f.code("MaPhiLePhi", false, 64),
			PaymentMethod: f.str("HinhThucThu", false, 64),
			Kind:          f.str("LoaiPhiLePhi", false, 64),
		}
		fee.Amount, _ = f.integer("Gia", true, 0, 1e13)
		out.Fees = append(out.Fees, fee)
	}
	out.Documents = parseDocuments(d, "TaiLieuNop")
	out.Results = parseDocuments(d, "DanhSachGiayToKetQua")
	return out
}

func parseDocuments(d object, field string) []portal.Document {
	var out []portal.Document
	for i, raw := range d.array(field) {
		o, ok := newObject(fmt.Sprintf("%s[%d]", d.name(field), i), raw, d.errs)
		if !ok {
			continue
		}
		doc := portal.Document{
			Code: o.str("MaGiayTo", false, 128),
			Name: o.str("TenGiayTo", false, 500),
			URL:  o.str("DuongDanTapTin", false, 2000),
		}
		if doc.URL != "" {
			if u, err := url.Parse(doc.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
				d.errs.add(o.name("DuongDanTapTin"), "must be an http(s) URL")
			}
		}
		out = append(out, doc)
	}
	return out
}

func parseStep(s object, subject string) portal.Step {
	var out portal.Step
	out.DossierCode = s.code("MaHoSo", false, 64)
	if out.DossierCode == "" {
		out.DossierCode = subject
	} else if subject != "" && out.DossierCode != subject {
		s.errs.add(s.name("MaHoSo"), "must equal the event's subject")
	}
	out.Handler = s.str("NguoiXuLy", false, 300)
	out.Title = s.str("ChucDanh", false, 300)
	out.At = s.date("ThoiDiemXuLy", true)
	out.Department = s.str("PhongBanXuLy", false, 300)
	out.Content = s.str("NoiDungXuLy", false, 2000)
	if st, ok := s.integer("TrangThai", true, 1, 10); ok {
		out.Status = portal.Status(st)
	}
	out.StartedAt = s.date("NgayBatDau", false)
	out.DueAt = s.date("NgayKetThucTheoQuyDinh", false)
	return out
}

func parseDelivery(d object, subject string) *DeliveryRequest {
	out := &DeliveryRequest{}
	out.DossierCode = d.code("dossier_code", true, 64)
	if out.DossierCode != "" && subject != "" && out.DossierCode != subject {
		d.errs.add(d.name("dossier_code"), "must equal the event's subject")
	}
	out.Kind = d.str("kind", true, 32)
	if out.Kind != "" && !deliveryKinds[out.Kind] {
		d.errs.add(d.name("kind"), `must be "deliver_result" or "collect_dossier"`)
	}
	if !d.has("recipient") {
		d.errs.add(d.name("recipient"), "is required")
	} else if r, ok := newObject(d.name("recipient"), d.fields["recipient"], d.errs); ok {
		out.Recipient = Recipient{
			Name:         r.str("name", true, 200),
			Phone:        r.str("phone", true, 20),
			Address:      r.str("address", true, 500),
			ProvinceCode: r.code("province_code", true, 8),
			CommuneCode:  r.code("commune_code", true, 8),
			DistrictCode: r.code("district_code", false, 8),
		}
		if out.Recipient.Phone != "" && !IsVietnamesePhone(out.Recipient.Phone) {
			d.errs.add(r.name("phone"), "must be a Vietnamese phone number (0xxxxxxxxx or +84xxxxxxxxx)")
		}
	}
	out.Service = d.code("service", true, 16)
	if out.Service != "" && !postalServices[out.Service] {
		d.errs.add(d.name("service"), "unknown service code; known: CTN001, ETN011, ETN013")
	}
	out.CODAmount, _ = d.integer("cod_amount", false, 0, 1e11)
	out.WeightGrams, _ = d.integer("weight_grams", false, 1, 100000)
	out.Note = d.str("note", false, 500)
	return out
}

// parseBatchWalk is ParseBatch by way of encoding/json and parseWalk.
func parseBatchWalk(raw json.RawMessage) ([]*Event, []error, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, nil, FieldErrors{{Field: "", Message: "a batch must be a JSON array of CloudEvents"}}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, FieldErrors{{Field: "", Message: "a batch must be a JSON array of CloudEvents"}}
	}
	if len(items) == 0 {
		return nil, nil, FieldErrors{{Field: "", Message: "a batch must hold at least one event"}}
	}
	if len(items) > MaxBatch {
		return nil, nil, FieldErrors{{Field: "", Message: fmt.Sprintf("a batch holds at most %d events, got %d", MaxBatch, len(items))}}
	}
	evs := make([]*Event, len(items))
	errs := make([]error, len(items))
	for i, item := range items {
		evs[i], errs[i] = parseWalk(item, fmt.Sprintf("[%d]", i))
	}
	return evs, errs, nil
}
