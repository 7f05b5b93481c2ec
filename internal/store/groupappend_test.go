package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/testredis"
)

// slowPipelines counts the pipelines of scripts (not the client's connection set-up, also a
// pipeline) and holds the first one back, so that callers arriving meanwhile queue behind it.
type slowPipelines struct {
	count atomic.Int64
	hold  time.Duration
}

func (h *slowPipelines) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *slowPipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *slowPipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 0 || (cmds[0].Name() != "evalsha" && cmds[0].Name() != "eval") {
			return next(ctx, cmds)
		}
		if h.count.Add(1) == 1 {
			time.Sleep(h.hold)
		}
		return next(ctx, cmds)
	}
}

func testAppend(t *testing.T, topic, id string) Append {
	t.Helper()
	fields, err := EncodeFields("uuid-"+id, []byte(`{"id":"`+id+`"}`), message.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	return Append{Topic: topic, Source: "/test", ID: id, Fields: fields}
}

// Concurrent callers share pipelines, and each gets exactly its own events' outcomes, in order:
// new events written, repeats (also of another caller's event in the same pipeline) reported as
// duplicates, each event once in the stream.
func TestGroupAppenderSharesPipelines(t *testing.T) {
	c := testredis.Client(t).(*redis.Client)
	hook := &slowPipelines{hold: 100 * time.Millisecond}
	c.AddHook(hook)
	s := &Store{Client: c, Keys: Keys{Prefix: testredis.Prefix(t, c)}}
	g := s.NewGroupAppender(time.Hour, 1, 1000)

	const callers = 40
	var wg sync.WaitGroup
	results := make([][]AppendResult, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i > 0 {
				time.Sleep(10 * time.Millisecond) // behind caller 0, whose pipeline is held
			}
			// Each caller: two events of its own, then a repeat of event "shared".
			evs := []Append{testAppend(t, "t", fmt.Sprintf("e%d-a", i)), testAppend(t, "t", fmt.Sprintf("e%d-b", i)), testAppend(t, "t", "shared")}
			results[i], errs[i] = g.Append(context.Background(), evs)
		}()
	}
	close(start)
	wg.Wait()

	written := 0
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		r := results[i]
		if len(r) != 3 {
			t.Fatalf("caller %d got %d results, want 3", i, len(r))
		}
		for j := range 2 {
			if r[j].Err != nil || r[j].Duplicate || r[j].EntryID == "" {
				t.Fatalf("caller %d event %d: %+v, want written", i, j, r[j])
			}
		}
		if !r[2].Duplicate {
			written++
		}
	}
	if written != 1 {
		t.Fatalf("the shared event was written by %d callers, want exactly 1", written)
	}
	if n := c.XLen(context.Background(), s.Keys.Stream("t")).Val(); n != 2*callers+1 {
		t.Fatalf("stream holds %d entries, want %d", n, 2*callers+1)
	}
	// Caller 0's pipeline was held; everyone else queued behind it and went in few pipelines.
	if p := hook.count.Load(); p > 5 {
		t.Fatalf("%d pipelines for %d concurrent callers: not grouped", p, callers)
	}
	t.Logf("%d callers, %d pipelines", callers, hook.count.Load())
}

// A lone caller is sent at once, and a batch larger than the limit goes alone.
func TestGroupAppenderLimits(t *testing.T) {
	c := testredis.Client(t).(*redis.Client)
	hook := &slowPipelines{}
	c.AddHook(hook)
	s := &Store{Client: c, Keys: Keys{Prefix: testredis.Prefix(t, c)}}
	g := s.NewGroupAppender(time.Hour, 2, 2)
	res, err := g.Append(context.Background(), []Append{testAppend(t, "t", "1"), testAppend(t, "t", "2"), testAppend(t, "t", "3")})
	if err != nil || len(res) != 3 || res[2].EntryID == "" {
		t.Fatalf("over-limit batch: %v %+v", err, res)
	}
	if hook.count.Load() != 1 {
		t.Fatalf("%d pipelines for one batch, want 1", hook.count.Load())
	}
}

// A failed pipeline fails every caller in it; a caller whose context ends stops waiting.
func TestGroupAppenderErrors(t *testing.T) {
	c := testredis.Client(t).(*redis.Client)
	s := &Store{Client: c, Keys: Keys{Prefix: testredis.Prefix(t, c)}}
	g := s.NewGroupAppender(time.Hour, 1, 100)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Append(ctx, []Append{testAppend(t, "t", "x")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v, want context.Canceled", err)
	}

	opts := *c.Options()
	broken := redis.NewClient(&opts)
	broken.Close()
	bs := &Store{Client: broken, Keys: s.Keys}
	bg := bs.NewGroupAppender(time.Hour, 1, 100)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := bg.Append(context.Background(), []Append{testAppend(t, "t", fmt.Sprint(i))}); err == nil {
				t.Errorf("caller %d: no error from a closed client", i)
			}
		}()
	}
	wg.Wait()
}
