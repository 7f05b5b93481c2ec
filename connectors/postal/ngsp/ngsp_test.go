package ngsp_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/ngsp"
	"github.com/egov-vn/gateway/connectors/postal/postaltest"
	"github.com/egov-vn/gateway/connectors/postal/sandbox"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

const (
	testClient   = "gateway-h37"
	testSecret   = "sandbox-client-secret-H37"
	testCustomer = "LSN-H37"
)

func newClient(t *testing.T, baseURL, secret string, now func() time.Time) *ngsp.Client {
	t.Helper()
	hc := postaltest.PartnerClient(t, baseURL)
	c, err := ngsp.New(ngsp.Config{ClientID: testClient, ClientSecret: secret, CustomerCode: testCustomer,
		Resolver: postaltest.Resolver(t), RenewBefore: postaltest.RenewBefore, Now: now}, hc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newSandbox(now func() time.Time) *sandbox.Sandbox {
	return sandbox.New(sandbox.Config{NGSPClientID: testClient, NGSPClientSecret: testSecret, NGSPCustomerCode: testCustomer,
		TokenTTL: postaltest.TokenTTL, Now: now})
}

func newDialect(t *testing.T, now func() time.Time) (postal.Postal, *sandbox.Sandbox) {
	t.Helper()
	sb := newSandbox(now)
	return newClient(t, postaltest.Serve(t, sb, "ngsp"), testSecret, now), sb
}

func TestContract(t *testing.T) {
	t.Parallel()
	postaltest.RunContract(t, newDialect)
}

func TestWrongSecretCreatesNothingAndNamesNoSecret(t *testing.T) {
	t.Parallel()
	sb := newSandbox(nil)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL+"/ngsp", "wrong-secret", nil).CreateOrder(t.Context(), postaltest.Order("H37-PW-0001", postal.KindDeliverResult))
	if err == nil {
		t.Fatal("create with a wrong client secret succeeded")
	}
	if strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error quotes a secret: %v", err)
	}
	if len(sb.Orders()) != 0 || sb.Logins(sandbox.NGSP) != 0 {
		t.Fatal("the sandbox issued a token or took an order for a wrong secret")
	}
}

// The sandbox checks the customer code like the partner: a dialect with another one is refused,
// permanently, with nothing created.
func TestWrongCustomerCodeRejected(t *testing.T) {
	t.Parallel()
	sb := newSandbox(nil)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	hc, _ := partnerhttp.New(partnerhttp.Config{Partner: "vnpost", BaseURL: srv.URL + "/ngsp"})
	c, err := ngsp.New(ngsp.Config{ClientID: testClient, ClientSecret: testSecret, CustomerCode: "OTHER", Resolver: postaltest.Resolver(t)}, hc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateOrder(t.Context(), postaltest.Order("H37-CC-0001", postal.KindDeliverResult))
	if err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("create with another customer code: %v, want a rejection", err)
	}
	if len(sb.Orders()) != 0 {
		t.Fatal("an order was created for another customer code")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	err := ngsp.Config{ClientSecret: "s3cr3t-value"}.Validate()
	if err == nil || strings.Contains(err.Error(), "s3cr3t-value") {
		t.Fatalf("Validate = %v; want errors without the secret", err)
	}
	for _, want := range []string{"client id", "customer code", "resolver"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not name %s: %v", want, err)
		}
	}
}

// Every tracking StatusCode the sandbox writes maps back to the status it came from.
func TestStatusCodesRoundTrip(t *testing.T) {
	t.Parallel()
	for st, code := range sandbox.NGSPStatusCodes {
		got, ok := ngsp.StatusOf(code)
		if !ok || got != st {
			t.Errorf("StatusCode %s → %d, %v; want %d", code, got, ok, st)
		}
	}
	if _, ok := ngsp.StatusOf("99"); ok {
		t.Error("unknown StatusCode mapped")
	}
}
