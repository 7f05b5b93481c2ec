// Package sandboxes assembles every sandbox partner under one handler: mounted at /sandbox/ on
// the API listener by the dev profile, and served alone by cmd/partnersim. Each sandbox speaks its
// partner's real wire format and signature scheme, shows what it received, and takes faults at
// PUT /sandbox/{partner}/faults.
package sandboxes

import (
	"net/http"

	onestopsandbox "github.com/egov-vn/gateway/connectors/onestop/sandbox"
	portalsandbox "github.com/egov-vn/gateway/connectors/portal/sandbox"
	"github.com/egov-vn/gateway/internal/config"
)

// Set is every sandbox partner.
type Set struct {
	Portal  *portalsandbox.Sandbox
	Onestop *onestopsandbox.Sandbox
	handler http.Handler
}

// Credentials the sandboxes accept.
type Credentials struct {
	PortalUser, PortalPassword, PortalDstCode string
	OnestopSecrets                            []string
}

// DevCredentials are the dev profile's demo credentials.
func DevCredentials() Credentials {
	return Credentials{
		PortalUser: config.DemoPortalUser, PortalPassword: config.DemoPortalPassword, PortalDstCode: config.DemoDstCode,
		OnestopSecrets: []string{config.DemoOnestopSecret},
	}
}

// New builds the sandboxes.
func New(c Credentials) *Set {
	s := &Set{
		Portal:  portalsandbox.New(portalsandbox.Config{Username: c.PortalUser, Password: c.PortalPassword, DstCode: c.PortalDstCode}),
		Onestop: onestopsandbox.New(c.OnestopSecrets...),
	}
	mux := http.NewServeMux()
	mux.Handle("/sandbox/dvcqg/", http.StripPrefix("/sandbox/dvcqg", s.Portal.Handler()))
	mux.Handle("/sandbox/onestop/", http.StripPrefix("/sandbox/onestop", s.Onestop.Handler()))
	s.handler = mux
	return s
}

// Handler serves every sandbox under /sandbox/.
func (s *Set) Handler() http.Handler { return s.handler }
