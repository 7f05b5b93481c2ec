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
	"strconv"
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
	Date    string `json:"date"`
	Records int    `json:"records"`
	// AnchoredRecords is the count the day's anchor holds (-1: the day has no anchor).
	AnchoredRecords int     `json:"anchored_records"`
	Valid           bool    `json:"valid"`
	FirstBroken     *Broken `json:"first_broken,omitempty"`
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

	// queue holds the appends waiting for the one in progress (see Append); idle is closed when
	// the drain that is running ends.
	qmu       sync.Mutex
	queue     []*queued
	appending bool
	idle      chan struct{}
}

// Key is the stream of a day.
func (l *Log) Key(date string) string { return l.Prefix + ":evidence:{" + date + "}" }

// AnchorKey is the day's anchor: a hash of the chain's head hash and record count, moved by
// every append in the same script, so that records removed from the end of the day are found.
func (l *Log) AnchorKey(date string) string { return l.Key(date) + ":anchor" }

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

// compareAndAppend appends a batch of records when the day's head is the expected hash, and
// moves the day's anchor (its head hash and record count) in the same step.
//
// The head is the anchor's hash, not the stream's last record: records removed from the end of
// the stream (XTRIM, XDEL) cannot make the chain continue from an earlier record, and Verify
// finds the stream shorter than its anchor. A day written before anchors existed takes its head
// from the last record and its count from XLEN, once.
//
// KEYS[1] the day's stream, KEYS[2] its anchor. ARGV[1] genesis, ARGV[2] expected prev hash,
// then for each record its entry and its hash (each record's prev_hash is the hash before it).
// Returns {1, id...} when appended, {0, head hash} when the head moved.
var compareAndAppend = redis.NewScript(`
local head = ARGV[1]
local count = 0
local a = redis.call('HMGET', KEYS[2], 'hash', 'count')
if a[1] then
  head = a[1]
  count = tonumber(a[2]) or 0
else
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if #last > 0 then
    local fields = last[1][2]
    for i = 1, #fields, 2 do
      if fields[i] == 'hash' then head = fields[i + 1] end
    end
    count = redis.call('XLEN', KEYS[1])
  end
end
if head ~= ARGV[2] then return {0, head} end
local out = {1}
local prev = ARGV[2]
for i = 3, #ARGV, 2 do
  out[#out + 1] = redis.call('XADD', KEYS[1], '*', 'entry', ARGV[i], 'prev_hash', prev, 'hash', ARGV[i + 1])
  prev = ARGV[i + 1]
  count = count + 1
end
redis.call('HSET', KEYS[2], 'hash', prev, 'count', count)
return out
`)

// batchTimeout bounds one batch's appends; the callers waiting on it may give up sooner.
const batchTimeout = 5 * time.Second

// maxBatch bounds the records one script appends.
const maxBatch = 256

// maxQueued bounds the records waiting to be appended (the store slow or down): beyond it a
// record is refused at once, counted and logged by the Recorder, rather than held in memory.
const maxQueued = 10000

// ErrQueueFull is returned for a record refused because maxQueued records wait already.
var ErrQueueFull = errors.New("evidence: too many records waiting for the store")

// queued is an entry waiting to be appended, and where its result goes: done, or then.
type queued struct {
	e    Entry
	raw  []byte
	date string
	done chan appended
	then func(Record, error)
}

func (q *queued) deliver(a appended) {
	if q.then != nil {
		q.then(a.rec, a.err)
		return
	}
	q.done <- a
}

type appended struct {
	rec Record
	err error
}

// Append adds e to the chain of its day (e.At in Vietnam's calendar; now when zero).
//
// Appends of one process are committed in groups: one goroutine, started when the queue fills
// and ending when it is empty, appends everything queued meanwhile in one script and one round
// trip and hands each caller its record. So concurrent callbacks never race each other for the
// head, and a burst costs one round trip per group instead of one (or more) per record.
// Replicas still race, and the compare-and-append settles it. A caller whose ctx ends stops
// waiting; its record may still be appended.
func (l *Log) Append(ctx context.Context, e Entry) (Record, error) {
	q := &queued{done: make(chan appended, 1)}
	if err := l.enqueue(e, q); err != nil {
		return Record{}, err
	}
	select {
	case r := <-q.done:
		return r.rec, r.err
	case <-ctx.Done():
		return Record{}, fmt.Errorf("appending evidence: %w", ctx.Err())
	}
}

// AppendAsync queues e like Append and returns at once; then receives the record or the error
// once the group holding it is appended (from another goroutine), or at once when e cannot be
// queued. Flush waits for the queue to empty.
func (l *Log) AppendAsync(e Entry, then func(Record, error)) {
	if err := l.enqueue(e, &queued{then: then}); err != nil {
		then(Record{}, err)
	}
}

func (l *Log) enqueue(e Entry, q *queued) error {
	if e.At.IsZero() {
		e.At = l.now()
	}
	e.At = e.At.In(vntime.Zone)
	raw, err := encodeEntry(&e)
	if err != nil {
		return fmt.Errorf("encoding evidence entry: %w", err)
	}
	q.e, q.raw, q.date = e, raw, e.At.Format(DateLayout)
	l.qmu.Lock()
	defer l.qmu.Unlock()
	if len(l.queue) >= maxQueued {
		return ErrQueueFull
	}
	l.queue = append(l.queue, q)
	if !l.appending {
		l.appending = true
		l.idle = make(chan struct{})
		go l.drain()
	}
	return nil
}

