package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DeadLetter is one entry of the dead-letter stream.
type DeadLetter struct {
	ID       string            `json:"id"`
	UUID     string            `json:"message_uuid"`
	Metadata map[string]string `json:"-"`
	Payload  []byte            `json:"-"`
	At       time.Time         `json:"dead_lettered_at"`
}

// ErrNotFound is returned for an id the stream does not hold.
var ErrNotFound = errors.New("not found")

func decodeDeadLetter(m redis.XMessage) DeadLetter {
	d := DeadLetter{ID: m.ID, UUID: str(m.Values[FieldUUID]), Payload: []byte(str(m.Values[FieldPayload])), Metadata: map[string]string{}}
	_ = json.Unmarshal([]byte(str(m.Values[FieldMetadata])), &d.Metadata)
	if ms, _, ok := strings.Cut(m.ID, "-"); ok {
		var n int64
		fmt.Sscan(ms, &n)
		d.At = time.UnixMilli(n).UTC()
	}
	return d
}

// DeadLetters lists dead letters newest first, older than the entry id before ("" for the
// newest), keeping those match accepts, at most limit. next is the cursor of the following page
// ("" on the last page).
func (s *Store) DeadLetters(ctx context.Context, stream, before string, limit int, match func(DeadLetter) bool) (out []DeadLetter, next string, err error) {
	end := "+"
	if before != "" {
		end = "(" + before
	}
	for {
		msgs, err := s.Client.XRevRangeN(ctx, stream, end, "-", 500).Result()
		if err != nil {
			return nil, "", fmt.Errorf("reading dead letters: %w", err)
		}
		for i, m := range msgs {
			d := decodeDeadLetter(m)
			if !match(d) {
				continue
			}
			out = append(out, d)
			if len(out) == limit {
				if i < len(msgs)-1 || len(msgs) == 500 {
					next = d.ID
				}
				return out, next, nil
			}
		}
		if len(msgs) < 500 {
			return out, "", nil
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
}

// DeadLetter reads one dead letter.
func (s *Store) DeadLetter(ctx context.Context, stream, id string) (DeadLetter, error) {
	msgs, err := s.Client.XRangeN(ctx, stream, id, id, 1).Result()
	if err != nil {
		if redis.HasErrorPrefix(err, "ERR Invalid stream ID") {
			return DeadLetter{}, ErrNotFound
		}
		return DeadLetter{}, fmt.Errorf("reading dead letter: %w", err)
	}
	if len(msgs) == 0 {
		return DeadLetter{}, ErrNotFound
	}
	return decodeDeadLetter(msgs[0]), nil
}

// DeleteDeadLetter removes a dead letter.
func (s *Store) DeleteDeadLetter(ctx context.Context, stream, id string) error {
	if err := s.Client.XDel(ctx, stream, id).Err(); err != nil {
		return fmt.Errorf("deleting dead letter: %w", err)
	}
	return nil
}
