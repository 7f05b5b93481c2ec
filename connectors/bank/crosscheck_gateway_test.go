package bank_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
)

type (
	gatewayInput struct {
		Gateway struct {
			URLs []gatewayURLCase `json:"urls"`
			IPNs []gatewayIPNCase `json:"ipns"`
			QRs  []gatewayQRCase  `json:"qrs"`
		} `json:"gateway"`
	}
	gatewayURLCase struct {
		Name    string `json:"name"`
		URL     string `json:"url"`
		TmnCode string `json:"tmnCode"`
		Secret  string `json:"secret"`
	}
	gatewayIPNCase struct {
		Name   string            `json:"name"`
		Secret string            `json:"secret"`
		Params map[string]string `json:"params"`
	}
	gatewayQRCase struct {
		Name string `json:"name"`
		QR   string `json:"qr"`
	}
	gatewayOutput struct {
		Versions map[string]string `json:"versions"`
		Gateway  struct {
			URLs []struct {
				Name       string  `json:"name"`
				IsVerified bool    `json:"isVerified"`
				Amount     float64 `json:"amount"`
				TxnRef     string  `json:"txnRef"`
				TmnCode    string  `json:"tmnCode"`
			} `json:"urls"`
			IPNs []struct {
				Name  string `json:"name"`
				Query string `json:"query"`
			} `json:"ipns"`
			QRs []struct {
				Name       string `json:"name"`
				IsValid    bool   `json:"isValid"`
				BIN        string `json:"bin"`
				Account    string `json:"account"`
				Amount     string `json:"amount"`
				Purpose    string `json:"purpose"`
				BillNumber string `json:"billNumber"`
			} `json:"qrs"`
		} `json:"gateway"`
	}
)

