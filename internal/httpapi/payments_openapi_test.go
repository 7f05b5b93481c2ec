package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/egov-vn/gateway/connectors/bank/paygov"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
)

// TestPaymentAnswersMatchOpenAPI validates the real answers of the payment and callback
// operations against their schemas in api/openapi.yaml.
func TestPaymentAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	doc.Servers = openapi3.Servers{{URL: "/"}}
	for _, p := range doc.Paths.Map() {
		p.Servers = nil
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("building router from OpenAPI: %v", err)
	}
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	dossier := "000.00.20.H37-250101-0001"
	body := func(provider string, amount int64) string {
		return `{"dossier_code":"` + dossier + `","procedure_code":"1.001612","agency_code":"000.00.00.H37","provider":"` + provider +
			`","amount":` + strconv.FormatInt(amount, 10) + `,"fee_lines":[{"code":"LP01","name":"Lệ phí","kind":"le_phi","amount":` +
			strconv.FormatInt(amount, 10) + `}],"payer":{"name":"Nguyễn Văn A"}}`
	}
	type call struct {
		name, method, path, token, body string
		header                          map[string]string
		want                            int
	}
	send := func(c call) []byte {
		t.Helper()
		req, _ := http.NewRequest(c.method, gw.API+c.path, strings.NewReader(c.body))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.want {
			t.Fatalf("%s: status %d, want %d: %s", c.name, resp.StatusCode, c.want, raw)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s: %s %s is not in the OpenAPI file: %v", c.name, c.method, c.path, err)
		}
		err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
			Status: resp.StatusCode, Header: http.Header{"Content-Type": {resp.Header.Get("Content-Type")}},
			Body:    nopCloser{strings.NewReader(string(raw))},
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		})
		if err != nil {
			t.Errorf("%s: answer does not match the OpenAPI file: %v\n%s", c.name, err, raw)
		}
		return raw
	}
	key := map[string]string{"Idempotency-Key": "oa-1"}
	var created struct {
		PaymentID, Reference string
	}
	raw := send(call{"created", http.MethodPost, "/v1/payments", config.DemoClientToken, body("vnpay", 150000), key, 201})
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	created.PaymentID, created.Reference = c["payment_id"].(string), c["reference"].(string)
	send(call{"replayed", http.MethodPost, "/v1/payments", config.DemoClientToken, body("vnpay", 150000), key, 201})
	send(call{"conflict", http.MethodPost, "/v1/payments", config.DemoClientToken, body("vnpay", 150001), key, 409})
	send(call{"invalid", http.MethodPost, "/v1/payments", config.DemoClientToken, body("momo", 0), map[string]string{"Idempotency-Key": "oa-invalid"}, 400})
	send(call{"invalid with a used key", http.MethodPost, "/v1/payments", config.DemoClientToken, body("momo", 0), key, 409})
	send(call{"unauthorized", http.MethodPost, "/v1/payments", "", body("vnpay", 150000), key, 401})
	send(call{"vietqr", http.MethodPost, "/v1/payments", config.DemoClientToken, body("vietqr", 50000), map[string]string{"Idempotency-Key": "oa-2"}, 201})
	raw = send(call{"paygov", http.MethodPost, "/v1/payments", config.DemoClientToken, body("paygov", 70000), map[string]string{"Idempotency-Key": "oa-3"}, 201})
	var pg map[string]any
	_ = json.Unmarshal(raw, &pg)
	send(call{"pending", http.MethodGet, "/v1/payments/" + created.PaymentID, config.DemoClientToken, "", nil, 200})
	send(call{"unknown payment", http.MethodGet, "/v1/payments/pay_unknown", config.DemoClientToken, "", nil, 404})

	ipn := func(amount int64, secret string) string {
		n := vnpay.IPN{TmnCode: config.DemoVNPayTmnCode, Amount: amount, BankCode: "NCB", CardType: "ATM", OrderInfo: "Thanh toan",
			PayDate: time.Now(), ResponseCode: "00", TransactionNo: "14226112", TransactionStatus: "00", TxnRef: created.Reference}
		p := n.Params()
		p.Set(vnpay.ParamSecureHash, vnpay.Sign(secret, p))
		return "/v1/callbacks/vnpay/ipn?" + p.Encode()
	}
	send(call{"ipn bad checksum", http.MethodGet, ipn(150000, "X"), "", "", nil, 200})
	send(call{"ipn amount", http.MethodGet, ipn(1, config.DemoVNPaySecret), "", "", nil, 200})
	send(call{"ipn confirmed", http.MethodGet, ipn(150000, config.DemoVNPaySecret), "", "", nil, 200})
	send(call{"ipn again", http.MethodGet, ipn(150000, config.DemoVNPaySecret), "", "", nil, 200})
	send(call{"paid", http.MethodGet, "/v1/payments/" + created.PaymentID, config.DemoClientToken, "", nil, 200})
	send(call{"dossier with payments", http.MethodGet, "/v1/dossiers/" + dossier, config.DemoClientToken, "", nil, 200})

	send(call{"bill payable", http.MethodPost, "/v1/callbacks/paygov/bill", "", `{"MaHoSo":"` + dossier + `"}`, nil, 200})
	send(call{"bill unknown", http.MethodPost, "/v1/callbacks/paygov/bill", "", `{"MaHoSo":"X-1"}`, nil, 200})
	cb := paygov.ConfirmationCallback{TransactionID: paygov.Text(pg["reference"].(string)), TransactionCode: "PG1", TransAmount: "70000",
		PaymentFee: "0", Command: paygov.CommandPay, AdditionFee: "0", Version: paygov.Version, Status: paygov.StatusPaid}
	cb.Sign(config.DemoPayGovKey2, config.DemoPayGovClient)
	b, _ := json.Marshal(cb)
	send(call{"confirm", http.MethodPost, "/v1/callbacks/paygov/confirm", "", string(b), nil, 200})
	send(call{"confirm refused", http.MethodPost, "/v1/callbacks/paygov/confirm", "", `{"transaction_id":1}`, nil, 200})
	send(call{"bill nothing to pay", http.MethodPost, "/v1/callbacks/paygov/bill", "", `{"MaHoSo":"` + dossier + `"}`, nil, 200})

	note, _ := json.Marshal(vietqr.Notification{Transactions: []vietqr.Transaction{
		{TransactionID: "FT1", AccountNumber: config.DemoAccount, Amount: 50000, Direction: "credit", Description: "ZZZZZZZZZZ"},
		{TransactionID: "FT2", AccountNumber: config.DemoAccount, Amount: 50000, Direction: "debit", Description: "x"},
	}})
	ts := time.Now().Unix()
	signed := map[string]string{vietqr.HeaderTimestamp: strconv.FormatInt(ts, 10), vietqr.HeaderSignature: vietqr.SignNotification(config.DemoBankSecret, ts, note)}
	send(call{"notification", http.MethodPost, "/v1/callbacks/bank/" + config.DemoBank + "/transactions", "", string(note), signed, 200})
	bad := map[string]string{vietqr.HeaderTimestamp: strconv.FormatInt(ts, 10), vietqr.HeaderSignature: strings.Repeat("0", 64)}
	send(call{"notification unsigned", http.MethodPost, "/v1/callbacks/bank/" + config.DemoBank + "/transactions", "", string(note), bad, 401})
	send(call{"notification unknown bank", http.MethodPost, "/v1/callbacks/bank/nobank/transactions", "", string(note), signed, 404})
	send(call{"notification malformed", http.MethodPost, "/v1/callbacks/bank/" + config.DemoBank + "/transactions", "", "{}",
		map[string]string{vietqr.HeaderTimestamp: strconv.FormatInt(ts, 10), vietqr.HeaderSignature: vietqr.SignNotification(config.DemoBankSecret, ts, []byte("{}"))}, 400})
}
