package ngsp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/connectors/postal/internal/dialect"
	"github.com/egov-vn/gateway/connectors/postal/postaltest"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

// The documented PascalCase create order (domain reference §5), pinned; ServiceCode and Weight
// are the [assumed] additions.
func TestCreateRequestFieldNames(t *testing.T) {
	t.Parallel()
	r, _ := address.Default()
	citizen := postal.Party{Name: "Nguyễn Văn A", Phone: "84912345678", Address: "Số 1", ProvinceCode: "20", CommuneCode: "06211"}
	agency := postal.Party{Name: "UBND", Phone: "0205381234", Address: "Số 2", ProvinceCode: "20", CommuneCode: "05977"}
	p, err := dialect.Prepare(postal.Order{Number: "H37-1-C", Kind: postal.KindCollectDossier, Sender: citizen, Receiver: agency, CODAmount: 50000}, r)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{cfg: Config{CustomerCode: "LSN"}}
	raw, err := json.Marshal(c.toWire(p))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := postaltest.Keys(t, raw), "CODAmount,CustomerCode,Description,IsReceiveResult,IsSendDocument,OrderNumber,Receiver,Sender,ServiceCode,Weight"; got != want {
		t.Fatalf("fields = %s, want %s", got, want)
	}
	var req struct{ Sender, Receiver json.RawMessage }
	_ = json.Unmarshal(raw, &req)
	if got := postaltest.Keys(t, req.Sender); got != "Address,District,Name,Province,Tel" {
		t.Fatalf("Sender fields = %s", got)
	}
	for _, frag := range []string{`"CODAmount":50000`, `"IsSendDocument":true`, `"IsReceiveResult":false`, `"CustomerCode":"LSN"`,
		`"Tel":"0912345678"`, `"Province":"25"`, `"District":"2515"`} {
		if !strings.Contains(string(raw), frag) {
			t.Errorf("create order lacks %s: %s", frag, raw)
		}
	}
}

func TestTokenAndReplyFieldNames(t *testing.T) {
	t.Parallel()
	var tr tokenReply
	if err := json.Unmarshal([]byte(`{"access_token":"abc","token_type":"Bearer","expires_in":3600}`), &tr); err != nil || tr.AccessToken != "abc" || tr.ExpiresIn != 3600 || tr.TokenType != "Bearer" {
		t.Fatalf("token reply = %+v, %v", tr, err)
	}
	var rep reply
	if err := json.Unmarshal([]byte(`{"Status":1,"Message":"OK"}`), &rep); err != nil || rep.Status == nil || *rep.Status != 1 || rep.Message != "OK" {
		t.Fatalf("reply = %+v, %v", rep, err)
	}
	var rec record
	raw := `{"OrderNumber":"H37-1-R","ItemCode":"EN1VN","StatusCode":"08","StatusMessage":"Phát thành công","EventTime":"26/11/2025 09:30:00","POSID":"251000"}`
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatal(err)
	}
	ev, ok := toEvent(rec)
	if !ok || ev.Number != "H37-1-R" || ev.PartnerID != "EN1VN" || ev.Status != postal.StatusDelivered || ev.Office != "251000" ||
		!ev.At.Equal(time.Date(2025, 11, 26, 2, 30, 0, 0, time.UTC)) {
		t.Fatalf("record → %+v, %v", ev, ok)
	}
	cancel, _ := json.Marshal(cancelRequest{CustomerCode: "C", OrderNumber: "N"})
	if string(cancel) != `{"CustomerCode":"C","OrderNumber":"N"}` {
		t.Errorf("cancel request = %s", cancel)
	}
}

// The token request is the client credentials grant with Basic auth; a reply without Status is
// malformed, not success.
func TestTokenRequestAndMissingStatus(t *testing.T) {
	t.Parallel()
	var sawGrant, sawBasic bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case pathToken:
			id, secret, ok := r.BasicAuth()
			sawBasic = ok && id == "cid" && secret == "sec"
			_ = r.ParseForm()
			sawGrant = r.PostForm.Get("grant_type") == "client_credentials" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":600}`))
		case pathCancel:
			if r.Header.Get("Authorization") != "Bearer tok" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"Message":"OK"}`))
		}
	}))
	t.Cleanup(srv.Close)
	hc, _ := partnerhttp.New(partnerhttp.Config{Partner: "vnpost", BaseURL: srv.URL})
	r, _ := address.Default()
	c, err := New(Config{ClientID: "cid", ClientSecret: "sec", CustomerCode: "C", Resolver: r}, hc)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Cancel(t.Context(), "H37-1-R")
	if err == nil || !strings.Contains(err.Error(), "Status missing") {
		t.Fatalf("cancel answered without Status: %v, want a malformed reply", err)
	}
	if !sawBasic || !sawGrant {
		t.Fatalf("token request: basic auth %v, grant form %v", sawBasic, sawGrant)
	}
}
