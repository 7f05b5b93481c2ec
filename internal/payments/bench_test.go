package payments_test

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/payments"
)

// BenchmarkSettle measures the state machine's step on the real Redis: one verified callback
// paying one payment (the transition script, one round trip), run in parallel over distinct
// payments, and a duplicate of it (answered from the same script without a change).
func BenchmarkSettle(b *testing.B) {
	for _, dup := range []bool{false, true} {
		name := "first"
		if dup {
			name = "duplicate"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, "redis", payments.Config{})
			refs := make([]string, b.N)
			for i := range refs {
				c, _, err := e.svc.Create(b.Context(), "onestop", "bench-"+strconv.Itoa(i), request(bank.ProviderVNPay, 150000), "")
				if err != nil {
					b.Fatal(err)
				}
				refs[i] = c.Reference
				if dup {
					_, _ = e.svc.Settle(b.Context(), settlement(c.Reference, 150000, bank.OutcomePaid, "1"))
				}
			}
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ref := refs[next.Add(1)-1]
					if _, err := e.svc.Settle(b.Context(), settlement(ref, 150000, bank.OutcomePaid, "1")); err != nil {
						b.Error(err)
					}
				}
			})
		})
	}
}

// TestSettleAllocations bounds the state machine step's allocations on the real Redis for a
// repeat (the script answers "already"): the keys shared by every payment are built once, not
// per settlement (42 allocations when they were).
func TestSettleAllocations(t *testing.T) {
	e := newEnv(t, "redis", payments.Config{})
	c, _, err := e.svc.Create(t.Context(), "onestop", "allocs", request(bank.ProviderVNPay, 150000), "")
	if err != nil {
		t.Fatal(err)
	}
	st := settlement(c.Reference, 150000, bank.OutcomePaid, "1")
	if res, err := e.svc.Settle(t.Context(), st); err != nil || res != bank.Applied {
		t.Fatalf("settle: %v %v", res, err)
	}
	n := testing.AllocsPerRun(50, func() {
		if res, err := e.svc.Settle(t.Context(), st); err != nil || res != bank.AlreadySettled {
			t.Fatalf("repeat: %v %v", res, err)
		}
	})
	if n > 38 {
		t.Errorf("a repeat's settlement made %.0f allocations, want at most 38", n)
	}
}
