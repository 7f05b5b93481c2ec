package postaltest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/connectors/postal/sandbox"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

// MountPath is where the dev profile mounts the VNPost sandbox; a dialect's base URL adds its
// own path (/myvnpost, /ngsp).
const MountPath = "/sandbox/vnpost"

// Resolver is the embedded address data; t fails when it does not load.
func Resolver(t testing.TB) *address.Resolver {
	t.Helper()
	r, err := address.Default()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// PartnerClient is the "vnpost" partner client a dialect under test calls baseURL through.
func PartnerClient(t testing.TB, baseURL string) *partnerhttp.Client {
	t.Helper()
	hc, err := partnerhttp.New(partnerhttp.Config{Partner: "vnpost", BaseURL: baseURL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// Serve serves sb at MountPath on a test server closed with t and returns the base URL of
// dialect's endpoints there ("myvnpost", "ngsp").
func Serve(t testing.TB, sb *sandbox.Sandbox, dialect string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(MountPath+"/", http.StripPrefix(MountPath, sb.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + MountPath + "/" + dialect
}

// Keys lists the keys of a JSON object, sorted and joined by commas, to pin wire field names.
func Keys(t testing.TB, raw []byte) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
