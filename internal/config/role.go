package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Process roles (the top-level role key, GATEWAY_ROLE), so that ingest replicas can be scaled
// apart from the consumers:
//
//   - all (the default): everything in one process, as a single replica always ran.
//   - api: the API listener (events, payments, callbacks, dossier and catalogue reads, the dev
//     sandboxes) and the admin listener. It stores what it takes durably and answers; it runs
//     none of the router's consumers and none of the background loops that call partners or
//     move work. Creating a payment still calls the provider at once (PayGov's create), because
//     the one-stop system waits for the payment URL: that is API work.
//   - worker: the router's consumers, the delayed-retry movers and every background loop
//     (payment status queries and expiry, reconciliation, portal drift check and re-sync jobs,
//     portal submissions and catalogues, postal tracking) and the admin listener; it does not
//     bind http.addr.
const (
	RoleAll    = "all"
	RoleAPI    = "api"
	RoleWorker = "worker"
)

// Roles lists the valid roles.
var Roles = []string{RoleAll, RoleAPI, RoleWorker}

// ServesAPI reports whether the role serves the API listener (http.addr).
func (c *Config) ServesAPI() bool { return c.Role != RoleWorker }

// RunsWorkers reports whether the role runs the router's consumers and the background loops.
func (c *Config) RunsWorkers() bool { return c.Role != RoleAPI }

// partnerURLs names the URLs a worker calls: the partners its consumers and background loops
// reach.
func (c *Config) partnerURLs() [][2]string {
	out := [][2]string{
		{"portal.base_url", c.Portal.BaseURL},
		{"onestop.url", c.Onestop.URL},
		{"payments.vnpay.api_url", c.Payments.VNPay.APIURL},
		{"payments.vnpay.transactions_url", c.Payments.VNPay.TransactionsURL},
		{"payments.paygov.base_url", c.Payments.PayGov.BaseURL},
		{"postal.base_url", c.Postal.BaseURL},
	}
	for _, name := range slices.Sorted(maps.Keys(c.Payments.Banks)) {
		out = append(out, [2]string{"payments.banks." + name + ".statement_url", c.Payments.Banks[name].StatementURL})
	}
	return out
}

// CheckRole is the role's part of Validate, for app.New to check again once the dev profile's
// URLs are filled in from the bound listener.
func (c *Config) CheckRole() error {
	var errs []error
	validateRole(c, func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) })
	return errors.Join(errs...)
}

// validateRole checks the role. A worker does not serve the API listener, and the dev profile's
// sandbox partners live there: a dev-profile worker whose partner URLs still point at its own
// /sandbox/ would call a listener nobody serves, so it is refused. Rather than refusing the dev
// profile outright, the rule is on the URLs: a dev worker pointed at another process's sandboxes
// (an api or all gateway of the dev profile, or cmd/partnersim) is accepted. "Its own" is its
// http.addr: the dev profile derives the partner URLs from http.public_url, so a worker whose
// public URL names the api gateway's listener (GATEWAY_HTTP_PUBLIC_URL) finds that gateway's
// sandboxes without setting each partner URL.
func validateRole(c *Config, bad func(string, ...any)) {
	if !slices.Contains(Roles, c.Role) {
		bad("role: %q is not one of %s", c.Role, strings.Join(Roles, ", "))
		return
	}
	if c.Role != RoleWorker || c.Profile != ProfileDev {
		return
	}
	own := "http://" + c.HTTP.Addr + "/sandbox/"
	var at []string
	for _, u := range c.partnerURLs() {
		if strings.HasPrefix(u[1], own) {
			at = append(at, u[0])
		}
	}
	if len(at) > 0 {
		bad("role: worker does not serve the API listener, where the dev profile's sandbox partners live (%s point there); "+
			"run role all, or point them at another process's sandboxes (an api gateway of the dev profile, or cmd/partnersim): "+
			"set http.public_url (GATEWAY_HTTP_PUBLIC_URL) to that process's URL, or each partner URL",
			strings.Join(at, ", "))
	}
}
