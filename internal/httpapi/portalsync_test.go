package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/portalsync"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
	"github.com/egov-vn/gateway/internal/vntime"
)

// heldLookup answers every look-up only once released.
type heldLookup struct{ release chan struct{} }

func (h heldLookup) LookupDossier(ctx context.Context, code string) (portal.Dossier, bool, error) {
	select {
	case <-h.release:
	case <-ctx.Done():
		return portal.Dossier{}, false, ctx.Err()
	}
	return portal.Dossier{Code: code, Status: portal.StatusReceived}, true, nil
}

// TestLongDriftCheckAnswers202: a check that outlasts the answer's wait goes on in the
// background (202 with its start); a second run of the day meanwhile is refused (409); the
// report is stored when the check ends.
func TestLongDriftCheckAnswers202(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	st := &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
	if err := st.RecordSynced(t.Context(), "HD-1", store.SyncedSummary{Version: 1, Status: 2}, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	lookup := heldLookup{release: make(chan struct{})}
	ps := &PortalSync{Verifier: &portalsync.Verifier{Store: st, Portal: lookup, Limiter: portalsync.NewRate(1000)}, AnswerWithin: time.Millisecond}
	mux := http.NewServeMux()
	for route, h := range ps.routes() {
		mux.Handle(route, h)
	}
	day := time.Now().In(vntime.Zone).Format(time.DateOnly)
	call := func(method string) (int, map[string]any) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(method, "/admin/v1/sync/drift/"+day, nil))
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	code, out := call(http.MethodPost)
	if code != http.StatusAccepted || out["status"] != "running" || out["started_at"] == nil {
		t.Fatalf("long check: %d %v, want 202 running with its start", code, out)
	}
	ps.AnswerWithin = 10 * time.Second
	if code, out := call(http.MethodPost); code != http.StatusConflict {
		t.Fatalf("second run meanwhile: %d %v, want 409", code, out)
	}
	if code, _ := call(http.MethodGet); code != http.StatusNotFound {
		t.Fatalf("report before the check ended: %d, want 404", code)
	}
	close(lookup.release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out := call(http.MethodGet)
		if code == http.StatusOK {
			if out["status"] != "clean" || out["checked"] != float64(1) {
				t.Fatalf("stored report %v, want clean over one dossier", out)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no report stored 10 s after the check was released (last %d)", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
