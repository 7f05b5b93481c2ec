package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/sandbox"
)

const (
	user, password         = "mv-user", "mv-password"
	clientID, secret, cust = "ng-client", "ng-secret", "LSN"
)

type fixture struct {
	sb  *sandbox.Sandbox
	url string
}

func newFixture(t *testing.T, now func() time.Time) fixture {
	t.Helper()
	sb := sandbox.New(sandbox.Config{MyVNPostUser: user, MyVNPostPassword: password, NGSPClientID: clientID,
		NGSPClientSecret: secret, NGSPCustomerCode: cust, TokenTTL: time.Hour, Now: now})
	mux := http.NewServeMux()
	mux.Handle("/sandbox/vnpost/", http.StripPrefix("/sandbox/vnpost", sb.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return fixture{sb: sb, url: srv.URL + "/sandbox/vnpost"}
}

func (f fixture) do(t *testing.T, method, path string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f fixture) mvToken(t *testing.T) string {
	t.Helper()
	code, body := f.do(t, "POST", "/myvnpost/api/auth/login", nil, `{"username":"`+user+`","password":"`+password+`"}`)
	var rep struct {
		Token     string `json:"token"`
		ExpiresIn int64  `json:"expiresIn"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &rep) != nil || rep.Token == "" || rep.ExpiresIn != 3600 {
		t.Fatalf("login = %d %s", code, body)
	}
	return rep.Token
}

const mvOrder = `{"orderCreationStatus":1,"informationOrder":{"orderNumber":"H37-1-R","senderName":"UBND","senderPhone":"0205381234",
"senderAddress":"Số 1","senderProvinceCode":"25","senderDistrictCode":"2510","senderCommuneCode":"05977","receiverName":"Nguyễn Văn A",
"receiverPhone":"0912345678","receiverAddress":"Số 2","receiverProvinceCode":"25","receiverDistrictCode":"2515","receiverCommuneCode":"06211",
"serviceCode":"CTN001","weight":300,"addonService":[{"code":"GTG021","propValue":"120000"}]}}`

func TestMyVNPostCreateDuplicateAndAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	if code, _ := f.do(t, "POST", "/myvnpost/api/orders", nil, mvOrder); code != 401 {
		t.Fatalf("create without a token = %d, want 401", code)
	}
	if code, _ := f.do(t, "POST", "/myvnpost/api/auth/login", nil, `{"username":"`+user+`","password":"nope"}`); code != 401 {
		t.Fatalf("login with a wrong password = %d, want 401", code)
	}
	h := map[string]string{"token": f.mvToken(t)}
	code, body := f.do(t, "POST", "/myvnpost/api/orders", h, mvOrder)
	if code != 200 || !strings.Contains(body, `"originalID":"EV`) || !strings.Contains(body, `"status":1`) || !strings.Contains(body, `"totalFee":`) {
		t.Fatalf("create = %d %s", code, body)
	}
	if code, body = f.do(t, "POST", "/myvnpost/api/orders", h, mvOrder); code != 409 || !strings.Contains(body, "ORDER_EXISTS") {
		t.Fatalf("second create = %d %s, want 409 ORDER_EXISTS", code, body)
	}
	if n := len(f.sb.Orders()); n != 1 || f.sb.DuplicateCreates() != 1 {
		t.Fatalf("orders = %d, duplicates refused = %d, want 1 and 1", n, f.sb.DuplicateCreates())
	}
	o, _ := f.sb.Order("H37-1-R")
	// Tariff: 18,000 CTN001 base, no weight above 500 g, COD fee max(1%, 10,000).
	if o.CODAmount != 120000 || o.Fee != 28000 || o.Dialect != sandbox.MyVNPost {
		t.Errorf("order = %+v", o)
	}
	if code, _ = f.do(t, "GET", "/myvnpost/api/orders/H37-1-R", map[string]string{"token": "forged"}, ""); code != 401 {
		t.Fatalf("look-up with a forged token = %d", code)
	}
	if code, body = f.do(t, "GET", "/myvnpost/api/orders/H37-1-R", h, ""); code != 200 || !strings.Contains(body, `"orderNumber":"H37-1-R"`) {
		t.Fatalf("look-up = %d %s", code, body)
	}
	if code, _ = f.do(t, "GET", "/myvnpost/api/orders/H37-2-R", h, ""); code != 404 {
		t.Fatalf("look-up of an unknown order = %d", code)
	}
	f.sb.ExpireTokens()
	if code, _ = f.do(t, "GET", "/myvnpost/api/orders/H37-1-R", h, ""); code != 401 {
		t.Fatalf("look-up with an expired token = %d", code)
	}
}

func TestMyVNPostRefusesBadOrders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := map[string]string{"token": f.mvToken(t)}
	for name, body := range map[string]string{
		"not json":        `{"orderCreationStatus":1,`,
		"trailing data":   mvOrder + `{}`,
		"bad phone":       strings.Replace(mvOrder, `"0912345678"`, `"912345678"`, 1),
		"bad service":     strings.Replace(mvOrder, "CTN001", "XXX", 1),
		"zero weight":     strings.Replace(mvOrder, `"weight":300`, `"weight":0`, 1),
		"bad COD":         strings.Replace(mvOrder, `"120000"`, `"12,000"`, 1),
		"unknown addon":   strings.Replace(mvOrder, "GTG021", "GTG999", 1),
		"creation status": strings.Replace(mvOrder, `"orderCreationStatus":1`, `"orderCreationStatus":7`, 1),
		"bad number":      strings.Replace(mvOrder, "H37-1-R", "H37/1", 1),
		"bad district":    strings.Replace(mvOrder, `"2515"`, `"251"`, 1),
	} {
		if code, _ := f.do(t, "POST", "/myvnpost/api/orders", h, body); code != 400 {
			t.Errorf("%s: %d, want 400", name, code)
		}
	}
	if n := len(f.sb.Orders()); n != 0 {
		t.Fatalf("orders after refusals = %d", n)
	}
}

func ngToken(t *testing.T, f fixture) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.url+"/ngsp/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&rep) != nil || rep.TokenType != "Bearer" || rep.ExpiresIn != 3600 {
		t.Fatalf("token = %d %+v", resp.StatusCode, rep)
	}
	return rep.AccessToken
}

