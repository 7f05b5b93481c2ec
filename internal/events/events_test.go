package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/vntime"
)

const code1 = "000.00.37.H32-251126-0001"

// statusJSON is a complete vn.gov.dossier.status_changed event: every field the contract reads is
// present, with Vietnamese text written as plain UTF-8.
const statusJSON = `{"specversion":"1.0","id":"ev-1","source":"/onestop/langson","type":"vn.gov.dossier.status_changed",` +
	`"subject":"000.00.37.H32-251126-0001","time":"2025-11-26T08:30:00Z","datacontenttype":"application/json",` +
	`"extension":{"nested":[1,2.5e3,true,false,null,"x"]},` +
	`"data":{"version":3,"dossier":{"MaHoSo":"000.00.37.H32-251126-0001","MaTTHC":"1.011442",` +
	`"TenTTHC":"Cấp giấy phép xây dựng","MaLinhVuc":"XD_01","TenLinhVuc":"Xây dựng","ChuHoSo":"Nguyễn Văn A",` +
	`"LoaiDoiTuong":1,"MaDoiTuong":"001099000001","SoDienThoai":"0912345678","Email":"a@example.vn",` +
	`"TrichYeuHoSo":"Đề nghị cấp giấy phép","NgayTiepNhan":"20251126083000","NgayHenTra":"20251210170000",` +
	`"NgayTra":"2025-12-09T10:00:00Z","TrangThaiHoSo":4,"HinhThuc":1,"DonViXuLy":"UBND xã Hoàng Đồng",` +
	`"DanhSachLePhi":[{"TenPhiLePhi":"Lệ phí","MaPhiLePhi":"LP01","HinhThucThu":"online","LoaiPhiLePhi":"1","Gia":50000},` +
	`{"Gia":0}],` +
	`"TaiLieuNop":[{"MaGiayTo":"GT01","TenGiayTo":"Đơn","DuongDanTapTin":"https://files.example.vn/a.pdf"}],` +
	`"DanhSachGiayToKetQua":[{"MaGiayTo":"KQ01","TenGiayTo":"Giấy phép","DuongDanTapTin":"http://files.example.vn/kq.pdf"}]},` +
	`"step":{"MaHoSo":"000.00.37.H32-251126-0001","NguoiXuLy":"Trần Thị B","ChucDanh":"Chuyên viên",` +
	`"ThoiDiemXuLy":"20251126090000","PhongBanXuLy":"Một cửa","NoiDungXuLy":"Tiếp nhận","TrangThai":4,` +
	`"NgayBatDau":"20251126083000","NgayKetThucTheoQuyDinh":"20251210170000"}}}`

// minimalStatusJSON holds only the required fields of a status change.
const minimalStatusJSON = `{"specversion":"1.0","id":"ev-2","source":"/onestop/langson","type":"vn.gov.dossier.status_changed",` +
	`"subject":"000.00.37.H32-251126-0001","data":{"version":0,"dossier":{"MaHoSo":"000.00.37.H32-251126-0001",` +
	`"MaTTHC":"1.011442","LoaiDoiTuong":2,"TrangThaiHoSo":1}}}`

// deliveryJSON is a complete vn.gov.delivery.requested event.
const deliveryJSON = `{"specversion":"1.0","id":"dl-1","source":"https://onestop.langson.gov.vn/","type":"vn.gov.delivery.requested",` +
	`"subject":"000.00.37.H32-251126-0001","data":{"dossier_code":"000.00.37.H32-251126-0001","kind":"deliver_result",` +
	`"recipient":{"name":"Nguyễn Văn A","phone":"0912345678","address":"Số 1, Hoàng Đồng","province_code":"20",` +
	`"commune_code":"06100","district_code":"178"},"service":"CTN001","cod_amount":50000,"weight_grams":300,"note":"Gọi trước"}}`

// sub replaces the one occurrence of old in s with new, failing the test when old is not there
// exactly once, so that a typo in a case cannot leave the input unchanged.
func sub(t testing.TB, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := strings.Count(s, pairs[i]); n != 1 {
			t.Fatalf("%q occurs %d times in the input", pairs[i], n)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func fe(pairs ...string) FieldErrors {
	var out FieldErrors
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, FieldError{Field: pairs[i], Message: pairs[i+1]})
	}
	return out
}

func wantStatusEvent() *Event {
	return &Event{
		ID:      "ev-1",
		Source:  "/onestop/langson",
		Type:    TypeDossierStatusChanged,
		Subject: code1,
		Time:    time.Date(2025, 11, 26, 8, 30, 0, 0, time.UTC),
		Raw:     json.RawMessage(statusJSON),
		StatusChanged: &StatusChanged{
			Version: 3,
			Dossier: portal.Dossier{
				Code:          code1,
				ProcedureCode: "1.011442",
				ProcedureName: "Cấp giấy phép xây dựng",
				FieldCode:     "XD_01",
				FieldName:     "Xây dựng",
				Owner:         "Nguyễn Văn A",
				OwnerKind:     1,
				OwnerID:       "001099000001",
				Phone:         "0912345678",
				Email:         "a@example.vn",
				Summary:       "Đề nghị cấp giấy phép",
				ReceivedAt:    time.Date(2025, 11, 26, 8, 30, 0, 0, vntime.Zone),
				DueAt:         time.Date(2025, 12, 10, 17, 0, 0, 0, vntime.Zone),
				ReturnedAt:    time.Date(2025, 12, 9, 10, 0, 0, 0, time.UTC),
				Status:        portal.StatusProcessing,
				Channel:       1,
				Agency:        "UBND xã Hoàng Đồng",
				Fees: []portal.Fee{
					{Name: "Lệ phí", Code: "LP01", PaymentMethod: "online", Kind: "1", Amount: 50000},
					{},
				},
				Documents: []portal.Document{{Code: "GT01", Name: "Đơn", URL: "https://files.example.vn/a.pdf"}},
				Results:   []portal.Document{{Code: "KQ01", Name: "Giấy phép", URL: "http://files.example.vn/kq.pdf"}},
			},
			Step: &portal.Step{
				DossierCode: code1,
				Handler:     "Trần Thị B",
				Title:       "Chuyên viên",
				At:          time.Date(2025, 11, 26, 9, 0, 0, 0, vntime.Zone),
				Department:  "Một cửa",
				Content:     "Tiếp nhận",
				Status:      portal.StatusProcessing,
				StartedAt:   time.Date(2025, 11, 26, 8, 30, 0, 0, vntime.Zone),
				DueAt:       time.Date(2025, 12, 10, 17, 0, 0, 0, vntime.Zone),
			},
		},
	}
}

