// Package bank_test cross-checks the wire primitives of the bank dialects (vnpay, vietqr,
// paygov) against implementations nobody here wrote: the npm packages vnpay and
// vietnam-qr-pay, and Node's crypto. The Node side lives in testdata/crosscheck, pinned by its
// package-lock.json; its node_modules is installed on first use with npm ci and reused after.
package bank_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/paygov"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
)

const (
	crosscheckDir  = "testdata/crosscheck"
	minNodeMajor   = 18
	installTimeout = 5 * time.Minute
	runTimeout     = time.Minute
	installHelp    = "install Node.js 18 or newer with npm (Debian/Ubuntu: apt-get install nodejs npm; " +
		"elsewhere see nodejs.org), make sure `node` and `npm` are on PATH and the npm registry is " +
		"reachable, then run go test again"
)

// The wire shapes exchanged with crosscheck.cjs.
type (
	signCase struct {
		Name   string            `json:"name"`
		Secret string            `json:"secret"`
		Params map[string]string `json:"params"`
		GoHash string            `json:"goHash"`
	}
	urlCase struct {
		Name       string `json:"name"`
		Secret     string `json:"secret"`
		TmnCode    string `json:"tmnCode"`
		Host       string `json:"host"`
		Endpoint   string `json:"endpoint"`
		Amount     int64  `json:"amount"`
		IPAddr     string `json:"ipAddr"`
		TxnRef     string `json:"txnRef"`
		OrderInfo  string `json:"orderInfo"`
		OrderType  string `json:"orderType"`
		ReturnURL  string `json:"returnUrl"`
		Locale     string `json:"locale"`
		CreateDate string `json:"createDate"`
		ExpireDate string `json:"expireDate"`
		BankCode   string `json:"bankCode"`
	}
	queryCase struct {
		Name     string                `json:"name"`
		Secret   string                `json:"secret"`
		TmnCode  string                `json:"tmnCode"`
		Query    vnpay.QueryDRRequest  `json:"query"`
		Response vnpay.QueryDRResponse `json:"response"`
	}
	qrCase struct {
		Name       string `json:"name"`
		BIN        string `json:"bin"`
		Account    string `json:"account"`
		Service    string `json:"service"`
		Amount     int64  `json:"amount"`
		BillNumber string `json:"billNumber"`
		Purpose    string `json:"purpose"`
		GoString   string `json:"goString"`
	}
	hmacCase struct {
		Name    string `json:"name"`
		Key     string `json:"key"`
		Message string `json:"message"`
	}
	crossInput struct {
		VNPaySign    []signCase  `json:"vnpaySign"`
		VNPayURL     []urlCase   `json:"vnpayURL"`
		VNPayQueryDR []queryCase `json:"vnpayQueryDR"`
		VietQR       []qrCase    `json:"vietqr"`
		BINs         []string    `json:"bins"`
		PayGov       []hmacCase  `json:"paygov"`
	}
	crossOutput struct {
		Versions  map[string]string `json:"versions"`
		VNPaySign []struct {
			Name           string `json:"name"`
			Data           string `json:"data"`
			Hash           string `json:"hash"`
			VerifiesGoHash bool   `json:"verifiesGoHash"`
		} `json:"vnpaySign"`
		VNPayURL []struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		} `json:"vnpayURL"`
		VNPayQueryDR []struct {
			Name             string `json:"name"`
			SecureHash       string `json:"secureHash"`
			ResponseVerified bool   `json:"responseVerified"`
		} `json:"vnpayQueryDR"`
		VietQR []struct {
			Name   string `json:"name"`
			Built  string `json:"built"`
			Parsed struct {
				IsValid    bool   `json:"isValid"`
				InitMethod string `json:"initMethod"`
				BIN        string `json:"bin"`
				Account    string `json:"account"`
				Service    string `json:"service"`
				Amount     string `json:"amount"`
				Currency   string `json:"currency"`
				Nation     string `json:"nation"`
				BillNumber string `json:"billNumber"`
				Purpose    string `json:"purpose"`
			} `json:"parsed"`
		} `json:"vietqr"`
		Banks  map[string]string `json:"banks"`
		PayGov []struct {
			Name string `json:"name"`
			Hash string `json:"hash"`
		} `json:"paygov"`
	}
)

const testSecret = "TESTSECRETKEY1234567890ABCDEFGHI"

