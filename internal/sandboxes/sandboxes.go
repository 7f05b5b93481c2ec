// Package sandboxes assembles every sandbox partner under one handler: mounted at /sandbox/ on
// the API listener by the dev profile, and served alone by cmd/partnersim. Each sandbox speaks its
// partner's real wire format and signature scheme, shows what it received, and takes faults at
// PUT /sandbox/{partner}/faults.
package sandboxes

import (
	"net/http"

	banksandbox "github.com/egov-vn/gateway/connectors/bank/sandbox"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
	onestopsandbox "github.com/egov-vn/gateway/connectors/onestop/sandbox"
	portalsandbox "github.com/egov-vn/gateway/connectors/portal/sandbox"
	postalsandbox "github.com/egov-vn/gateway/connectors/postal/sandbox"
	"github.com/egov-vn/gateway/internal/config"
)

// Set is every sandbox partner.
type Set struct {
	Portal  *portalsandbox.Sandbox
	Onestop *onestopsandbox.Sandbox
	VNPay   *banksandbox.VNPay
	PayGov  *banksandbox.PayGov
	Banks   *banksandbox.Banks
	VNPost  *postalsandbox.Sandbox
	handler http.Handler
}

// Credentials the sandboxes accept, and where the payment sandboxes call back.
type Credentials struct {
	PortalUser, PortalPassword, PortalDstCode string
	OnestopSecrets                            []string
	// VNPost accounts: MyVNPost user and password, NGSP client, secret and customer code.
	VNPostUser, VNPostPassword                       string
	NGSPClientID, NGSPClientSecret, NGSPCustomerCode string

	VNPayTmnCode, VNPaySecret              string
	PayGovClientID, PayGovKey1, PayGovKey2 string
	// Banks are the banks that notify account movements, by name.
	Banks map[string]BankCredentials
	// GatewayURL is the gateway's API listener, where the payment sandboxes send their
	// callbacks; PublicURL is where the sandboxes themselves are reached (…/sandbox/...).
	GatewayURL, PublicURL string
	// Retry is how the payment sandboxes repeat a callback that got no usable answer.
	Retry banksandbox.Retry
}

// BankCredentials is one sandbox bank: its notification secret and the accounts it keeps.
type BankCredentials struct {
	Secret   string
	Accounts []vietqr.Account
}

// DevCredentials are the dev profile's demo credentials.
func DevCredentials() Credentials {
	return Credentials{
		PortalUser: config.DemoPortalUser, PortalPassword: config.DemoPortalPassword, PortalDstCode: config.DemoDstCode,
		OnestopSecrets: []string{config.DemoOnestopSecret},
		VNPostUser:     config.DemoVNPostUser, VNPostPassword: config.DemoVNPostPassword,
		NGSPClientID: config.DemoNGSPClientID, NGSPClientSecret: config.DemoNGSPClientSecret, NGSPCustomerCode: config.DemoNGSPCustomerCode,
		VNPayTmnCode: config.DemoVNPayTmnCode, VNPaySecret: config.DemoVNPaySecret,
		PayGovClientID: config.DemoPayGovClient, PayGovKey1: config.DemoPayGovKey1, PayGovKey2: config.DemoPayGovKey2,
		Banks: map[string]BankCredentials{config.DemoBank: {Secret: config.DemoBankSecret,
			Accounts: []vietqr.Account{{BIN: config.DemoBankBIN, Number: config.DemoAccount, Name: "UBND TINH LANG SON"}}}},
	}
}

// New builds the sandboxes.
func New(c Credentials) *Set {
	banks := map[string]banksandbox.BankAccountConfig{}
	for name, b := range c.Banks {
		banks[name] = banksandbox.BankAccountConfig{Secret: b.Secret, Accounts: b.Accounts,
			NotifyURL: c.GatewayURL + "/v1/callbacks/bank/" + name + "/transactions"}
	}
	s := &Set{
		Portal:  portalsandbox.New(portalsandbox.Config{Username: c.PortalUser, Password: c.PortalPassword, DstCode: c.PortalDstCode}),
		Onestop: onestopsandbox.New(c.OnestopSecrets...),
		VNPay: banksandbox.NewVNPay(banksandbox.VNPayConfig{TmnCode: c.VNPayTmnCode, Secret: c.VNPaySecret,
			IPNURL: c.GatewayURL + "/v1/callbacks/vnpay/ipn", Retry: c.Retry}),
		PayGov: banksandbox.NewPayGov(banksandbox.PayGovConfig{ClientID: c.PayGovClientID, Key1: c.PayGovKey1, Key2: c.PayGovKey2,
			PublicURL: c.PublicURL + "/sandbox/paygov", ConfirmURL: c.GatewayURL + "/v1/callbacks/paygov/confirm",
			BillURL: c.GatewayURL + "/v1/callbacks/paygov/bill", Retry: c.Retry}),
		Banks: banksandbox.NewBanks(banks, c.Retry),
		VNPost: postalsandbox.New(postalsandbox.Config{MyVNPostUser: c.VNPostUser, MyVNPostPassword: c.VNPostPassword,
			NGSPClientID: c.NGSPClientID, NGSPClientSecret: c.NGSPClientSecret, NGSPCustomerCode: c.NGSPCustomerCode}),
	}
	mux := http.NewServeMux()
	mux.Handle("/sandbox/dvcqg/", http.StripPrefix("/sandbox/dvcqg", s.Portal.Handler()))
	mux.Handle("/sandbox/onestop/", http.StripPrefix("/sandbox/onestop", s.Onestop.Handler()))
	mux.Handle("/sandbox/vnpay/", http.StripPrefix("/sandbox/vnpay", s.VNPay.Handler()))
	mux.Handle("/sandbox/paygov/", http.StripPrefix("/sandbox/paygov", s.PayGov.Handler()))
	mux.Handle("/sandbox/bank/", http.StripPrefix("/sandbox/bank", s.Banks.Handler()))
	mux.Handle("/sandbox/vnpost/", http.StripPrefix("/sandbox/vnpost", s.VNPost.Handler()))
	s.handler = mux
	return s
}

// Handler serves every sandbox under /sandbox/.
func (s *Set) Handler() http.Handler { return s.handler }

// Close stops the callbacks the payment sandboxes are still repeating.
func (s *Set) Close() {
	s.VNPay.Close()
	s.PayGov.Close()
	s.Banks.Close()
}