const ngOrder = `{"CustomerCode":"LSN","OrderNumber":"H37-1-C","CODAmount":0,"Sender":{"Name":"Nguyễn Văn A","Address":"Số 2","Tel":"0912345678",
"Province":"25","District":"2515"},"Receiver":{"Name":"UBND","Address":"Số 1","Tel":"0205381234","Province":"25","District":"2510"},
"Description":"Hồ sơ","ServiceCode":"CTN001","Weight":500,"IsSendDocument":true,"IsReceiveResult":false}`

func TestNGSPTokenCreateDuplicate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	if code, _ := f.do(t, "POST", "/ngsp/oauth/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "grant_type=client_credentials"); code != 401 {
		t.Fatalf("token without Basic auth = %d, want 401", code)
	}
	h := map[string]string{"Authorization": "Bearer " + ngToken(t, f), "Content-Type": "application/json"}
	if code, _ := f.do(t, "POST", "/ngsp/api/Order/Create", map[string]string{"Authorization": "Bearer x"}, ngOrder); code != 401 {
		t.Fatalf("create with a forged token = %d", code)
	}
	// A MyVNPost token is not an NGSP token.
	if code, _ := f.do(t, "POST", "/ngsp/api/Order/Create", map[string]string{"Authorization": "Bearer " + f.mvToken(t)}, ngOrder); code != 401 {
		t.Fatalf("create with the other dialect's token = %d", code)
	}
	code, body := f.do(t, "POST", "/ngsp/api/Order/Create", h, ngOrder)
	if code != 200 || !strings.Contains(body, `"Status":1`) || !strings.Contains(body, `"ItemCode":"EN`) {
		t.Fatalf("create = %d %s", code, body)
	}
	if _, body = f.do(t, "POST", "/ngsp/api/Order/Create", h, ngOrder); !strings.Contains(body, `"Status":2`) {
		t.Fatalf("second create = %s, want Status 2", body)
	}
	if _, body = f.do(t, "POST", "/ngsp/api/Order/Create", h, strings.Replace(ngOrder, `"IsSendDocument":true`, `"IsSendDocument":false`, 1)); !strings.Contains(body, `"Status":3`) {
		t.Fatalf("an order neither collecting nor delivering = %s, want Status 3", body)
	}
	if _, body = f.do(t, "GET", "/ngsp/api/Order/Get?CustomerCode=LSN&OrderNumber=H37-1-C", h, ""); !strings.Contains(body, `"StatusCode":"01"`) {
		t.Fatalf("get = %s", body)
	}
	if _, body = f.do(t, "GET", "/ngsp/api/Order/Get?CustomerCode=LSN&OrderNumber=nope", h, ""); !strings.Contains(body, `"Status":4`) {
		t.Fatalf("get unknown = %s", body)
	}
	if o, _ := f.sb.Order("H37-1-C"); !o.Pickup() || o.Dialect != sandbox.NGSP || len(f.sb.Orders()) != 1 {
		t.Fatalf("orders = %+v", f.sb.Orders())
	}
}