// Flush waits until every record queued so far is appended (or failed), or ctx ends.
func (l *Log) Flush(ctx context.Context) error {
	for {
		l.qmu.Lock()
		idle := l.idle
		busy := l.appending
		l.qmu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("flushing evidence: %w", ctx.Err())
		}
	}
}

// drain appends the queue in batches until it is empty.
func (l *Log) drain() {
	for {
		l.qmu.Lock()
		n := min(len(l.queue), maxBatch)
		if n == 0 {
			l.appending = false
			close(l.idle)
			l.qmu.Unlock()
			return
		}
		batch := l.queue[:n:n]
		l.queue = l.queue[n:]
		if len(l.queue) == 0 {
			l.queue = nil
		}
		l.qmu.Unlock()
		bctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		// One script per day: a batch spans two days only around midnight.
		for len(batch) > 0 {
			date := batch[0].date
			k := 1
			for k < len(batch) && batch[k].date == date {
				k++
			}
			l.appendBatch(bctx, date, batch[:k])
			batch = batch[k:]
		}
		cancel()
	}
}

// appendBatch appends records of one day in one script, hashing them again on the new head
// when another replica moved it, and delivers each record or the error.
func (l *Log) appendBatch(ctx context.Context, date string, batch []*queued) {
	fail := func(err error) {
		for _, q := range batch {
			q.deliver(appended{err: err})
		}
	}
	key := l.Key(date)
	prev, ok := l.cachedHead(date)
	if !ok {
		var err error
		if prev, err = l.head(ctx, key, date); err != nil {
			fail(err)
			return
		}
	}
	hashes := make([]string, len(batch))
	args := make([]any, 0, 2+2*len(batch))
	for attempt := range maxAppendAttempts {
		args = append(args[:0], Genesis(date), prev)
		h := prev
		for i, q := range batch {
			h = Hash(h, q.raw)
			hashes[i] = h
			args = append(args, q.raw, h)
		}
		res, err := compareAndAppend.Run(ctx, l.Client, []string{key, l.AnchorKey(date)}, args...).Slice()
		if err != nil {
			fail(fmt.Errorf("appending evidence: %w", err))
			return
		}
		ok, _ := res[0].(int64)
		if ok == 1 && len(res) == 1+len(batch) {
			l.setHead(date, hashes[len(hashes)-1])
			p := prev
			for i, q := range batch {
				id, _ := res[1+i].(string)
				q.deliver(appended{rec: Record{ID: id, Entry: q.e, PrevHash: p, Hash: hashes[i]}})
				p = hashes[i]
			}
			return
		}
		if ok == 1 || len(res) != 2 {
			fail(fmt.Errorf("appending evidence: unexpected reply %v", res))
			return
		}
		prev, _ = res[1].(string)
		backoff := time.Duration(rand.Int64N(int64(attempt+1) * int64(time.Millisecond)))
		select {
		case <-ctx.Done():
			fail(fmt.Errorf("appending evidence: %w", ctx.Err()))
			return
		case <-time.After(backoff):
		}
	}
	fail(fmt.Errorf("appending evidence: the head of %s kept moving", date))
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

// head reads the day's head: its anchor's hash, or (a day without anchor) the hash of its last
// record, or the genesis when there is none. A wrong guess only costs the script's retry.
func (l *Log) head(ctx context.Context, key, date string) (string, error) {
	if h, err := l.Client.HGet(ctx, l.AnchorKey(date), "hash").Result(); err == nil {
		return h, nil
	} else if !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("reading evidence anchor: %w", err)
	}
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

// Verify walks date's chain and reports the first record whose link does not hold, then holds
// the chain's end against the day's anchor: a chain that ends before the anchored head (records
// removed from the end) or a day with records but no anchor is not valid. The anchor is read
// before the chain, so an append meanwhile only lengthens the chain past it.
func (l *Log) Verify(ctx context.Context, date string) (Verification, error) {
	v := Verification{Date: date, Valid: true, AnchoredRecords: -1}
	anchor, err := l.Client.HMGet(ctx, l.AnchorKey(date), "hash", "count").Result()
	if err != nil {
		return Verification{}, fmt.Errorf("reading evidence anchor of %s: %w", date, err)
	}
	anchorHash, _ := anchor[0].(string)
	if c, ok := anchor[1].(string); ok {
		v.AnchoredRecords, _ = strconv.Atoi(c)
	}
	var anchoredID string // the record the anchor names, once walked past
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
			if prev == anchorHash && v.Records == v.AnchoredRecords {
				anchoredID = m.ID
			}
		}
		if len(msgs) < verifyPage {
			return holdAgainstAnchor(v, anchorHash, anchoredID), nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// holdAgainstAnchor fails a chain whose links hold but that ends before its anchored head, or a
// day with records and no anchor. anchoredID is the record the anchor names ("" when the walk
// never met it).
func holdAgainstAnchor(v Verification, anchorHash, anchoredID string) Verification {
	if !v.Valid {
		return v
	}
	switch {
	case anchorHash == "" && v.Records > 0:
		v.Valid = false
		v.FirstBroken = &Broken{Index: v.Records, Reason: "the day has records but no anchor: its head and count were removed"}
	case anchorHash != "" && anchoredID == "" && v.AnchoredRecords > 0:
		v.Valid = false
		v.FirstBroken = &Broken{Index: v.Records, Reason: fmt.Sprintf(
			"the chain ends after %d records without reaching its anchored head of %d records: records were removed from the end", v.Records, v.AnchoredRecords)}
	}
	return v
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
