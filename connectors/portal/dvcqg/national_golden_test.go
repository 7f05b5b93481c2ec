package dvcqg_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// nationalGolden are the requests of the portal-to-province services, in the order
// TestNationalGoldenRequests makes them (after the login), by golden file name under
// testdata/national/. UPDATE_GOLDEN=1 regenerates them.
var nationalGolden = []struct{ name, service string }{
	{"LayDanhSachHoSoDVCQG_first", "LayDanhSachHoSoDVCQG"},
	{"LayDanhSachHoSoDVCQG_after", "LayDanhSachHoSoDVCQG"},
	{"XacNhanHoSoDVCQG", "XacNhanHoSoDVCQG"},
	{"LayDanhSachTTHC", "LayDanhSachTTHC"},
	{"LayDanhMucCoQuan", "LayDanhMucCoQuan"},
	{"LayDanhMucLinhVuc", "LayDanhMucLinhVuc"},
}

func TestNationalGoldenRequests(t *testing.T) {
	t.Parallel()
	fa := &fakeAdapter{
		login: func(int) (int, string) { return http.StatusOK, `{"session":"golden-session","error_code":0}` },
		integrate: func(_ int, req captured) (int, string) {
			if strings.HasPrefix(req.Service, "Lay") && req.Service != "LayDanhSachHoSoDVCQG" {
				return http.StatusOK, `{"error_code":"00","result":{"TongSo":1,"DanhSach":[{"MaTTHC":"1.011442","TenTTHC":"x","MaCoQuan":"A","TenCoQuan":"x","MaLinhVuc":"F","TenLinhVuc":"x"}]}}`
			}
			return http.StatusOK, `{"error_code":"00","result":[]}`
		},
	}
	c := newClient(t, fa.start(t))
	ctx := t.Context()
	if _, err := c.FetchSubmissions(ctx, "", 50); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchSubmissions(ctx, "1207", 10); err != nil {
		t.Fatal(err)
	}
	if err := c.AcknowledgeSubmission(ctx, "G22.LS-250303-0001"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Procedures(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Agencies(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fields(ctx); err != nil {
		t.Fatal(err)
	}
	fa.mu.Lock()
	reqs := slices.Clone(fa.requests)
	fa.mu.Unlock()
	if len(reqs) != len(nationalGolden)+1 || reqs[0].Path != "/auth" {
		t.Fatalf("%d requests, want a login and %d services", len(reqs), len(nationalGolden))
	}
	for i, call := range nationalGolden {
		req := reqs[i+1]
		t.Run(call.name, func(t *testing.T) {
			if req.Method != http.MethodPost || req.Path != "/integration" || req.Service != call.service || req.Header.Get("dstcode") != testDstCode {
				t.Fatalf("request = %s %s service %q dstcode %q", req.Method, req.Path, req.Service, req.Header.Get("dstcode"))
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, req.Body, "", "  "); err != nil {
				t.Fatalf("request body is not JSON: %v", err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "national", call.name+".json")
			if updateGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading %s: %v (create it with UPDATE_GOLDEN=1 go test ./connectors/portal/dvcqg/)", path, err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("%s is stale; regenerate with UPDATE_GOLDEN=1 if intended\n--- got\n%s\n--- want\n%s", path, pretty.Bytes(), want)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "national", "*.json"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if !slices.ContainsFunc(nationalGolden, func(c struct{ name, service string }) bool { return c.name == name }) {
			t.Errorf("%s matches no request; delete it", f)
		}
	}
}