func TestCrossCheckWithNPMImplementations(t *testing.T) {
	node := requireTool(t, "node")
	npm := requireTool(t, "npm")
	requireNodeVersion(t, node)
	ensureNodeModules(t, npm)

	in := buildInput(t)
	out := runCrossCheck(t, node, in)
	t.Logf("cross-checked against node %s, vnpay %s, vietnam-qr-pay %s",
		out.Versions["node"], out.Versions["vnpay"], out.Versions["vietnam-qr-pay"])
	if len(out.VNPaySign) != len(in.VNPaySign) || len(out.VNPayURL) != len(in.VNPayURL) ||
		len(out.VNPayQueryDR) != len(in.VNPayQueryDR) || len(out.VietQR) != len(in.VietQR) ||
		len(out.PayGov) != len(in.PayGov) {
		t.Fatalf("crosscheck.cjs answered a different number of cases than it was given")
	}

	t.Run("vnpay signature", func(t *testing.T) {
		for i, c := range in.VNPaySign {
			got := out.VNPaySign[i]
			params := toValues(t, c.Params)
			goData := vnpay.SignedData(params)
			// WHATWG URLSearchParams, which the vnpay package uses, leaves '*' unescaped where
			// PHP's urlencode (our reference) writes %2A; every other byte must agree.
			divergent := strings.Contains(goData, "%2A")
			wantData := strings.ReplaceAll(goData, "%2A", "*")
			if got.Data != wantData {
				t.Errorf("%s: signed data differs\n  go: %s\n npm: %s", c.Name, goData, got.Data)
			}
			params.Set(vnpay.ParamSecureHash, got.Hash)
			ourVerdict := vnpay.Verify(c.Secret, params)
			if divergent {
				if got.Hash == c.GoHash || got.VerifiesGoHash || ourVerdict {
					t.Errorf("%s: expected the documented '*' divergence, got matching signatures (npm %s, go %s)", c.Name, got.Hash, c.GoHash)
				}
				t.Logf("%s: '*' is signed as %%2A here and as '*' by the vnpay package, as documented", c.Name)
				continue
			}
			if got.Hash != c.GoHash {
				t.Errorf("%s: signature differs\n  go: %s\n npm: %s", c.Name, c.GoHash, got.Hash)
			}
			if !got.VerifiesGoHash {
				t.Errorf("%s: the vnpay package rejects our vnp_SecureHash", c.Name)
			}
			if !ourVerdict {
				t.Errorf("%s: Verify rejects the vnpay package's signature", c.Name)
			}
		}
	})

	t.Run("vnpay payment URL", func(t *testing.T) {
		for i, c := range in.VNPayURL {
			goURL := paymentURL(t, c)
			if got := out.VNPayURL[i].URL; got != goURL {
				t.Errorf("%s: payment URL differs\n  go: %s\n npm: %s", c.Name, goURL, got)
			}
		}
	})

	t.Run("vnpay querydr", func(t *testing.T) {
		for i, c := range in.VNPayQueryDR {
			got := out.VNPayQueryDR[i]
			if got.SecureHash != c.Query.SecureHash {
				t.Errorf("%s: querydr vnp_SecureHash differs\n  go: %s\n npm: %s", c.Name, c.Query.SecureHash, got.SecureHash)
			}
			if want := c.Response.Verify(c.Secret); got.ResponseVerified != want {
				t.Errorf("%s: the vnpay package says the answer verifies = %v, we say %v", c.Name, got.ResponseVerified, want)
			}
		}
	})

	t.Run("vietqr", func(t *testing.T) {
		for i, c := range in.VietQR {
			got := out.VietQR[i]
			if got.Built != c.GoString {
				t.Errorf("%s: VietQR string differs\n  go: %s\n npm: %s", c.Name, c.GoString, got.Built)
			}
			p := got.Parsed
			wantInit, wantAmount := "11", ""
			if c.Amount > 0 {
				wantInit, wantAmount = "12", strconv.FormatInt(c.Amount, 10)
			}
			if !p.IsValid || p.InitMethod != wantInit || p.BIN != c.BIN || p.Account != c.Account ||
				p.Service != c.Service || p.Amount != wantAmount || p.Currency != "704" || p.Nation != "VN" ||
				p.BillNumber != c.BillNumber || p.Purpose != c.Purpose {
				t.Errorf("%s: vietnam-qr-pay reads our string as %+v, want %+v", c.Name, p, c)
			}
			back, err := vietqr.Parse(got.Built)
			if err != nil {
				t.Errorf("%s: Parse refuses vietnam-qr-pay's string: %v", c.Name, err)
				continue
			}
			if back.BankBIN != c.BIN || back.AccountNumber != c.Account || back.Amount != c.Amount ||
				back.BillNumber != c.BillNumber || back.Purpose != c.Purpose || string(back.Service) != c.Service {
				t.Errorf("%s: Parse reads vietnam-qr-pay's string as %+v", c.Name, back)
			}
		}
	})

	t.Run("bank BINs", func(t *testing.T) {
		for _, b := range vietqr.Banks() {
			theirs := out.Banks[b.BIN]
			if theirs == "" {
				t.Errorf("vietnam-qr-pay does not know BIN %s (%s)", b.BIN, b.ShortName)
				continue
			}
			if !strings.HasPrefix(squash(theirs), squash(b.ShortName)) {
				t.Errorf("BIN %s is %q here and %q in vietnam-qr-pay", b.BIN, b.ShortName, theirs)
			}
		}
	})

	t.Run("paygov checksum", func(t *testing.T) {
		for i, c := range in.PayGov {
			fields := strings.Split(c.Message, "|")
			ours := paygov.Checksum(c.Key, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5])
			if got := out.PayGov[i].Hash; got != ours {
				t.Errorf("%s: checksum differs\n  go: %s\nnode: %s", c.Name, ours, got)
			}
		}
	})
}

