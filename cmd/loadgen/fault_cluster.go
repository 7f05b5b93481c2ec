package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	portalsandbox "github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/routing"
)

// Routing settings of the gateways a fault scenario starts. They are the production profile's
// with shorter times, so that a fault and the recovery from it fit in a short run:
//
//   - one attempt gets faultHandlerTimeout; with 2 short retries 200 ms and 400 ms apart, one
//     delivery's worst case is 3×1 s + 0.6 s = 3.6 s;
//   - a pending message idle for faultMaxIdleTime is claimed by another consumer, checked every
//     faultClaimInterval: at least twice the worst case, as the gateway's validation requires,
//     and short enough that a killed replica's work moves on within seconds;
//   - the portal client's own timeout equals the handler timeout, and an open breaker lets a
//     probe through after faultBreakerOpenFor.
const (
	faultHandlerTimeout = time.Second
	faultMaxIdleTime    = 8 * time.Second
	faultClaimInterval  = time.Second
	faultBreakerOpenFor = 2 * time.Second
	faultPollInterval   = 250 * time.Millisecond
	faultShutdownGrace  = 5 * time.Second
)

// gatewayProc is one gateway process in the production profile.
type gatewayProc struct {
	*proc
	replica  string
	apiURL   string // http://127.0.0.1:PORT
	adminURL string
}

// system is everything a fault scenario runs: its own redis-server (AOF on), one partnersim
// and the gateway replicas, all on free loopback ports, under one temporary directory that
// holds the binaries, the configuration, Redis's data and every process's log.
type system struct {
	dir      string
	progress io.Writer

	redis     *proc
	redisPort int
	rdb       *redis.Client
	keys      store.Keys

	sim    *proc
	simURL string

	gateways    []*gatewayProc
	clientToken string
	adminToken  string

	http *http.Client // control and inspection calls (never the load)
}

// systemConfig is what startSystem needs.
type systemConfig struct {
	bin       string // directory holding gateway and partnersim; built into the run's directory when empty
	replicas  int
	consumers int
	schedule  []time.Duration // the delayed-retry schedule
}

