package payments

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/vntime"
)

// Summary is what reconciliation needs of a payment: no personal data.
type Summary struct {
	PaymentID             string
	Reference             string
	Provider              string
	Amount                int64
	Status                bank.State
	ProviderTransactionID string
	CreatedAt             time.Time
	PaidAt                time.Time
}

var summaryFields = []string{"payment_id", "reference", "provider", "amount", "status", "provider_txn_id", "created_at", "paid_at"}

// OfDay returns the payments created or paid on day (Vietnam's calendar). It walks the payment
// keys with SCAN: reconciliation runs once a day over a province's few thousand payments a day,
// and a walk needs no index to keep in step with the state machine's scripts.
func (s *Service) OfDay(ctx context.Context, day time.Time) ([]Summary, error) {
	date := day.In(vntime.Zone).Format(time.DateOnly)
	prefix := s.keys.payment("")
	var out []Summary
	var cursor uint64
	for {
		keys, next, err := s.store.Client.Scan(ctx, cursor, prefix+"*", 500).Result()
		if err != nil {
			return nil, fmt.Errorf("scanning payments of %s: %w", date, err)
		}
		var cmds []*redis.SliceCmd
		_, err = s.store.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				if strings.Contains(strings.TrimPrefix(k, prefix), ":") {
					continue // a history list
				}
				cmds = append(cmds, p.HMGet(ctx, k, summaryFields...))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading payments of %s: %w", date, err)
		}
		for _, c := range cmds {
			sum, ok := summaryOf(c.Val())
			if !ok {
				continue
			}
			if onDay(sum.CreatedAt, date) || onDay(sum.PaidAt, date) {
				out = append(out, sum)
			}
		}
		cursor = next
		if cursor == 0 {
			return out, nil
		}
	}
}

// Summarize returns the summary of the payment with a reference, or ErrNotFound.
func (s *Service) Summarize(ctx context.Context, ref string) (Summary, error) {
	if ref == "" || len(ref) > 64 || !isIDChars(ref) {
		return Summary{}, ErrNotFound
	}
	vals, err := s.store.Client.HMGet(ctx, s.keys.payment(ref), summaryFields...).Result()
	if err != nil {
		return Summary{}, fmt.Errorf("reading payment %s: %w", ref, err)
	}
	sum, ok := summaryOf(vals)
	if !ok {
		return Summary{}, ErrNotFound
	}
	return sum, nil
}

func summaryOf(vals []any) (Summary, bool) {
	str := func(i int) string { v, _ := vals[i].(string); return v }
	if len(vals) != len(summaryFields) || str(1) == "" {
		return Summary{}, false
	}
	amount, _ := strconv.ParseInt(str(3), 10, 64)
	created, _ := time.Parse(time.RFC3339, str(6))
	paid, _ := time.Parse(time.RFC3339, str(7))
	return Summary{PaymentID: str(0), Reference: str(1), Provider: str(2), Amount: amount, Status: bank.State(str(4)),
		ProviderTransactionID: str(5), CreatedAt: created, PaidAt: paid}, true
}

func onDay(t time.Time, date string) bool {
	return !t.IsZero() && t.In(vntime.Zone).Format(time.DateOnly) == date
}
