package address_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
)

func resolver(t *testing.T, extra ...string) *address.Resolver {
	t.Helper()
	r, err := address.New(extra...)
	if err != nil {
		t.Fatalf("loading address data: %v", err)
	}
	return r
}

func TestKnownCommunes(t *testing.T) {
	t.Parallel()
	r := resolver(t)
	for _, c := range []struct {
		commune, area, district string
	}{
		{"05977", "2510", "178"}, // Phường Đông Kinh
		{"05983", "2510", "178"}, // Phường Lương Văn Tri
		{"05986", "2510", "178"}, // Phường Tam Thanh
		{"06187", "2515", "183"}, // Phường Kỳ Lừa
		{"06211", "2515", "183"}, // Xã Cao Lộc
		{"06637", "2560", "189"}, // Xã Châu Sơn
	} {
		got, err := r.Resolve(address.Query{Province: "20", Commune: c.commune})
		if err != nil {
			t.Errorf("commune %s: %v", c.commune, err)
			continue
		}
		if got.PostalProvince != "25" || got.PostalArea != c.area || got.District != c.district || got.Commune != c.commune || got.Province != "20" {
			t.Errorf("commune %s = %+v, want postal 25/%s from district %s", c.commune, got, c.area, c.district)
		}
	}
}

func TestEveryCommuneOfTheEmbeddedFileResolves(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("data", "20-lang-son.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r := resolver(t)
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "commune,") {
			continue
		}
		f := strings.Split(line, ",")
		got, err := r.Resolve(address.Query{Province: "20", Commune: f[1]})
		if err != nil || got.PostalArea != f[2] {
			t.Errorf("commune %s: %+v, %v; want area %s", f[1], got, err, f[2])
		}
		// The commune's area is its legacy district's area.
		viaDistrict, err := r.Resolve(address.Query{Province: "20", Commune: f[1], District: f[3]})
		if err != nil || viaDistrict.PostalArea != got.PostalArea {
			t.Errorf("commune %s via district %s: %+v, %v; want area %s", f[1], f[3], viaDistrict, err, got.PostalArea)
		}
		n++
	}
	if n != 65 {
		t.Fatalf("communes in the Lạng Sơn file = %d, want 65 (4 wards, 61 communes since 1 July 2025)", n)
	}
}