func buildInput(t *testing.T) crossInput {
	t.Helper()
	var in crossInput

	signs := []struct {
		name   string
		params map[string]string
	}{
		{name: "domain.md vector", params: map[string]string{
			"vnp_Amount": "5000000", "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP14226112", "vnp_CardType": "ATM",
			"vnp_OrderInfo": "Thanh toan le phi HS 000123", "vnp_PayDate": "20250101120000", "vnp_ResponseCode": "00",
			"vnp_TmnCode": "TESTTMN1", "vnp_TransactionNo": "14226112", "vnp_TransactionStatus": "00", "vnp_TxnRef": "HS000123-1",
		}},
		{name: "tilde and spaces", params: map[string]string{
			"vnp_Amount": "1000000", "vnp_TmnCode": "TESTTMN1", "vnp_TxnRef": "HS-2",
			"vnp_OrderInfo": "Le phi ~ ho so  so 2 ", "vnp_ReturnUrl": "https://egov.example/~citizen/return?a=1&b=~2",
		}},
		{name: "vietnamese text", params: map[string]string{
			"vnp_Amount": "15000000", "vnp_TmnCode": "TESTTMN1", "vnp_TxnRef": "HS-3",
			"vnp_OrderInfo": "Nộp lệ phí cấp giấy phép xây dựng, UBND tỉnh Lạng Sơn (Đợt 1)", "vnp_BankCode": "VNPAYQR",
		}},
		{name: "reserved and quote characters", params: map[string]string{
			"vnp_Amount": "20000", "vnp_TmnCode": "TESTTMN1", "vnp_TxnRef": "HS-4",
			"vnp_OrderInfo": `a&b=c+d%e/f:g#h?i@j$k,l;m"n<o>p[q]r{s}t|u\v^w` + "`x!y'z(1)2",
		}},
		{name: "empty values dropped", params: map[string]string{
			"vnp_Amount": "20000", "vnp_TmnCode": "TESTTMN1", "vnp_TxnRef": "HS-5", "vnp_BankTranNo": "", "vnp_OrderInfo": "x",
		}},
		{name: "star", params: map[string]string{
			"vnp_Amount": "20000", "vnp_TmnCode": "TESTTMN1", "vnp_TxnRef": "HS-6", "vnp_OrderInfo": "HS*000123 * ~",
		}},
	}
	for _, s := range signs {
		in.VNPaySign = append(in.VNPaySign, signCase{
			Name: s.name, Secret: testSecret, Params: s.params, GoHash: vnpay.Sign(testSecret, toValues(t, s.params)),
		})
	}

	created := time.Date(2025, 1, 1, 5, 0, 0, 0, time.UTC)
	base := urlCase{
		Secret: testSecret, TmnCode: "TESTTMN1", Host: "https://sandbox.vnpayment.vn", Endpoint: "paymentv2/vpcpay.html",
		Amount: 50000, IPAddr: "203.0.113.7", TxnRef: "HS000123-1", OrderType: "billpayment",
		ReturnURL: "https://dichvucong.langson.example/payments/return?id=42&lang=vi", Locale: vnpay.LocaleVN,
		CreateDate: vnpay.FormatTime(created), ExpireDate: vnpay.FormatTime(created.Add(15 * time.Minute)),
	}
	urls := []struct {
		name      string
		orderInfo string
		mutate    func(*urlCase)
	}{
		{name: "plain", orderInfo: "Thanh toan le phi HS 000123", mutate: func(*urlCase) {}},
		{name: "vietnamese and punctuation cleaned", orderInfo: "Nộp lệ phí: HS*000123 (đợt 1) & 50% ~ #2", mutate: func(*urlCase) {}},
		{name: "bank code, english, ipv6", orderInfo: "Fee for dossier 7", mutate: func(c *urlCase) {
			c.BankCode, c.Locale, c.IPAddr, c.Amount = "NCB", vnpay.LocaleEN, "2001:db8::7", 9_999_999_999
		}},
	}
	for _, u := range urls {
		c := base
		c.Name = u.name
		u.mutate(&c)
		c.OrderInfo = cleanedOrderInfo(t, c, u.orderInfo)
		in.VNPayURL = append(in.VNPayURL, c)
	}

	q := vnpay.QueryDR{
		RequestID: "Q20250101130000A1", TmnCode: "TESTTMN1", TxnRef: "HS000123-1", OrderInfo: "Truy van GD HS000123-1",
		TransactionNo: "14226112", TransactionDate: created, CreateDate: created.Add(time.Hour), IPAddr: "10.0.0.5",
	}
	req, err := vnpay.NewQueryDRRequest(testSecret, q)
	if err != nil {
		t.Fatalf("building querydr request: %v", err)
	}
	resp := vnpay.QueryDRResponse{
		ResponseID: "4f5b0a7c2d3e4f5a", Command: vnpay.CommandQueryDR, ResponseCode: vnpay.QueryCodeSuccess,
		Message: "QueryDR Success", TmnCode: "TESTTMN1", TxnRef: "HS000123-1", Amount: "5000000",
		OrderInfo: "Thanh toan le phi HS 000123", BankCode: "NCB", PayDate: "20250101120000",
		TransactionNo: "14226112", TransactionType: "01", TransactionStatus: "00",
	}
	resp.Sign(testSecret)
	tampered := resp
	tampered.TransactionStatus = "02"
	promo := resp
	promo.PromotionCode, promo.PromotionAmount = "TET2025", "1000000"
	promo.Sign(testSecret)
	in.VNPayQueryDR = []queryCase{
		{Name: "signed answer", Secret: testSecret, TmnCode: "TESTTMN1", Query: req, Response: resp},
		{Name: "answer with promotion", Secret: testSecret, TmnCode: "TESTTMN1", Query: req, Response: promo},
		{Name: "tampered answer", Secret: testSecret, TmnCode: "TESTTMN1", Query: req, Response: tampered},
	}

	payloads := []struct {
		name string
		p    vietqr.Payload
	}{
		{name: "domain.md dynamic", p: vietqr.Payload{BankBIN: "970403", AccountNumber: "0011012345678", Amount: 180000, BillNumber: "NPS6869", Purpose: "thanh toan don hang"}},
		{name: "domain.md static", p: vietqr.Payload{BankBIN: "970423", AccountNumber: "0099999999"}},
		{name: "card", p: vietqr.Payload{BankBIN: "970436", AccountNumber: "9704360000000000", Service: vietqr.ServiceCard, Amount: 1}},
		{name: "static with purpose", p: vietqr.Payload{BankBIN: "970415", AccountNumber: "113000000000", Purpose: "LE PHI HS000123"}},
		{name: "limits", p: vietqr.Payload{BankBIN: "970418", AccountNumber: strings.Repeat("9", 19), Amount: vietqr.MaxAmount,
			BillNumber: strings.Repeat("B", 25), Purpose: strings.Repeat("p", 25)}},
	}
	for _, pl := range payloads {
		s, err := vietqr.Build(pl.p)
		if err != nil {
			t.Fatalf("building VietQR %s: %v", pl.name, err)
		}
		service := string(pl.p.Service)
		if service == "" {
			service = string(vietqr.ServiceAccount)
		}
		in.VietQR = append(in.VietQR, qrCase{Name: pl.name, BIN: pl.p.BankBIN, Account: pl.p.AccountNumber, Service: service,
			Amount: pl.p.Amount, BillNumber: pl.p.BillNumber, Purpose: pl.p.Purpose, GoString: s})
	}
	for _, b := range vietqr.Banks() {
		in.BINs = append(in.BINs, b.BIN)
	}

	in.PayGov = []hmacCase{
		{Name: "domain.md vector", Key: "TESTHASHKEY1", Message: paygov.ChecksumMessage("0", "TESTCLIENT", "PAY", "50000", "123_abcdef0123456789", "3.0")},
		{Name: "key 2, fee and utf-8 id", Key: "DEMOPAYGOVKEY2", Message: paygov.ChecksumMessage("15000", "DEMOPAYGOV", "PAY", "1250000", "HS-Lạng-Sơn-7", "3.0")},
	}
	return in
}

