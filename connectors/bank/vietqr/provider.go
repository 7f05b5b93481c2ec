package vietqr

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/egov-vn/gateway/connectors/bank"
)

// Account is a collection account a citizen transfers to.
type Account struct {
	// BIN is the bank's NAPAS BIN; Number the account number.
	BIN    string
	Number string
	// Name is the account holder's name (shown by banking apps; not part of the payload).
	Name string
}

// Key is how the account appears in a Settlement and in a payment's record: "BIN:number".
func (a Account) Key() string { return a.BIN + ":" + a.Number }

// Config says which account receives the fees of each agency.
type Config struct {
	// Default receives the fees of agencies without an account of their own.
	Default Account
	// ByAgency maps an agency code (MaDonVi) to its collection account.
	ByAgency map[string]Account
	// Statements maps a bank's name to the URL of its list of a day's movements on the collection
	// accounts (GET ?date=yyyy-mm-dd), read by reconciliation; StatementClient reads them.
	Statements      map[string]string
	StatementClient *http.Client
}

// Validate checks every account can go into a payload.
func (c Config) Validate() error {
	var errs []error
	check := func(name string, a Account) {
		if _, err := Build(Payload{BankBIN: a.BIN, AccountNumber: a.Number}); err != nil {
			errs = append(errs, fmt.Errorf("vietqr: account %s: %w", name, err))
		}
	}
	check("default", c.Default)
	for agency, a := range c.ByAgency {
		check(agency, a)
	}
	return errors.Join(errs...)
}

// Provider is the VietQR dialect: a dynamic payload per payment (the payment reference in the
// purpose, 62-08). A transfer has no callback of its own: the bank's account-movement
// notification (NotificationHandler) confirms it, and there is no status query.
type Provider struct {
	cfg Config
}

var _ bank.Provider = (*Provider)(nil)

// NewProvider builds the dialect.
func NewProvider(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Provider{cfg: cfg}, nil
}

// Name implements bank.Provider.
func (p *Provider) Name() string { return bank.ProviderVietQR }

// AccountFor returns the collection account of an agency.
func (p *Provider) AccountFor(agency string) Account {
	if a, ok := p.cfg.ByAgency[agency]; ok {
		return a
	}
	return p.cfg.Default
}

// Create implements bank.Provider: the VietQR string for the amount, with the reference as the
// purpose so the transfer's description carries it.
func (p *Provider) Create(_ context.Context, pay bank.Payment) (bank.Instructions, error) {
	a := p.AccountFor(pay.AgencyCode)
	qr, err := Build(Payload{BankBIN: a.BIN, AccountNumber: a.Number, Amount: pay.Amount, Purpose: pay.Reference})
	if err != nil {
		return bank.Instructions{}, fmt.Errorf("creating vietqr payload for %s: %w: %w", pay.Reference, bank.ErrRejected, err)
	}
	return bank.Instructions{QRPayload: qr, Account: a.Key(), ExpiresAt: pay.ExpiresAt}, nil
}

// Query implements bank.Provider: a bank transfer has no status query.
func (p *Provider) Query(context.Context, bank.Query) (bank.Status, error) {
	return bank.Status{}, bank.ErrQueryUnsupported
}
