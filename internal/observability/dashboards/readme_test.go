package dashboards

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEListsEachDashboardsQuestions keeps the README's monitoring section in step with the
// dashboards it describes.
func TestREADMEListsEachDashboardsQuestions(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		if !strings.Contains(readme, "configs/grafana/dashboards/"+d.File) {
			t.Errorf("README does not present %s", d.File)
		}
		for _, q := range d.Questions {
			if !strings.Contains(readme, q) {
				t.Errorf("README lacks the question %q of %s", q, d.File)
			}
		}
	}
}
