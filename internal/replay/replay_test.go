package replay_test

import (
	"testing"
	"time"

	"github.com/egov-vn/gateway/internal/replay"
	"github.com/egov-vn/gateway/internal/testredis"
)

// TestClaim runs on the real Redis: the first claim wins, a second one (another replica) loses
// and gets the recorded answer once there is one, the entry expires with its TTL, and a released
// entry can be claimed again.
func TestClaim(t *testing.T) {
	c := testredis.Client(t)
	m := &replay.Memory{Client: c, Prefix: testredis.Prefix(t, c)}
	ctx := t.Context()
	first, _, err := m.Claim(ctx, "bank:vietcombank", "abc", time.Minute)
	if err != nil || !first {
		t.Fatalf("first claim: %v %v", first, err)
	}
	again, answer, err := m.Claim(ctx, "bank:vietcombank", "abc", time.Minute)
	if err != nil || again || len(answer) != 0 {
		t.Fatalf("second claim while the first is processed: %v %q %v", again, answer, err)
	}
	if err := m.Remember(ctx, "bank:vietcombank", "abc", []byte(`{"status":"ok"}`)); err != nil {
		t.Fatal(err)
	}
	again, answer, err = m.Claim(ctx, "bank:vietcombank", "abc", time.Minute)
	if err != nil || again || string(answer) != `{"status":"ok"}` {
		t.Fatalf("claim after the answer: %v %q %v", again, answer, err)
	}
	other, _, err := m.Claim(ctx, "bank:acb", "abc", time.Minute)
	if err != nil || !other {
		t.Fatalf("the same id from another sender: %v %v", other, err)
	}
	ttl, err := c.PTTL(ctx, m.Key("bank:vietcombank", "abc")).Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL %v %v, want at most a minute", ttl, err)
	}
	if err := m.Release(ctx, "bank:vietcombank", "abc"); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := m.Claim(ctx, "bank:vietcombank", "abc", time.Minute); err != nil || !ok {
		t.Fatalf("claim after release: %v %v", ok, err)
	}
	if err := m.Remember(ctx, "bank:vietcombank", "never-claimed", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, m.Key("bank:vietcombank", "never-claimed")).Result(); n != 0 {
		t.Fatal("Remember created an entry nobody claimed")
	}
	if _, _, err := m.Claim(ctx, "bank:vietcombank", "x", 0); err == nil {
		t.Fatal("a claim without a TTL would never expire")
	}
}
