package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/sandboxes"
	"github.com/egov-vn/gateway/routing"
)

// newSync is the end-to-end dossier sync scenario: status changes in, dossiers at the portal
// out (the common runner is described in flow.go).
//
// Both phases make the three calls of the DVCQG protocol for a dossier status change with a step
// (TraCuuHoSo to choose isUpdating, DongBoHoSoMC with the whole state, CapNhatTienDoHoSoMC with
// the step) against the sandbox portal; an event's effect is its step at the portal. -versions
// gives each dossier several status changes in order (events/versions dossiers).
func newSync() *scenario {
	return newFlow("sync", "dossier sync end to end: a minimal XADD→XREADGROUP→portal→XACK pipeline, then the gateway", &syncFlow{})
}

// syncFlow is the dossier sync flow.
type syncFlow struct {
	versions int
}

func (f *syncFlow) register(fs *flag.FlagSet) {
	fs.IntVar(&f.versions, "versions", 1, "status changes per dossier (events/versions dossiers, each version with a step)")
}

func (f *syncFlow) check(o *flowOptions) error {
	if f.versions < 1 || f.versions > 100 || o.events%f.versions != 0 {
		return fmt.Errorf("-versions %d is outside 1..100 or does not divide -events", f.versions)
	}
	// The warm-up's dossiers get all their versions too: a whole number of them.
	o.warmup -= o.warmup % f.versions
	return nil
}

func (f *syncFlow) versionsPerDossier() int { return f.versions }

func (f *syncFlow) describe(o *flowOptions) string {
	return fmt.Sprintf("%d events (%d per dossier)", o.events, f.versions)
}

func (f *syncFlow) newGen(tag string, o *flowOptions) flowGen {
	return newDossierGen(newEventGen("s"+tag, o.total()/f.versions, 1))
}

func (f *syncFlow) newBaseline(ctx context.Context, sandboxURL string, conns int) (func(context.Context, []byte) error, error) {
	p, err := newMiniPortal(ctx, sandboxURL+"/sandbox/dvcqg", conns)
	if err != nil {
		return nil, err
	}
	return p.sync, nil
}

func (f *syncFlow) configure(cfg *config.Config, sandboxURL string) {
	cfg.Portal.BaseURL = sandboxURL + "/sandbox/dvcqg"
}

func (f *syncFlow) parked() (string, string) {
	return routing.PartnerPortal, routing.TopicDossierStatusChanged
}

// delivered counts the steps the portal recorded (one per event; a step is only recorded for a
// dossier whose state it received).
func (f *syncFlow) delivered(sb *sandboxes.Set) int { return sb.Portal.StepsReceived() }

func (f *syncFlow) setHook(sb *sandboxes.Set, fn func(string, int)) { sb.Portal.SetStepHook(fn) }

// dossierGen is an eventGen of single status changes; an effect is a dossier's nth step.
type dossierGen struct {
	*eventGen
	// index maps a dossier code to its index in codes, built at the first eventOf: a run that
	// times nothing (-backlog) does not hold it. A million-event backlog run read 119 MiB idle
	// with it (no GC before that reading), 63 MiB without it (after a GC).
	indexOnce sync.Once
	index     map[string]int
}

func newDossierGen(g *eventGen) *dossierGen { return &dossierGen{eventGen: g} }

func (g *dossierGen) bodyOf(n uint64) []byte { return g.event(make([]byte, 0, eventSize+64), n) }

func (g *dossierGen) eventOf(code string, nth int) (uint64, bool) {
	g.indexOnce.Do(func() {
		g.index = make(map[string]int, len(g.codes))
		for i, c := range g.codes {
			g.index[c] = i
		}
	})
	d, ok := g.index[code]
	if !ok || nth < 1 {
		return 0, false
	}
	return g.eventIndex(d, uint64(nth)), true
}

// miniPortal is the baseline's hand-written DVCQG client: one login, then the three calls.
type miniPortal struct {
	client  *http.Client
	url     string
	session string
}

func newMiniPortal(ctx context.Context, url string, conns int) (*miniPortal, error) {
	p := &miniPortal{url: url, client: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
		MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: 90 * time.Second}}}
	var reply struct {
		Session string `json:"session"`
	}
	body, _ := json.Marshal(map[string]string{"username": config.DemoPortalUser, "password": config.DemoPortalPassword})
	if err := p.post(ctx, "/auth", body, &reply); err != nil {
		return nil, fmt.Errorf("logging in to the sandbox portal: %w", err)
	}
	if reply.Session == "" {
		return nil, errors.New("logging in to the sandbox portal: the answer holds no session")
	}
	p.session = reply.Session
	return p, nil
}

func (p *miniPortal) post(ctx context.Context, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dstcode", config.DemoDstCode)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading answer: %w", path, err)
	}
	var r struct {
		ErrorCode json.RawMessage `json:"error_code"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("%s: decoding answer: %w", path, err)
	}
	if code := strings.Trim(string(r.ErrorCode), `"`); code != "0" && code != "00" {
		return fmt.Errorf("%s: error_code %s", path, r.ErrorCode)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// sync makes the DVCQG calls for one CloudEvent.
func (p *miniPortal) sync(ctx context.Context, event []byte) error {
	var ev struct {
		Subject string `json:"subject"`
		Data    struct {
			Dossier json.RawMessage `json:"dossier"`
			Step    json.RawMessage `json:"step"`
		} `json:"data"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return fmt.Errorf("decoding event: %w", err)
	}
	type envelope struct {
		Session string `json:"session"`
		MaDonVi string `json:"madonvi"`
		Service string `json:"service"`
	}
	env := func(service string) envelope { return envelope{p.session, config.DemoDstCode, service} }
	lookup, _ := json.Marshal(struct {
		envelope
		MaHoSo string `json:"MaHoSo"`
	}{env("TraCuuHoSo"), ev.Subject})
	var found struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := p.post(ctx, "/integration", lookup, &found); err != nil {
		return err
	}
	updating := "False"
	if len(found.Result) > 0 {
		updating = "True"
	}
	upsert, _ := json.Marshal(struct {
		envelope
		IsUpdating string            `json:"isUpdating"`
		Data       []json.RawMessage `json:"data"`
	}{env("DongBoHoSoMC"), updating, []json.RawMessage{ev.Data.Dossier}})
	if err := p.post(ctx, "/integration", upsert, nil); err != nil {
		return err
	}
	step := append([]byte(`{"MaHoSo":"`+ev.Subject+`",`), bytes.TrimPrefix(bytes.TrimSpace(ev.Data.Step), []byte("{"))...)
	progress, _ := json.Marshal(struct {
		envelope
		Data []json.RawMessage `json:"data"`
	}{env("CapNhatTienDoHoSoMC"), []json.RawMessage{step}})
	return p.post(ctx, "/integration", progress, nil)
}
