package main

import (
	"flag"
	"io"
	"net/http"
	"net/url"
)

// catalogUsage is the catalog part of the usage text.
const catalogUsage = `
  catalog map set LOCAL_CODE MaTTHC [-reason R] [-actor A]
                                           map a one-stop procedure code to a national one (it must
                                           be in the cached procedures catalogue)
  catalog map list                         every mapping, with the national names
  catalog map delete LOCAL_CODE [-reason R] [-actor A]
  catalog refresh                          fetch the national catalogues now`

// catalogCmd runs "catalog ..." (args after "catalog").
func catalogCmd(c client, args []string, stderr io.Writer) error {
	if len(args) == 1 && args[0] == "refresh" {
		return c.do(http.MethodPost, "/admin/v1/catalog/refresh", nil)
	}
	if len(args) < 2 || args[0] != "map" {
		return errUsage
	}
	fs := flag.NewFlagSet("catalog map", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reason := fs.String("reason", "", "why (audited)")
	actor := fs.String("actor", "", "who (audited; admin when empty)")
	pos, err := parseInterspersed(fs, args[2:])
	if err != nil {
		return errUsage
	}
	body := map[string]string{}
	if *reason != "" {
		body["reason"] = *reason
	}
	if *actor != "" {
		body["actor"] = *actor
	}
	switch {
	case args[1] == "list" && len(pos) == 0 && len(body) == 0:
		return c.get("/admin/v1/catalog/mappings")
	case args[1] == "set" && len(pos) == 2:
		body["national_code"] = pos[1]
		return c.do(http.MethodPut, "/admin/v1/catalog/mappings/"+url.PathEscape(pos[0]), body)
	case args[1] == "delete" && len(pos) == 1:
		return c.do(http.MethodDelete, "/admin/v1/catalog/mappings/"+url.PathEscape(pos[0]), body)
	}
	return errUsage
}
