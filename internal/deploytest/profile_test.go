package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/egov-vn/gateway/internal/config"
)

// TestComposeGatewayConfigurationIsValid loads configs/production.yaml with the environment the
// compose file gives the gateway (example values of ${VAR:-default} taken), as the container would
// at start-up: it must validate.
func TestComposeGatewayConfigurationIsValid(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("reading docker-compose.yml (environment must be a map): %v", err)
	}
	gw, ok := compose.Services["gateway"]
	if !ok || len(gw.Environment) == 0 {
		t.Fatal("docker-compose.yml gives the gateway no environment")
	}
	def := regexp.MustCompile(`^\$\{[A-Z0-9_]+:-(.*)\}$`)
	env := map[string]string{}
	for k, v := range gw.Environment {
		if m := def.FindStringSubmatch(v); m != nil {
			v = m[1]
		}
		env[k] = v
	}
	cfg, err := config.Load(filepath.Join(root, "configs", "production.yaml"), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the gateway container would not start:\n%v", err)
	}
	if cfg.Profile != config.ProfileProduction || cfg.Redis.Embedded || cfg.Redis.URL == "" {
		t.Fatalf("compose runs %s with store %+v, want production on Redis", cfg.Profile, cfg.Redis)
	}
}