func wantDeliveryEvent() *Event {
	return &Event{
		ID:      "dl-1",
		Source:  "https://onestop.langson.gov.vn/",
		Type:    TypeDeliveryRequested,
		Subject: code1,
		Raw:     json.RawMessage(deliveryJSON),
		Delivery: &DeliveryRequest{
			DossierCode: code1,
			Kind:        "deliver_result",
			Recipient: Recipient{
				Name: "Nguyễn Văn A", Phone: "0912345678", Address: "Số 1, Hoàng Đồng",
				ProvinceCode: "20", CommuneCode: "06100", DistrictCode: "178",
			},
			Service:     "CTN001",
			CODAmount:   50000,
			WeightGrams: 300,
			Note:        "Gọi trước",
		},
	}
}

// sameEvent reports whether two events are equal, times compared as instants with the same UTC
// offset (time.Parse builds a new zone value for each offset it reads).
func sameEvent(a, b *Event) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(normalised(a), normalised(b))
}

func normalised(e *Event) Event {
	out := *e
	out.Time = normTime(e.Time)
	if e.StatusChanged != nil {
		sc := *e.StatusChanged
		d := &sc.Dossier
		d.ReceivedAt, d.DueAt, d.ReturnedAt = normTime(d.ReceivedAt), normTime(d.DueAt), normTime(d.ReturnedAt)
		if sc.Step != nil {
			st := *sc.Step
			st.At, st.StartedAt, st.DueAt = normTime(st.At), normTime(st.StartedAt), normTime(st.DueAt)
			sc.Step = &st
		}
		out.StatusChanged = &sc
	}
	return out
}

// normTime keeps the instant and the UTC offset but not the identity of the zone value.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	_, off := t.Zone()
	return t.In(time.FixedZone("", off))
}

type validCase struct {
	name string
	in   string
	want func(t *testing.T) *Event
}

// walkOnly names the valid events that the one-pass decoder leaves to the walk: a duplicate key
// whose earlier value breaks a rule.
var walkOnly = map[string]bool{"duplicate keys: the last one wins": true, "a later null removes a field": true}

