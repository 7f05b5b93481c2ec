package myvnpost

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/connectors/postal/internal/dialect"
	"github.com/egov-vn/gateway/connectors/postal/postaltest"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

func prepared(t *testing.T, kind postal.Kind, cod int64) dialect.Order {
	t.Helper()
	r, err := address.Default()
	if err != nil {
		t.Fatal(err)
	}
	citizen := postal.Party{Name: "Nguyễn Văn A", Phone: "+84912345678", Address: "Số 1", ProvinceCode: "20", CommuneCode: "06211"}
	agency := postal.Party{Name: "UBND", Phone: "0205381234", Address: "Số 2", ProvinceCode: "20", CommuneCode: "05977"}
	p, err := dialect.Prepare(postal.Order{Number: "H37-1-C", Kind: kind, Sender: citizen, Receiver: agency, CODAmount: cod}, r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The documented field names of CreateOrder (domain reference §5), pinned.
func TestCreateRequestFieldNames(t *testing.T) {
	t.Parallel()
	raw, err := json.Marshal(toWire(prepared(t, postal.KindCollectDossier, 150000)))
	if err != nil {
		t.Fatal(err)
	}
	if got := postaltest.Keys(t, raw); got != "informationOrder,orderCreationStatus" {
		t.Fatalf("top-level fields = %s", got)
	}
	var req struct {
		Status int             `json:"orderCreationStatus"`
		Info   json.RawMessage `json:"informationOrder"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	want := "addonService,contentNote,orderNumber,receiverAddress,receiverCommuneCode,receiverDistrictCode,receiverName,receiverPhone,receiverProvinceCode," +
		"senderAddress,senderCommuneCode,senderDistrictCode,senderName,senderPhone,senderProvinceCode,serviceCode,weight"
	// contentNote is omitted when empty.
	want = strings.Replace(want, "contentNote,", "", 1)
	if got := postaltest.Keys(t, req.Info); got != want {
		t.Fatalf("informationOrder fields =\n%s\nwant\n%s", got, want)
	}
	if req.Status != 1 {
		t.Errorf("orderCreationStatus = %d, want 1 (pending pickup)", req.Status)
	}
	s := string(req.Info)
	for _, frag := range []string{
		`"addonService":[{"code":"GTG021","propValue":"150000"},{"code":"GTG026","propValue":"1"}]`,
		`"serviceCode":"CTN001"`, `"weight":500`, `"senderPhone":"0912345678"`,
		`"senderProvinceCode":"25"`, `"senderDistrictCode":"2515"`, `"senderCommuneCode":"06211"`,
		`"receiverDistrictCode":"2510"`,
	} {
		if !strings.Contains(s, frag) {
			t.Errorf("informationOrder lacks %s: %s", frag, s)
		}
	}
	raw, _ = json.Marshal(toWire(prepared(t, postal.KindDeliverResult, 0)))
	if !strings.Contains(string(raw), `"addonService":[]`) {
		t.Errorf("a delivery without COD must send an empty addonService: %s", raw)
	}
}

func TestReplyFieldNames(t *testing.T) {
	t.Parallel()
	var rep orderReply
	if err := json.Unmarshal([]byte(`{"originalID":"EV000000001VN","totalFee":25000,"status":1}`), &rep); err != nil {
		t.Fatal(err)
	}
	c, err := fromReply("H37-1-R", rep)
	if err != nil || c.PartnerID != "EV000000001VN" || c.Fee != 25000 || c.Status != postal.StatusCreated {
		t.Fatalf("reply = %+v, %v", c, err)
	}
	for _, bad := range []string{`{"totalFee":1,"status":1}`, `{"originalID":"x"}`, `{"originalID":"x","status":1,"totalFee":-5}`} {
		var r orderReply
		_ = json.Unmarshal([]byte(bad), &r)
		if _, err := fromReply("n", r); err == nil {
			t.Errorf("reply %s accepted", bad)
		}
	}
	raw, _ := json.Marshal(loginRequest{Username: "u", Password: "p"})
	if string(raw) != `{"username":"u","password":"p"}` {
		t.Errorf("login request = %s", raw)
	}
}

// A partner answering hostile tracking records: unreadable ones are skipped, the cursor still
// moves past them, and records at or before the cursor are never returned.
func TestTrackingSkipsUnreadableRecords(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case pathLogin:
			_, _ = w.Write([]byte(`{"token":"t","expiresIn":3600}`))
		case pathTracking:
			if r.Header.Get("token") != "t" || r.URL.Query().Get("lastId") != "7" || r.URL.Query().Get("pageSize") != "100" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			_, _ = w.Write([]byte(`{"items":[
				{"id":6,"orderNumber":"OLD","status":1,"time":"20251126090000"},
				{"id":8,"orderNumber":"A-R","originalID":"EV1","status":4,"statusName":"Đang lấy hàng","time":"20251126090000","postOfficeCode":"251000"},
				{"id":9,"orderNumber":"A-R","status":99,"time":"20251126090100"},
				{"id":10,"orderNumber":"A-R","status":6,"time":"2025-11-26"},
				{"id":11,"orderNumber":"bad number","status":6,"time":"20251126090200"}]}`))
		}
	}))
	t.Cleanup(srv.Close)
	hc, _ := partnerhttp.New(partnerhttp.Config{Partner: "vnpost", BaseURL: srv.URL})
	r, _ := address.Default()
	c, err := New(Config{Username: "u", Password: "p", Resolver: r}, hc)
	if err != nil {
		t.Fatal(err)
	}
	events, cursor, err := c.Track(t.Context(), "7")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Number != "A-R" || events[0].Status != postal.StatusPickingUp || events[0].Office != "251000" || events[0].Cursor != "8" {
		t.Fatalf("events = %+v", events)
	}
	if want := time.Date(2025, 11, 26, 2, 0, 0, 0, time.UTC); !events[0].At.Equal(want) {
		t.Errorf("time = %v, want %v (yyyyMMddHHmmss at +07:00)", events[0].At, want)
	}
	if cursor != "11" {
		t.Errorf("cursor = %q, want 11 (past the skipped records)", cursor)
	}
	for _, bad := range []string{"-1", "01", "x", " 7"} {
		if _, _, err := c.Track(t.Context(), bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

// A 404 that is not the partner's NOT_FOUND answer means a wrong base URL: transient, and
// nothing is created on the strength of it.
func TestWrongBaseURLIsTransient(t *testing.T) {
	t.Parallel()
	creates := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == pathLogin:
			_, _ = w.Write([]byte(`{"token":"t","expiresIn":3600}`))
		case r.Method == http.MethodPost && r.URL.Path == pathOrders:
			creates++
			w.WriteHeader(http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	hc, _ := partnerhttp.New(partnerhttp.Config{Partner: "vnpost", BaseURL: srv.URL})
	r, _ := address.Default()
	c, err := New(Config{Username: "u", Password: "p", Resolver: r}, hc)
	if err != nil {
		t.Fatal(err)
	}
	o := postal.Order{Number: "H37-1-R", Kind: postal.KindDeliverResult,
		Sender:   postal.Party{Name: "UBND", Phone: "0205381234", Address: "Số 1", ProvinceCode: "20", CommuneCode: "05977"},
		Receiver: postal.Party{Name: "Lê Văn Bình", Phone: "0987654321", Address: "Số 2", ProvinceCode: "20", CommuneCode: "06613"}}
	_, err = c.CreateOrder(t.Context(), o)
	if err == nil || failure.IsPermanent(err) || errors.Is(err, postal.ErrNotFound) || creates != 0 {
		t.Fatalf("create behind a plain 404 look-up: %v (creates %d), want a transient error and no create", err, creates)
	}
	if err := c.Cancel(t.Context(), "H37-1-R"); err == nil || failure.IsPermanent(err) {
		t.Fatalf("cancel behind a plain 404: %v, want transient", err)
	}
}
