package vnpay

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/vntime"
)

// transactionList is a day's list of the terminal's transactions. [assumed] wire format: VNPay
// publishes no list endpoint for merchants (its merchant portal exports the day as a file); this
// is the sandbox's JSON, with VNPay's own field names and amounts in whole VND.
type transactionList struct {
	Date         string `json:"date"`
	Transactions []struct {
		TxnRef        string `json:"vnp_TxnRef"`
		Amount        int64  `json:"amount"`
		Status        string `json:"status"` // paid, failed
		TransactionNo string `json:"vnp_TransactionNo"`
		PayDate       string `json:"vnp_PayDate"` // yyyyMMddHHmmss, Vietnam time
	} `json:"transactions"`
}

// Transactions implements bank.Provider with the terminal's list of a day.
func (c *Client) Transactions(ctx context.Context, day time.Time) ([]bank.Transaction, error) {
	if c.cfg.TransactionsURL == "" {
		return nil, bank.ErrTransactionsUnsupported
	}
	date := day.In(vntime.Zone).Format(time.DateOnly)
	resp, err := c.http.Do(ctx, OpTransactions, func(r *resty.Request) (*resty.Response, error) {
		return r.SetQueryParam("date", date).Get(c.cfg.TransactionsURL)
	})
	if err != nil {
		return nil, fmt.Errorf("listing vnpay transactions of %s: %w", date, err)
	}
	var list transactionList
	if err := json.Unmarshal(resp.Body(), &list); err != nil {
		return nil, fmt.Errorf("decoding vnpay transactions of %s: %w", date, errMalformedAnswer)
	}
	out := make([]bank.Transaction, 0, len(list.Transactions))
	for _, t := range list.Transactions {
		outcome := bank.OutcomeFailed
		if t.Status == "paid" {
			outcome = bank.OutcomePaid
		}
		at, _ := ParseTime(t.PayDate)
		out = append(out, bank.Transaction{Reference: t.TxnRef, ProviderTransactionID: t.TransactionNo,
			Outcome: outcome, Amount: t.Amount, At: at})
	}
	return out, nil
}
