package main

import (
	"strings"
	"testing"

	"github.com/egov-vn/gateway/internal/app/apptest"
)

// TestCatalogMappingCommands: an operator refreshes the catalogues and keeps the procedure code
// mapping; a code the catalogue lacks is refused with the reason.
func TestCatalogMappingCommands(t *testing.T) {
	t.Parallel()
	gw := apptest.Start(t, apptest.Config(t, apptest.Embedded))
	if code, out := ctl(t, gw, "catalog", "map", "set", "LS-XD-01", "1.011442"); code != 1 || !strings.Contains(out, "not loaded yet") {
		t.Fatalf("mapping before the catalogue is loaded: %d %s", code, out)
	}
	if code, out := ctl(t, gw, "catalog", "refresh"); code != 0 || !strings.Contains(out, `"outcome": "changed"`) {
		t.Fatalf("refresh: %d %s", code, out)
	}
	if code, out := ctl(t, gw, "catalog", "map", "set", "LS-XD-01", "9.999999"); code != 1 || !strings.Contains(out, "9.999999 is not in the national procedures catalogue") {
		t.Fatalf("mapping to an unknown code: %d %s", code, out)
	}
	if code, out := ctl(t, gw, "catalog", "map", "set", "LS-XD-01", "1.011442", "-reason", "go-live", "-actor", "ops-lan"); code != 0 {
		t.Fatalf("mapping: %d %s", code, out)
	}
	if code, out := ctl(t, gw, "catalog", "map", "list"); code != 0 || !strings.Contains(out, `"local_code": "LS-XD-01"`) || !strings.Contains(out, "Cấp giấy phép xây dựng") {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, out := ctl(t, gw, "catalog", "map", "delete", "LS-XD-01", "-reason", "wrong code"); code != 0 {
		t.Fatalf("delete: %d %s", code, out)
	}
	if code, out := ctl(t, gw, "catalog", "map", "delete", "LS-XD-01"); code != 1 {
		t.Fatalf("deleting twice: %d %s", code, out)
	}
	if code, _ := ctl(t, gw, "catalog", "map", "set", "LS-XD-01"); code != 2 {
		t.Fatalf("a missing argument: exit %d, want the usage (2)", code)
	}
}
