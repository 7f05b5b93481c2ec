package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/paygov"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	onestopsandbox "github.com/egov-vn/gateway/connectors/onestop/sandbox"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
)

const payDossier = "000.00.37.H37-251126-0042"

// paymentBody is a POST /v1/payments body of amount for provider.
func paymentBody(provider string, amount int64) string {
	first := amount * 2 / 3
	return fmt.Sprintf(`{"dossier_code":%q,"procedure_code":"1.011442","agency_code":"000.00.00.H37","provider":%q,"amount":%d,`+
		`"fee_lines":[{"code":"LP01","name":"Lệ phí cấp giấy phép xây dựng","kind":"le_phi","amount":%d},`+
		`{"code":"P01","name":"Phí thẩm định","kind":"phi","amount":%d}],`+
		`"payer":{"name":"Nguyễn Văn A","id_number":"020123456789","address":"Số 1 Lê Lợi, Lạng Sơn"},`+
		`"description":"Thanh toán lệ phí hồ sơ %s"}`, payDossier, provider, amount, first, amount-first, payDossier)
}

func doJSON(t *testing.T, method, url, token string, header map[string]string, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

func createPayment(t *testing.T, gw *apptest.Gateway, key, provider string, amount int64) map[string]any {
	t.Helper()
	code, out, _ := doJSON(t, http.MethodPost, gw.API+"/v1/payments", config.DemoClientToken,
		map[string]string{"Idempotency-Key": key}, paymentBody(provider, amount))
	if code != http.StatusCreated {
		t.Fatalf("creating a %s payment: %d %v", provider, code, out)
	}
	return out
}

func getPayment(t *testing.T, gw *apptest.Gateway, id string) map[string]any {
	t.Helper()
	code, out, _ := doJSON(t, http.MethodGet, gw.API+"/v1/payments/"+id, config.DemoClientToken, nil, "")
	if code != http.StatusOK {
		t.Fatalf("reading payment %s: %d %v", id, code, out)
	}
	return out
}

func waitStatus(t *testing.T, gw *apptest.Gateway, id, status string) map[string]any {
	t.Helper()
	var p map[string]any
	apptest.Eventually(t, 10*time.Second, "payment "+id+" "+status, func() bool {
		p = getPayment(t, gw, id)
		return p["status"] == status
	})
	return p
}

// notices returns the accepted, deduplicated notifications of type typ about payment id.
func notices(gw *apptest.Gateway, typ, id string) []onestopsandbox.Record {
	var out []onestopsandbox.Record
	for _, r := range gw.Sandboxes.Onestop.Unique(typ) {
		var d struct {
			PaymentID string `json:"payment_id"`
		}
		if json.Unmarshal(r.Data, &d) == nil && d.PaymentID == id {
			out = append(out, r)
		}
	}
	return out
}

// attempts counts every webhook attempt about payment id, duplicates included.
func attempts(gw *apptest.Gateway, id string) int {
	n := 0
	for _, r := range gw.Sandboxes.Onestop.Received() {
		if strings.Contains(string(r.Data), `"`+id+`"`) {
			n++
		}
	}
	return n
}

// citizenPays makes the provider's sandbox complete the payment and call back, as the real
// provider would once the citizen has paid (or given up).
func citizenPays(t *testing.T, gw *apptest.Gateway, p map[string]any, success bool) map[string]any {
	t.Helper()
	outcome := "failed"
	if success {
		outcome = "success"
	}
	var path, body string
	switch p["provider"] {
	case bank.ProviderVNPay:
		path, body = "/sandbox/vnpay/pay", fmt.Sprintf(`{"payment_url":%q,"outcome":%q}`, p["payment_url"], outcome)
	case bank.ProviderPayGov:
		path, body = "/sandbox/paygov/pay", fmt.Sprintf(`{"payment_url":%q,"outcome":%q}`, p["payment_url"], outcome)
	default:
		path, body = "/sandbox/bank/"+config.DemoBank+"/transfer", fmt.Sprintf(`{"qr_payload":%q}`, p["qr_payload"])
	}
	code, out, _ := doJSON(t, http.MethodPost, gw.API+path, "", nil, body)
	if code != http.StatusOK {
		t.Fatalf("citizen action %s: %d %v", path, code, out)
	}
	return out
}

func portalSteps(t *testing.T, gw *apptest.Gateway, ref string) int {
	t.Helper()
	rec, ok := gw.Sandboxes.Portal.Dossier(payDossier)
	if !ok {
		return 0
	}
	n := 0
	for _, s := range rec.Steps {
		if strings.Contains(string(s), ref) {
			n++
		}
	}
	return n
}

// TestPaymentFlows runs the three providers end to end in process, on both stores: create →
// the sandbox's citizen pays → the provider's signed callback → paid → the one-stop system is
// notified (signed) → the portal gets its step. A VNPay payment the citizen gives up on ends
// failed and is notified as such.
func TestPaymentFlows(t *testing.T) {
	for _, store := range apptest.Stores {
		t.Run(store.String(), func(t *testing.T) {
			t.Parallel()
			gw := apptest.Start(t, apptest.Config(t, store))
			if code, out := post(t, gw, statusEventOf(payDossier, "pay-e6", 6, 6)); code != http.StatusAccepted {
				t.Fatalf("dossier event: %d %v", code, out)
			}
			apptest.Eventually(t, 10*time.Second, "dossier at the portal", func() bool {
				_, ok := gw.Sandboxes.Portal.Dossier(payDossier)
				return ok
			})
			for i, provider := range bank.Providers {
				t.Run(provider, func(t *testing.T) {
					amount := int64(150000 + i*1000)
					p := createPayment(t, gw, "flow-"+provider, provider, amount)
					id, ref := p["payment_id"].(string), p["reference"].(string)
					if p["status"] != "pending" || p["amount"] != float64(amount) || len(ref) != 10 {
						t.Fatalf("created %v", p)
					}
					cb := citizenPays(t, gw, p, true)
					t.Logf("%s callback: %v", provider, cb)
					paid := waitStatus(t, gw, id, "paid")
					hist := paid["history"].([]any)
					if len(hist) != 2 || hist[1].(map[string]any)["to"] != "paid" || paid["provider_transaction_id"] == nil || paid["paid_at"] == nil {
						t.Fatalf("paid payment %v", paid)
					}
					apptest.Eventually(t, 10*time.Second, "payment.succeeded at the one-stop system", func() bool {
						return len(notices(gw, "payment.succeeded", id)) == 1
					})
					n := notices(gw, "payment.succeeded", id)[0]
					if !n.SignatureValid || !strings.Contains(string(n.Data), `"amount":`+strconv.FormatInt(amount, 10)) {
						t.Fatalf("notification %+v", n)
					}
					if strings.Contains(string(n.Data), "Nguyễn") || strings.Contains(string(n.Data), "020123456789") {
						t.Fatalf("the notification carries personal data: %s", n.Data)
					}
					apptest.Eventually(t, 10*time.Second, "payment step at the portal", func() bool { return portalSteps(t, gw, ref) == 1 })
				})
			}
			t.Run("citizen gives up", func(t *testing.T) {
				p := createPayment(t, gw, "flow-failed", bank.ProviderVNPay, 90000)
				id := p["payment_id"].(string)
				citizenPays(t, gw, p, false)
				waitStatus(t, gw, id, "failed")
				apptest.Eventually(t, 10*time.Second, "payment.failed", func() bool { return len(notices(gw, "payment.failed", id)) == 1 })
				if n := portalSteps(t, gw, p["reference"].(string)); n != 0 {
					t.Fatalf("a failed payment sent %d portal steps", n)
				}
			})
			code, out, _ := doJSON(t, http.MethodGet, gw.API+"/v1/dossiers/"+payDossier, config.DemoClientToken, nil, "")
			if code != http.StatusOK || len(out["payments"].([]any)) != 4 {
				t.Fatalf("dossier view: %d, %d payments, want 4", code, len(out["payments"].([]any)))
			}
		})
	}
}

func statusEventOf(code, id string, version, status int) map[string]any {
	ev := statusEvent(id, version, status)
	ev["subject"] = code
	ev["data"].(map[string]any)["dossier"].(map[string]any)["MaHoSo"] = code
	return ev
}

// TestDuplicateCallbacks makes every provider sandbox send each callback twice: the payment
// is paid once, the repeat is answered "already confirmed" in the partner's format, and the
// one-stop system hears of it once.
func TestDuplicateCallbacks(t *testing.T) {
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	for _, partner := range []string{"vnpay", "paygov", "bank"} {
		if code, _, _ := doJSON(t, http.MethodPut, gw.API+"/sandbox/"+partner+"/faults", "", nil, `{"duplicate_callbacks":true}`); code != http.StatusOK {
			t.Fatalf("setting %s faults: %d", partner, code)
		}
	}
	for _, provider := range bank.Providers {
		t.Run(provider, func(t *testing.T) {
			p := createPayment(t, gw, "dup-"+provider, provider, 30000)
			id, ref := p["payment_id"].(string), p["reference"].(string)
			citizenPays(t, gw, p, true)
			waitStatus(t, gw, id, "paid")
			var answers []string
			switch provider {
			case bank.ProviderVNPay:
				tx, _ := gw.Sandboxes.VNPay.Transaction(ref)
				for _, a := range tx.IPNs {
					var r vnpay.IPNReply
					_ = json.Unmarshal(a.Answer, &r)
					answers = append(answers, r.RspCode)
				}
				want := []string{"00", "02"}
				if strings.Join(answers, ",") != strings.Join(want, ",") {
					t.Fatalf("IPN answers %v, want %v", answers, want)
				}
			case bank.ProviderPayGov:
				tx, _ := gw.Sandboxes.PayGov.Transaction(ref)
				for _, a := range tx.Callbacks {
					var r paygov.ConfirmationReply
					_ = json.Unmarshal(a.Answer, &r)
					answers = append(answers, strconv.Itoa(r.ReturnCode)+" "+r.ReturnMsg)
				}
				if strings.Join(answers, ",") != "0 Success,0 Already confirmed" {
					t.Fatalf("confirmation answers %v", answers)
				}
			default:
				txs := gw.Sandboxes.Banks.Transactions(config.DemoBank, time.Now())
				last := txs[len(txs)-1]
				for _, a := range last.Notifications {
					var ack vietqr.Ack
					_ = json.Unmarshal(a.Answer, &ack)
					answers = append(answers, ack.Results[0].Result)
				}
				if strings.Join(answers, ",") != "applied,already_settled" {
					t.Fatalf("notification answers %v", answers)
				}
			}
			if h := getPayment(t, gw, id)["history"].([]any); len(h) != 2 {
				t.Fatalf("history %v, want created and paid only", h)
			}
			apptest.Eventually(t, 10*time.Second, "one notification", func() bool { return len(notices(gw, "payment.succeeded", id)) == 1 })
			time.Sleep(300 * time.Millisecond)
			if n := attempts(gw, id); n != 1 {
				t.Fatalf("%d webhook attempts about the payment, want 1", n)
			}
		})
	}
	endpoint := map[string]string{bank.ProviderVNPay: bank.EndpointVNPayIPN, bank.ProviderPayGov: bank.EndpointPayGovConfirm, bank.ProviderVietQR: bank.EndpointBankTransactions}
	for _, provider := range bank.Providers {
		if got := testutil.ToFloat64(gw.PaymentMetrics.Callbacks.WithLabelValues(endpoint[provider], "already_settled")); got != 1 {
			t.Errorf("%s: already_settled counted %v times, want 1", provider, got)
		}
	}
}

// signedIPN is an IPN VNPay would send for a payment, signed with the dev profile's secret.
func signedIPN(ref string, amount int64, code, secret string) string {
	n := vnpay.IPN{TmnCode: config.DemoVNPayTmnCode, Amount: amount, BankCode: "NCB", CardType: "ATM", OrderInfo: "Thanh toan le phi",
		PayDate: time.Now(), ResponseCode: code, TransactionNo: "14226112", TransactionStatus: code, TxnRef: ref}
	p := n.Params()
	p.Set(vnpay.ParamSecureHash, vnpay.Sign(secret, p))
	return p.Encode()
}

func confirmation(ref string, amount int64, key string) paygov.ConfirmationCallback {
	c := paygov.ConfirmationCallback{TransactionID: paygov.Text(ref), TransactionCode: "PG1", TransAmount: paygov.Text(strconv.FormatInt(amount, 10)),
		PaymentFee: "0", Command: paygov.CommandPay, AdditionFee: "0", Version: paygov.Version, Status: paygov.StatusPaid}
	c.Sign(key, config.DemoPayGovClient)
	return c
}

func credit(ref string, amount int64) []byte {
	b, _ := json.Marshal(vietqr.Notification{Transactions: []vietqr.Transaction{{TransactionID: "FT" + strconv.FormatInt(time.Now().UnixNano(), 10),
		AccountNumber: config.DemoAccount, Amount: amount, Direction: vietqr.DirectionCredit, Description: ref + " chuyen tien",
		TransactedAt: time.Now().Format(time.RFC3339)}}})
	return b
}

func sendNotification(t *testing.T, gw *apptest.Gateway, bankName, secret string, ts time.Time, body, signed []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, gw.API+"/v1/callbacks/bank/"+bankName+"/transactions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(vietqr.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(vietqr.HeaderSignature, vietqr.SignNotification(secret, ts.Unix(), signed))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestBadInputChangesNothing sends every bad input of issue 4's list. Each is answered in its
// partner's own format, counted under its reason, and leaves every payment as it was (pending,
// with its creation as its only history entry, and no outbox event).
func TestBadInputChangesNothing(t *testing.T) {
	for _, store := range apptest.Stores {
		t.Run(store.String(), func(t *testing.T) {
			t.Parallel()
			cfg := apptest.Config(t, store)
			gw := apptest.Start(t, cfg)
			vnp := createPayment(t, gw, "bad-vnpay", bank.ProviderVNPay, 150000)
			pg := createPayment(t, gw, "bad-paygov", bank.ProviderPayGov, 150000)
			qr := createPayment(t, gw, "bad-vietqr", bank.ProviderVietQR, 150000)
			cancelled := createPayment(t, gw, "bad-cancelled", bank.ProviderVNPay, 150000)
			cancelledPG := createPayment(t, gw, "bad-cancelled-pg", bank.ProviderPayGov, 150000)
			cancelledQR := createPayment(t, gw, "bad-cancelled-qr", bank.ProviderVietQR, 150000)
			for _, c := range []map[string]any{cancelled, cancelledPG, cancelledQR} {
				if _, err := gw.Payments.Cancel(t.Context(), "onestop", c["payment_id"].(string), "test"); err != nil {
					t.Fatal(err)
				}
			}
			vref, pref, qref := vnp["reference"].(string), pg["reference"].(string), qr["reference"].(string)
			m := gw.PaymentMetrics
			counted := func(endpoint, reason string) float64 {
				return testutil.ToFloat64(m.CallbacksRejected.WithLabelValues(endpoint, reason))
			}

			ipn := func(query string) string {
				t.Helper()
				code, out, _ := doJSON(t, http.MethodGet, gw.API+"/v1/callbacks/vnpay/ipn?"+query, "", nil, "")
				if code != http.StatusOK {
					t.Fatalf("IPN answered HTTP %d", code)
				}
				return fmt.Sprint(out["RspCode"])
			}
			ipnCases := []struct {
				name, query, want, reason string
			}{
				{"bad signature", signedIPN(vref, 150000, "00", "ANOTHERSECRET0123456789ABCDEFGHI"), "97", bank.ReasonBadSignature},
				{"missing signature", strings.Split(signedIPN(vref, 150000, "00", config.DemoVNPaySecret), "&vnp_SecureHash=")[0], "97", bank.ReasonBadSignature},
				{"signature over another amount", strings.Replace(signedIPN(vref, 150000, "00", config.DemoVNPaySecret), "vnp_Amount=15000000", "vnp_Amount=100", 1), "97", bank.ReasonBadSignature},
				{"unknown reference", signedIPN("ZZZZZZZZZZ", 150000, "00", config.DemoVNPaySecret), "01", bank.ReasonUnknownReference},
				{"1 VND less", signedIPN(vref, 149999, "00", config.DemoVNPaySecret), "04", bank.ReasonAmountMismatch},
				{"a PayGov reference", signedIPN(pref, 150000, "00", config.DemoVNPaySecret), "01", bank.ReasonUnknownReference},
				{"cancelled payment", signedIPN(cancelled["reference"].(string), 150000, "00", config.DemoVNPaySecret), "02", bank.ReasonClosed},
			}
			for _, c := range ipnCases {
				before := counted(bank.EndpointVNPayIPN, c.reason)
				if got := ipn(c.query); got != c.want {
					t.Errorf("IPN %s: RspCode %s, want %s", c.name, got, c.want)
				}
				if counted(bank.EndpointVNPayIPN, c.reason)-before != 1 {
					t.Errorf("IPN %s: not counted under %s", c.name, c.reason)
				}
			}

			confirm := func(body any) map[string]any {
				t.Helper()
				b, _ := json.Marshal(body)
				code, out, _ := doJSON(t, http.MethodPost, gw.API+"/v1/callbacks/paygov/confirm", "", nil, string(b))
				if code != http.StatusOK {
					t.Fatalf("confirmation answered HTTP %d", code)
				}
				return out
			}
			reordered := confirmation(pref, 150000, config.DemoPayGovKey2)
			reordered.CheckSum = paygov.Text(paygov.Checksum(config.DemoPayGovKey2, "0", config.DemoPayGovClient, "150000", "PAY", pref, "3.0"))
			other := confirmation(pref, 150000, config.DemoPayGovKey2)
			other.TransAmount = "15000"
			pgCases := []struct {
				name   string
				body   any
				reason string
			}{
				{"checksum with key 1", confirmation(pref, 150000, config.DemoPayGovKey1), bank.ReasonBadSignature},
				{"checksum over reordered fields", reordered, bank.ReasonBadSignature},
				{"checksum over another amount", other, bank.ReasonBadSignature},
				{"unknown transaction", confirmation("ZZZZZZZZZZ", 150000, config.DemoPayGovKey2), bank.ReasonUnknownReference},
				{"1 VND more", confirmation(pref, 150001, config.DemoPayGovKey2), bank.ReasonAmountMismatch},
				{"cancelled payment", confirmation(cancelledPG["reference"].(string), 150000, config.DemoPayGovKey2), bank.ReasonClosed},
				{"a VNPay reference", confirmation(vref, 150000, config.DemoPayGovKey2), bank.ReasonUnknownReference},
			}
			for _, c := range pgCases {
				before := counted(bank.EndpointPayGovConfirm, c.reason)
				if out := confirm(c.body); out["return_code"] != float64(-1) || out["return_msg"] == "" {
					t.Errorf("confirmation %s: %v, want return_code -1 with a message", c.name, out)
				}
				if counted(bank.EndpointPayGovConfirm, c.reason)-before != 1 {
					t.Errorf("confirmation %s: not counted under %s", c.name, c.reason)
				}
			}

			now := time.Now()
			bankCases := []struct {
				name, bankName, secret string
				ts                     time.Time
				body, signed           []byte
				status                 int
				result, reason         string
			}{
				{"bad signature", config.DemoBank, "another-secret", now, credit(qref, 150000), nil, 401, "", bank.ReasonBadSignature},
				{"signature over another body", config.DemoBank, config.DemoBankSecret, now, credit(qref, 150000), credit(qref, 1500000), 401, "", bank.ReasonBadSignature},
				{"stale timestamp (replay)", config.DemoBank, config.DemoBankSecret, now.Add(-10 * time.Minute), credit(qref, 150000), nil, 401, "", bank.ReasonStaleTimestamp},
				{"unknown bank", "otherbank", config.DemoBankSecret, now, credit(qref, 150000), nil, 404, "", bank.ReasonUnknownBank},
				{"unknown reference", config.DemoBank, config.DemoBankSecret, now, credit("ZZZZZZZZZZ", 150000), nil, 200, "unmatched", bank.ReasonUnknownReference},
				{"1 VND less", config.DemoBank, config.DemoBankSecret, now, credit(qref, 149999), nil, 200, "unmatched", bank.ReasonAmountMismatch},
				{"cancelled payment", config.DemoBank, config.DemoBankSecret, now, credit(cancelledQR["reference"].(string), 150000), nil, 200, "unmatched", bank.ReasonClosed},
			}
			for _, c := range bankCases {
				before := counted(bank.EndpointBankTransactions, c.reason)
				signed := c.signed
				if signed == nil {
					signed = c.body
				}
				status, out := sendNotification(t, gw, c.bankName, c.secret, c.ts, c.body, signed)
				if status != c.status {
					t.Errorf("notification %s: HTTP %d, want %d: %v", c.name, status, c.status, out)
				}
				if c.result != "" {
					r := out["results"].([]any)[0].(map[string]any)
					if r["result"] != c.result || r["reason"] != c.reason {
						t.Errorf("notification %s: %v", c.name, r)
					}
				} else if out["type"] == nil || out["status"] != float64(c.status) {
					t.Errorf("notification %s: %v, want a problem document", c.name, out)
				}
				if counted(bank.EndpointBankTransactions, c.reason)-before != 1 {
					t.Errorf("notification %s: not counted under %s", c.name, c.reason)
				}
			}

			reqCases := []struct {
				name, key, body, reason, field string
				status                         int
			}{
				{"amount is not the sum of fee_lines", "r1", strings.Replace(paymentBody("vnpay", 150000), `"amount":150000`, `"amount":150001`, 1), bank.ReasonFeeSumMismatch, "amount", 400},
				{"zero amount", "r2", strings.Replace(paymentBody("vnpay", 150000), `"amount":150000`, `"amount":0`, 1), bank.ReasonInvalidAmount, "amount", 400},
				{"negative amount", "r3", strings.Replace(paymentBody("vnpay", 150000), `"amount":150000`, `"amount":-150000`, 1), bank.ReasonInvalidAmount, "amount", 400},
				{"unknown provider", "r4", paymentBody("momo", 150000), bank.ReasonUnknownProvider, "provider", 400},
				{"no Idempotency-Key", "", paymentBody("vnpay", 150000), bank.ReasonMissingIdempotency, "Idempotency-Key", 400},
				{"the same key with another body", "bad-vnpay", paymentBody("vnpay", 150001), bank.ReasonIdempotencyConflict, "", 409},
				{"the same key with an invalid body", "bad-vnpay", strings.Replace(paymentBody("vnpay", 150000), `"amount":150000`, `"amount":0`, 1), bank.ReasonIdempotencyConflict, "", 409},
			}
			for _, c := range reqCases {
				before := testutil.ToFloat64(m.RequestsRejected.WithLabelValues(c.reason))
				h := map[string]string{}
				if c.key != "" {
					h["Idempotency-Key"] = c.key
				}
				code, out, hdr := doJSON(t, http.MethodPost, gw.API+"/v1/payments", config.DemoClientToken, h, c.body)
				if code != c.status || hdr.Get("Content-Type") != "application/problem+json" {
					t.Errorf("request %s: %d %s %v", c.name, code, hdr.Get("Content-Type"), out)
				}
				if c.field != "" && !strings.Contains(fmt.Sprint(out["errors"]), "field:"+c.field+" ") {
					t.Errorf("request %s: errors %v do not name %s", c.name, out["errors"], c.field)
				}
				if testutil.ToFloat64(m.RequestsRejected.WithLabelValues(c.reason))-before != 1 {
					t.Errorf("request %s: not counted under %s", c.name, c.reason)
				}
			}

			for _, p := range []map[string]any{vnp, pg, qr} {
				got := getPayment(t, gw, p["payment_id"].(string))
				if got["status"] != "pending" || len(got["history"].([]any)) != 1 {
					t.Errorf("%s payment changed: %v", p["provider"], got)
				}
			}
			views, err := gw.Payments.ByDossier(t.Context(), payDossier)
			if err != nil || len(views) != 6 {
				t.Fatalf("%d payments stored, want 6 (no bad request stored one): %v", len(views), err)
			}
			if n := gw.Store.Client.XLen(t.Context(), gw.Payments.OutboxStream()).Val(); n != 3 {
				t.Errorf("%d outbox events, want 3 (the three cancellations)", n)
			}
		})
	}
}

// TestExpiredPaymentRefusesLateCallbacks lets a VNPay payment expire (VNPay is asked and does not
// know it), then sends the IPN VNPay would send for it: 02, and the payment stays expired.
func TestExpiredPaymentRefusesLateCallbacks(t *testing.T) {
	cfg := apptest.Config(t, apptest.Embedded)
	cfg.Payments.VNPay.TTL = time.Second
	cfg.Payments.QueryAfter = 200 * time.Millisecond
	cfg.Payments.QueryInterval = 200 * time.Millisecond
	cfg.Payments.ExpireGrace = 200 * time.Millisecond
	gw := apptest.Start(t, cfg)
	p := createPayment(t, gw, "expiring", bank.ProviderVNPay, 40000)
	id := p["payment_id"].(string)
	waitStatus(t, gw, id, "expired")
	apptest.Eventually(t, 10*time.Second, "payment.expired", func() bool { return len(notices(gw, "payment.expired", id)) == 1 })
	if got := testutil.ToFloat64(gw.PaymentMetrics.Queries.WithLabelValues(bank.ProviderVNPay, "not_found")); got < 1 {
		t.Errorf("VNPay was not asked before the payment expired (not_found queries %v)", got)
	}
	code, out, _ := doJSON(t, http.MethodGet, gw.API+"/v1/callbacks/vnpay/ipn?"+signedIPN(p["reference"].(string), 40000, "00", config.DemoVNPaySecret), "", nil, "")
	if code != http.StatusOK || out["RspCode"] != "02" {
		t.Fatalf("late IPN: %d %v, want 02", code, out)
	}
	if got := getPayment(t, gw, id); got["status"] != "expired" || len(got["history"].([]any)) != 2 {
		t.Fatalf("payment after the late IPN: %v", got)
	}
}