// startSystem starts everything. On error the processes already started are stopped; the
// directory is left for the logs and named in the error.
func startSystem(ctx context.Context, cfg systemConfig, progress io.Writer) (s *system, err error) {
	redisServer, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("starting redis: redis-server is not installed; the fault scenarios start their own " +
			"(with AOF) on a free loopback port. Install it (Debian/Ubuntu: apt-get install redis-server)")
	}
	dir, err := os.MkdirTemp("", "loadgen-fault-")
	if err != nil {
		return nil, fmt.Errorf("creating run directory: %w", err)
	}
	s = &system{dir: dir, progress: progress, keys: store.Keys{Prefix: "fault"}, http: &http.Client{Timeout: 10 * time.Second}}
	s.clientToken = "lg-client-" + rand.Text()
	s.adminToken = "lg-admin-" + rand.Text()
	defer func() {
		if err != nil {
			s.stop()
			err = fmt.Errorf("%w (logs in %s)", err, dir)
		}
	}()
	for _, sub := range []string{"redis", "logs"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return s, fmt.Errorf("creating run directory: %w", err)
		}
	}

	root, err := moduleRoot(ctx)
	if err != nil {
		return s, err
	}
	bin := cfg.bin
	if bin == "" {
		bin = filepath.Join(dir, "bin")
		fmt.Fprintf(progress, "fault: building gateway and partnersim into %s\n", bin)
		if err := buildBinaries(ctx, root, bin); err != nil {
			return s, err
		}
	}
	for _, name := range []string{"gateway", "partnersim"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return s, fmt.Errorf("finding the %s binary: %w", name, err)
		}
	}

	ports, err := freePorts(2 + 2*cfg.replicas)
	if err != nil {
		return s, err
	}
	s.redisPort = ports[0]
	s.redis = &proc{
		name: "redis-server", path: redisServer, env: cleanEnv(), logPath: filepath.Join(dir, "logs", "redis.log"),
		args: []string{
			"--bind", "127.0.0.1", "--port", strconv.Itoa(s.redisPort), "--dir", filepath.Join(dir, "redis"),
			"--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no", "--logfile", "",
		},
	}
	if err := s.startRedis(ctx); err != nil {
		return s, err
	}
	s.rdb = redis.NewClient(&redis.Options{Addr: s.redisAddr(), PoolSize: 8, MaxRetries: -1})

	simAddr := "127.0.0.1:" + strconv.Itoa(ports[1])
	s.simURL = "http://" + simAddr
	s.sim = &proc{
		name: "partnersim", path: filepath.Join(bin, "partnersim"), args: []string{"-addr", simAddr},
		env: cleanEnv(), logPath: filepath.Join(dir, "logs", "partnersim.log"),
	}
	if err := s.sim.start(); err != nil {
		return s, err
	}
	if err := s.waitHTTP(ctx, s.sim, s.simURL+"/healthz"); err != nil {
		return s, err
	}

	yamlPath := filepath.Join(dir, "gateway.yaml")
	if err := s.writeGatewayConfig(root, yamlPath, cfg); err != nil {
		return s, err
	}
	for i := range cfg.replicas {
		replica := "r" + strconv.Itoa(i+1)
		api := "127.0.0.1:" + strconv.Itoa(ports[2+2*i])
		admin := "127.0.0.1:" + strconv.Itoa(ports[3+2*i])
		g := &gatewayProc{
			proc: &proc{
				name: "gateway " + replica, path: filepath.Join(bin, "gateway"), args: []string{"-config", yamlPath},
				logPath: filepath.Join(dir, "logs", "gateway-"+replica+".log"),
				env: cleanEnv(
					"GATEWAY_REDIS_URL=redis://"+s.redisAddr()+"/0",
					"GATEWAY_ADMIN_TOKEN="+s.adminToken,
					"GATEWAY_CLIENT_TOKENS=onestop:"+s.clientToken,
					"GATEWAY_PORTAL_PASSWORD="+config.DemoPortalPassword,
					"GATEWAY_ONESTOP_SECRETS="+config.DemoOnestopSecret,
					"GATEWAY_HTTP_ADDR="+api,
					"GATEWAY_ADMIN_ADDR="+admin,
					"GATEWAY_ROUTING_REPLICA="+replica,
				),
			},
			replica: replica, apiURL: "http://" + api, adminURL: "http://" + admin,
		}
		s.gateways = append(s.gateways, g)
		if err := g.start(); err != nil {
			return s, err
		}
	}
	for _, g := range s.gateways {
		if err := s.waitHTTP(ctx, g.proc, g.adminURL+"/readyz"); err != nil {
			return s, err
		}
	}
	fmt.Fprintf(progress, "fault: redis-server (AOF) on %s, partnersim on %s, %d gateway(s) %s; run directory %s\n",
		s.redisAddr(), simAddr, len(s.gateways), s.gatewayList(), dir)
	return s, nil
}

func (s *system) redisAddr() string { return "127.0.0.1:" + strconv.Itoa(s.redisPort) }

func (s *system) gatewayList() string {
	var parts []string
	for _, g := range s.gateways {
		parts = append(parts, fmt.Sprintf("%s (api %s, admin %s)", g.replica, strings.TrimPrefix(g.apiURL, "http://"), strings.TrimPrefix(g.adminURL, "http://")))
	}
	return strings.Join(parts, ", ")
}

