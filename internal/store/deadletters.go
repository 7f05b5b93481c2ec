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

// DeadLetters lists dead letters newest first, keeping those match accepts, at most limit.
func (s *Store) DeadLetters(ctx context.Context, stream string, limit int, match func(DeadLetter) bool) ([]DeadLetter, error) {
	var out []DeadLetter
	end := "+"
	for len(out) < limit {
		msgs, err := s.Client.XRevRangeN(ctx, stream, end, "-", 500).Result()
		if err != nil {
			return nil, fmt.Errorf("reading dead letters: %w", err)
		}
		for _, m := range msgs {
			if m.ID == end {
				continue
			}
			d := decodeDeadLetter(m)
			if match(d) {
				out = append(out, d)
				if len(out) == limit {
					break
				}
			}
		}
		if len(msgs) < 500 {
			break
		}
		end = msgs[len(msgs)-1].ID
	}
	return out, nil
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