func TestLegacyDistrict(t *testing.T) {
	t.Parallel()
	r := resolver(t)
	// A pre-reform dossier: old commune 05971 (Phường Hoàng Văn Thụ, no longer a code) in district 178.
	got, err := r.Resolve(address.Query{Province: "20", Commune: "05971", District: "178"})
	if err != nil {
		t.Fatalf("legacy dossier: %v", err)
	}
	if got.PostalArea != "2510" || got.District != "178" || got.Assumed {
		t.Fatalf("legacy TP Lạng Sơn = %+v, want confirmed area 2510", got)
	}
	got, err = r.Resolve(address.Query{Province: "20", Commune: "06211", District: "183"})
	if err != nil || got.PostalArea != "2515" || got.Assumed {
		t.Fatalf("legacy Cao Lộc = %+v, %v; want confirmed area 2515", got, err)
	}
	for d := 178; d <= 189; d++ {
		code := itoa(d)
		_, err := r.Resolve(address.Query{Province: "20", Commune: "06001", District: code})
		if d == 179 {
			if !errors.Is(err, postal.ErrNoMapping) {
				t.Errorf("district 179 (not used by GSO) = %v, want ErrNoMapping", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("district %s: %v", code, err)
		}
	}
	_, err = r.Resolve(address.Query{Province: "20", Commune: "05971", District: "190"})
	if !errors.Is(err, postal.ErrNoMapping) || !strings.Contains(err.Error(), "district 190") {
		t.Fatalf("unknown district = %v, want ErrNoMapping naming district 190", err)
	}
}

func itoa(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

func TestUnknownCodes(t *testing.T) {
	t.Parallel()
	r := resolver(t)
	_, err := r.Resolve(address.Query{Province: "01", Commune: "00001"})
	if !errors.Is(err, postal.ErrNoMapping) || !strings.Contains(err.Error(), "province 01") {
		t.Fatalf("unknown province = %v, want ErrNoMapping naming province 01", err)
	}
	// 05971 was Phường Hoàng Văn Thụ before the reform; without a district it names nothing now.
	_, err = r.Resolve(address.Query{Province: "20", Commune: "05971"})
	if !errors.Is(err, postal.ErrNoMapping) || !strings.Contains(err.Error(), "commune 05971") {
		t.Fatalf("unknown commune = %v, want ErrNoMapping naming commune 05971", err)
	}
	// A Quảng Ninh commune under the Lạng Sơn province code.
	_, err = r.Resolve(address.Query{Province: "20", Commune: "06652"})
	if !errors.Is(err, postal.ErrNoMapping) {
		t.Fatalf("commune of another province = %v, want ErrNoMapping", err)
	}
}

func TestMalformedCodesRefused(t *testing.T) {
	t.Parallel()
	r := resolver(t)
	for name, q := range map[string]address.Query{
		"full-width province":  {Province: "２０", Commune: "05977"},
		"full-width commune":   {Province: "20", Commune: "０5977"},
		"space in commune":     {Province: "20", Commune: "0597 7"},
		"leading space":        {Province: " 20", Commune: "05977"},
		"trailing space":       {Province: "20", Commune: "05977 "},
		"short commune":        {Province: "20", Commune: "5977"},
		"long commune":         {Province: "20", Commune: "059770"},
		"short province":       {Province: "2", Commune: "05977"},
		"empty province":       {Province: "", Commune: "05977"},
		"empty commune":        {Province: "20", Commune: ""},
		"signed district":      {Province: "20", Commune: "05977", District: "+78"},
		"four-digit district":  {Province: "20", Commune: "05977", District: "0178"},
		"letters in commune":   {Province: "20", Commune: "0597a"},
		"arabic-indic digits":  {Province: "٢٠", Commune: "05977"},
		"newline in province":  {Province: "2\n", Commune: "05977"},
		"district with spaces": {Province: "20", Commune: "05977", District: " 78"},
	} {
		_, err := r.Resolve(q)
		if !errors.Is(err, address.ErrMalformedCode) {
			t.Errorf("%s: %v, want ErrMalformedCode", name, err)
		}
		if errors.Is(err, postal.ErrNoMapping) {
			t.Errorf("%s: a malformed code is not a missing mapping: %v", name, err)
		}
	}
}

func TestResolveParty(t *testing.T) {
	t.Parallel()
	got, err := resolver(t).ResolveParty(postal.Party{Name: "x", ProvinceCode: "20", CommuneCode: "05986"})
	if err != nil || got.PostalArea != "2510" {
		t.Fatalf("ResolveParty = %+v, %v", got, err)
	}
}

func TestExtraFileAddsAProvince(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "04-cao-bang.csv")
	body := "# test data\nkind,gso,postal,district,name,source\nprovince,04,21,,Tỉnh Cao Bằng,assumed\ncommune,01273,2110,040,Phường Thục Phán,assumed\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := resolver(t, file)
	if got := strings.Join(r.Provinces(), ","); got != "04,20" {
		t.Fatalf("provinces = %s, want 04,20", got)
	}
	got, err := r.Resolve(address.Query{Province: "04", Commune: "01273"})
	if err != nil || got.PostalProvince != "21" || got.PostalArea != "2110" || !got.Assumed {
		t.Fatalf("extra province = %+v, %v", got, err)
	}
}

func TestBadDataFilesRefused(t *testing.T) {
	t.Parallel()
	const head = "kind,gso,postal,district,name,source\n"
	for name, body := range map[string]string{
		"no header":             "province,20,25,,x,confirmed\n",
		"no province row":       head,
		"commune before":        head + "commune,05977,2510,178,x,assumed\nprovince,20,25,,x,confirmed\n",
		"area outside province": head + "province,04,21,,x,assumed\ncommune,01273,2510,,x,assumed\n",
		"duplicate commune":     head + "province,04,21,,x,assumed\ncommune,01273,2110,,x,assumed\ncommune,01273,2111,,x,assumed\n",
		"bad source":            head + "province,04,21,,x,maybe\n",
		"bad kind":              head + "province,04,21,,x,assumed\nward,01273,2110,,x,assumed\n",
		"full-width code":       head + "province,04,21,,x,assumed\ncommune,０1273,2110,,x,assumed\n",
		"redefined lang son":    head + "province,20,25,,x,confirmed\ncommune,05977,2510,178,x,assumed\n",
		"other prefix for 20":   head + "province,20,26,,x,confirmed\n",
		"missing column":        head + "province,04,21,,x\n",
	} {
		file := filepath.Join(t.TempDir(), "bad.csv")
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := address.New(file); err == nil {
			t.Errorf("%s: file accepted", name)
		}
	}
	if _, err := address.New(filepath.Join(t.TempDir(), "missing.csv")); err == nil {
		t.Error("missing file accepted")
	}
}
