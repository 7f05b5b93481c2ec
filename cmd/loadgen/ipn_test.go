package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/testredis"
	"github.com/egov-vn/gateway/routing"
)

// TestIPNScenario runs the ipn scenario briefly against the real test Redis and checks its
// exactly-once verdict and the consistency of its counts. It asserts nothing about speed.
func TestIPNScenario(t *testing.T) {
	line := resultLine(t, "ipn", "-payments", "300", "-duration", "300ms", "-warmup", "100ms", "-concurrency", "4")
	var res ipnResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("decoding RESULT: %v", err)
	}
	if res.Scenario != "ipn" {
		t.Errorf("scenario %q, want ipn", res.Scenario)
	}
	// 300 payments of ~500 bytes each (a struct and three strings): well under a MiB, not zero.
	if res.PaymentsHeldMiB <= 0 || res.PaymentsHeldMiB > 1 {
		t.Errorf("payments held %.2f MiB, want the few hundred KiB 300 payments take", res.PaymentsHeldMiB)
	}
	if want := round(res.Gateway.RSSMiB-res.Baseline.RSSMiB, 1); res.RSSOverBaselineMiB != want {
		t.Errorf("RSS over baseline %.1f MiB, want %.1f", res.RSSOverBaselineMiB, want)
	}
	c := res.Check
	if c == nil || !c.Pass {
		t.Fatalf("exactly-once check %+v, want a pass", c)
	}
	if c.Payments != 300 || c.ValidSent == 0 || c.Paid != c.ValidSent || c.Paid+c.Pending != c.Payments ||
		c.OutboxPaid != c.Paid || c.Confirmed00 != c.Paid {
		t.Errorf("inconsistent check %+v", c)
	}
	for _, p := range []struct {
		name string
		r    phaseResult
	}{{"baseline", res.Baseline}, {"gateway", res.Gateway}} {
		if p.r.Requests == 0 || p.r.Errors != 0 {
			t.Errorf("%s: %d IPNs answered, %d errors %v; want some and none", p.name, p.r.Requests, p.r.Errors, p.r.ErrorsByStatus)
		}
	}
	if res.Answers["bad_signature:97"] == 0 {
		t.Errorf("answers %v: no forged IPN was answered 97", res.Answers)
	}
	for k := range res.Answers {
		if k != "first:00" && k != "first:02" && k != "duplicate:00" && k != "duplicate:02" && k != "bad_signature:97" {
			t.Errorf("answers %v hold %q", res.Answers, k)
		}
	}
}

// TestIPNScenarioAPIRole runs the ipn scenario against an API-only gateway: IPNs are answered and
// committed exactly once without consumers in the process; the RESULT line says the role.
func TestIPNScenarioAPIRole(t *testing.T) {
	line := resultLine(t, "ipn", "-payments", "200", "-duration", "300ms", "-warmup", "100ms", "-concurrency", "4", "-role", "api")
	var res ipnResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("decoding RESULT: %v", err)
	}
	if res.Role != "api" || res.Consumers != 0 || !strings.Contains(res.Setup, "no consumers") {
		t.Errorf("role %q, %d consumers, setup %q; want api without consumers", res.Role, res.Consumers, res.Setup)
	}
	if c := res.Check; c == nil || !c.Pass || c.Paid == 0 || c.OutboxPaid != c.Paid {
		t.Errorf("exactly-once check %+v, want a pass with payments paid", c)
	}
}