// cleanedOrderInfo builds our payment URL for c with raw order information and returns the
// vnp_OrderInfo it carries, so both sides sign the same, cleaned text.
func cleanedOrderInfo(t *testing.T, c urlCase, raw string) string {
	t.Helper()
	c.OrderInfo = raw
	u, err := url.Parse(paymentURL(t, c))
	if err != nil {
		t.Fatalf("parsing our payment URL: %v", err)
	}
	return u.Query().Get("vnp_OrderInfo")
}

func paymentURL(t *testing.T, c urlCase) string {
	t.Helper()
	created, err := vnpay.ParseTime(c.CreateDate)
	if err != nil {
		t.Fatalf("parsing create date: %v", err)
	}
	expires, err := vnpay.ParseTime(c.ExpireDate)
	if err != nil {
		t.Fatalf("parsing expire date: %v", err)
	}
	s, err := vnpay.PaymentURL(c.Host+"/"+c.Endpoint, vnpay.PaymentRequest{
		TmnCode: c.TmnCode, Amount: c.Amount, TxnRef: c.TxnRef, OrderInfo: c.OrderInfo, OrderType: c.OrderType,
		Locale: c.Locale, ReturnURL: c.ReturnURL, IPAddr: c.IPAddr, CreateDate: created, ExpireDate: expires,
		BankCode: c.BankCode,
	}, c.Secret)
	if err != nil {
		t.Fatalf("building payment URL %s: %v", c.Name, err)
	}
	return s
}

