// Command dashgen writes the gateway's Grafana dashboards (defined in
// internal/observability/dashboards) as the JSON files Grafana's provisioning loads:
//
//	go run ./cmd/dashgen [-out configs/grafana/dashboards]
//
// Run it after changing a dashboard and commit the files; a test fails while they are stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/egov-vn/gateway/internal/observability/dashboards"
)

func main() {
	out := flag.String("out", "configs/grafana/dashboards", "folder to write the dashboard files to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "dashgen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	all, err := dashboards.All()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", out, err)
	}
	for _, d := range all {
		path := filepath.Join(out, d.File)
		if err := os.WriteFile(path, d.JSON, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		fmt.Println("wrote", path)
	}
	return nil
}
