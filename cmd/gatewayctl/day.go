package main

import (
	"flag"
	"io"
	"net/url"
	"time"

	"github.com/egov-vn/gateway/internal/vntime"
)

// dayReport reads the flags of a command about one day's report, -date D (yesterday in Vietnam
// when absent) and -stored, and returns the report's path, base + the date, and whether to print
// the stored report only. storedUsage says what -stored leaves undone.
func dayReport(name, base, storedUsage string, args []string, stderr io.Writer) (path string, stored bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	date := fs.String("date", time.Now().In(vntime.Zone).AddDate(0, 0, -1).Format(time.DateOnly), "the day, yyyy-mm-dd (Vietnam)")
	only := fs.Bool("stored", false, "print the stored report; "+storedUsage)
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return "", false, errUsage
	}
	return base + url.PathEscape(*date), *only, nil
}
