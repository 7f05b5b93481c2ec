package deploytest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository root as seen from this package's directory, where `go test` runs.
const repoRoot = "../.."

// The command-line programs the image must contain.
var commands = []string{"./cmd/gateway", "./cmd/partnersim", "./cmd/gatewayctl"}

const productionConfig = "/etc/gateway/production.yaml"

// stringList is a compose field written either as one string or as a list of strings.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = strings.Fields(n.Value)
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = s
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// envMap is a compose environment, written as a mapping or as a list of KEY=VALUE.
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	out := envMap{}
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]string
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			out[k] = v
		}
	case yaml.SequenceNode:
		var items []string
		if err := n.Decode(&items); err != nil {
			return err
		}
		for _, item := range items {
			k, v, _ := strings.Cut(item, "=")
			out[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a mapping or a list", n.Line)
	}
	*e = out
	return nil
}

// dependsOn maps a dependency to its condition; the list form means service_started.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	out := dependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		for _, name := range names {
			out[name] = "service_started"
		}
	case yaml.MappingNode:
		var m map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for name, dep := range m {
			out[name] = dep.Condition
		}
	default:
		return fmt.Errorf("line %d: depends_on must be a list or a mapping", n.Line)
	}
	*d = out
	return nil
}

// build is a compose build section, short (the context) or long.
type build struct {
	Context    string
	Dockerfile string
}

func (b *build) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	var long struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	b.Context, b.Dockerfile = long.Context, long.Dockerfile
	return nil
}

// mount is one entry of a service's volumes, short ("src:dst:ro") or long syntax.
type mount struct {
	Type   string // bind or volume
	Source string
	Target string
}

