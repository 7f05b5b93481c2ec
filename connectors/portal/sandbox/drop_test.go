package sandbox_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/egov-vn/gateway/connectors/portal/sandbox"
)

func upsert(t *testing.T, e env, session string, d map[string]any) string {
	t.Helper()
	code, _ := e.integrate(t, session, map[string]any{"service": "DongBoHoSoMC", "isUpdating": "False", "data": []any{d}})
	return code
}

func status(t *testing.T, e env, code string) string {
	t.Helper()
	rec, ok := e.sb.Dossier(code)
	if !ok {
		return ""
	}
	v, _ := rec.DossierField("TrangThaiHoSo")
	return v
}

// TestDropSwitch: dropped updates are answered "00" and change nothing; by dossier, the next N,
// and every one at rate 1; steps and invalid requests are never dropped; {} stops dropping.
func TestDropSwitch(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Config{})
	session := e.login(t)

	if st, _ := e.call(t, http.MethodPut, "/drop", "", map[string]any{"dossiers": []string{"D-A"}}); st != http.StatusOK {
		t.Fatalf("PUT /drop: %d", st)
	}
	if code := upsert(t, e, session, dossier("D-A")); code != "00" {
		t.Fatalf("dropped create answered %s, want 00", code)
	}
	if _, ok := e.sb.Dossier("D-A"); ok {
		t.Fatal("a dropped create was applied")
	}
	if code := upsert(t, e, session, dossier("D-B")); code != "00" || status(t, e, "D-B") != "2" {
		t.Fatalf("an update of another dossier: %s, status %q; want it applied", code, status(t, e, "D-B"))
	}
	// An invalid update is refused as usual, not dropped.
	if code := upsert(t, e, session, with(dossier("D-A"), "MaTTHC", nil)); code != "10" {
		t.Fatalf("invalid update answered %s, want 10", code)
	}
	// A step of a dossier is never dropped.
	if code, _ := e.integrate(t, session, map[string]any{"service": "CapNhatTienDoHoSoMC", "data": []any{step("D-B", "x")}}); code != "00" {
		t.Fatalf("step answered %s", code)
	}
	if rec, _ := e.sb.Dossier("D-B"); len(rec.Steps) != 1 {
		t.Fatalf("%d steps recorded, want 1", len(rec.Steps))
	}

	e.sb.SetDrops(sandbox.DropSettings{Next: 1})
	if code := upsert(t, e, session, with(dossier("D-B"), "TrangThaiHoSo", "4")); code != "00" || status(t, e, "D-B") != "2" {
		t.Fatalf("next 1: %s, status %q; want 00 and the old status 2", code, status(t, e, "D-B"))
	}
	if code := upsert(t, e, session, with(dossier("D-B"), "TrangThaiHoSo", "4")); code != "00" || status(t, e, "D-B") != "4" {
		t.Fatalf("after the next 1: %s, status %q; want applied", code, status(t, e, "D-B"))
	}
	e.sb.SetDrops(sandbox.DropSettings{Rate: 1})
	if upsert(t, e, session, with(dossier("D-B"), "TrangThaiHoSo", "9")); status(t, e, "D-B") != "4" {
		t.Fatal("rate 1 applied an update")
	}
	if st, _ := e.call(t, http.MethodPut, "/drop", "", map[string]any{}); st != http.StatusOK {
		t.Fatalf("PUT /drop {}: %d", st)
	}
	if upsert(t, e, session, with(dossier("D-B"), "TrangThaiHoSo", "9")); status(t, e, "D-B") != "9" {
		t.Fatal("after {} an update was dropped")
	}
	if got := e.sb.Dropped(); !slices.Equal(got, []string{"D-A", "D-B", "D-B"}) {
		t.Fatalf("dropped %v, want [D-A D-B D-B]", got)
	}
	st, out := e.call(t, http.MethodGet, "/drop", "", nil)
	if d, _ := out["dropped"].([]any); st != http.StatusOK || len(d) != 3 {
		t.Fatalf("GET /drop: %d %v", st, out)
	}
	for _, bad := range []any{`{"rate": 2}`, `{"next": -1}`, `{"dossier": ["x"]}`, `[]`} {
		if st, _ := e.call(t, http.MethodPut, "/drop", "", bad); st != http.StatusBadRequest {
			t.Errorf("PUT /drop %s: %d, want 400", bad, st)
		}
	}
	if !e.sb.SetDossierField("D-B", "TrangThaiHoSo", "10") || status(t, e, "D-B") != "10" {
		t.Fatal("SetDossierField did not change the held dossier")
	}
	if e.sb.SetDossierField("D-none", "TrangThaiHoSo", "10") {
		t.Fatal("SetDossierField changed an unknown dossier")
	}
	e.sb.Reset()
	if len(e.sb.Dropped()) != 0 {
		t.Fatal("Reset kept the dropped record")
	}
}
