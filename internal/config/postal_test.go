package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDevProfilePostal(t *testing.T) {
	t.Parallel()
	c, err := Load("", envFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Postal
	if !p.Enabled() || p.Dialect != PostalMyVNPost || p.Username != DemoVNPostUser || p.Password != DemoVNPostPassword {
		t.Fatalf("dev postal %+v: want myvnpost with the demo account", p)
	}
	if p.BaseURL != "http://127.0.0.1:8080/sandbox/vnpost/myvnpost" || p.PollInterval != 2*time.Second || p.DefaultService != "CTN001" {
		t.Fatalf("dev postal URL %q, poll %s, service %q", p.BaseURL, p.PollInterval, p.DefaultService)
	}
	c, err = Load("", envFrom(map[string]string{"GATEWAY_POSTAL_DIALECT": PostalNGSP}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Postal.BaseURL != "http://127.0.0.1:8080/sandbox/vnpost/ngsp" || c.Postal.ClientSecret != DemoNGSPClientSecret {
		t.Fatalf("dev ngsp: %q", c.Postal.BaseURL)
	}
}

func TestProductionPostal(t *testing.T) {
	t.Parallel()
	prod := filepath.Join("..", "..", "configs", "production.yaml")
	c, err := Load(prod, envFrom(productionBase(nil)))
	if err != nil {
		t.Fatalf("production without postal: %v", err)
	}
	if c.Postal.Enabled() {
		t.Fatal("postal delivery is on in production without configuration")
	}
	stanza := `postal:
  dialect: myvnpost
  base_url: https://partner.vnpost.example/api
  username: ubnd-langson
  agency: {name: "Trung tam PVHCC", phone: "0912345020", address: "So 2 Hoang Van Thu", province_code: "20", commune_code: "05977"}
`
	secret := filepath.Join(t.TempDir(), "postal-password")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(writeYAML(t, stanza), envFrom(productionBase(map[string]string{"GATEWAY_POSTAL_PASSWORD_FILE": secret})))
	if err != nil {
		t.Fatal(err)
	}
	if c.Postal.Password != "s3cret" || c.Postal.BaseURL != "https://partner.vnpost.example/api" || c.Postal.PollInterval != 30*time.Second {
		t.Fatalf("production postal %+v", c.Postal)
	}
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       []string
	}{
		{"password missing", stanza, nil, []string{"GATEWAY_POSTAL_PASSWORD"}},
		{"password in the file", stanza + "  password: x\n", nil, []string{"postal.password: secrets are not read from the config file"}},
		{"unknown dialect", strings.Replace(stanza, "myvnpost", "vnpost2", 1), map[string]string{"GATEWAY_POSTAL_PASSWORD": "x"}, []string{`postal.dialect: "vnpost2" is unknown`}},
		{"ngsp without client", strings.Replace(stanza, "myvnpost", "ngsp", 1), nil, []string{"postal.client_id, postal.customer_code and GATEWAY_POSTAL_CLIENT_SECRET"}},
		{"bad agency and url", strings.NewReplacer(`commune_code: "05977"`, `commune_code: "5977"`, "https://partner.vnpost.example/api", "ftp://x").Replace(stanza),
			map[string]string{"GATEWAY_POSTAL_PASSWORD": "x"}, []string{"postal.agency.commune_code", "postal.base_url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeYAML(t, tc.yaml), envFrom(productionBase(tc.env)))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatal("the error echoes a secret")
			}
		})
	}
}
