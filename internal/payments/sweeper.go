package payments

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank"
)

// sweepBatch bounds the payments one sweep takes.
const sweepBatch = 50

// Run looks at due payments every SweepInterval until ctx ends. Several replicas may run it: a
// payment is claimed for ClaimLease before it is looked at.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := s.Sweep(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("sweeping due payments", "err", err)
				}
				break
			}
			if n < sweepBatch {
				break
			}
		}
	}
}

// Sweep looks once at the payments due now and returns how many it took.
//
// For a payment still pending: a provider with a status query is asked; paid or failed goes
// through the state machine; not paid yet waits QueryInterval more, until the payment's expiry
// plus ExpireGrace, after which it expires. A provider that cannot be reached is asked again
// later, and the payment does not expire without an answer: money may have moved. A provider
// without a query (VietQR) expires the payment at expiry plus grace.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.now()
	refs, err := claimDue.Run(ctx, s.store.Client, []string{s.keys.due()}, now.UnixMilli(), s.cfg.ClaimLease.Milliseconds(), sweepBatch).StringSlice()
	if err != nil {
		return 0, err
	}
	for _, ref := range refs {
		if ctx.Err() != nil {
			return len(refs), ctx.Err()
		}
		s.look(ctx, ref, now)
	}
	return len(refs), nil
}

func (s *Service) look(ctx context.Context, ref string, now time.Time) {
	v, err := s.load(ctx, ref)
	if errors.Is(err, ErrNotFound) || (err == nil && v.Status != bank.StatePending) {
		s.store.Client.ZRem(ctx, s.keys.due(), ref)
		return
	}
	if err != nil {
		return // the claim lapses and the payment is looked at again
	}
	deadline := v.expiresAt.Add(s.cfg.ExpireGrace)
	provider := s.providers[v.Provider]
	outcome := bank.OutcomePending
	var st bank.Status
	if provider != nil {
		st, err = provider.Query(ctx, bank.Query{Reference: v.Reference, Amount: v.Amount, CreatedAt: v.createdAt, ProviderTransactionID: v.ProviderTransactionID})
		switch {
		case errors.Is(err, bank.ErrQueryUnsupported):
			s.metrics.QueryOutcome(v.Provider, "unsupported")
		case errors.Is(err, bank.ErrNotFound):
			s.metrics.QueryOutcome(v.Provider, "not_found")
		case err != nil:
			s.metrics.QueryOutcome(v.Provider, "error")
			s.log.Warn("asking the provider about a payment", "payment_id", v.PaymentID, "partner", v.Provider, "err", err)
			s.reschedule(ctx, ref, now.Add(s.cfg.QueryInterval))
			return
		default:
			outcome = st.Outcome
			s.metrics.QueryOutcome(v.Provider, string(st.Outcome))
		}
	}
	switch outcome {
	case bank.OutcomePaid, bank.OutcomeFailed:
		res, err := s.Settle(ctx, bank.Settlement{Provider: v.Provider, Reference: v.Reference, Outcome: outcome, Amount: st.Amount,
			ProviderTransactionID: st.ProviderTransactionID, PaidAt: st.PaidAt, Reason: v.Provider + " status query: " + st.Code})
		switch {
		case err != nil:
			s.reschedule(ctx, ref, now.Add(s.cfg.QueryInterval))
		case res == bank.AmountMismatch:
			// The provider holds another amount for this payment: a person must look; it stays
			// pending, out of the schedule, and reconciliation reports it.
			s.log.Error("provider reports another amount for a payment; left pending for reconciliation",
				"payment_id", v.PaymentID, "partner", v.Provider)
			s.store.Client.ZRem(ctx, s.keys.due(), ref)
		}
		return
	}
	if now.Before(deadline) {
		next := now.Add(s.cfg.QueryInterval)
		if provider == nil || errors.Is(err, bank.ErrQueryUnsupported) || next.After(deadline) {
			next = deadline
		}
		s.reschedule(ctx, ref, next)
		return
	}
	if _, err := s.transition(ctx, v.Provider, ref, bank.StateExpired, -1, "", "", "no payment by "+v.ExpiresAt, time.Time{}); err != nil {
		s.reschedule(ctx, ref, now.Add(s.cfg.QueryInterval))
	}
}

// reschedule moves a claimed payment's next look, unless it left the schedule meanwhile (it was
// settled).
func (s *Service) reschedule(ctx context.Context, ref string, at time.Time) {
	s.store.Client.ZAddXX(context.WithoutCancel(ctx), s.keys.due(), redisZ(at, ref))
}

func redisZ(at time.Time, ref string) redis.Z {
	return redis.Z{Score: float64(at.UnixMilli()), Member: ref}
}