func TestAdvanceAndTrackingInBothFormats(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 11, 26, 2, 0, 0, 0, time.UTC)
	f := newFixture(t, func() time.Time { return now })
	mv := map[string]string{"token": f.mvToken(t)}
	ng := map[string]string{"Authorization": "Bearer " + ngToken(t, f)}
	f.do(t, "POST", "/myvnpost/api/orders", mv, mvOrder)
	f.do(t, "POST", "/ngsp/api/Order/Create", ng, ngOrder)
	// The normal path, then an explicit status, then a final order refuses to move.
	for _, want := range []postal.Status{4, 6, 7, 10, 12, 14} {
		code, body := f.do(t, "POST", "/orders/H37-1-R/advance", nil, "")
		if code != 200 || !strings.Contains(body, `"status":`+itoa(int(want))) {
			t.Fatalf("advance to %d = %d %s", want, code, body)
		}
	}
	if code, _ := f.do(t, "POST", "/orders/H37-1-R/advance", nil, ""); code != 409 {
		t.Fatalf("advancing a delivered order = %d, want 409", code)
	}
	if code, _ := f.do(t, "POST", "/orders/H37-1-C/advance", nil, `{"status":5}`); code != 200 {
		t.Fatalf("advance to 5 = %d", code)
	}
	if code, _ := f.do(t, "POST", "/orders/H37-1-C/advance", nil, ""); code != 409 {
		t.Fatalf("advancing off the normal path without a status = %d, want 409", code)
	}
	for body, want := range map[string]int{`{"status":3}`: 400, `{"state":4}`: 400, `nope`: 400} {
		if code, _ := f.do(t, "POST", "/orders/H37-1-C/advance", nil, body); code != want {
			t.Errorf("advance %s = %d, want %d", body, code, want)
		}
	}
	if code, _ := f.do(t, "POST", "/orders/unknown/advance", nil, ""); code != 404 {
		t.Fatalf("advancing an unknown order = %d", code)
	}
	_, body := f.do(t, "GET", "/myvnpost/api/tracking?lastId=0&pageSize=3", mv, "")
	var mvRep struct {
		Items []struct {
			ID          int64  `json:"id"`
			OrderNumber string `json:"orderNumber"`
			Status      int    `json:"status"`
			Time        string `json:"time"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &mvRep); err != nil || len(mvRep.Items) != 3 {
		t.Fatalf("MyVNPost tracking page = %s", body)
	}
	if mvRep.Items[0].Status != 1 || mvRep.Items[1].Status != 4 || mvRep.Items[0].Time != "20251126090000" || mvRep.Items[0].OrderNumber != "H37-1-R" {
		t.Fatalf("MyVNPost records = %+v", mvRep.Items)
	}
	_, body = f.do(t, "GET", "/myvnpost/api/tracking?lastId="+itoa(int(mvRep.Items[2].ID)), mv, "")
	if strings.Count(body, `"id":`) != 4 || strings.Contains(body, "H37-1-C") {
		t.Fatalf("MyVNPost tracking after a cursor = %s, want the 4 newer records of its own order", body)
	}
	_, body = f.do(t, "GET", "/ngsp/api/Order/Tracking?CustomerCode=LSN&pagesize=10&lastId=0", ng, "")
	var ngRecs []map[string]any
	if err := json.Unmarshal([]byte(body), &ngRecs); err != nil || len(ngRecs) != 2 {
		t.Fatalf("NGSP tracking = %s", body)
	}
	if ngRecs[0]["StatusCode"] != "01" || ngRecs[1]["StatusCode"] != "03" || ngRecs[0]["EventTime"] != "26/11/2025 09:00:00" || ngRecs[0]["POSID"] == "" {
		t.Fatalf("NGSP records = %+v", ngRecs)
	}
	for _, k := range []string{"Id", "OrderNumber", "ItemCode", "StatusCode", "StatusMessage", "EventTime", "POSID"} {
		if _, ok := ngRecs[0][k]; !ok {
			t.Errorf("NGSP record lacks %s", k)
		}
	}
	if code, _ := f.do(t, "GET", "/ngsp/api/Order/Tracking?CustomerCode=OTHER&pagesize=10&lastId=0", ng, ""); code != 400 {
		t.Errorf("tracking of another customer = %d", code)
	}
	if code, _ := f.do(t, "GET", "/myvnpost/api/tracking?lastId=-1", mv, ""); code != 400 {
		t.Errorf("negative lastId = %d", code)
	}
}

func TestInspectionShowsOrdersNotSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.mvToken(t)
	f.do(t, "POST", "/myvnpost/api/orders", map[string]string{"token": tok}, mvOrder)
	f.do(t, "POST", "/orders/H37-1-R/advance", nil, "")
	code, body := f.do(t, "GET", "/orders", nil, "")
	if code != 200 || !strings.Contains(body, `"number":"H37-1-R"`) || !strings.Contains(body, `"history":[{"status":1`) || !strings.Contains(body, `{"status":4`) {
		t.Fatalf("GET /orders = %d %s", code, body)
	}
	for _, s := range []string{tok, password, secret} {
		if strings.Contains(body, s) {
			t.Fatalf("GET /orders shows a secret: %s", body)
		}
	}
	if code, _ = f.do(t, "GET", "/orders/H37-1-R", nil, ""); code != 200 {
		t.Fatalf("GET /orders/{order} = %d", code)
	}
	if code, _ = f.do(t, "GET", "/orders/nope", nil, ""); code != 404 {
		t.Fatalf("GET unknown order = %d", code)
	}
}

func TestFaultsApplyToPartnerPathsOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	if code, body := f.do(t, "PUT", "/faults", nil, `{"error_rate":1,"status":502}`); code != 200 || !strings.Contains(body, `"status":502`) {
		t.Fatalf("PUT /faults = %d %s", code, body)
	}
	if code, _ := f.do(t, "POST", "/myvnpost/api/auth/login", nil, `{"username":"`+user+`","password":"`+password+`"}`); code != 502 {
		t.Fatalf("login under faults = %d, want 502", code)
	}
	if code, _ := f.do(t, "GET", "/orders", nil, ""); code != 200 {
		t.Fatalf("inspection under faults = %d, want 200", code)
	}
	if code, _ := f.do(t, "PUT", "/faults", nil, `{"error_rate":2}`); code != 400 {
		t.Fatalf("invalid faults = %d", code)
	}
	if f.sb.Requests() != 1 {
		t.Fatalf("partner requests = %d, want 1", f.sb.Requests())
	}
	f.do(t, "PUT", "/faults", nil, `{}`)
	f.mvToken(t)
	f.do(t, "POST", "/tokens/expire", nil, "")
	if code, _ := f.do(t, "GET", "/myvnpost/api/tracking", map[string]string{"token": "x"}, ""); code != 401 {
		t.Fatalf("after expiring tokens = %d", code)
	}
	f.sb.Reset()
	if f.sb.Requests() != 0 || len(f.sb.Orders()) != 0 || f.sb.Logins(sandbox.MyVNPost) != 0 {
		t.Fatal("Reset left state behind")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestMyVNPostDraftIsConfirmedByAdvance(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := map[string]string{"token": f.mvToken(t)}
	draft := strings.Replace(mvOrder, `"orderCreationStatus":1`, `"orderCreationStatus":0`, 1)
	if code, body := f.do(t, "POST", "/myvnpost/api/orders", h, draft); code != 200 || !strings.Contains(body, `"status":0`) || strings.Contains(body, "orderNumber") {
		t.Fatalf("draft create = %d %s", code, body)
	}
	if code, body := f.do(t, "POST", "/orders/H37-1-R/advance", nil, ""); code != 200 || !strings.Contains(body, `"status":1`) {
		t.Fatalf("advancing a draft = %d %s, want status 1", code, body)
	}
}

// TestCreatedCountsNewOrdersAndTellsTheHook: Created and the create hook count each order once,
// not a refused duplicate, and Reset clears both.
func TestCreatedCountsNewOrdersAndTellsTheHook(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var told []string
	f.sb.SetCreateHook(func(number string) { told = append(told, number) })
	h := map[string]string{"token": f.mvToken(t)}
	for range 2 {
		f.do(t, "POST", "/myvnpost/api/orders", h, mvOrder)
	}
	second := strings.Replace(mvOrder, `"H37-1-R"`, `"H37-2-R"`, 1)
	if code, body := f.do(t, "POST", "/myvnpost/api/orders", h, second); code != 200 {
		t.Fatalf("create = %d %s", code, body)
	}
	if f.sb.Created() != 2 || strings.Join(told, ",") != "H37-1-R,H37-2-R" {
		t.Fatalf("Created = %d, hook told %v; want 2 and both numbers once", f.sb.Created(), told)
	}
	f.sb.Reset()
	h = map[string]string{"token": f.mvToken(t)}
	if code, _ := f.do(t, "POST", "/myvnpost/api/orders", h, mvOrder); code != 200 {
		t.Fatalf("create after reset = %d", code)
	}
	if f.sb.Created() != 1 || len(told) != 2 {
		t.Errorf("after Reset: Created = %d, hook told %d times; want 1 and still 2 (hook removed)", f.sb.Created(), len(told))
	}
}
