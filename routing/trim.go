package routing

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/store"
)

// Trimmer keeps the topic streams bounded without ever dropping an entry that a consumer group
// has not acknowledged: it trims below the oldest entry any group still needs (its oldest pending
// entry, or the entry after its last delivered one), and never entries younger than the
// retention. A stream without consumer groups is not trimmed at all. The dead-letter stream is
// never trimmed: its entries leave only by replay or discard. Growth that trimming cannot stop
// shows as gateway_stream_length and gateway_stream_group_lag.
type Trimmer struct {
	Store     *store.Store
	Topics    []string
	Retention time.Duration
	Log       *slog.Logger
}

// TrimOnce trims every stream once and returns how many entries went.
func (t *Trimmer) TrimOnce(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, topic := range t.Topics {
		n, err := t.trim(ctx, t.Store.Keys.Stream(topic), now)
		if err != nil {
			return total, fmt.Errorf("trimming %s: %w", topic, err)
		}
		total += n
	}
	return total, nil
}

func (t *Trimmer) trim(ctx context.Context, stream string, now time.Time) (int64, error) {
	groups, err := t.Store.Client.XInfoGroups(ctx, stream).Result()
	if err != nil {
		if strings.Contains(err.Error(), "no such key") {
			return 0, nil
		}
		return 0, err
	}
	if len(groups) == 0 {
		return 0, nil
	}
	// Nothing at or after the retention cut-off goes.
	safe := streamID{ms: uint64(now.Add(-t.Retention).UnixMilli())}
	for _, g := range groups {
		need := nextID(g.LastDeliveredID)
		if g.Pending > 0 {
			p, err := t.Store.Client.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: stream, Group: g.Name, Start: "-", End: "+", Count: 1}).Result()
			if err != nil {
				return 0, err
			}
			if len(p) > 0 {
				need = parseID(p[0].ID)
			}
		}
		if need.less(safe) {
			safe = need
		}
	}
	return t.Store.Client.XTrimMinID(ctx, stream, safe.String()).Result()
}

// Run trims every interval until ctx ends.
func (t *Trimmer) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n, err := t.TrimOnce(ctx, time.Now()); err != nil && ctx.Err() == nil {
			t.Log.Warn("trimming streams", "err", err)
		} else if n > 0 {
			t.Log.Debug("trimmed streams", "entries", n)
		}
	}
}

type streamID struct{ ms, seq uint64 }

func parseID(s string) streamID {
	a, b, _ := strings.Cut(s, "-")
	ms, _ := strconv.ParseUint(a, 10, 64)
	seq, _ := strconv.ParseUint(b, 10, 64)
	return streamID{ms, seq}
}

// nextID is the smallest id after s.
func nextID(s string) streamID {
	id := parseID(s)
	id.seq++
	return id
}

func (a streamID) less(b streamID) bool { return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq) }

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}
