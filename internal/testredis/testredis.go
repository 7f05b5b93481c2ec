// Package testredis gives tests the real Redis they run against: GATEWAY_TEST_REDIS_URL, or
// redis://127.0.0.1:6379 (where this kind of machine runs one). A test that cannot reach it fails
// with instructions; it never skips.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// URL is the Redis the tests use.
func URL() string {
	if u := os.Getenv("GATEWAY_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Client connects to the test Redis, failing the test when it is unreachable.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	opts, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatalf("GATEWAY_TEST_REDIS_URL is not a redis URL: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		t.Fatalf("these tests need a real Redis at %s and cannot reach it (%v). Run the tests with `make test`, "+
			"which starts a throwaway redis-server when none listens, or start one: "+
			"redis-server --port 6379 --save '' --appendonly no --daemonize yes", URL(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Prefix returns a key prefix unique to this test and deletes its keys when the test ends.
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "test" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 500 {
				c.Del(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return prefix
}
