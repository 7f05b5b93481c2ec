package routing

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

// mapResolver resolves codes with the form 1.234567 as national and others through a map.
type mapResolver map[string]string

func (m mapResolver) ResolveProcedure(_ context.Context, code string) (string, error) {
	if strings.HasPrefix(code, "1.") {
		return code, nil
	}
	if n, ok := m[code]; ok {
		return n, nil
	}
	return "", failure.Permanentf("procedure code %q has no mapping", code)
}

// sentPortal records the dossiers it receives.
type sentPortal struct{ sent []portal.Dossier }

func (p *sentPortal) UpsertDossier(_ context.Context, d portal.Dossier) error {
	p.sent = append(p.sent, d)
	return nil
}
func (p *sentPortal) AddProgress(context.Context, portal.Step) error { return nil }

// TestDossierSyncMapsLocalProcedureCodes: a mapped local code reaches the portal as its national
// code, a national code passes unchanged, and an unmapped one is a permanent error naming the
// code with nothing sent.
func TestDossierSyncMapsLocalProcedureCodes(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	p := &sentPortal{}
	h := &dossierSync{store: st, portal: p, metrics: newTestMetrics(), lease: 5 * time.Second, stepBudget: time.Second,
		procedures: mapResolver{"LS-XD-01": "1.011442"}}
	send := func(code, procedure string) error {
		ev, _ := json.Marshal(map[string]any{
			"specversion": "1.0", "id": "e-" + code, "source": "/t", "type": "vn.gov.dossier.status_changed", "subject": code,
			"data": map[string]any{"version": 1,
				"dossier": map[string]any{"MaHoSo": code, "MaTTHC": procedure, "LoaiDoiTuong": 1, "TrangThaiHoSo": 2}},
		})
		msg := message.NewMessage("m-"+code, ev)
		msg.SetContext(t.Context())
		_, err := h.Handle(msg)
		return err
	}
	if err := send("D-LOCAL", "LS-XD-01"); err != nil {
		t.Fatalf("mapped local code: %v", err)
	}
	if err := send("D-NATIONAL", "1.001612"); err != nil {
		t.Fatalf("national code: %v", err)
	}
	err := send("D-UNMAPPED", "LS-XX-99")
	if !failure.IsPermanent(err) || !strings.Contains(err.Error(), `"LS-XX-99"`) {
		t.Fatalf("unmapped code: %v, want a permanent error naming the code", err)
	}
	if len(p.sent) != 2 || p.sent[0].ProcedureCode != "1.011442" || p.sent[1].ProcedureCode != "1.001612" {
		t.Fatalf("the portal received %+v; want the mapped and the national dossier only", p.sent)
	}
}