// startRedis starts the redis-server (again, on the same port and directory, so it loads its
// AOF) and waits until it answers PING.
func (s *system) startRedis(ctx context.Context) error {
	if err := s.redis.start(); err != nil {
		return fmt.Errorf("starting redis: %w", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.redisAddr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := c.Ping(pctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if !s.redis.alive() {
			return fmt.Errorf("starting redis: redis-server %s:\n%s", s.redis.exited(), s.redis.logTail(20))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.Join(fmt.Errorf("starting redis: no answer on %s within 20s", s.redisAddr()), ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopRedis shuts Redis down the way an operator's restart does: SIGTERM, which Redis handles
// like SHUTDOWN (it flushes and fsyncs the AOF, and saves no RDB since save is off). It is not
// SHUTDOWN NOSAVE and not a crash: with AOF everything Redis acknowledged is kept.
func (s *system) stopRedis() error {
	if !s.redis.signal(syscall.SIGTERM, 30*time.Second) {
		return errors.New("stopping redis: still running 30s after SIGTERM")
	}
	return nil
}

// waitHTTP waits until url answers 200, failing early when p exits.
func (s *system) waitHTTP(ctx context.Context, p *proc, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", p.name, err)
		}
		resp, err := s.http.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !p.alive() {
			return fmt.Errorf("starting %s: it %s:\n%s", p.name, p.exited(), p.logTail(20))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.Join(fmt.Errorf("starting %s: %s did not answer 200 within 30s:\n%s", p.name, url, p.logTail(20)), ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeGatewayConfig writes the gateways' configuration file: configs/production.yaml of the
// module (the profile as deployed) with the fault run's addresses and shorter times. Secrets are
// not in it: each gateway gets them in its environment, as in production.
func (s *system) writeGatewayConfig(root, path string, cfg systemConfig) error {
	raw, err := os.ReadFile(filepath.Join(root, "configs", "production.yaml"))
	if err != nil {
		return fmt.Errorf("reading the production profile: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("parsing the production profile: %w", err)
	}
	set := func(path string, v any) {
		m := doc
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			sub, ok := m[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[k] = sub
			}
			m = sub
		}
		m[keys[len(keys)-1]] = v
	}
	var schedule []string
	for _, d := range cfg.schedule {
		schedule = append(schedule, d.String())
	}
	set("log.format", "json")
	set("log.level", "info")
	set("http.public_url", "http://127.0.0.1")
	set("redis.key_prefix", s.keys.Prefix)
	set("routing.consumers_per_handler", cfg.consumers)
	set("routing.handler_timeout", faultHandlerTimeout.String())
	set("routing.short_retries", 2)
	set("routing.short_retry_interval", "200ms")
	set("routing.max_idle_time", faultMaxIdleTime.String())
	set("routing.claim_interval", faultClaimInterval.String())
	set("routing.shutdown_grace", faultShutdownGrace.String())
	set("retry.schedule", schedule)
	set("retry.poll_interval", faultPollInterval.String())
	set("portal.base_url", s.simURL+"/sandbox/dvcqg")
	// partnersim accepts the dev profile's demo account unless told otherwise.
	set("portal.username", config.DemoPortalUser)
	set("portal.dstcode", config.DemoDstCode)
	set("portal.madonvi", config.DemoDstCode)
	set("onestop.url", s.simURL+"/sandbox/onestop/notifications")
	set("partners.dvcqg.timeout", faultHandlerTimeout.String())
	set("partners.dvcqg.breaker_open_for", faultBreakerOpenFor.String())
	set("partners.onestop.timeout", faultHandlerTimeout.String())
	// The profile pauses partners for their maintenance windows (DVCQG 00:30-01:30 Hanoi time):
	// a run inside one would only park events. A fault run must not depend on the time of day.
	if partners, ok := doc["partners"].(map[string]any); ok {
		for name := range partners {
			set("partners."+name+".maintenance_windows", []string{})
		}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding gateway configuration: %w", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("writing gateway configuration: %w", err)
	}
	return nil
}

// stop stops every process (gateways first, Redis last) and closes the client. It is safe to
// call more than once and on a partly started system.
func (s *system) stop() {
	for _, g := range s.gateways {
		if g.cmd != nil {
			g.stop(faultShutdownGrace + 5*time.Second)
		}
	}
	if s.sim != nil && s.sim.cmd != nil {
		s.sim.stop(5 * time.Second)
	}
	if s.rdb != nil {
		s.rdb.Close()
		s.rdb = nil
	}
	if s.redis != nil && s.redis.cmd != nil {
		s.redis.stop(30 * time.Second)
	}
}

// stream, group and schedule of the flow under test.
func (s *system) stream() string { return s.keys.Stream(routing.TopicDossierStatusChanged) }
func (s *system) group() string  { return routing.HandlerDossierToPortal }
func (s *system) schedule() string {
	return s.keys.RetrySchedule(routing.TopicDossierStatusChanged, routing.PartnerPortal)
}

// backlog is the work the gateway still has for the portal flow.
type backlog struct {
	Pending int64 `json:"pending"` // delivered, not acknowledged
	Unread  bool  `json:"unread"`  // entries not yet delivered to the group
	Parked  int64 `json:"parked"`  // in the delayed-retry schedule
}

func (b backlog) empty() bool { return b.Pending == 0 && !b.Unread && b.Parked == 0 }

func (b backlog) String() string {
	return fmt.Sprintf("pending %d, unread %t, parked %d", b.Pending, b.Unread, b.Parked)
}

// backlog reads the pending count, whether the group has unread entries, and the parked count,
// in one MULTI so that a message moving between them is seen in exactly one place.
func (s *system) backlog(ctx context.Context) (backlog, error) {
	var (
		pending *redis.XPendingCmd
		groups  *redis.XInfoGroupsCmd
		info    *redis.XInfoStreamCmd
		parked  *redis.IntCmd
	)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		pending = p.XPending(ctx, s.stream(), s.group())
		groups = p.XInfoGroups(ctx, s.stream())
		info = p.XInfoStream(ctx, s.stream())
		parked = p.ZCard(ctx, s.schedule())
		return nil
	})
	if err != nil {
		return backlog{}, fmt.Errorf("reading the gateway's backlog: %w", err)
	}
	b := backlog{Pending: pending.Val().Count, Parked: parked.Val()}
	last := info.Val().LastGeneratedID
	found := false
	for _, g := range groups.Val() {
		if g.Name == s.group() {
			found = true
			b.Unread = g.LastDeliveredID != last
		}
	}
	if !found {
		return b, fmt.Errorf("reading the gateway's backlog: consumer group %s does not exist", s.group())
	}
	return b, nil
}

// deadLetters is the length of the dead-letter stream.
func (s *system) deadLetters(ctx context.Context) (int64, error) {
	n, err := s.rdb.XLen(ctx, s.keys.Stream(routing.TopicDeadLetter)).Result()
	if err != nil {
		return 0, fmt.Errorf("reading dead-letter stream: %w", err)
	}
	return n, nil
}

// pendingOf lists the stream entries pending for the consumers of replica (consumer names are
// "<replica>-<n>").
func (s *system) pendingOf(ctx context.Context, replica string) ([]redis.XPendingExt, error) {
	all, err := s.pendingAll(ctx)
	if err != nil {
		return nil, err
	}
	var out []redis.XPendingExt
	for _, p := range all {
		if strings.HasPrefix(p.Consumer, replica+"-") {
			out = append(out, p)
		}
	}
	return out, nil
}

// pendingAll lists every pending entry of the group.
func (s *system) pendingAll(ctx context.Context) ([]redis.XPendingExt, error) {
	ps, err := s.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: s.stream(), Group: s.group(), Start: "-", End: "+", Count: 100_000,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("reading pending entries: %w", err)
	}
	return ps, nil
}

// setPortalFaults replaces the sandbox portal's fault settings.
func (s *system) setPortalFaults(ctx context.Context, f faults.Settings) error {
	body, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encoding portal faults: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.simURL+"/sandbox/dvcqg/faults", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("setting portal faults: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("setting portal faults: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("setting portal faults: partnersim answered %s", resp.Status)
	}
	return nil
}

// getJSON reads url into v; found is false on 404.
func (s *system) getJSON(ctx context.Context, url string, v any) (found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		_, _ = io.Copy(io.Discard, resp.Body)
		return false, nil
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return false, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return false, fmt.Errorf("decoding %s: %w", url, err)
	}
	return true, nil
}

// portalSteps is the number of processing steps the sandbox portal holds, over every dossier.
func (s *system) portalSteps(ctx context.Context) (int, error) {
	var list struct {
		Dossiers []portalsandbox.Summary `json:"dossiers"`
	}
	if _, err := s.getJSON(ctx, s.simURL+"/sandbox/dvcqg/dossiers", &list); err != nil {
		return 0, fmt.Errorf("listing portal dossiers: %w", err)
	}
	n := 0
	for _, d := range list.Dossiers {
		n += d.Steps
	}
	return n, nil
}

// portalDossier is what the sandbox portal holds about one dossier.
func (s *system) portalDossier(ctx context.Context, code string) (portalsandbox.Record, bool, error) {
	var rec portalsandbox.Record
	found, err := s.getJSON(ctx, s.simURL+"/sandbox/dvcqg/dossiers/"+url.PathEscape(code), &rec)
	if err != nil {
		return rec, false, fmt.Errorf("reading portal dossier: %w", err)
	}
	return rec, found, nil
}

// metrics scrapes a gateway's /metrics.
func (s *system) metrics(ctx context.Context, g *gatewayProc) (promText, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.adminURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping %s metrics: %w", g.replica, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s metrics: %s", g.replica, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scraping %s metrics: %w", g.replica, err)
	}
	return promText(b), nil
}

// ready reports whether a gateway answers /readyz with 200.
func (s *system) ready(ctx context.Context, g *gatewayProc) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.adminURL+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// promText is a Prometheus text exposition.
type promText []byte

// sum adds the samples of metric name whose labels include every pair of match.
func (t promText) sum(name string, match map[string]string) float64 {
	total := 0.0
	sc := bufio.NewScanner(bytes.NewReader(t))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		labels := ""
		if rest[0] == '{' {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				continue
			}
			labels, rest = rest[1:end], rest[end+1:]
		}
		matched := true
		for k, v := range match {
			if !strings.Contains(","+labels+",", ","+k+`="`+v+`",`) {
				matched = false
				break
			}
		}
		if !matched {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			total += v
		}
	}
	return total
}