func toValues(t *testing.T, m map[string]string) url.Values {
	t.Helper()
	v := url.Values{}
	for k, val := range m {
		v.Set(k, val)
	}
	return v
}

func squash(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "")) }

// requireTool finds name on PATH or fails the test saying how to install it: the cross-check
// must never pass by silently not running.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("cross-check against the npm packages vnpay and vietnam-qr-pay: %s not found on PATH (%v); %s", name, err, installHelp)
	}
	return path
}

func requireNodeVersion(t *testing.T, node string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	b, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		t.Fatalf("running node --version: %v; %s", err, installHelp)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(b)), "v")
	major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil || major < minNodeMajor {
		t.Fatalf("node %s is too old for the cross-check (need %d or newer); %s", v, minNodeMajor, installHelp)
	}
}

// ensureNodeModules runs npm ci when node_modules is missing or does not hold the versions
// package-lock.json pins, so later runs start at once.
func ensureNodeModules(t *testing.T, npm string) {
	t.Helper()
	if nodeModulesMatchLock(t) {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = crosscheckDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("installing the cross-check's npm packages (npm ci in %s): %v\n%s\n%s", crosscheckDir, err, out, installHelp)
	}
	if !nodeModulesMatchLock(t) {
		t.Fatalf("npm ci in %s did not install the versions package-lock.json pins; delete its node_modules and retry", crosscheckDir)
	}
}

func nodeModulesMatchLock(t *testing.T) bool {
	t.Helper()
	lockBytes, err := os.ReadFile(filepath.Join(crosscheckDir, "package-lock.json"))
	if err != nil {
		t.Fatalf("reading the cross-check lock file: %v", err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(lockBytes, &lock); err != nil {
		t.Fatalf("decoding the cross-check lock file: %v", err)
	}
	for _, pkg := range []string{"vnpay", "vietnam-qr-pay"} {
		want := lock.Packages["node_modules/"+pkg].Version
		if want == "" {
			t.Fatalf("package-lock.json in %s does not pin %s", crosscheckDir, pkg)
		}
		b, err := os.ReadFile(filepath.Join(crosscheckDir, "node_modules", pkg, "package.json"))
		if errors.Is(err, os.ErrNotExist) {
			return false
		}
		if err != nil {
			t.Fatalf("reading installed %s: %v", pkg, err)
		}
		var installed struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(b, &installed) != nil || installed.Version != want {
			return false
		}
	}
	return true
}

func runCrossCheck(t *testing.T, node string, in crossInput) crossOutput {
	t.Helper()
	payload, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("encoding cross-check input: %v", err)
	}
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
	var out crossOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("decoding crosscheck.cjs output: %v\n%s", err, stdout.String())
	}
	return out
}
