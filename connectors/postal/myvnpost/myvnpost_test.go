package myvnpost_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/myvnpost"
	"github.com/egov-vn/gateway/connectors/postal/postaltest"
	"github.com/egov-vn/gateway/connectors/postal/sandbox"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

const (
	testUser     = "gateway-h37"
	testPassword = "sandbox-password-H37"
)

func newClient(t *testing.T, baseURL string, now func() time.Time) *myvnpost.Client {
	t.Helper()
	hc := postaltest.PartnerClient(t, baseURL)
	c, err := myvnpost.New(myvnpost.Config{Username: testUser, Password: testPassword, Resolver: postaltest.Resolver(t),
		RenewBefore: postaltest.RenewBefore, Now: now}, hc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newDialect(t *testing.T, now func() time.Time) (postal.Postal, *sandbox.Sandbox) {
	t.Helper()
	sb := sandbox.New(sandbox.Config{MyVNPostUser: testUser, MyVNPostPassword: testPassword,
		TokenTTL: postaltest.TokenTTL, Now: now})
	return newClient(t, postaltest.Serve(t, sb, "myvnpost"), now), sb
}

func TestContract(t *testing.T) {
	t.Parallel()
	postaltest.RunContract(t, newDialect)
}

func TestWrongPasswordIsTransientAndNamesNoSecret(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Config{MyVNPostUser: testUser, MyVNPostPassword: "another-password"})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL+"/myvnpost", nil).CreateOrder(t.Context(), postaltest.Order("H37-PW-0001", postal.KindDeliverResult))
	if err == nil {
		t.Fatal("create with a wrong password succeeded")
	}
	if containsAny(err.Error(), testPassword, "another-password") {
		t.Fatalf("error quotes a password: %v", err)
	}
	if len(sb.Orders()) != 0 {
		t.Fatal("an order was created without a login")
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	hc, _ := partnerhttp.New(partnerhttp.Config{Partner: "vnpost", BaseURL: "http://127.0.0.1:1"})
	if _, err := myvnpost.New(myvnpost.Config{}, hc); err == nil {
		t.Fatal("empty config accepted")
	}
	if _, err := myvnpost.New(myvnpost.Config{Username: "u", Password: "p", Resolver: postaltest.Resolver(t)}, nil); err == nil {
		t.Fatal("nil partner client accepted")
	}
	err := myvnpost.Config{Username: "u", Password: "secret-pw", PageSize: -1}.Validate()
	if err == nil || containsAny(err.Error(), "secret-pw") {
		t.Fatalf("Validate = %v; want errors without the password", err)
	}
}