// validCases are valid events and what they decode to, including duplicate keys (the last one
// wins), escapes, and Unicode that encoding/json coerces to U+FFFD.
func validCases(t testing.TB) []validCase {
	return []validCase{
		{"status change, every field", statusJSON, func(*testing.T) *Event { return wantStatusEvent() }},
		{"delivery request, every field", deliveryJSON, func(*testing.T) *Event { return wantDeliveryEvent() }},
		{"status change, required fields only", minimalStatusJSON, func(*testing.T) *Event {
			return &Event{
				ID: "ev-2", Source: "/onestop/langson", Type: TypeDossierStatusChanged, Subject: code1,
				Raw: json.RawMessage(minimalStatusJSON),
				StatusChanged: &StatusChanged{Dossier: portal.Dossier{
					Code: code1, ProcedureCode: "1.011442", OwnerKind: 2, Status: portal.StatusSubmitted,
				}},
			}
		}},
		{"JSON whitespace and Unicode spaces around the event", " \t\r\n\u00a0\u3000\f" + statusJSON + "\n\u2028\v ", func(*testing.T) *Event {
			return wantStatusEvent()
		}},
		{"JSON whitespace inside the event", strings.NewReplacer(`":`, "\" :\n", `,"`, " ,\t\"", `{`, "{ ", `}`, " }\r\n").Replace(statusJSON), func(t *testing.T) *Event {
			e := wantStatusEvent()
			return e
		}},
		{"escaped strings are decoded", sub(t, statusJSON,
			`"ChuHoSo":"Nguyễn Văn A"`, `"ChuHoSo":"Nguy\u1ec5n V\u0103n A \ud83d\ude00 \"q\" \\ \/"`,
			`"id":"ev-1"`, `"\u0069d":"ev\u002d1"`), func(t *testing.T) *Event {
			e := wantStatusEvent()
			e.StatusChanged.Dossier.Owner = "Nguyễn Văn A 😀 \"q\" \\ /"
			return e
		}},
		{"lone surrogates and invalid UTF-8 become U+FFFD", sub(t, statusJSON,
			`"ChuHoSo":"Nguyễn Văn A"`, "\"ChuHoSo\":\"a\\ud800b\\udc00c\\ud800\\u0041 \xff\xc3 \xed\xa0\x80\"",
			`"TenLinhVuc":"Xây dựng"`, "\"TenLinhVuc\":\"\\ud83d\\ud83d\""), func(t *testing.T) *Event {
			e := wantStatusEvent()
			e.StatusChanged.Dossier.Owner = "a\ufffdb\ufffdc\ufffdA \ufffd\ufffd \ufffd\ufffd\ufffd"
			e.StatusChanged.Dossier.FieldName = "\ufffd\ufffd"
			return e
		}},
		{"duplicate keys: the last one wins", sub(t, statusJSON,
			`"TrangThaiHoSo":4`, `"TrangThaiHoSo":99,"TrangThaiHoSo":"x","TrangThaiHoSo":5`,
			`"id":"ev-1"`, `"id":7,"id":"ev-1"`,
			`"step":{`, `"step":"no","step":null,"step":{"TrangThai":0},"step":{`,
			`"time":"2025-11-26T08:30:00Z"`, `"time":"bad","time":"2025-11-26T08:30:00Z"`), func(t *testing.T) *Event {
			e := wantStatusEvent()
			e.StatusChanged.Dossier.Status = 5
			return e
		}},
		{"a later null removes a field", sub(t, statusJSON,
			`"HinhThuc":1`, `"HinhThuc":1,"HinhThuc":null`,
			`"datacontenttype":"application/json"`, `"datacontenttype":"text/plain","datacontenttype":null`), func(t *testing.T) *Event {
			e := wantStatusEvent()
			e.StatusChanged.Dossier.Channel = 0
			return e
		}},
		{"null optional fields", sub(t, minimalStatusJSON,
			`"MaTTHC"`, `"TenTTHC":null,"MaLinhVuc":null,"HinhThuc":null,"NgayTra":null,"DanhSachLePhi":null,"TaiLieuNop":null,"MaTTHC"`,
			`"data":{`, `"time":null,"datacontenttype":null,"data_base64":null,"data":{"step":null,`), func(t *testing.T) *Event {
			return &Event{
				ID: "ev-2", Source: "/onestop/langson", Type: TypeDossierStatusChanged, Subject: code1,
				StatusChanged: &StatusChanged{Dossier: portal.Dossier{
					Code: code1, ProcedureCode: "1.011442", OwnerKind: 2, Status: portal.StatusSubmitted,
				}},
			}
		}},
		{"empty optional strings and arrays", sub(t, statusJSON,
			`"TenTTHC":"Cấp giấy phép xây dựng"`, `"TenTTHC":""`,
			`"MaLinhVuc":"XD_01"`, `"MaLinhVuc":""`,
			`"NgayTra":"2025-12-09T10:00:00Z"`, `"NgayTra":""`,
			`"time":"2025-11-26T08:30:00Z"`, `"time":""`,
			`"datacontenttype":"application/json"`, `"datacontenttype":""`,
			`"DuongDanTapTin":"https://files.example.vn/a.pdf"`, `"DuongDanTapTin":""`,
			`"DanhSachLePhi":[{"TenPhiLePhi":"Lệ phí","MaPhiLePhi":"LP01","HinhThucThu":"online","LoaiPhiLePhi":"1","Gia":50000},{"Gia":0}]`, `"DanhSachLePhi":[]`,
			`"DanhSachGiayToKetQua":[{"MaGiayTo":"KQ01","TenGiayTo":"Giấy phép","DuongDanTapTin":"http://files.example.vn/kq.pdf"}]`, `"DanhSachGiayToKetQua":[ ]`), func(t *testing.T) *Event {
			e := wantStatusEvent()
			e.Time = time.Time{}
			d := &e.StatusChanged.Dossier
			d.ProcedureName, d.FieldCode, d.ReturnedAt = "", "", time.Time{}
			d.Fees, d.Results = nil, nil
			d.Documents[0].URL = ""
			return e
		}},
		{"optional strings of spaces are kept", sub(t, statusJSON,
			`"TenTTHC":"Cấp giấy phép xây dựng"`, `"TenTTHC":"  "`), func(t *testing.T) *Event {
			e := wantStatusEvent()
			e.StatusChanged.Dossier.ProcedureName = "  "
			return e
		}},
		{"unknown fields and case variants are ignored", sub(t, statusJSON,
			`"id":"ev-1"`, `"ID":5,"Id":{"a":[]},"id":"ev-1","iD":null`,
			`"MaTTHC":"1.011442"`, `"MaTTHC":"1.011442","mathc":[[[]]],"TRANGTHAIHOSO":0`), func(t *testing.T) *Event {
			return wantStatusEvent()
		}},
		{"step without MaHoSo takes the subject", sub(t, statusJSON,
			`"step":{"MaHoSo":"000.00.37.H32-251126-0001",`, `"step":{"MaHoSo":"",`), func(t *testing.T) *Event {
			return wantStatusEvent()
		}},
		{"empty step", sub(t, minimalStatusJSON, `"data":{`, `"data":{"step":{"ThoiDiemXuLy":"2025-11-26T09:00:00+07:00","TrangThai":10},`), func(t *testing.T) *Event {
			e := &Event{
				ID: "ev-2", Source: "/onestop/langson", Type: TypeDossierStatusChanged, Subject: code1,
				StatusChanged: &StatusChanged{Dossier: portal.Dossier{
					Code: code1, ProcedureCode: "1.011442", OwnerKind: 2, Status: portal.StatusSubmitted,
				}},
			}
			e.StatusChanged.Step = &portal.Step{DossierCode: code1, At: time.Date(2025, 11, 26, 9, 0, 0, 0, vntime.Zone), Status: 10}
			return e
		}},
		{"longest values", sub(t, statusJSON,
			`"id":"ev-1"`, `"id":"`+strings.Repeat("ế", 128)+`"`,
			`"specversion":"1.0"`, `"specversion":"1.0"`,
			`"MaTTHC":"1.011442"`, `"MaTTHC":"`+strings.Repeat("9", 64)+`"`,
			`"version":3`, `"version":9007199254740992`,
			`"Gia":50000`, `"Gia":10000000000000`,
			`"HinhThuc":1`, `"HinhThuc":-0`), func(t *testing.T) *Event {
			e := wantStatusEvent()
			e.ID = strings.Repeat("ế", 128)
			e.StatusChanged.Version = 1 << 53
			e.StatusChanged.Dossier.ProcedureCode = strings.Repeat("9", 64)
			e.StatusChanged.Dossier.Fees[0].Amount = 1e13
			e.StatusChanged.Dossier.Channel = 0
			return e
		}},
		{"C1 controls and U+2028 are not control characters here", sub(t, statusJSON,
			`"ChuHoSo":"Nguyễn Văn A"`, "\"ChuHoSo\":\"a\u0085b\u2028c\\u009f\""), func(t *testing.T) *Event {
			e := wantStatusEvent()
			e.StatusChanged.Dossier.Owner = "a\u0085b\u2028c\u009f"
			return e
		}},
		{"delivery, required fields only", `{"specversion":"1.0","id":"dl-2","source":"x","type":"vn.gov.delivery.requested",` +
			`"subject":"A-1","data":{"dossier_code":"A-1","kind":"collect_dossier","recipient":{"name":"B","phone":"+84912345678",` +
			`"address":"C","province_code":"01","commune_code":"00001"},"service":"ETN013","cod_amount":0}}`, func(t *testing.T) *Event {
			return &Event{
				ID: "dl-2", Source: "x", Type: TypeDeliveryRequested, Subject: "A-1",
				Delivery: &DeliveryRequest{
					DossierCode: "A-1", Kind: "collect_dossier", Service: "ETN013",
					Recipient: Recipient{Name: "B", Phone: "+84912345678", Address: "C", ProvinceCode: "01", CommuneCode: "00001"},
				},
			}
		}},
	}
}

// TestParseValid pins what valid events decode to, and that the one-pass decoder takes them.
func TestParseValid(t *testing.T) {
	t.Parallel()
	for _, tt := range validCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(json.RawMessage(tt.in), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if fast := parseFast([]byte(tt.in)); (fast != nil) == walkOnly[tt.name] {
				t.Errorf("the one-pass decoder took the event: %v, want %v", fast != nil, !walkOnly[tt.name])
			}
			want := tt.want(t)
			want.Raw = json.RawMessage(tt.in) // the event exactly as received, spaces around it too
			if !sameEvent(got, want) {
				t.Fatalf("Parse =\n%+v\nwant\n%+v", describe(got), describe(want))
			}
		})
	}
}

func describe(e *Event) string {
	b, _ := json.MarshalIndent(struct {
		*Event
		Raw string
	}{e, string(e.Raw)}, "", "  ")
	return string(b)
}

type invalidCase struct {
	name   string
	in     string
	prefix string
	want   FieldErrors // nil: the event is valid
}

