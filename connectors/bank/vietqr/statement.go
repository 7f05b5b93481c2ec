package vietqr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/vntime"
)

// statement is a bank's list of a day's movements on the collection accounts. [assumed] wire
// format: banks' account-statement APIs differ and are given under contract; this is the sandbox's
// JSON, whose movements have the fields of the movement notification.
type statement struct {
	Date         string        `json:"date"`
	Transactions []Transaction `json:"transactions"`
}

// maxStatementBody bounds one day's statement.
const maxStatementBody = 16 << 20

// Transactions implements bank.Provider with the configured banks' statements of day: every
// credit to a collection account, with the references its description may carry as candidates.
func (p *Provider) Transactions(ctx context.Context, day time.Time) ([]bank.Transaction, error) {
	if len(p.cfg.Statements) == 0 {
		return nil, bank.ErrTransactionsUnsupported
	}
	client := p.cfg.StatementClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	accounts := []string{p.cfg.Default.Number}
	for _, a := range p.cfg.ByAgency {
		accounts = append(accounts, a.Number)
	}
	date := day.In(vntime.Zone).Format(time.DateOnly)
	names := make([]string, 0, len(p.cfg.Statements))
	for name := range p.cfg.Statements {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []bank.Transaction
	for _, name := range names {
		st, err := readStatement(ctx, client, p.cfg.Statements[name], date)
		if err != nil {
			return nil, fmt.Errorf("reading the statement of bank %s for %s: %w", name, date, err)
		}
		for _, t := range st.Transactions {
			if t.Direction != DirectionCredit || !slices.Contains(accounts, t.AccountNumber) {
				continue
			}
			at, _ := time.Parse(time.RFC3339, t.TransactedAt)
			out = append(out, bank.Transaction{Candidates: References(t.Description), ProviderTransactionID: t.TransactionID,
				Outcome: bank.OutcomePaid, Amount: t.Amount, At: at})
		}
	}
	return out, nil
}

func readStatement(ctx context.Context, client *http.Client, base, date string) (statement, error) {
	u, err := url.Parse(base)
	if err != nil {
		return statement{}, fmt.Errorf("parsing the statement URL: %w", err)
	}
	q := u.Query()
	q.Set("date", date)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return statement{}, fmt.Errorf("building the statement request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return statement{}, fmt.Errorf("calling the bank: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statement{}, fmt.Errorf("calling the bank: status %d", resp.StatusCode)
	}
	var st statement
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatementBody)).Decode(&st); err != nil {
		return statement{}, fmt.Errorf("decoding the statement: %w", err)
	}
	return st, nil
}