// TestCrossCheckGatewayWithNPM checks a running gateway's answers with the npm packages: the
// VNPay payment URL the gateway answers verifies with `vnpay`; an IPN that `vnpay` builds and
// signs with the sandbox secret is accepted by the gateway's IPN endpoint and pays the payment
// (one signed with another secret is refused); the VietQR string decodes with `vietnam-qr-pay`
// to the configured bank and account, the amount and the reference.
func TestCrossCheckGatewayWithNPM(t *testing.T) {
	node := requireTool(t, "node")
	npm := requireTool(t, "npm")
	requireNodeVersion(t, node)
	ensureNodeModules(t, npm)

	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	vnp := createPayment(t, gw, "xc-vnpay", "vnpay", 215000)
	qr := createPayment(t, gw, "xc-vietqr", "vietqr", 180000)
	ref := vnp["reference"].(string)
	u, err := url.Parse(vnp["payment_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	ipn := func(secret string) gatewayIPNCase {
		return gatewayIPNCase{Name: "ipn", Secret: secret, Params: map[string]string{
			"vnp_Amount": "21500000", "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP14226112", "vnp_CardType": "ATM",
			"vnp_OrderInfo": u.Query().Get("vnp_OrderInfo"), "vnp_PayDate": vnpay.FormatTime(time.Now()), "vnp_ResponseCode": "00",
			"vnp_TmnCode": config.DemoVNPayTmnCode, "vnp_TransactionNo": "14226112", "vnp_TransactionStatus": "00", "vnp_TxnRef": ref,
		}}
	}
	var in gatewayInput
	in.Gateway.URLs = []gatewayURLCase{{Name: "payment url", URL: vnp["payment_url"].(string), TmnCode: config.DemoVNPayTmnCode, Secret: config.DemoVNPaySecret}}
	in.Gateway.IPNs = []gatewayIPNCase{ipn("ANOTHERSECRET0123456789ABCDEFGHI"), ipn(config.DemoVNPaySecret)}
	in.Gateway.QRs = []gatewayQRCase{{Name: "qr", QR: qr["qr_payload"].(string)}}
	out := runGatewayCrossCheck(t, node, in)
	t.Logf("cross-checked a running gateway against vnpay %s and vietnam-qr-pay %s", out.Versions["vnpay"], out.Versions["vietnam-qr-pay"])

	got := out.Gateway.URLs[0]
	if !got.IsVerified || got.Amount != 215000 || got.TxnRef != ref || got.TmnCode != config.DemoVNPayTmnCode {
		t.Errorf("vnpay reads our payment URL as %+v, want verified, 215000, %s", got, ref)
	}

	forged, genuine := out.Gateway.IPNs[0].Query, out.Gateway.IPNs[1].Query
	if code := ipnAnswer(t, gw.API, forged); code != "97" {
		t.Errorf("an IPN vnpay signed with another secret: RspCode %s, want 97", code)
	}
	if code := ipnAnswer(t, gw.API, genuine); code != "00" {
		t.Fatalf("an IPN built by vnpay with the sandbox secret: RspCode %s, want 00", code)
	}
	if p := getPayment(t, gw, vnp["payment_id"].(string)); p["status"] != "paid" {
		t.Fatalf("the payment is %v after vnpay's IPN, want paid", p["status"])
	}
	if code := ipnAnswer(t, gw.API, genuine); code != "02" {
		t.Errorf("the same IPN again: RspCode %s, want 02", code)
	}

	q := out.Gateway.QRs[0]
	if !q.IsValid || q.BIN != config.DemoBankBIN || q.Account != config.DemoAccount || q.Amount != "180000" || q.Purpose != qr["reference"] {
		t.Errorf("vietnam-qr-pay reads our QR as %+v, want bank %s, account %s, amount 180000, purpose %v",
			q, config.DemoBankBIN, config.DemoAccount, qr["reference"])
	}
}

func runGatewayCrossCheck(t *testing.T, node string, in gatewayInput) gatewayOutput {
	t.Helper()
	payload, _ := json.Marshal(in)
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "crosscheck.cjs")
	cmd.Dir = crosscheckDir
	cmd.Stdin = bytes.NewReader(payload)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("running crosscheck.cjs: %v\n%s", err, stderr.String())
	}
	var out gatewayOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("decoding crosscheck.cjs output: %v\n%s", err, stdout.String())
	}
	if len(out.Gateway.URLs) != len(in.Gateway.URLs) || len(out.Gateway.IPNs) != len(in.Gateway.IPNs) || len(out.Gateway.QRs) != len(in.Gateway.QRs) {
		t.Fatalf("crosscheck.cjs answered a different number of gateway cases than it was given")
	}
	return out
}

func createPayment(t *testing.T, gw *apptest.Gateway, key, provider string, amount int64) map[string]any {
	t.Helper()
	body := fmt.Sprintf(`{"dossier_code":"000.00.37.H37-251126-0007","procedure_code":"1.011442","agency_code":"000.00.00.H37",`+
		`"provider":%q,"amount":%d,"fee_lines":[{"code":"LP01","name":"Lệ phí","kind":"le_phi","amount":%d}],`+
		`"payer":{"name":"Nguyễn Văn A"},"description":"Nộp lệ phí: hồ sơ (đợt 1) ~ 50%%"}`, provider, amount, amount)
	req, _ := http.NewRequest(http.MethodPost, gw.API+"/v1/payments", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+config.DemoClientToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	return doRequest(t, req, http.StatusCreated)
}

func getPayment(t *testing.T, gw *apptest.Gateway, id string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, gw.API+"/v1/payments/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+config.DemoClientToken)
	return doRequest(t, req, http.StatusOK)
}

func ipnAnswer(t *testing.T, api, query string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, api+"/v1/callbacks/vnpay/ipn?"+query, nil)
	return fmt.Sprint(doRequest(t, req, http.StatusOK)["RspCode"])
}

func doRequest(t *testing.T, req *http.Request, want int) map[string]any {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, want, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return out
}
