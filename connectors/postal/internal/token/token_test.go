package token

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func counting(lifetime time.Duration) (func(context.Context) (Token, error), *atomic.Int32) {
	var n atomic.Int32
	return func(context.Context) (Token, error) {
		k := n.Add(1)
		return Token{Value: "tok-" + strconv.Itoa(int(k)), Lifetime: lifetime}, nil
	}, &n
}

func TestRenewedBeforeExpiry(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	fetch, n := counting(time.Hour)
	c := New(fetch, 5*time.Minute, clk.now)
	ctx := t.Context()
	first, err := c.Get(ctx)
	if err != nil || first != "tok-1" {
		t.Fatalf("first Get = %q, %v", first, err)
	}
	clk.add(54 * time.Minute)
	if v, _ := c.Get(ctx); v != "tok-1" || n.Load() != 1 {
		t.Fatalf("at 54 min: %q after %d logins, want the cached token", v, n.Load())
	}
	clk.add(time.Minute) // 55 min: 5 minutes before expiry
	if v, _ := c.Get(ctx); v != "tok-2" || n.Load() != 2 {
		t.Fatalf("at 55 min: %q after %d logins, want a renewed token", v, n.Load())
	}
}

func TestShortLivedTokenRenewedHalfway(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(0, 0)}
	fetch, n := counting(2 * time.Minute)
	c := New(fetch, 5*time.Minute, clk.now)
	_, _ = c.Get(t.Context())
	clk.add(59 * time.Second)
	_, _ = c.Get(t.Context())
	if n.Load() != 1 {
		t.Fatalf("logins before half the lifetime = %d, want 1", n.Load())
	}
	clk.add(time.Second)
	_, _ = c.Get(t.Context())
	if n.Load() != 2 {
		t.Fatalf("logins at half the lifetime = %d, want 2", n.Load())
	}
}

func TestInvalidateOnlyTheStaleToken(t *testing.T) {
	t.Parallel()
	fetch, n := counting(time.Hour)
	c := New(fetch, time.Minute, nil)
	ctx := t.Context()
	v1, _ := c.Get(ctx)
	c.Invalidate(v1)
	v2, _ := c.Get(ctx)
	if v2 == v1 || n.Load() != 2 {
		t.Fatalf("after invalidating: %q (logins %d), want a new token", v2, n.Load())
	}
	c.Invalidate(v1) // a late caller refused with the old token
	if v3, _ := c.Get(ctx); v3 != v2 || n.Load() != 2 {
		t.Fatalf("stale invalidation replaced the new token: %q (logins %d)", v3, n.Load())
	}
}

func TestConcurrentCallersShareOneLogin(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var n atomic.Int32
	c := New(func(context.Context) (Token, error) {
		n.Add(1)
		<-release
		return Token{Value: "shared", Lifetime: time.Hour}, nil
	}, time.Minute, nil)
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = c.Get(t.Context()) }()
	}
	// Every caller either joined the flight or will find the cached token; release the login.
	close(release)
	wg.Wait()
	for i, v := range got {
		if v != "shared" {
			t.Fatalf("caller %d got %q", i, v)
		}
	}
	if n.Load() != 1 {
		t.Fatalf("logins = %d, want 1", n.Load())
	}
}

func TestLoginErrorsAndEmptyTokens(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	c := New(func(context.Context) (Token, error) { return Token{}, boom }, time.Minute, nil)
	if _, err := c.Get(t.Context()); !errors.Is(err, boom) {
		t.Fatalf("login error = %v", err)
	}
	for _, tok := range []Token{{Value: "", Lifetime: time.Hour}, {Value: "x", Lifetime: 0}, {Value: "x", Lifetime: -time.Second}} {
		c := New(func(context.Context) (Token, error) { return tok, nil }, time.Minute, nil)
		if _, err := c.Get(t.Context()); !errors.Is(err, ErrEmpty) {
			t.Errorf("token %+v: %v, want ErrEmpty", tok, err)
		}
	}
}

func TestCallerCancellation(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	c := New(func(context.Context) (Token, error) {
		<-release
		return Token{Value: "late", Lifetime: time.Hour}, nil
	}, time.Minute, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller = %v", err)
	}
	close(release)
	if v, err := c.Get(t.Context()); err != nil || v != "late" {
		t.Fatalf("the login of a cancelled caller still serves the next: %q, %v", v, err)
	}
}

func TestFailedRenewalKeepsTheUnexpiredToken(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(0, 0)}
	fail := false
	var n atomic.Int32
	c := New(func(context.Context) (Token, error) {
		if fail {
			return Token{}, errors.New("partner login down")
		}
		n.Add(1)
		return Token{Value: "tok-" + strconv.Itoa(int(n.Load())), Lifetime: time.Hour}, nil
	}, 5*time.Minute, clk.now)
	if v, err := c.Get(t.Context()); err != nil || v != "tok-1" {
		t.Fatal(v, err)
	}
	fail = true
	clk.add(56 * time.Minute) // due for renewal, not expired
	if v, err := c.Get(t.Context()); err != nil || v != "tok-1" {
		t.Fatalf("failed renewal before expiry = %q, %v; want the current token", v, err)
	}
	clk.add(4 * time.Minute) // expired
	if _, err := c.Get(t.Context()); err == nil {
		t.Fatal("an expired token was used after a failed renewal")
	}
	fail = false
	if v, err := c.Get(t.Context()); err != nil || v != "tok-2" {
		t.Fatalf("renewal once the login is back = %q, %v", v, err)
	}
}
