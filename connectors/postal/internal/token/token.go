// Package token caches the access token of a postal partner: one login shared by every caller,
// renewed shortly before it expires and again after the partner refuses it.
package token

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Token is a partner's access token and how long it lives from when it was issued.
type Token struct {
	Value    string
	Lifetime time.Duration
}

// Cache holds the token. The zero value is not usable: build it with New.
type Cache struct {
	fetch       func(ctx context.Context) (Token, error)
	now         func() time.Time
	renewBefore time.Duration

	mu      sync.Mutex
	value   string
	renewAt time.Time
	expires time.Time
	flight  *flight
}

type flight struct {
	done  chan struct{}
	value string
	err   error
}

// New builds a cache around fetch (the login call). A token is renewed renewBefore ahead of its
// expiry, or halfway through its life when that is sooner; now is the clock (time.Now when nil).
func New(fetch func(ctx context.Context) (Token, error), renewBefore time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{fetch: fetch, now: now, renewBefore: renewBefore}
}

// ErrEmpty is a login answer without a token or with a lifetime that is not positive.
var ErrEmpty = errors.New("login answer holds no usable token")

// Get returns the cached token, logging in when there is none or it is due for renewal. When a
// renewal fails while the current token has not expired yet, that token is still used (the next
// call tries the renewal again). The login runs detached from the caller's cancellation, so one
// caller giving up does not fail the others waiting for the same login; each caller still stops
// waiting when its own context ends.
func (c *Cache) Get(ctx context.Context) (string, error) {
	c.mu.Lock()
	if c.value != "" && c.now().Before(c.renewAt) {
		v := c.value
		c.mu.Unlock()
		return v, nil
	}
	f := c.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.flight = f
		go c.run(context.WithoutCancel(ctx), f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			c.mu.Lock()
			v, ok := c.value, c.value != "" && c.now().Before(c.expires)
			c.mu.Unlock()
			if ok {
				return v, nil
			}
		}
		return f.value, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (c *Cache) run(ctx context.Context, f *flight) {
	issued := c.now()
	t, err := c.fetch(ctx)
	if err == nil && (t.Value == "" || t.Lifetime <= 0) {
		err = ErrEmpty
	}
	c.mu.Lock()
	if err == nil {
		margin := min(c.renewBefore, t.Lifetime/2)
		c.value, c.renewAt, c.expires = t.Value, issued.Add(t.Lifetime-margin), issued.Add(t.Lifetime)
	}
	c.flight = nil
	c.mu.Unlock()
	if err == nil {
		f.value = t.Value
	}
	f.err = err
	close(f.done)
}

// Invalidate forgets stale after the partner refused it, unless another caller has already
// replaced it: concurrent callers that all saw the same token refused share one new login.
func (c *Cache) Invalidate(stale string) {
	c.mu.Lock()
	if c.value == stale {
		c.value = ""
	}
	c.mu.Unlock()
}