// invalidCases are bad events with every field they are refused for, in order, with the message.
func invalidCases(t testing.TB) []invalidCase {
	const (
		required   = "is required"
		notString  = "must be a string"
		empty      = "must not be empty"
		controls   = "must not contain control characters"
		notCode    = "must contain only ASCII letters, digits, '.', '_' and '-'"
		whole      = "must be a whole number"
		fraction   = "must be a whole number (no fraction or exponent)"
		notDate    = "must be a date as yyyyMMddHHmmss (Asia/Ho_Chi_Minh) or RFC 3339"
		notObject  = "must be a JSON object"
		notArray   = "must be an array"
		notSubject = "must equal the event's subject"
		notURL     = "must be an http(s) URL"
	)
	return []invalidCase{
		// The envelope.
		{"empty input", ``, "", fe("", notObject)},
		{"spaces only", " \n\u00a0", "", fe("", notObject)},
		{"array", `[` + statusJSON + `]`, "", fe("", notObject)},
		{"string", `"x"`, "", fe("", notObject)},
		{"null", `null`, "", fe("", notObject)},
		{"malformed JSON", `{"specversion":"1.0",`, "", fe("", notObject)},
		{"malformed JSON deep inside", sub(t, statusJSON, `"Gia":50000`, `"Gia":50000,`), "", fe("", notObject)},
		{"malformed JSON in an unknown field", sub(t, statusJSON, `[1,2.5e3,`, `[1,2.5e,`), "", fe("", notObject)},
		{"bad escape in an unknown field", sub(t, statusJSON, `"x"]`, `"\x"]`), "", fe("", notObject)},
		{"raw control character in a string", sub(t, statusJSON, `"Nguyễn Văn A"`, "\"Nguyễn\tVăn A\""), "", fe("", notObject)},
		{"trailing data", statusJSON + `{}`, "", fe("", notObject)},
		{"trailing comma after the event", statusJSON + `,`, "", fe("", notObject)},
		{"two events", statusJSON + " " + statusJSON, "", fe("", notObject)},
		{"Unicode space between two values", statusJSON + "\u00a0x", "", fe("", notObject)},
		{"leading zero", sub(t, statusJSON, `"version":3`, `"version":03`), "", fe("", notObject)},
		{"bare word", sub(t, statusJSON, `"version":3`, `"version":three`), "", fe("", notObject)},
		{"prefix names the position", `{}`, "[7]", fe(
			"[7].specversion", required, "[7].id", required, "[7].source", required, "[7].type", required,
			"[7].subject", required, "[7].data", required)},
		{"not an object, with prefix", `1`, "[2]", fe("[2]", notObject)},
		{"empty object", `{}`, "", fe("specversion", required, "id", required, "source", required,
			"type", required, "subject", required, "data", required)},
		{"every envelope field null", `{"specversion":null,"id":null,"source":null,"type":null,"subject":null,"time":null,"data":null}`, "",
			fe("specversion", required, "id", required, "source", required, "type", required, "subject", required, "data", required)},
		{"every envelope field of the wrong type", `{"specversion":1,"id":true,"source":[],"type":{},"subject":2,"time":3,"datacontenttype":4,"data":5}`, "",
			fe("specversion", notString, "id", notString, "source", notString, "type", notString, "subject", notString,
				"time", notString, "datacontenttype", notString, "data", notObject)},
		{"wrong specversion", sub(t, statusJSON, `"specversion":"1.0"`, `"specversion":"0.3"`), "", fe("specversion", `must be "1.0"`)},
		{"specversion too long", sub(t, statusJSON, `"specversion":"1.0"`, `"specversion":"1.0.0.0.0"`), "", fe("specversion", "must be at most 8 characters")},
		{"blank id", sub(t, statusJSON, `"id":"ev-1"`, `"id":" \u00a0\u3000"`), "", fe("id", empty)},
		{"empty id", sub(t, statusJSON, `"id":"ev-1"`, `"id":""`), "", fe("id", empty)},
		{"id too long", sub(t, statusJSON, `"id":"ev-1"`, `"id":"`+strings.Repeat("ế", 129)+`"`), "", fe("id", "must be at most 128 characters")},
		{"id with a newline", sub(t, statusJSON, `"id":"ev-1"`, `"id":"ev\n1"`), "", fe("id", controls)},
		{"id with DEL", sub(t, statusJSON, `"id":"ev-1"`, "\"id\":\"ev\x7f1\""), "", fe("id", controls)},
		{"id with escaped DEL", sub(t, statusJSON, `"id":"ev-1"`, `"id":"ev\u007f1"`), "", fe("id", controls)},
		{"id with NUL", sub(t, statusJSON, `"id":"ev-1"`, `"id":"ev\u00001"`), "", fe("id", controls)},
		{"source is not a URI", sub(t, statusJSON, `"source":"/onestop/langson"`, `"source":"%zz"`), "", fe("source", "must be a URI reference")},
		{"source with a colon in the first segment", sub(t, statusJSON, `"source":"/onestop/langson"`, `"source":" http://x"`), "", fe("source", "must be a URI reference")},
		{"source too long", sub(t, statusJSON, `"source":"/onestop/langson"`, `"source":"/`+strings.Repeat("a", 256)+`"`), "", fe("source", "must be at most 256 characters")},
		{"unknown type", sub(t, statusJSON, `"type":"vn.gov.dossier.status_changed"`, `"type":"vn.gov.dossier.deleted"`), "",
			fe("type", "unknown type; accepted: vn.gov.dossier.status_changed, vn.gov.delivery.requested")},
		{"type in another case", sub(t, statusJSON, `"type":"vn.gov.dossier.status_changed"`, `"type":"VN.GOV.DOSSIER.STATUS_CHANGED"`), "",
			fe("type", "unknown type; accepted: vn.gov.dossier.status_changed, vn.gov.delivery.requested")},
		{"unknown type with bad data is judged on the envelope only", sub(t, statusJSON,
			`"type":"vn.gov.dossier.status_changed"`, `"type":"x"`, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":40`), "",
			fe("type", "unknown type; accepted: vn.gov.dossier.status_changed, vn.gov.delivery.requested")},
		{"missing type with bad data", sub(t, statusJSON, `"type":"vn.gov.dossier.status_changed",`, ``, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":40`), "",
			fe("type", required)},
		{"subject with full-width digits", sub(t, statusJSON, `"subject":"000.00.37.H32-251126-0001"`, `"subject":"000.００.37"`), "", fe("subject", notCode)},
		{"subject with a space", sub(t, statusJSON, `"subject":"000.00.37.H32-251126-0001"`, `"subject":"A 1"`), "", fe("subject", notCode)},
		{"subject too long", sub(t, statusJSON, `"subject":"000.00.37.H32-251126-0001"`, `"subject":"`+strings.Repeat("A", 65)+`"`), "", fe("subject", "must be at most 64 characters")},
		{"bad time", sub(t, statusJSON, `"time":"2025-11-26T08:30:00Z"`, `"time":"2025-11-26 08:30:00"`), "", fe("time", "must be an RFC 3339 timestamp")},
		{"portal stamp as time", sub(t, statusJSON, `"time":"2025-11-26T08:30:00Z"`, `"time":"20251126083000"`), "", fe("time", "must be an RFC 3339 timestamp")},
		{"time too long", sub(t, statusJSON, `"time":"2025-11-26T08:30:00Z"`, `"time":"2025-11-26T08:30:00.000000000000000000000Z"`), "", fe("time", "must be at most 40 characters")},
		{"time of spaces", sub(t, statusJSON, `"time":"2025-11-26T08:30:00Z"`, `"time":" "`), "", fe("time", "must be an RFC 3339 timestamp")},
		{"other content type", sub(t, statusJSON, `"datacontenttype":"application/json"`, `"datacontenttype":"application/xml"`), "", fe("datacontenttype", `must be "application/json" when present`)},
		{"data_base64 instead of data", sub(t, statusJSON, `"data":{`, `"data_base64":"e30=","x":{`), "", fe("data_base64", "is not accepted; send data as JSON", "data", required)},
		{"data_base64 besides data", sub(t, statusJSON, `"data":{`, `"data_base64":"","data":{`), "", fe("data_base64", "is not accepted; send data as JSON")},
		{"data as a string", sub(t, minimalStatusJSON, `"data":{"version":0,"dossier":{"MaHoSo":"000.00.37.H32-251126-0001","MaTTHC":"1.011442","LoaiDoiTuong":2,"TrangThaiHoSo":1}}`, `"data":"{}"`), "", fe("data", notObject)},
		{"data as an array", sub(t, minimalStatusJSON, `"data":{"version":0,"dossier":{"MaHoSo":"000.00.37.H32-251126-0001","MaTTHC":"1.011442","LoaiDoiTuong":2,"TrangThaiHoSo":1}}`, `"data":[]`), "", fe("data", notObject)},
		{"empty data", sub(t, minimalStatusJSON, `"data":{"version":0,"dossier":{"MaHoSo":"000.00.37.H32-251126-0001","MaTTHC":"1.011442","LoaiDoiTuong":2,"TrangThaiHoSo":1}}`, `"data":{}`), "", fe("data.version", required, "data.dossier", required)},

		// Status change data.
		{"negative version", sub(t, statusJSON, `"version":3`, `"version":-1`), "", fe("data.version", "must be within 0..9007199254740992")},
		{"version above 2^53", sub(t, statusJSON, `"version":3`, `"version":9007199254740993`), "", fe("data.version", "must be within 0..9007199254740992")},
		{"version beyond int64", sub(t, statusJSON, `"version":3`, `"version":92233720368547758070`), "", fe("data.version", "must be a whole number within 0..9007199254740992")},
		{"version below int64", sub(t, statusJSON, `"version":3`, `"version":-92233720368547758070`), "", fe("data.version", "must be a whole number within 0..9007199254740992")},
		{"fractional version", sub(t, statusJSON, `"version":3`, `"version":1.5`), "", fe("data.version", fraction)},
		{"version 3.0", sub(t, statusJSON, `"version":3`, `"version":3.0`), "", fe("data.version", fraction)},
		{"version with exponent", sub(t, statusJSON, `"version":3`, `"version":3e0`), "", fe("data.version", fraction)},
		{"version with capital exponent", sub(t, statusJSON, `"version":3`, `"version":3E+1`), "", fe("data.version", fraction)},
		{"version as a string", sub(t, statusJSON, `"version":3`, `"version":"3"`), "", fe("data.version", whole)},
		{"version as a boolean", sub(t, statusJSON, `"version":3`, `"version":true`), "", fe("data.version", whole)},
		{"version as an object", sub(t, statusJSON, `"version":3`, `"version":{}`), "", fe("data.version", whole)},
		{"missing version", sub(t, statusJSON, `"version":3,`, ``), "", fe("data.version", required)},
		{"dossier null", sub(t, minimalStatusJSON, `"dossier":{"MaHoSo":"000.00.37.H32-251126-0001","MaTTHC":"1.011442","LoaiDoiTuong":2,"TrangThaiHoSo":1}`, `"dossier":null`), "", fe("data.dossier", required)},
		{"dossier as an array", sub(t, minimalStatusJSON, `"dossier":{"MaHoSo":"000.00.37.H32-251126-0001","MaTTHC":"1.011442","LoaiDoiTuong":2,"TrangThaiHoSo":1}`, `"dossier":[{}]`), "", fe("data.dossier", notObject)},
		{"empty dossier", sub(t, minimalStatusJSON, `"dossier":{"MaHoSo":"000.00.37.H32-251126-0001","MaTTHC":"1.011442","LoaiDoiTuong":2,"TrangThaiHoSo":1}`, `"dossier":{}`), "",
			fe("data.dossier.MaHoSo", required, "data.dossier.MaTTHC", required, "data.dossier.LoaiDoiTuong", required, "data.dossier.TrangThaiHoSo", required)},
		{"subject differs from MaHoSo", sub(t, statusJSON, `"MaHoSo":"000.00.37.H32-251126-0001","MaTTHC"`, `"MaHoSo":"OTHER-1","MaTTHC"`), "", fe("data.dossier.MaHoSo", notSubject)},
		{"MaHoSo with a zero-width space", sub(t, statusJSON, `"MaHoSo":"000.00.37.H32-251126-0001","MaTTHC"`, `"MaHoSo":"000.00.37.H32-251126-0001\u200b","MaTTHC"`), "", fe("data.dossier.MaHoSo", notCode)},
		{"zero-width space in MaTTHC", sub(t, statusJSON, `"MaTTHC":"1.011442"`, `"MaTTHC":"1.0114`+"\u200b"+`42"`), "", fe("data.dossier.MaTTHC", notCode)},
		{"combining mark in MaTTHC", sub(t, statusJSON, `"MaTTHC":"1.011442"`, `"MaTTHC":"1.011442\u0301"`), "", fe("data.dossier.MaTTHC", notCode)},
		{"MaTTHC too long", sub(t, statusJSON, `"MaTTHC":"1.011442"`, `"MaTTHC":"`+strings.Repeat("9", 65)+`"`), "", fe("data.dossier.MaTTHC", "must be at most 64 characters")},
		{"optional code of spaces", sub(t, statusJSON, `"MaLinhVuc":"XD_01"`, `"MaLinhVuc":" "`), "", fe("data.dossier.MaLinhVuc", notCode)},
		{"TenTTHC too long", sub(t, statusJSON, `"TenTTHC":"Cấp giấy phép xây dựng"`, `"TenTTHC":"`+strings.Repeat("ấ", 1001)+`"`), "", fe("data.dossier.TenTTHC", "must be at most 1000 characters")},
		{"TrichYeuHoSo at its limit", sub(t, statusJSON, `"TrichYeuHoSo":"Đề nghị cấp giấy phép"`, `"TrichYeuHoSo":"`+strings.Repeat("đ", 2000)+`"`), "", nil},
		{"TrichYeuHoSo too long", sub(t, statusJSON, `"TrichYeuHoSo":"Đề nghị cấp giấy phép"`, `"TrichYeuHoSo":"`+strings.Repeat("\\u0111", 2001)+`"`), "", fe("data.dossier.TrichYeuHoSo", "must be at most 2000 characters")},
		{"ChuHoSo as a number", sub(t, statusJSON, `"ChuHoSo":"Nguyễn Văn A"`, `"ChuHoSo":12`), "", fe("data.dossier.ChuHoSo", notString)},
		{"ChuHoSo with a tab", sub(t, statusJSON, `"ChuHoSo":"Nguyễn Văn A"`, `"ChuHoSo":"Nguyễn\tVăn A"`), "", fe("data.dossier.ChuHoSo", controls)},
		{"status 0", sub(t, statusJSON, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":0`), "", fe("data.dossier.TrangThaiHoSo", "must be within 1..10")},
		{"status 11", sub(t, statusJSON, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":11`), "", fe("data.dossier.TrangThaiHoSo", "must be within 1..10")},
		{"status as a string", sub(t, statusJSON, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":"4"`), "", fe("data.dossier.TrangThaiHoSo", whole)},
		{"status -0.0", sub(t, statusJSON, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":-0.0`), "", fe("data.dossier.TrangThaiHoSo", fraction)},
		{"owner kind 3", sub(t, statusJSON, `"LoaiDoiTuong":1`, `"LoaiDoiTuong":3`), "", fe("data.dossier.LoaiDoiTuong", "must be within 1..2")},
		{"channel 2", sub(t, statusJSON, `"HinhThuc":1`, `"HinhThuc":2`), "", fe("data.dossier.HinhThuc", "must be within 0..1")},
		{"bad date", sub(t, statusJSON, `"NgayTiepNhan":"20251126083000"`, `"NgayTiepNhan":"2025-13-45"`), "", fe("data.dossier.NgayTiepNhan", notDate)},
		{"month 13 in a portal stamp", sub(t, statusJSON, `"NgayTiepNhan":"20251126083000"`, `"NgayTiepNhan":"20251326083000"`), "", fe("data.dossier.NgayTiepNhan", notDate)},
		{"portal stamp of 13 digits", sub(t, statusJSON, `"NgayHenTra":"20251210170000"`, `"NgayHenTra":"2025121017000"`), "", fe("data.dossier.NgayHenTra", notDate)},
		{"full-width digits in a portal stamp", sub(t, statusJSON, `"NgayHenTra":"20251210170000"`, `"NgayHenTra":"２025121017000"`), "", fe("data.dossier.NgayHenTra", notDate)},
		{"date as a number", sub(t, statusJSON, `"NgayTra":"2025-12-09T10:00:00Z"`, `"NgayTra":20251209100000`), "", fe("data.dossier.NgayTra", notString)},
		{"date too long", sub(t, statusJSON, `"NgayTra":"2025-12-09T10:00:00Z"`, `"NgayTra":"2025-12-09T10:00:00.00000000000000000000Z"`), "", fe("data.dossier.NgayTra", "must be at most 40 characters")},
		{"fees as an object", sub(t, statusJSON, `"DanhSachLePhi":[`, `"DanhSachLePhi":{"a":[`, `{"Gia":0}]`, `{"Gia":0}]}`), "", fe("data.dossier.DanhSachLePhi", notArray)},
		{"fees as a string", sub(t, statusJSON, `"DanhSachLePhi":[{"TenPhiLePhi":"Lệ phí","MaPhiLePhi":"LP01","HinhThucThu":"online","LoaiPhiLePhi":"1","Gia":50000},{"Gia":0}]`, `"DanhSachLePhi":"[]"`), "", fe("data.dossier.DanhSachLePhi", notArray)},
		{"fraction in the second fee", sub(t, statusJSON, `{"Gia":0}`, `{"Gia":100.5}`), "", fe("data.dossier.DanhSachLePhi[1].Gia", fraction)},
		{"fees that are not objects", sub(t, statusJSON, `{"Gia":0}`, `null,1,"x",[],{"Gia":-1}`), "", fe(
			"data.dossier.DanhSachLePhi[1]", notObject, "data.dossier.DanhSachLePhi[2]", notObject,
			"data.dossier.DanhSachLePhi[3]", notObject, "data.dossier.DanhSachLePhi[4]", notObject,
			"data.dossier.DanhSachLePhi[5].Gia", "must be within 0..10000000000000")},
		{"fee without amount, every field bad", sub(t, statusJSON, `{"Gia":0}`, `{"TenPhiLePhi":1,"MaPhiLePhi":"L P","HinhThucThu":"`+strings.Repeat("x", 65)+`","LoaiPhiLePhi":"\u0007"}`), "", fe(
			"data.dossier.DanhSachLePhi[1].TenPhiLePhi", notString, "data.dossier.DanhSachLePhi[1].MaPhiLePhi", notCode,
			"data.dossier.DanhSachLePhi[1].HinhThucThu", "must be at most 64 characters",
			"data.dossier.DanhSachLePhi[1].LoaiPhiLePhi", controls, "data.dossier.DanhSachLePhi[1].Gia", required)},
		{"fee amount too large", sub(t, statusJSON, `{"Gia":0}`, `{"Gia":10000000000001}`), "", fe("data.dossier.DanhSachLePhi[1].Gia", "must be within 0..10000000000000")},
		{"document URL without a scheme", sub(t, statusJSON, `"DuongDanTapTin":"https://files.example.vn/a.pdf"`, `"DuongDanTapTin":"files/a.pdf"`), "", fe("data.dossier.TaiLieuNop[0].DuongDanTapTin", notURL)},
		{"document URL over ftp", sub(t, statusJSON, `"DuongDanTapTin":"http://files.example.vn/kq.pdf"`, `"DuongDanTapTin":"ftp://files.example.vn/kq.pdf"`), "", fe("data.dossier.DanhSachGiayToKetQua[0].DuongDanTapTin", notURL)},
		{"document URL that does not parse", sub(t, statusJSON, `"DuongDanTapTin":"http://files.example.vn/kq.pdf"`, `"DuongDanTapTin":"http://[::1"`), "", fe("data.dossier.DanhSachGiayToKetQua[0].DuongDanTapTin", notURL)},
		{"document URL in capitals", sub(t, statusJSON, `"DuongDanTapTin":"http://files.example.vn/kq.pdf"`, `"DuongDanTapTin":"HTTP://files.example.vn/kq.pdf"`), "", nil},
		{"documents that are not objects", sub(t, statusJSON, `"TaiLieuNop":[{"MaGiayTo":"GT01","TenGiayTo":"Đơn","DuongDanTapTin":"https://files.example.vn/a.pdf"}]`, `"TaiLieuNop":[[],{"MaGiayTo":5}]`), "", fe(
			"data.dossier.TaiLieuNop[0]", notObject, "data.dossier.TaiLieuNop[1].MaGiayTo", notString)},
		{"results not an array", sub(t, statusJSON, `"DanhSachGiayToKetQua":[{"MaGiayTo":"KQ01","TenGiayTo":"Giấy phép","DuongDanTapTin":"http://files.example.vn/kq.pdf"}]`, `"DanhSachGiayToKetQua":true`), "", fe("data.dossier.DanhSachGiayToKetQua", notArray)},
		{"step as a string", sub(t, minimalStatusJSON, `"data":{`, `"data":{"step":"s",`), "", fe("data.step", notObject)},
		{"empty step", sub(t, minimalStatusJSON, `"data":{`, `"data":{"step":{},`), "", fe("data.step.ThoiDiemXuLy", required, "data.step.TrangThai", required)},
		{"step of another dossier", sub(t, statusJSON, `"step":{"MaHoSo":"000.00.37.H32-251126-0001",`, `"step":{"MaHoSo":"B-2",`), "", fe("data.step.MaHoSo", notSubject)},
		{"step with bad fields", sub(t, statusJSON, `"ThoiDiemXuLy":"20251126090000"`, `"ThoiDiemXuLy":" "`, `"TrangThai":4`, `"TrangThai":11`, `"NgayBatDau":"20251126083000"`, `"NgayBatDau":"x"`), "", fe(
			"data.step.ThoiDiemXuLy", empty, "data.step.TrangThai", "must be within 1..10", "data.step.NgayBatDau", notDate)},
		{"several bad fields named at once", sub(t, statusJSON, `"id":"ev-1",`, ``, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":12`, `"version":3`, `"version":-3`), "", fe(
			"id", required, "data.version", "must be within 0..9007199254740992", "data.dossier.TrangThaiHoSo", "must be within 1..10")},
		{"a later bad duplicate wins", sub(t, statusJSON, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":4,"TrangThaiHoSo":0`), "", fe("data.dossier.TrangThaiHoSo", "must be within 1..10")},
		{"a later null removes a required field", sub(t, statusJSON, `"dossier":{`, `"dossier":{"MaTTHC":null,`, `"LoaiDoiTuong":1`, `"LoaiDoiTuong":1,"LoaiDoiTuong":null`), "", fe("data.dossier.LoaiDoiTuong", required)},
		{"an escaped key names the field", sub(t, statusJSON, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":4,"Trang\u0054haiHoSo":0`), "", fe("data.dossier.TrangThaiHoSo", "must be within 1..10")},
		{"keys are case-sensitive", sub(t, statusJSON, `"TrangThaiHoSo":4`, `"trangthaihoso":4`), "", fe("data.dossier.TrangThaiHoSo", required)},
		{"the prefix reaches nested fields", sub(t, statusJSON, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":42`), "[1]", fe("[1].data.dossier.TrangThaiHoSo", "must be within 1..10")},

		// Delivery data.
		{"delivery with every field bad", `{"specversion":"1.0","id":"d","source":"s","type":"vn.gov.delivery.requested","subject":"A-1",` +
			`"data":{"dossier_code":"B-1","kind":"send","recipient":{"name":"","phone":"12345","address":1,"province_code":"０1",` +
			`"commune_code":"123456789","district_code":"x y"},"service":"XYZ","cod_amount":-1,"weight_grams":0,"note":2}}`, "", fe(
			"data.dossier_code", notSubject, "data.kind", `must be "deliver_result" or "collect_dossier"`,
			"data.recipient.name", empty, "data.recipient.address", notString, "data.recipient.province_code", notCode,
			"data.recipient.commune_code", "must be at most 8 characters", "data.recipient.district_code", notCode,
			"data.recipient.phone", "must be a Vietnamese phone number (0xxxxxxxxx or +84xxxxxxxxx)",
			"data.service", "unknown service code; known: CTN001, ETN011, ETN013",
			"data.cod_amount", "must be within 0..100000000000", "data.weight_grams", "must be within 1..100000",
			"data.note", notString)},
		{"empty delivery data", `{"specversion":"1.0","id":"d","source":"s","type":"vn.gov.delivery.requested","subject":"A-1","data":{}}`, "", fe(
			"data.dossier_code", required, "data.kind", required, "data.recipient", required, "data.service", required)},
		{"delivery recipient not an object", sub(t, deliveryJSON, `"recipient":{"name":"Nguyễn Văn A","phone":"0912345678","address":"Số 1, Hoàng Đồng","province_code":"20","commune_code":"06100","district_code":"178"}`, `"recipient":[]`), "", fe("data.recipient", notObject)},
		{"empty recipient", sub(t, deliveryJSON, `"recipient":{"name":"Nguyễn Văn A","phone":"0912345678","address":"Số 1, Hoàng Đồng","province_code":"20","commune_code":"06100","district_code":"178"}`, `"recipient":{}`), "", fe(
			"data.recipient.name", required, "data.recipient.phone", required, "data.recipient.address", required,
			"data.recipient.province_code", required, "data.recipient.commune_code", required)},
		{"phone +840...", sub(t, deliveryJSON, `"phone":"0912345678"`, `"phone":"+840912345678"`), "", fe("data.recipient.phone", "must be a Vietnamese phone number (0xxxxxxxxx or +84xxxxxxxxx)")},
		{"phone too long", sub(t, deliveryJSON, `"phone":"0912345678"`, `"phone":"091234567890123456789"`), "", fe("data.recipient.phone", "must be at most 20 characters")},
		{"weight as a fraction", sub(t, deliveryJSON, `"weight_grams":300`, `"weight_grams":300.5`), "", fe("data.weight_grams", fraction)},
		{"service in lower case", sub(t, deliveryJSON, `"service":"CTN001"`, `"service":"ctn001"`), "", fe("data.service", "unknown service code; known: CTN001, ETN011, ETN013")},
		{"delivery of another dossier", sub(t, deliveryJSON, `"dossier_code":"000.00.37.H32-251126-0001"`, `"dossier_code":"X-1"`), "", fe("data.dossier_code", notSubject)},
		{"delivery data under a status change type", sub(t, deliveryJSON, `"type":"vn.gov.delivery.requested"`, `"type":"vn.gov.dossier.status_changed"`), "", fe(
			"data.version", required, "data.dossier", required)},
	}
}

// TestParseInvalid pins every refusal: which fields are named, in which order, with which
// message.
func TestParseInvalid(t *testing.T) {
	t.Parallel()
	for _, tt := range invalidCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(json.RawMessage(tt.in), tt.prefix)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if got != nil {
				t.Fatalf("Parse accepted the event: %s", describe(got))
			}
			var errs FieldErrors
			if e, ok := err.(FieldErrors); ok {
				errs = e
			}
			if !reflect.DeepEqual(errs, tt.want) {
				t.Fatalf("Parse errors\n got %q\nwant %q", errs, tt.want)
			}
		})
	}
}

// TestParseNeverEchoesValues: an error names fields, never their content (it may be personal
// data).
func TestParseNeverEchoesValues(t *testing.T) {
	t.Parallel()
	in := sub(t, statusJSON, `"ChuHoSo":"Nguyễn Văn A"`, `"ChuHoSo":"Nguyễn Văn A`+strings.Repeat("x", 300)+`"`,
		`"SoDienThoai":"0912345678"`, `"SoDienThoai":99`)
	_, err := Parse(json.RawMessage(in), "")
	if err == nil || strings.Contains(err.Error(), "Nguyễn") || strings.Contains(err.Error(), "99") {
		t.Fatalf("Parse error %v", err)
	}
}

func TestParseBatch(t *testing.T) {
	t.Parallel()
	bad := sub(t, statusJSON, `"TrangThaiHoSo":4`, `"TrangThaiHoSo":42`)
	const batchShape = "a batch must be a JSON array of CloudEvents"
	tests := []struct {
		name     string
		in       string
		wantErr  FieldErrors
		wantEvs  []*Event // nil entries are rejected events
		wantErrs []FieldErrors
	}{
		{"not an array", statusJSON, fe("", batchShape), nil, nil},
		{"empty input", ``, fe("", batchShape), nil, nil},
		{"null", `null`, fe("", batchShape), nil, nil},
		{"malformed", `[` + statusJSON, fe("", batchShape), nil, nil},
		{"malformed event inside", `[` + statusJSON + `,` + sub(t, statusJSON, `"Gia":50000`, `"Gia":5x`) + `]`, fe("", batchShape), nil, nil},
		{"trailing comma", `[` + statusJSON + `,]`, fe("", batchShape), nil, nil},
		{"trailing data", `[` + statusJSON + `] 1`, fe("", batchShape), nil, nil},
		{"empty", " [ ] ", fe("", "a batch must hold at least one event"), nil, nil},
		{"too many", `[` + strings.Repeat(`{},`, 500) + `{}]`, fe("", "a batch holds at most 500 events, got 501"), nil, nil},
		{"mixed", "\u00a0[\n" + statusJSON + " , " + bad + ",\t" + deliveryJSON + ", 5, {} ]\n", nil,
			[]*Event{wantStatusEvent(), nil, wantDeliveryEvent(), nil, nil},
			[]FieldErrors{nil, fe("[1].data.dossier.TrangThaiHoSo", "must be within 1..10"), nil, fe("[3]", "must be a JSON object"),
				fe("[4].specversion", "is required", "[4].id", "is required", "[4].source", "is required", "[4].type", "is required",
					"[4].subject", "is required", "[4].data", "is required")}},
		{"the largest batch", `[` + strings.Repeat(minimalStatusJSON+`,`, 499) + minimalStatusJSON + `]`, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs, errs, err := ParseBatch(json.RawMessage(tt.in))
			if tt.wantErr != nil {
				if !reflect.DeepEqual(err, tt.wantErr) || evs != nil || errs != nil {
					t.Fatalf("ParseBatch = %v, %v, %v; want %q", evs, errs, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBatch: %v", err)
			}
			if len(evs) != len(errs) {
				t.Fatalf("%d events, %d errors", len(evs), len(errs))
			}
			if tt.wantEvs == nil {
				for i := range evs {
					if evs[i] == nil || errs[i] != nil {
						t.Fatalf("event %d: %v", i, errs[i])
					}
				}
				return
			}
			if len(evs) != len(tt.wantEvs) {
				t.Fatalf("%d events, want %d", len(evs), len(tt.wantEvs))
			}
			for i := range evs {
				if !sameEvent(evs[i], tt.wantEvs[i]) {
					t.Errorf("event %d =\n%s\nwant\n%s", i, describe(evs[i]), describe(tt.wantEvs[i]))
				}
				var fes FieldErrors
				if errs[i] != nil {
					fes = errs[i].(FieldErrors)
				}
				if !reflect.DeepEqual(fes, tt.wantErrs[i]) {
					t.Errorf("event %d errors %q, want %q", i, fes, tt.wantErrs[i])
				}
			}
		})
	}
}

// TestParseBatchRawIsCapped: an event's Raw cannot be grown into the bytes of the next event.
func TestParseBatchRawIsCapped(t *testing.T) {
	t.Parallel()
	body := []byte(`[` + minimalStatusJSON + `,` + minimalStatusJSON + `]`)
	evs, _, err := ParseBatch(body)
	if err != nil || evs[0] == nil || evs[1] == nil {
		t.Fatalf("ParseBatch: %v", err)
	}
	_ = append(evs[0].Raw, 'X')
	if string(evs[1].Raw) != minimalStatusJSON || string(body[len(minimalStatusJSON)+1]) != "," {
		t.Fatalf("appending to one event's Raw changed the batch")
	}
}

func TestIsVietnamesePhone(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"0912345678": true, "02053812345": true, "+84912345678": true, "+842053812345": true,
		"": false, "0": false, "091234567": false, "091234567890": false, "+840912345678": false,
		"84912345678": false, "+84": false, "09123456a8": false, "０912345678": false, "+8491234567": false,
	} {
		if got := IsVietnamesePhone(s); got != want {
			t.Errorf("IsVietnamesePhone(%q) = %v, want %v", s, got, want)
		}
	}
}
