package app

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/paygov"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/httpapi"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/payments"
	"github.com/egov-vn/gateway/internal/reconcile"
	"github.com/egov-vn/gateway/internal/replay"
	"github.com/egov-vn/gateway/routing"
)

// buildPayments builds the configured payment dialects (one line each), the state machine and
// the callback handlers of the API listener. A provider that is not configured still has its
// callback route, which refuses everything in the partner's own format.
func (a *App) buildPayments() (map[string]http.Handler, error) {
	p := a.cfg.Payments
	var err error
	a.PaymentMetrics, err = observability.NewPaymentMetrics(a.Metrics.Registry)
	if err != nil {
		return nil, err
	}
	providers := map[string]bank.Provider{}
	var pg *paygov.Client
	if p.VNPay.Enabled() {
		client, err := a.partnerClient(bank.ProviderVNPay, p.VNPay.APIURL, []string{vnpay.OpQueryDR, vnpay.OpTransactions})
		if err != nil {
			return nil, err
		}
		c, err := vnpay.New(vnpay.Config{TmnCode: p.VNPay.TmnCode, Secret: p.VNPay.Secret, OldSecrets: p.VNPay.OldSecrets, PayURL: p.VNPay.PayURL,
			OrderType: p.VNPay.OrderType, Locale: p.VNPay.Locale, ReturnURL: p.ReturnURL, ServerIP: p.VNPay.ServerIP,
			TransactionsURL: p.VNPay.TransactionsURL}, client)
		if err != nil {
			return nil, fmt.Errorf("building vnpay dialect: %w", err)
		}
		providers[bank.ProviderVNPay] = c
	}
	if p.PayGov.Enabled() {
		client, err := a.partnerClient(bank.ProviderPayGov, p.PayGov.BaseURL, []string{paygov.OpCreate, paygov.OpDetail, paygov.OpTransactions})
		if err != nil {
			return nil, err
		}
		pg, err = paygov.New(paygov.Config{ClientID: p.PayGov.ClientID, Key1: p.PayGov.Key1, Key2: p.PayGov.Key2,
			CreatePath: p.PayGov.CreatePath, DetailPath: p.PayGov.DetailPath, ReturnURL: p.ReturnURL,
			BeneficiaryAccount: p.PayGov.BeneficiaryAccount, BeneficiaryBank: p.PayGov.BeneficiaryBank,
			BeneficiaryName: p.PayGov.BeneficiaryName, AgencyName: p.PayGov.AgencyName}, client)
		if err != nil {
			return nil, fmt.Errorf("building paygov dialect: %w", err)
		}
		providers[bank.ProviderPayGov] = pg
	}
	banks := map[string]vietqr.BankConfig{}
	if p.VietQR.Enabled() {
		cfg := vietqr.Config{Default: account(p.VietQR.DefaultAccount), ByAgency: map[string]vietqr.Account{},
			Statements: map[string]string{}}
		for agency, acc := range p.VietQR.Accounts {
			cfg.ByAgency[agency] = account(acc)
		}
		for name, b := range p.Banks {
			if b.StatementURL != "" {
				cfg.Statements[name] = b.StatementURL
			}
		}
		q, err := vietqr.NewProvider(cfg)
		if err != nil {
			return nil, fmt.Errorf("building vietqr dialect: %w", err)
		}
		providers[bank.ProviderVietQR] = q
		all := append([]vietqr.Account{cfg.Default}, mapValues(cfg.ByAgency)...)
		for name, b := range p.Banks {
			bc := vietqr.BankConfig{Secret: b.Secret, OldSecrets: b.OldSecrets}
			for _, acc := range all {
				if acc.BIN == b.BIN && !slices.Contains(bc.Accounts, acc) {
					bc.Accounts = append(bc.Accounts, acc)
				}
			}
			banks[name] = bc
		}
	}
	a.Payments, err = payments.New(payments.Config{
		Topic: routing.TopicPaymentSettled, DefaultTTL: p.TTL,
		TTL: map[string]time.Duration{
			bank.ProviderVNPay: p.VNPay.TTL, bank.ProviderPayGov: p.PayGov.TTL, bank.ProviderVietQR: p.VietQR.TTL,
		},
		QueryAfter: p.QueryAfter, QueryInterval: p.QueryInterval, ExpireGrace: p.ExpireGrace, SweepInterval: p.SweepInterval,
		IdempotencyTTL: a.cfg.Routing.IdempotencyTTL,
	}, a.Store, providers, a.PaymentMetrics, a.log)
	if err != nil {
		return nil, err
	}
	svc := a.Payments
	a.Metrics.Registry.MustRegister(observability.NewPendingPaymentsCollector(func(ctx context.Context) (map[string]observability.PendingCounts, error) {
		ages, err := svc.PendingByAge(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[string]observability.PendingCounts, len(ages))
		for provider, a := range ages {
			out[provider] = observability.PendingCounts{ByAge: [3]int64{a.WithinTTL, a.InGrace, a.Overdue}, Oldest: a.Oldest}
		}
		return out, nil
	}))
	a.Reconciler = &reconcile.Reconciler{Payments: a.Payments, Providers: providers, Store: a.Store,
		Metrics: a.PaymentMetrics, Log: a.log}

	var billNets []netip.Prefix
	for _, n := range p.PayGov.BillAllowedNets {
		prefix, _ := netip.ParsePrefix(n) // validated with the configuration
		billNets = append(billNets, prefix)
	}
	var bills http.Handler = &paygov.BillHandler{Client: pg, Bills: a.Payments, AllowedNets: billNets, Observer: a.PaymentMetrics}
	if pg == nil {
		bills = &paygov.BillHandler{Bills: notConfigured{}, Observer: a.PaymentMetrics}
	}
	return map[string]http.Handler{
		httpapi.RouteVNPayIPN: &vnpay.IPNHandler{TmnCode: p.VNPay.TmnCode, Secret: secretIf(p.VNPay.Enabled(), p.VNPay.Secret), OldSecrets: p.VNPay.OldSecrets,
			Settler: a.Payments, Observer: a.PaymentMetrics, Log: a.log},
		httpapi.RoutePayGovConfirm: &paygov.ConfirmHandler{ClientID: p.PayGov.ClientID, Key2: secretIf(p.PayGov.Enabled(), p.PayGov.Key2),
			Settler: a.Payments, Observer: a.PaymentMetrics, Log: a.log},
		httpapi.RoutePayGovBill: bills,
		httpapi.RouteBankTransactions: &vietqr.NotificationHandler{Banks: banks, Settler: a.Payments, Observer: a.PaymentMetrics,
			Window: p.BankTimestampWindow, Nonces: &replay.Memory{Client: a.Store.Client, Prefix: a.Store.Keys.Prefix}, Log: a.log},
	}, nil
}

// partnerNames lists the partners ops can pause: the portal, the one-stop system and the
// configured payment providers with an API.
func (a *App) partnerNames() []string {
	names := []string{routing.PartnerPortal, routing.PartnerOnestop}
	for _, p := range []string{bank.ProviderVNPay, bank.ProviderPayGov} {
		if _, ok := a.Clients[p]; ok {
			names = append(names, p)
		}
	}
	return names
}

func account(s config.AccountSettings) vietqr.Account {
	return vietqr.Account{BIN: s.BIN, Number: s.Number, Name: s.Name}
}

func mapValues(m map[string]vietqr.Account) []vietqr.Account {
	out := make([]vietqr.Account, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func secretIf(enabled bool, s string) string {
	if enabled {
		return s
	}
	return ""
}

// notConfigured answers the bill look-up when PayGov is not configured: no dossier has a bill.
type notConfigured struct{}

func (notConfigured) PayableBill(context.Context, string, string) (bank.Bill, bank.BillStatus, error) {
	return bank.Bill{}, bank.BillUnknownDossier, nil
}