// TestCheckExactlyOnce plants store states in Redis and checks that the verdict finds each
// violation: a payment paid twice, a payment left pending after its IPN, a payment paid without
// any valid IPN, and 00 answers that do not match the paid payments.
func TestCheckExactlyOnce(t *testing.T) {
	rdb := testredis.Client(t)
	prefix := testredis.Prefix(t, rdb)
	ctx := t.Context()
	base := prefix + ":{" + routing.TopicPaymentSettled + "}"
	pays := []ipnPayment{{id: "pay_A", reference: "REFA"}, {id: "pay_B", reference: "REFB"}, {id: "pay_C", reference: "REFC"}}
	const created = `{"from":"","to":"pending","reason":"created"}`
	const paid = `{"from":"pending","to":"paid","reason":"vnpay IPN"}`
	plant := func(ref, status string, history ...string) {
		t.Helper()
		if err := rdb.HSet(ctx, base+":payment:"+ref, "status", status).Err(); err != nil {
			t.Fatal(err)
		}
		hist := make([]any, len(history))
		for i, h := range history {
			hist[i] = h
		}
		if err := rdb.RPush(ctx, base+":payment:"+ref+":history", hist...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	outbox := func(id string) {
		t.Helper()
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: base, Values: []any{"uuid", id + "/paid", "payload", "{}"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	mixOf := func(sent []bool, confirmed int64) *ipnMix {
		m := newIPNMix(pays, 0, 0)
		for i, s := range sent {
			m.validSent[i].Store(s)
		}
		m.confirmed.Store(confirmed)
		return m
	}

	// A sound end state: A and B paid once each, C never sent and pending.
	plant("REFA", "paid", created, paid)
	plant("REFB", "paid", created, paid)
	plant("REFC", "pending", created)
	outbox("pay_A")
	outbox("pay_B")
	c, err := checkExactlyOnce(ctx, rdb, prefix, pays, mixOf([]bool{true, true, false}, 2))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Pass || c.Paid != 2 || c.Pending != 1 || c.OutboxPaid != 2 || c.ValidSent != 2 {
		t.Fatalf("sound state judged %+v, want a pass with 2 paid, 1 pending, 2 outbox entries", c)
	}

	// A redelivery by the retry schedule (its attempt in the metadata) is not a second event.
	if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: base, Values: []any{"uuid", "pay_A/paid", "payload", "{}",
		"metadata", `{"attempt":"2"}`}}).Err(); err != nil {
		t.Fatal(err)
	}
	if c, _ := checkExactlyOnce(ctx, rdb, prefix, pays, mixOf([]bool{true, true, false}, 2)); !c.Pass || c.Redelivered != 1 {
		t.Errorf("a redelivery judged %+v, want a pass with 1 redelivery", c)
	}
	// 00 answered three times for two paid payments.
	if c, _ := checkExactlyOnce(ctx, rdb, prefix, pays, mixOf([]bool{true, true, false}, 3)); c.Pass {
		t.Errorf("three 00 answers for two paid payments judged a pass: %+v", c)
	}
	// An IPN was sent for C, yet C is still pending.
	if c, _ := checkExactlyOnce(ctx, rdb, prefix, pays, mixOf([]bool{true, true, true}, 2)); c.Pass || !strings.Contains(strings.Join(c.Problems, "\n"), "pay_C") {
		t.Errorf("a payment left pending after its IPN judged %+v, want a problem naming pay_C", c)
	}
	// A paid without a valid IPN.
	if c, _ := checkExactlyOnce(ctx, rdb, prefix, pays, mixOf([]bool{false, true, false}, 2)); c.Pass || !strings.Contains(strings.Join(c.Problems, "\n"), "pay_A") {
		t.Errorf("a payment paid without an IPN judged %+v, want a problem naming pay_A", c)
	}
	// A second outbox entry (the event written twice) and a second transition to paid.
	outbox("pay_A")
	if c, _ := checkExactlyOnce(ctx, rdb, prefix, pays, mixOf([]bool{true, true, false}, 2)); c.Pass || !strings.Contains(strings.Join(c.Problems, "\n"), "pay_A") {
		t.Errorf("a payment with two outbox entries judged %+v, want a problem naming pay_A", c)
	}
	if err := rdb.RPush(ctx, base+":payment:REFB:history", paid).Err(); err != nil {
		t.Fatal(err)
	}
	if c, _ := checkExactlyOnce(ctx, rdb, prefix, pays, mixOf([]bool{true, true, false}, 2)); c.Pass || !strings.Contains(strings.Join(c.Problems, "\n"), "pay_B") {
		t.Errorf("a payment with two transitions to paid judged %+v, want a problem naming pay_B", c)
	}
}

// TestForgedIPNTarget: the forged IPN built when sent is the signed query with one digit of its
// hash changed, as url.Values.Encode writes it, and the valid one is the signed query itself.
func TestForgedIPNTarget(t *testing.T) {
	for _, sig := range []string{strings.Repeat("0", 64) + "a" + strings.Repeat("1", 63), strings.Repeat("f", 128), strings.Repeat("5", 128)} {
		params := url.Values{"vnp_TxnRef": {"REFA"}, "vnp_Amount": {"15000000"}, "vnp_OrderInfo": {"Thanh toan phi"}}
		params.Set(vnpay.ParamSecureHash, sig)
		p := ipnPayment{valid: params.Encode()}
		p.forgeAt = strings.Index(p.valid, vnpay.ParamSecureHash+"=") + len(vnpay.ParamSecureHash) + 1 + len(sig)/2
		forged := []byte(sig)
		forged[len(forged)/2] ^= 1
		params.Set(vnpay.ParamSecureHash, string(forged))
		if got, want := p.target("http://gw/ipn", ipnBad), "http://gw/ipn?"+params.Encode(); got != want {
			t.Errorf("forged target %q, want %q", got, want)
		}
		if got, want := p.target("http://gw/ipn", ipnDuplicate), "http://gw/ipn?"+p.valid; got != want {
			t.Errorf("valid target %q, want %q", got, want)
		}
	}
}
