package store

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/testredis"
)

// noScriptErr is the server's answer to an EVALSHA of a script it does not hold.
type noScriptErr struct{}

func (noScriptErr) Error() string { return "NOSCRIPT No matching script. Please use EVAL." }
func (noScriptErr) RedisError()   {}

// forgetScripts answers NOSCRIPT to every EVALSHA of a pipeline while on, without sending it, as a
// server does after its script cache was flushed (a restart); lone commands pass.
type forgetScripts struct{ on atomic.Bool }

func (h *forgetScripts) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *forgetScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *forgetScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !h.on.Load() {
			return next(ctx, cmds)
		}
		var send []redis.Cmder
		for _, c := range cmds {
			if c.Name() == "evalsha" {
				c.SetErr(noScriptErr{})
			} else {
				send = append(send, c)
			}
		}
		if len(send) == 0 {
			return noScriptErr{}
		}
		return next(ctx, send)
	}
}

// TestSyncPathWithoutScriptCache: after a script cache flush, BeginSync's pipelined scripts answer
// NOSCRIPT without running; BeginSync runs them again on their own, so the lock is taken and the
// version marked all the same. A release folded into a pipeline that answered NOSCRIPT did not
// happen: the deferred Release still gives the lock back.
func TestSyncPathWithoutScriptCache(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	s := &Store{Client: c, Keys: Keys{Prefix: testredis.Prefix(t, c)}}
	ctx := t.Context()
	hook := &forgetScripts{}
	c.AddHook(hook)
	hook.on.Store(true)

	start, err := s.BeginSync(ctx, "D-1", "token-1", time.Minute, 0, UnsyncedMark{Version: 4, Now: time.Now()})
	if err != nil {
		t.Fatalf("BeginSync: %v", err)
	}
	if start.SyncedVersion != -1 || start.Lock == nil {
		t.Fatalf("BeginSync: %+v, want the lock taken of a dossier never synced", start)
	}
	if lock, _ := c.Get(ctx, s.Keys.DossierLock("D-1")).Result(); lock != "token-1" {
		t.Fatalf("lock %q, want token-1", lock)
	}
	if pending, err := s.SyncPending(ctx, "D-1"); err != nil || !pending {
		t.Fatalf("version marked unsynced: %v %v, want true", pending, err)
	}

	s.EndSync(ctx, "D-1", TimelineEntry{Kind: "step_failed"}, start.Lock)
	if n, _ := c.Exists(ctx, s.Keys.DossierLock("D-1")).Result(); n != 1 {
		t.Fatal("a release that answered NOSCRIPT freed the lock")
	}
	hook.on.Store(false)
	start.Release(ctx)
	if n, _ := c.Exists(ctx, s.Keys.DossierLock("D-1")).Result(); n != 0 {
		t.Fatal("the deferred Release did not free the lock after the folded release failed")
	}
}

// TestFoldedReleaseIsFinal: once a pipeline gave the lock back, the deferred Release sends
// nothing (no round trip), even when the lock has a new holder since.
func TestFoldedReleaseIsFinal(t *testing.T) {
	t.Parallel()
	c := testredis.Client(t)
	s := &Store{Client: c, Keys: Keys{Prefix: testredis.Prefix(t, c)}}
	ctx := t.Context()
	start, err := s.BeginSync(ctx, "D-2", "token-1", time.Minute, 0, UnsyncedMark{Version: 1, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	s.EndSync(ctx, "D-2", TimelineEntry{Kind: "step_failed"}, start.Lock)
	if n, _ := c.Exists(ctx, s.Keys.DossierLock("D-2")).Result(); n != 0 {
		t.Fatal("EndSync did not release the lock")
	}
	next, err := s.BeginSync(ctx, "D-2", "token-2", time.Minute, 0, UnsyncedMark{Version: 1, Now: time.Now()})
	if err != nil {
		t.Fatalf("the next attempt could not take the released lock: %v", err)
	}
	var sent atomic.Int64
	c.AddHook(countAll{&sent})
	start.Release(ctx)
	if sent.Load() != 0 {
		t.Fatalf("Release after a folded release sent %d commands", sent.Load())
	}
	if lock, _ := c.Get(ctx, s.Keys.DossierLock("D-2")).Result(); lock != "token-2" {
		t.Fatalf("lock %q, want the next attempt's", lock)
	}
	next.Release(ctx)
	if _, err := c.Get(ctx, s.Keys.DossierLock("D-2")).Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("lock after the next attempt's release: %v, want none", err)
	}
}

// countAll counts the commands and pipelines sent.
type countAll struct{ n *atomic.Int64 }

func (h countAll) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countAll) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h countAll) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}
