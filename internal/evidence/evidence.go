// Package evidence keeps what the payment providers sent: every callback (headers, body, the
// gateway's answer, the time) is appended to a per-day, hash-chained Redis stream, so a dispute
// can show exactly what a bank sent and that nothing was altered since.
//
// Chain. Each record is stored as its canonical JSON (the "entry" field) with prev_hash and
// hash, where hash = hex(SHA-256(prev_hash || entry)). The first record of a day chains to the
// day's genesis hash, SHA-256 of "gateway-evidence " + date, so records cannot be moved between
// days unnoticed. Redis's Lua has no SHA-256, so the hash is computed here and the append is a
// compare-and-append script: it reads the stream's last hash and appends only when it is the
// prev_hash the record was hashed on; otherwise the append is hashed again on the new head. Any
// number of replicas therefore keep one chain.
package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/vntime"
)

// DateLayout is the day of a chain (Vietnam's calendar).
const DateLayout = time.DateOnly

// maxAppendAttempts bounds the compare-and-append retries when replicas race for the head; each
// retry waits a little longer, with jitter, so racing appenders spread out.
const maxAppendAttempts = 100

// Entry is what one callback was: the request as received and the answer given.
type Entry struct {
	At       time.Time         `json:"at"`
	Endpoint string            `json:"endpoint"`
	Method   string            `json:"method"`
	Target   string            `json:"target"`
	Remote   string            `json:"remote,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Body     string            `json:"body,omitempty"`
	// BodyEncoding is "utf8" or "base64" (a body that is not valid UTF-8).
	BodyEncoding string `json:"body_encoding,omitempty"`
	// BodySize counts the bytes received: the whole body, unless it was longer than MaxBody and
	// the handler stopped reading it.
	BodySize      int     `json:"body_size"`
	BodyTruncated bool    `json:"body_truncated,omitempty"`
	Verdict       Verdict `json:"verdict"`
	Reference     string  `json:"reference,omitempty"`
}

// Verdict is the answer the gateway gave: the HTTP status and the answer's body (the partner's
// own result code is in it).
type Verdict struct {
	Status int    `json:"status"`
	Answer string `json:"answer,omitempty"`
}

// Record is a stored entry with its place in the chain.
type Record struct {
	ID string `json:"id"`
	Entry
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// Broken says where a chain stops being provable.
type Broken struct {
	ID     string `json:"id"`
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

// Verification is the result of walking a day's chain.
type Verification struct {
	Date        string  `json:"date"`
	Records     int     `json:"records"`
	Valid       bool    `json:"valid"`
	FirstBroken *Broken `json:"first_broken,omitempty"`
}

// Log is the evidence log in Redis.
type Log struct {
	Client redis.UniversalClient
	// Prefix is the store's key prefix.
	Prefix string
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	// heads caches the last hash appended per day, so an append usually takes one round trip;
	// a stale head only costs the script's retry.
	mu    sync.Mutex
	heads map[string]string
}

// Key is the stream of a day.
func (l *Log) Key(date string) string { return l.Prefix + ":evidence:{" + date + "}" }

// Genesis is the hash the first record of date chains to.
func Genesis(date string) string {
	h := sha256.Sum256([]byte("gateway-evidence " + date))
	return hex.EncodeToString(h[:])
}

// Hash is the chain hash of an entry's canonical bytes after prev.
func Hash(prev string, entry []byte) string {
	m := sha256.New()
	m.Write([]byte(prev))
	m.Write(entry)
	return hex.EncodeToString(m.Sum(nil))
}

// compareAndAppend appends a record when the stream's head is the expected hash.
//
// KEYS[1] the day's stream. ARGV[1] genesis, ARGV[2] expected prev hash, ARGV[3] entry,
// ARGV[4] hash. Returns {1, id} when appended, {0, head hash} when the head moved.
var compareAndAppend = redis.NewScript(`
local head = ARGV[1]
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  local fields = last[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 'hash' then head = fields[i + 1] end
  end
end
if head ~= ARGV[2] then return {0, head} end
local id = redis.call('XADD', KEYS[1], '*', 'entry', ARGV[3], 'prev_hash', ARGV[2], 'hash', ARGV[4])
return {1, id}
`)

// Append adds e to the chain of its day (e.At in Vietnam's calendar; now when zero).
func (l *Log) Append(ctx context.Context, e Entry) (Record, error) {
	if e.At.IsZero() {
		e.At = l.now()
	}
	e.At = e.At.In(vntime.Zone)
	date := e.At.Format(DateLayout)
	raw, err := json.Marshal(e)
	if err != nil {
		return Record{}, fmt.Errorf("encoding evidence entry: %w", err)
	}
	key := l.Key(date)
	prev, ok := l.cachedHead(date)
	if !ok {
		if prev, err = l.head(ctx, key, date); err != nil {
			return Record{}, err
		}
	}
	for attempt := range maxAppendAttempts {
		hash := Hash(prev, raw)
		res, err := compareAndAppend.Run(ctx, l.Client, []string{key}, Genesis(date), prev, raw, hash).Slice()
		if err != nil {
			return Record{}, fmt.Errorf("appending evidence: %w", err)
		}
		if len(res) != 2 {
			return Record{}, fmt.Errorf("appending evidence: unexpected reply %v", res)
		}
		ok, _ := res[0].(int64)
		val, _ := res[1].(string)
		if ok == 1 {
			l.setHead(date, hash)
			return Record{ID: val, Entry: e, PrevHash: prev, Hash: hash}, nil
		}
		prev = val
		backoff := time.Duration(rand.Int64N(int64(attempt+1) * int64(time.Millisecond)))
		select {
		case <-ctx.Done():
			return Record{}, fmt.Errorf("appending evidence: %w", ctx.Err())
		case <-time.After(backoff):
		}
	}
	return Record{}, fmt.Errorf("appending evidence: the head of %s kept moving", date)
}

func (l *Log) cachedHead(date string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.heads[date]
	return h, ok
}

// setHead remembers the head of date; only the current day is kept.
func (l *Log) setHead(date, hash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.heads[date]; !ok {
		l.heads = map[string]string{}
	}
	l.heads[date] = hash
}

// head reads the hash of the day's last record (the genesis when there is none).
func (l *Log) head(ctx context.Context, key, date string) (string, error) {
	last, err := l.Client.XRevRangeN(ctx, key, "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("reading evidence head: %w", err)
	}
	if len(last) == 0 {
		return Genesis(date), nil
	}
	h, _ := last[0].Values["hash"].(string)
	return h, nil
}

// List returns up to limit records of date after the entry id after ("" from the start).
func (l *Log) List(ctx context.Context, date, after string, limit int) ([]Record, error) {
	start := "-"
	if after != "" {
		start = "(" + after
	}
	msgs, err := l.Client.XRangeN(ctx, l.Key(date), start, "+", int64(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("listing evidence of %s: %w", date, err)
	}
	out := make([]Record, 0, len(msgs))
	for _, m := range msgs {
		r, _ := decode(m)
		out = append(out, r)
	}
	return out, nil
}

// decode reads a stream entry; the error says why it cannot be part of a chain.
func decode(m redis.XMessage) (Record, error) {
	r := Record{ID: m.ID}
	raw, _ := m.Values["entry"].(string)
	r.PrevHash, _ = m.Values["prev_hash"].(string)
	r.Hash, _ = m.Values["hash"].(string)
	if err := json.Unmarshal([]byte(raw), &r.Entry); err != nil {
		return r, errors.New("entry is not readable")
	}
	return r, nil
}

// verifyPage is how many records Verify reads per round trip.
const verifyPage = 500

// Verify walks date's chain and reports the first record whose link does not hold.
func (l *Log) Verify(ctx context.Context, date string) (Verification, error) {
	v := Verification{Date: date, Valid: true}
	prev, start := Genesis(date), "-"
	for {
		msgs, err := l.Client.XRangeN(ctx, l.Key(date), start, "+", verifyPage).Result()
		if err != nil {
			return Verification{}, fmt.Errorf("reading evidence of %s: %w", date, err)
		}
		for _, m := range msgs {
			if v.Valid {
				if reason := check(m, prev); reason != "" {
					v.Valid = false
					v.FirstBroken = &Broken{ID: m.ID, Index: v.Records, Reason: reason}
				}
			}
			prev, _ = m.Values["hash"].(string)
			v.Records++
		}
		if len(msgs) < verifyPage {
			return v, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// check returns why m does not follow prev, or "".
func check(m redis.XMessage, prev string) string {
	raw, _ := m.Values["entry"].(string)
	p, _ := m.Values["prev_hash"].(string)
	h, _ := m.Values["hash"].(string)
	switch {
	case p != prev:
		return "prev_hash does not match the previous record's hash"
	case Hash(p, []byte(raw)) != h:
		return "hash does not match the record's content"
	}
	var e Entry
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return "entry is not readable"
	}
	return ""
}

// ValidDate reports whether s is a yyyy-mm-dd date.
func ValidDate(s string) bool {
	_, err := time.Parse(DateLayout, s)
	return err == nil
}

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}