func (m *mount) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		parts := strings.Split(n.Value, ":")
		if len(parts) < 2 {
			return fmt.Errorf("line %d: volume %q has no target", n.Line, n.Value)
		}
		m.Source, m.Target = parts[0], parts[1]
		m.Type = "volume"
		if strings.HasPrefix(m.Source, ".") || strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, "~") {
			m.Type = "bind"
		}
		return nil
	}
	var long struct {
		Type   string `yaml:"type"`
		Source string `yaml:"source"`
		Target string `yaml:"target"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	m.Type, m.Source, m.Target = long.Type, long.Source, long.Target
	return nil
}

type healthcheck struct {
	Test    stringList `yaml:"test"`
	Disable bool       `yaml:"disable"`
}

type service struct {
	Image       string       `yaml:"image"`
	Build       *build       `yaml:"build"`
	Command     stringList   `yaml:"command"`
	Environment envMap       `yaml:"environment"`
	Ports       []yaml.Node  `yaml:"ports"`
	Volumes     []mount      `yaml:"volumes"`
	DependsOn   dependsOn    `yaml:"depends_on"`
	Healthcheck *healthcheck `yaml:"healthcheck"`
}

type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatalf("reading %s: %v", rel, err)
	}
	return string(b)
}

func parseCompose(text string) (composeFile, error) {
	var c composeFile
	if err := yaml.Unmarshal([]byte(text), &c); err != nil {
		return c, fmt.Errorf("parsing docker-compose.yml: %w", err)
	}
	return c, nil
}

// argAfter returns the value of a flag in an argument list, written "flag value" or
// "flag=value".
func argAfter(args []string, flag string) (string, bool) {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

// portMapping is a published port: "[ip:]host:container[/proto]".
var portMapping = regexp.MustCompile(`^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:/(?:tcp|udp))?$`)

// containerPorts returns the container side of a service's port mappings.
func containerPorts(s service) []string {
	var out []string
	for _, p := range s.Ports {
		if m := portMapping.FindStringSubmatch(p.Value); m != nil {
			out = append(out, m[3])
		}
	}
	return out
}

// hostPath maps a path inside a service's container to the repository file behind it, through
// the service's bind mounts.
func hostPath(s service, inContainer string) (string, bool) {
	for _, m := range s.Volumes {
		if m.Type != "bind" {
			continue
		}
		target := strings.TrimSuffix(m.Target, "/")
		if inContainer == target {
			return m.Source, true
		}
		if rest, ok := strings.CutPrefix(inContainer, target+"/"); ok {
			return path.Join(m.Source, rest), true
		}
	}
	return "", false
}

func hasHealthcheck(s service) bool {
	h := s.Healthcheck
	return h != nil && !h.Disable && len(h.Test) >= 2 && h.Test[0] != "NONE"
}

func isSecretName(name string) bool {
	for _, word := range []string{"TOKEN", "SECRET", "PASSWORD"} {
		if strings.Contains(name, word) {
			return true
		}
	}
	return false
}

// checkCompose returns every way docker-compose.yml breaks what the stack depends on.
func checkCompose(c composeFile, root string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	for _, name := range []string{"gateway", "redis", "partnersim", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			bad("service %s is missing", name)
		}
	}

	// Redis: durable (AOF, fsync every second) and never evicting keys, streams included.
	redis := c.Services["redis"]
	if !strings.HasPrefix(redis.Image, "redis:7") {
		bad("redis: image %q, want redis:7", redis.Image)
	}
	for flag, want := range map[string]string{"--appendonly": "yes", "--appendfsync": "everysec", "--maxmemory-policy": "noeviction"} {
		if got, _ := argAfter(redis.Command, flag); got != want {
			bad("redis: %s is %q, want %q", flag, got, want)
		}
	}
	dataVolume := false
	for _, m := range redis.Volumes {
		if m.Target == "/data" && m.Type == "volume" {
			dataVolume = true
		}
	}
	if !dataVolume {
		bad("redis: no named volume mounted at /data (the AOF would die with the container)")
	}

	// The gateway: built here, production profile, the compose Redis, listening beyond loopback.
	gw := c.Services["gateway"]
	if gw.Build == nil || gw.Build.Context != "." || (gw.Build.Dockerfile != "" && gw.Build.Dockerfile != "Dockerfile") {
		bad("gateway: must be built from ./Dockerfile")
	}
	if len(gw.Command) == 0 || gw.Command[0] != "gateway" {
		bad("gateway: command %v does not run the gateway", gw.Command)
	}
	if got, _ := argAfter(gw.Command, "-config"); got != productionConfig {
		bad("gateway: -config is %q, want the production profile %s", got, productionConfig)
	}
	if u, err := url.Parse(gw.Environment["GATEWAY_REDIS_URL"]); err != nil || u.Scheme != "redis" {
		bad("gateway: GATEWAY_REDIS_URL %q is not a redis:// URL", gw.Environment["GATEWAY_REDIS_URL"])
	} else if u.Hostname() != "redis" {
		bad("gateway: GATEWAY_REDIS_URL points at %q, not at the redis service", u.Hostname())
	}
	for env, want := range map[string]string{"GATEWAY_HTTP_ADDR": "0.0.0.0:8080", "GATEWAY_ADMIN_ADDR": "0.0.0.0:9090"} {
		if got := gw.Environment[env]; got != want {
			bad("gateway: %s is %q, want %q", env, got, want)
		}
	}
	for _, port := range []string{"8080", "9090"} {
		if !slices.Contains(containerPorts(gw), port) {
			bad("gateway: container port %s is not published", port)
		}
	}
	if gw.DependsOn["redis"] != "service_healthy" {
		bad("gateway: must wait for redis to be healthy (depends_on condition %q)", gw.DependsOn["redis"])
	}
	for name, value := range gw.Environment {
		if isSecretName(name) && !strings.HasPrefix(value, "${") {
			bad("gateway: secret %s is hard-coded; take it from the environment (${%s:-example})", name, name)
		}
	}

	// partnersim: the same image, its own command.
	sim := c.Services["partnersim"]
	if sim.Build == nil || gw.Build == nil || *sim.Build != *gw.Build {
		bad("partnersim: must be built from the same Dockerfile as the gateway")
	}
	if len(sim.Command) == 0 || sim.Command[0] != "partnersim" {
		bad("partnersim: command %v does not run partnersim", sim.Command)
	}
	if !slices.Contains(containerPorts(sim), "8081") {
		bad("partnersim: container port 8081 is not published")
	}

	if img := c.Services["prometheus"].Image; img != "prom/prometheus" && !strings.HasPrefix(img, "prom/prometheus:") {
		bad("prometheus: image %q, want prom/prometheus", img)
	}
	if img := c.Services["grafana"].Image; img != "grafana/grafana" && !strings.HasPrefix(img, "grafana/grafana:") {
		bad("grafana: image %q, want grafana/grafana", img)
	}
	wantMounts := []struct{ service, source, target string }{
		{"prometheus", "./configs/prometheus", "/etc/prometheus"},
		{"grafana", "./configs/grafana/provisioning", "/etc/grafana/provisioning"},
		{"grafana", "./configs/grafana/dashboards", "/var/lib/grafana/dashboards"},
	}
	for _, w := range wantMounts {
		found := false
		for _, m := range c.Services[w.service].Volumes {
			if m.Type == "bind" && path.Clean(m.Source) == path.Clean(w.source) && strings.TrimSuffix(m.Target, "/") == w.target {
				found = true
			}
		}
		if !found {
			bad("%s: %s is not mounted at %s", w.service, w.source, w.target)
		}
	}

	// Every service: a healthcheck, dependencies that exist and can be waited for, mounts and
	// volumes that exist, ports as quoted string mappings.
	for name, s := range c.Services {
		if !hasHealthcheck(s) {
			bad("%s: no healthcheck", name)
		}
		for dep, cond := range s.DependsOn {
			target, ok := c.Services[dep]
			switch {
			case !ok:
				bad("%s: depends on unknown service %s", name, dep)
			case cond != "service_started" && cond != "service_healthy" && cond != "service_completed_successfully":
				bad("%s: depends on %s with unknown condition %q", name, dep, cond)
			case cond == "service_healthy" && !hasHealthcheck(target):
				bad("%s: waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
		for _, m := range s.Volumes {
			switch m.Type {
			case "bind":
				if strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, "~") {
					bad("%s: mount %s is outside the repository", name, m.Source)
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(m.Source))); err != nil {
					bad("%s: mounted path %s does not exist in the repository", name, m.Source)
				}
			case "volume":
				if _, ok := c.Volumes[m.Source]; !ok {
					bad("%s: named volume %s is not declared under volumes", name, m.Source)
				}
			default:
				bad("%s: mount %s has unknown type %q", name, m.Source, m.Type)
			}
		}
		for _, p := range s.Ports {
			quoted := p.Style == yaml.DoubleQuotedStyle || p.Style == yaml.SingleQuotedStyle
			if p.Kind != yaml.ScalarNode || p.Tag != "!!str" || !quoted || !portMapping.MatchString(p.Value) {
				bad("%s: port %q (line %d) must be a quoted \"host:container\" string", name, p.Value, p.Line)
			}
		}
		if s.Build != nil {
			dockerfile := s.Build.Dockerfile
			if dockerfile == "" {
				dockerfile = "Dockerfile"
			}
			if _, err := os.Stat(filepath.Join(root, s.Build.Context, dockerfile)); err != nil {
				bad("%s: build file %s does not exist", name, dockerfile)
			}
		}
	}
	return errs
}

// assertNewError fails unless broken holds an error, absent from base, that mentions want: the
// breakage itself must be caught, not some problem the unbroken files already have.
func assertNewError(t *testing.T, base, broken []error, want string) {
	t.Helper()
	seen := make(map[string]bool, len(base))
	for _, err := range base {
		seen[err.Error()] = true
	}
	var fresh []string
	for _, err := range broken {
		if msg := err.Error(); !seen[msg] {
			fresh = append(fresh, msg)
			if strings.Contains(msg, want) {
				return
			}
		}
	}
	t.Errorf("no new error mentions %q; new errors: %q", want, fresh)
}

func TestComposeFile(t *testing.T) {
	c, err := parseCompose(readFile(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range checkCompose(c, repoRoot) {
		t.Error(err)
	}
}

// TestComposeChecksCatchBreakage breaks docker-compose.yml one way at a time and expects the
// checks to say so.
func TestComposeChecksCatchBreakage(t *testing.T) {
	original := readFile(t, "docker-compose.yml")
	c, err := parseCompose(original)
	if err != nil {
		t.Fatal(err)
	}
	base := checkCompose(c, repoRoot)
	cases := []struct {
		name, old, new, want string
	}{
		{"grafana service removed", "\n  grafana:\n", "\n  grafana-renamed:\n", "service grafana is missing"},
		{"appendonly off", "      - --appendonly\n      - \"yes\"", "      - --appendonly\n      - \"no\"", "--appendonly"},
		{"eviction allowed", "      - noeviction", "      - allkeys-lru", "--maxmemory-policy"},
		{"dev profile", "\"-config\", \"/etc/gateway/production.yaml\"", "\"-config\", \"/etc/gateway/dev.yaml\"", "production profile"},
		{"no config flag", "[\"gateway\", \"-config\", \"/etc/gateway/production.yaml\"]", "[\"gateway\"]", "production profile"},
		{"redis on localhost", "redis://redis:6379/0", "redis://localhost:6379/0", "not at the redis service"},
		{"admin on loopback", "GATEWAY_ADMIN_ADDR: \"0.0.0.0:9090\"", "GATEWAY_ADMIN_ADDR: \"127.0.0.1:9090\"", "GATEWAY_ADMIN_ADDR"},
		{"missing mount", "./configs/prometheus:", "./configs/no-such-folder:", "./configs/no-such-folder does not exist"},
		{"unquoted port", "      - \"8081:8081\"", "      - 8081:8081", "must be a quoted"},
		{"numeric port", "      - \"3000:3000\"", "      - 3000", "must be a quoted"},
		{"no healthcheck", "      test: [\"CMD\", \"redis-cli\", \"ping\"]", "      disable: true", "redis: no healthcheck"},
		{"awaited service without healthcheck", "      test: [\"CMD\", \"redis-cli\", \"ping\"]", "      disable: true", "but redis has no healthcheck"},
		{"redis not awaited", "      redis:\n        condition: service_healthy", "      redis:\n        condition: service_started", "must wait for redis"},
		{"unknown dependency", "      prometheus:\n        condition: service_healthy", "      prometheus-x:\n        condition: service_healthy", "unknown service"},
		{"partnersim from another image", "  partnersim:\n    build:\n      context: .\n      dockerfile: Dockerfile", "  partnersim:\n    build:\n      context: .\n      dockerfile: Other.Dockerfile", "same Dockerfile"},
		{"hard-coded secret", "\"${GATEWAY_ADMIN_TOKEN:-demo-admin-token}\"", "\"demo-admin-token\"", "hard-coded"},
		{"undeclared volume", "\n  redis-data:\n", "\n  other-data:\n", "not declared"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(original, tc.old) {
				t.Fatalf("docker-compose.yml no longer contains %q; update the case", tc.old)
			}
			c, err := parseCompose(strings.Replace(original, tc.old, tc.new, 1))
			if err != nil {
				t.Fatal(err)
			}
			assertNewError(t, base, checkCompose(c, repoRoot), tc.want)
		})
	}
}

// dockerInstruction is one Dockerfile instruction with its continuation lines joined.
type dockerInstruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

func parseDockerfile(text string) []dockerInstruction {
	var out []dockerInstruction
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		out = append(out, dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
	}
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if body, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return out
}

// checkDockerfile returns every way the Dockerfile breaks the image docker-compose.yml runs.
func checkDockerfile(text string, c composeFile, root string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	type stage struct {
		image, name string
		body        []dockerInstruction
	}
	var stages []stage
	for _, in := range parseDockerfile(text) {
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
		}
	}
	if len(stages) < 2 {
		return append(errs, fmt.Errorf("dockerfile: want a multi-stage build, got %d stage(s)", len(stages)))
	}

	builder := stages[0]
	if !strings.HasPrefix(builder.image, "golang:") || builder.name == "" {
		bad("dockerfile: the first stage must be a named golang builder, got %q AS %q", builder.image, builder.name)
	}
	built := false
	for _, in := range builder.body {
		if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
			continue
		}
		fields := strings.Fields(in.args)
		built = true
		for _, cmd := range commands {
			if !slices.Contains(fields, cmd) {
				bad("dockerfile: go build does not build %s", cmd)
			}
		}
	}
	if !built {
		bad("dockerfile: the builder stage runs no go build")
	}

	final := stages[len(stages)-1]
	if !strings.Contains(final.image, "distroless") && !strings.Contains(final.image, "-slim") {
		bad("dockerfile: runtime image %q is neither distroless nor a slim Debian", final.image)
	}
	user := ""
	copiesBinaries, copiesConfig := false, false
	runs := ""
	for _, in := range final.body {
		switch in.cmd {
		case "USER":
			user = in.args
		case "RUN":
			runs += " " + in.args
		case "COPY":
			f := strings.Fields(in.args)
			if len(f) < 2 {
				continue
			}
			if strings.HasPrefix(f[0], "--from="+builder.name) {
				copiesBinaries = true
				continue
			}
			src, dst := f[len(f)-2], f[len(f)-1]
			if (src == "configs/" || src == "configs") && strings.TrimSuffix(dst, "/") == path.Dir(productionConfig) {
				copiesConfig = true
			}
			if src == "configs/production.yaml" && (dst == productionConfig || dst == path.Dir(productionConfig)+"/") {
				copiesConfig = true
			}
		}
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		bad("dockerfile: the runtime stage must switch to a non-root USER, got %q", user)
	}
	if !copiesBinaries {
		bad("dockerfile: the runtime stage copies nothing from the %s stage", builder.name)
	}
	if !copiesConfig {
		bad("dockerfile: no COPY puts configs/ at %s, where the gateway's -config points", path.Dir(productionConfig))
	}

	// Sources of COPY (outside --from) must exist in the build context.
	for _, st := range stages {
		for _, in := range st.body {
			if in.cmd != "COPY" || strings.Contains(in.args, "--from=") {
				continue
			}
			f := strings.Fields(in.args)
			for _, src := range f[:len(f)-1] {
				if strings.HasPrefix(src, "--") {
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(src))); err != nil {
					bad("dockerfile: COPY source %s does not exist", src)
				}
			}
		}
	}

	// The built services' healthchecks run a program the image must contain.
	for name, s := range c.Services {
		if s.Build == nil || !hasHealthcheck(s) {
			continue
		}
		if prog := s.Healthcheck.Test[1]; s.Healthcheck.Test[0] == "CMD" && !strings.Contains(runs, prog) {
			bad("dockerfile: %s's healthcheck runs %s, which the runtime stage does not install", name, prog)
		}
	}
	return errs
}

func TestDockerfile(t *testing.T) {
	c, err := parseCompose(readFile(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range checkDockerfile(readFile(t, "Dockerfile"), c, repoRoot) {
		t.Error(err)
	}
}

func TestDockerfileChecksCatchBreakage(t *testing.T) {
	original := readFile(t, "Dockerfile")
	c, err := parseCompose(readFile(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	base := checkDockerfile(original, c, repoRoot)
	cases := []struct {
		name, old, new, want string
	}{
		{"gatewayctl not built", " ./cmd/gatewayctl", "", "does not build ./cmd/gatewayctl"},
		{"partnersim not built", " ./cmd/partnersim", "", "does not build ./cmd/partnersim"},
		{"runs as root", "USER 10001:10001", "USER root", "non-root USER"},
		{"no user", "USER 10001:10001", "", "non-root USER"},
		{"single stage", "COPY --from=build /out/ /usr/local/bin/", "COPY /out/ /usr/local/bin/", "copies nothing"},
		{"no curl for healthchecks", "ca-certificates curl tzdata", "ca-certificates tzdata", "does not install"},
		{"configs not shipped", "COPY configs/ /etc/gateway/", "COPY configs/ /etc/other/", "no COPY puts configs/"},
		{"missing copy source", "COPY go.mod go.sum ./", "COPY go.mod go.sum go.work ./", "COPY source go.work does not exist"},
		{"full Debian runtime", "FROM debian:trixie-slim", "FROM debian:trixie", "neither distroless nor a slim Debian"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(original, tc.old) {
				t.Fatalf("Dockerfile no longer contains %q; update the case", tc.old)
			}
			assertNewError(t, base, checkDockerfile(strings.Replace(original, tc.old, tc.new, 1), c, repoRoot), tc.want)
		})
	}
}

type prometheusConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// checkPrometheus checks that Prometheus, as compose runs it, reads this config and scrapes the
// gateway's admin listener.
func checkPrometheus(text string, c composeFile, root string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	var cfg prometheusConfig
	dec := yaml.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&cfg); err != nil {
		return []error{fmt.Errorf("prometheus.yml: %w", err)}
	}

	prom := c.Services["prometheus"]
	configFile, ok := argAfter(prom.Command, "--config.file")
	if !ok {
		configFile = "/etc/prometheus/prometheus.yml" // the image's default
	}
	if src, ok := hostPath(prom, configFile); !ok {
		bad("prometheus: %s is not mounted from the repository", configFile)
	} else if path.Clean(src) != "configs/prometheus/prometheus.yml" {
		bad("prometheus: %s comes from %s, not configs/prometheus/prometheus.yml", configFile, src)
	} else if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(src))); err != nil {
		bad("prometheus: config %s does not exist", src)
	}

	_, adminPort, _ := net.SplitHostPort(c.Services["gateway"].Environment["GATEWAY_ADMIN_ADDR"])
	want := net.JoinHostPort("gateway", adminPort)
	scraped := false
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, _, err := net.SplitHostPort(target)
				if err != nil {
					bad("prometheus: job %s: target %q is not host:port", sc.JobName, target)
					continue
				}
				if _, isService := c.Services[host]; !isService && host != "localhost" {
					bad("prometheus: job %s: target host %s is not a compose service", sc.JobName, host)
				}
				if target == want && (sc.MetricsPath == "" || sc.MetricsPath == "/metrics") {
					scraped = true
				}
			}
		}
	}
	if !scraped {
		bad("prometheus: no job scrapes the gateway's admin listener %s/metrics", want)
	}
	for _, rf := range cfg.RuleFiles {
		if _, err := filepath.Match(rf, "x"); err != nil {
			bad("prometheus: rule_files pattern %q: %v", rf, err)
		}
	}
	return errs
}

func TestPrometheusConfig(t *testing.T) {
	c, err := parseCompose(readFile(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	original := readFile(t, "configs/prometheus/prometheus.yml")
	base := checkPrometheus(original, c, repoRoot)
	for _, err := range base {
		t.Error(err)
	}

	for _, tc := range []struct{ name, old, new, want string }{
		{"wrong port", "\"gateway:9090\"", "\"gateway:8080\"", "no job scrapes"},
		{"unknown host", "\"gateway:9090\"", "\"gw:9090\"", "not a compose service"},
		{"wrong path", "metrics_path: /metrics", "metrics_path: /stats", "no job scrapes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(original, tc.old) {
				t.Fatalf("prometheus.yml no longer contains %q; update the case", tc.old)
			}
			assertNewError(t, base, checkPrometheus(strings.Replace(original, tc.old, tc.new, 1), c, repoRoot), tc.want)
		})
	}
}

type grafanaDatasources struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string `yaml:"name"`
		Type      string `yaml:"type"`
		Access    string `yaml:"access"`
		URL       string `yaml:"url"`
		IsDefault bool   `yaml:"isDefault"`
	} `yaml:"datasources"`
}

type grafanaDashboards struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name    string `yaml:"name"`
		Type    string `yaml:"type"`
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

// checkGrafana checks that Grafana's provisioning reaches the compose Prometheus and loads the
// dashboards folder compose mounts.
func checkGrafana(datasources, dashboards string, c composeFile) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	var ds grafanaDatasources
	if err := yaml.Unmarshal([]byte(datasources), &ds); err != nil {
		return []error{fmt.Errorf("datasources: %w", err)}
	}
	if ds.APIVersion != 1 {
		bad("datasources: apiVersion %d, want 1", ds.APIVersion)
	}
	promPorts := containerPorts(c.Services["prometheus"])
	found := false
	for _, d := range ds.Datasources {
		if d.Type != "prometheus" {
			continue
		}
		u, err := url.Parse(d.URL)
		if err != nil || u.Scheme != "http" {
			bad("datasources: %s: url %q is not an http URL", d.Name, d.URL)
			continue
		}
		if _, isService := c.Services[u.Hostname()]; !isService || u.Hostname() != "prometheus" {
			bad("datasources: %s: url host %q is not the prometheus service", d.Name, u.Hostname())
			continue
		}
		if !slices.Contains(promPorts, u.Port()) {
			bad("datasources: %s: port %q is not a port the prometheus container listens on %v", d.Name, u.Port(), promPorts)
			continue
		}
		if d.Access != "proxy" {
			bad("datasources: %s: access %q; the browser cannot reach the prometheus service, use proxy", d.Name, d.Access)
			continue
		}
		found = true
	}
	if !found {
		bad("datasources: no usable prometheus data source")
	}

	var db grafanaDashboards
	if err := yaml.Unmarshal([]byte(dashboards), &db); err != nil {
		return append(errs, fmt.Errorf("dashboards: %w", err))
	}
	if db.APIVersion != 1 {
		bad("dashboards: apiVersion %d, want 1", db.APIVersion)
	}
	grafana := c.Services["grafana"]
	loads := false
	for _, p := range db.Providers {
		if p.Type != "file" {
			continue
		}
		src, ok := hostPath(grafana, p.Options.Path)
		if !ok {
			bad("dashboards: provider %s reads %s, which compose does not mount", p.Name, p.Options.Path)
			continue
		}
		if path.Clean(src) != "configs/grafana/dashboards" {
			bad("dashboards: provider %s reads %s, mounted from %s rather than configs/grafana/dashboards", p.Name, p.Options.Path, src)
			continue
		}
		loads = true
	}
	if !loads {
		bad("dashboards: no file provider loads configs/grafana/dashboards")
	}
	for _, sub := range []string{"/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards"} {
		if _, ok := hostPath(grafana, sub); !ok {
			bad("grafana: %s is not mounted", sub)
		}
	}
	return errs
}

func TestGrafanaProvisioning(t *testing.T) {
	c, err := parseCompose(readFile(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	datasources := readFile(t, "configs/grafana/provisioning/datasources/prometheus.yaml")
	dashboards := readFile(t, "configs/grafana/provisioning/dashboards/dashboards.yaml")
	base := checkGrafana(datasources, dashboards, c)
	for _, err := range base {
		t.Error(err)
	}

	for _, tc := range []struct{ name, file, old, new, want string }{
		{"datasource on localhost", "datasources", "http://prometheus:9090", "http://localhost:9090", "not the prometheus service"},
		{"datasource on the host port", "datasources", "http://prometheus:9090", "http://prometheus:9091", "not a port the prometheus container"},
		{"browser access", "datasources", "access: proxy", "access: direct", "use proxy"},
		{"dashboards elsewhere", "dashboards", "path: /var/lib/grafana/dashboards", "path: /var/lib/grafana/other", "does not mount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, db := datasources, dashboards
			target := &ds
			if tc.file == "dashboards" {
				target = &db
			}
			if !strings.Contains(*target, tc.old) {
				t.Fatalf("%s provisioning no longer contains %q; update the case", tc.file, tc.old)
			}
			*target = strings.Replace(*target, tc.old, tc.new, 1)
			assertNewError(t, base, checkGrafana(ds, db, c), tc.want)
		})
	}
}
