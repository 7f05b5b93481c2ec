package paygov

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/vntime"
)

// transactionList is the platform's list of a day's transactions. [assumed] wire format: the
// platform's public material describes reconciliation files but not their fields; this is the
// sandbox's JSON, with the field names of the create and confirmation messages and trans_amount in
// whole VND.
type transactionList struct {
	Date         string `json:"date"`
	Transactions []struct {
		TransactionID   string    `json:"transaction_id"`
		TransactionCode string    `json:"transaction_code"`
		Amount          int64     `json:"trans_amount"`
		Status          string    `json:"status"` // paid, failed
		PaidAt          time.Time `json:"paid_at"`
	} `json:"transactions"`
}

// Transactions implements bank.Provider with the platform's list of a day.
func (c *Client) Transactions(ctx context.Context, day time.Time) ([]bank.Transaction, error) {
	date := day.In(vntime.Zone).Format(time.DateOnly)
	resp, err := c.http.Do(ctx, OpTransactions, func(r *resty.Request) (*resty.Response, error) {
		return r.SetQueryParam("date", date).Get(c.cfg.TransactionsPath)
	})
	if err != nil {
		return nil, fmt.Errorf("listing paygov transactions of %s: %w", date, err)
	}
	var list transactionList
	if err := json.Unmarshal(resp.Body(), &list); err != nil {
		return nil, fmt.Errorf("decoding paygov transactions of %s: %w", date, errMalformedAnswer)
	}
	out := make([]bank.Transaction, 0, len(list.Transactions))
	for _, t := range list.Transactions {
		outcome := bank.OutcomeFailed
		if t.Status == "paid" {
			outcome = bank.OutcomePaid
		}
		out = append(out, bank.Transaction{Reference: t.TransactionID, ProviderTransactionID: t.TransactionCode,
			Outcome: outcome, Amount: t.Amount, At: t.PaidAt})
	}
	return out, nil
}
