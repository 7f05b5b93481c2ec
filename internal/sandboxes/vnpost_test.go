package sandboxes_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/connectors/postal/myvnpost"
	"github.com/egov-vn/gateway/connectors/postal/ngsp"
	"github.com/egov-vn/gateway/connectors/postal/postaltest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/partnerhttp"
	"github.com/egov-vn/gateway/internal/sandboxes"
)

// The VNPost sandbox is mounted at /sandbox/vnpost/ and accepts the dev profile's demo accounts
// of both dialects at the base URLs the dev profile derives (/sandbox/vnpost/{dialect}).
func TestVNPostSandboxMountedWithDevCredentials(t *testing.T) {
	t.Parallel()
	set := sandboxes.New(sandboxes.DevCredentials())
	t.Cleanup(set.Close)
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", set.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r, err := address.Default()
	if err != nil {
		t.Fatal(err)
	}
	hc := func(dialect string) *partnerhttp.Client {
		c, err := partnerhttp.New(partnerhttp.Config{Partner: "vnpost", BaseURL: srv.URL + "/sandbox/vnpost/" + dialect, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	mv, err := myvnpost.New(myvnpost.Config{Username: config.DemoVNPostUser, Password: config.DemoVNPostPassword, Resolver: r}, hc(config.PostalMyVNPost))
	if err != nil {
		t.Fatal(err)
	}
	ng, err := ngsp.New(ngsp.Config{ClientID: config.DemoNGSPClientID, ClientSecret: config.DemoNGSPClientSecret,
		CustomerCode: config.DemoNGSPCustomerCode, Resolver: r}, hc(config.PostalNGSP))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []postal.Postal{mv, ng} {
		o := postaltest.Order("H37-DEV-0001", postal.KindDeliverResult)
		if _, ok := p.(*ngsp.Client); ok {
			o = postaltest.Order("H37-DEV-0002", postal.KindCollectDossier)
		}
		if _, err := p.CreateOrder(t.Context(), o); err != nil {
			t.Fatalf("%T: creating an order with the demo account: %v", p, err)
		}
	}
	resp, err := http.Get(srv.URL + "/sandbox/vnpost/orders")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`"number":"H37-DEV-0001-R","dialect":"myvnpost"`, `"number":"H37-DEV-0002-C","dialect":"ngsp"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /sandbox/vnpost/orders lacks %s: %s", want, body)
		}
	}
	if len(set.VNPost.Orders()) != 2 {
		t.Fatalf("sandbox holds %d orders, want 2", len(set.VNPost.Orders()))
	}
}
