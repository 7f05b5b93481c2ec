package routing

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/testredis"
)

const scheduleTestTopic = "dossier.status_changed"

// newRedisStore is a store on the real test Redis under a key prefix of this test's own.
func newTestStore(t *testing.T) *store.Store {
	t.Helper()
	c := testredis.Client(t)
	return &store.Store{Client: c, Keys: store.Keys{Prefix: testredis.Prefix(t, c)}}
}

func newTestSchedule(t *testing.T, s *store.Store, delays ...time.Duration) *Schedule {
	t.Helper()
	if len(delays) == 0 {
		delays = []time.Duration{time.Minute, 10 * time.Minute, time.Hour}
	}
	return NewSchedule(s, scheduleTestTopic, "dvcqg", delays, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// streamMessages decodes every entry of the schedule's topic stream, oldest first.
func streamMessages(t *testing.T, s *store.Store) []*message.Message {
	t.Helper()
	entries, err := s.Client.XRange(t.Context(), s.Keys.Stream(scheduleTestTopic), "-", "+").Result()
	if err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	out := make([]*message.Message, 0, len(entries))
	for _, e := range entries {
		msg, err := store.Codec{}.Unmarshal(e.Values)
		if err != nil {
			t.Fatalf("decoding entry %s: %v", e.ID, err)
		}
		if why := msg.Metadata.Get(store.MetaUnreadable); why != "" {
			t.Fatalf("entry %s is unreadable: %s", e.ID, why)
		}
		out = append(out, msg)
	}
	return out
}

func mustPark(t *testing.T, sch *Schedule, msg *message.Message, due time.Time) {
	t.Helper()
	if err := sch.Park(t.Context(), msg, due); err != nil {
		t.Fatalf("parking %s: %v", msg.UUID, err)
	}
}

func sameMessage(t *testing.T, got, want *message.Message) {
	t.Helper()
	if got.UUID != want.UUID {
		t.Errorf("uuid %q, want %q", got.UUID, want.UUID)
	}
	if string(got.Payload) != string(want.Payload) {
		t.Errorf("payload of %s\n got %q\nwant %q", want.UUID, got.Payload, want.Payload)
	}
	if !maps.Equal(got.Metadata, want.Metadata) {
		t.Errorf("metadata of %s\n got %v\nwant %v", want.UUID, got.Metadata, want.Metadata)
	}
}

// TestScheduleMoveDueMovesOnlyDueMessages: due messages go back to the topic's stream, earliest
// first, exactly as parked, and leave the set; a message not yet due stays parked.
func TestScheduleMoveDueMovesOnlyDueMessages(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	sch := newTestSchedule(t, s)
	now := time.Now()

	later := message.NewMessage("msg-later", []byte(`{"code":"H00-3"}`))
	later.Metadata.Set(MetaAttempt, "1")
	first := message.NewMessage("msg-first", []byte(`{"code":"H00-1","status":"Đã tiếp nhận"}`))
	first.Metadata.Set(MetaAttempt, "2")
	first.Metadata.Set(MetaCorrelationID, "corr-1")
	second := message.NewMessage("msg-second", []byte(`{"code":"H00-2"}`))
	second.Metadata.Set(MetaAttempt, "1")
	second.Metadata.Set(MetaLastError, `transient: dvcqg sync_dossier: HTTP 503 "quoted" <tag> & more`)

	mustPark(t, sch, later, now.Add(time.Hour))
	mustPark(t, sch, second, now.Add(-time.Second))
	mustPark(t, sch, first, now.Add(-time.Minute))

	n, err := sch.MoveDue(t.Context(), now, 100)
	if err != nil {
		t.Fatalf("MoveDue: %v", err)
	}
	if n != 2 {
		t.Fatalf("moved %d, want the 2 due messages", n)
	}
	got := streamMessages(t, s)
	if len(got) != 2 {
		t.Fatalf("stream holds %d entries, want 2", len(got))
	}
	sameMessage(t, got[0], first)
	sameMessage(t, got[1], second)

	count, oldest, err := sch.Len(t.Context())
	if err != nil {
		t.Fatalf("Len: %v", err)
	}
	if count != 1 || oldest.UnixMilli() != now.Add(time.Hour).UnixMilli() {
		t.Errorf("after moving: %d parked, earliest due %v; want the one due at %v", count, oldest, now.Add(time.Hour))
	}

	if n, err := sch.MoveDue(t.Context(), now, 100); err != nil || n != 0 {
		t.Errorf("second MoveDue at the same time moved %d (%v), want 0", n, err)
	}
	if n, err := sch.MoveDue(t.Context(), now.Add(2*time.Hour), 100); err != nil || n != 1 {
		t.Fatalf("MoveDue two hours later moved %d (%v), want 1", n, err)
	}
	got = streamMessages(t, s)
	if len(got) != 3 {
		t.Fatalf("stream holds %d entries, want 3", len(got))
	}
	sameMessage(t, got[2], later)
	if count, _, _ := sch.Len(t.Context()); count != 0 {
		t.Errorf("%d still parked, want none", count)
	}
}

// TestScheduleMoveDueKeepsMessagesIntact: payloads and metadata survive the JSON round trip
// through Go and the Lua script byte for byte.
func TestScheduleMoveDueKeepsMessagesIntact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		payload  string
		metadata message.Metadata
	}{
		{name: "json with vietnamese text", payload: `{"MaHoSo":"000.00.00.H00-250101-0001","TrangThaiHoSo":"Đã trả kết quả","HoTen":"Nguyễn Văn Ấn"}`,
			metadata: message.Metadata{MetaCorrelationID: "c-1", "note": "Hồ sơ đã tiếp nhận"}},
		{name: "html-escaped characters", payload: `{"html":"<b>a & b</b>"}`, metadata: message.Metadata{"k": "<>&'\""}},
		{name: "escapes and line separators", payload: "{\"s\":\"line\\nbreak\\t\\\"q\\\" \\\\ \u2028\u2029\"}", metadata: message.Metadata{"k": "a\nb\tc\u2028"}},
		{name: "characters outside the basic plane", payload: `{"emoji":"🇻🇳 𠀀"}`, metadata: message.Metadata{"k": "𠀀"}},
		{name: "control characters", payload: "\x00\x01\x1f", metadata: message.Metadata{"k": "\x00"}},
		{name: "surrounding whitespace", payload: " \t{\"a\": 1}\r\n\n", metadata: message.Metadata{"k": " v "}},
		{name: "empty payload", payload: "", metadata: message.Metadata{MetaAttempt: "3"}},
		{name: "no metadata", payload: `{}`, metadata: message.Metadata{}},
		{name: "numbers stay text", payload: `12345678901234567890.5e300`, metadata: message.Metadata{MetaAttempt: "00012"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t)
			sch := newTestSchedule(t, s)
			msg := message.NewMessage("6f1f9a5e-3c1b-4b7e-9d2a-"+tt.name, []byte(tt.payload))
			for k, v := range tt.metadata {
				msg.Metadata.Set(k, v)
			}
			mustPark(t, sch, msg, time.Now().Add(-time.Millisecond))
			if n, err := sch.MoveDue(t.Context(), time.Now(), 10); err != nil || n != 1 {
				t.Fatalf("MoveDue moved %d (%v), want 1", n, err)
			}
			got := streamMessages(t, s)
			if len(got) != 1 {
				t.Fatalf("stream holds %d entries, want 1", len(got))
			}
			sameMessage(t, got[0], msg)
		})
	}
}

// TestScheduleMoveDueHonoursLimit: one call moves at most limit messages, earliest first.
func TestScheduleMoveDueHonoursLimit(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	sch := newTestSchedule(t, s)
	now := time.Now()
	for i, uuid := range []string{"a", "b", "c", "d", "e"} {
		mustPark(t, sch, message.NewMessage(uuid, nil), now.Add(-time.Duration(10-i)*time.Second))
	}
	if n, err := sch.MoveDue(t.Context(), now, 2); err != nil || n != 2 {
		t.Fatalf("MoveDue with limit 2 moved %d (%v)", n, err)
	}
	got := streamMessages(t, s)
	if len(got) != 2 || got[0].UUID != "a" || got[1].UUID != "b" {
		t.Fatalf("moved %v, want the two earliest (a, b)", uuidsOf(got))
	}
	if count, _, _ := sch.Len(t.Context()); count != 3 {
		t.Errorf("%d still parked, want 3", count)
	}
}

func uuidsOf(msgs []*message.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.UUID
	}
	return out
}

// TestScheduleDelay: delayed retry n waits the n-th delay; before the start it is the first,
// past the end it stays at the last.
func TestScheduleDelay(t *testing.T) {
	t.Parallel()
	sch := NewSchedule(nil, scheduleTestTopic, "dvcqg",
		[]time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if got := sch.Attempts(); got != 3 {
		t.Errorf("Attempts() = %d, want 3", got)
	}
	tests := []struct {
		name string
		n    int
		want time.Duration
	}{
		{name: "zero clamps to the first", n: 0, want: time.Minute},
		{name: "negative clamps to the first", n: -3, want: time.Minute},
		{name: "first", n: 1, want: time.Minute},
		{name: "second", n: 2, want: 5 * time.Minute},
		{name: "last", n: 3, want: 30 * time.Minute},
		{name: "one past the end", n: 4, want: 30 * time.Minute},
		{name: "far past the end", n: 100, want: 30 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sch.Delay(tt.n); got != tt.want {
				t.Errorf("Delay(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

// TestScheduleDueNow: a resume makes every parked message due, however far off it was.
func TestScheduleDueNow(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	sch := newTestSchedule(t, s)
	now := time.Now()
	for i, uuid := range []string{"in-1h", "in-1d", "in-30d"} {
		mustPark(t, sch, message.NewMessage(uuid, []byte(uuid)), now.Add([]time.Duration{time.Hour, 24 * time.Hour, 30 * 24 * time.Hour}[i]))
	}
	if n, err := sch.MoveDue(t.Context(), now, 100); err != nil || n != 0 {
		t.Fatalf("before DueNow, MoveDue moved %d (%v), want 0", n, err)
	}
	n, err := sch.DueNow(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("DueNow rescheduled %d (%v), want 3", n, err)
	}
	_, oldest, _ := sch.Len(t.Context())
	if oldest.After(time.Now()) {
		t.Errorf("after DueNow the earliest due time %v is in the future", oldest)
	}
	if n, err := sch.MoveDue(t.Context(), time.Now(), 100); err != nil || n != 3 {
		t.Fatalf("after DueNow, MoveDue moved %d (%v), want 3", n, err)
	}
	if got := streamMessages(t, s); len(got) != 3 {
		t.Errorf("stream holds %d entries, want 3", len(got))
	}
}

// TestScheduleLen reports the number parked and the earliest due time (zero when none).
func TestScheduleLen(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	sch := newTestSchedule(t, s)
	n, oldest, err := sch.Len(t.Context())
	if err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("empty schedule: Len = %d, %v, %v; want 0, zero time, nil", n, oldest, err)
	}
	now := time.Now()
	mustPark(t, sch, message.NewMessage("late", nil), now.Add(2*time.Hour))
	mustPark(t, sch, message.NewMessage("early", nil), now.Add(time.Hour))
	mustPark(t, sch, message.NewMessage("middle", nil), now.Add(90*time.Minute))
	n, oldest, err = sch.Len(t.Context())
	if err != nil {
		t.Fatalf("Len: %v", err)
	}
	if n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
	if want := now.Add(time.Hour).UnixMilli(); oldest.UnixMilli() != want {
		t.Errorf("earliest due %v, want %v", oldest, time.UnixMilli(want))
	}
}

// TestScheduleConcurrentMoversMoveEachMessageOnce: movers of two replicas running at the same
// time never return one message twice nor lose one.
func TestScheduleConcurrentMoversMoveEachMessageOnce(t *testing.T) {
	t.Parallel()
	const total = 200
	s := newTestStore(t)
	sch := newTestSchedule(t, s)
	now := time.Now()
	for i := range total {
		mustPark(t, sch, message.NewMessage(fmt.Sprintf("m-%03d", i), nil), now.Add(-time.Duration(i)*time.Millisecond))
	}

	var wg sync.WaitGroup
	moved := make([]int, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	for w := range 2 {
		wg.Go(func() {
			<-start
			for {
				n, err := sch.MoveDue(t.Context(), now, 7)
				if err != nil {
					errs[w] = err
					return
				}
				moved[w] += n
				if n == 0 {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("mover %d: %v", w, err)
		}
	}
	if moved[0]+moved[1] != total {
		t.Errorf("movers report %d + %d moved, want %d in all", moved[0], moved[1], total)
	}
	got := streamMessages(t, s)
	if len(got) != total {
		t.Errorf("stream holds %d entries, want %d", len(got), total)
	}
	seen := map[string]bool{}
	for _, m := range got {
		if seen[m.UUID] {
			t.Errorf("message %s moved twice", m.UUID)
		}
		seen[m.UUID] = true
	}
	if count, _, _ := sch.Len(t.Context()); count != 0 {
		t.Errorf("%d still parked, want none", count)
	}
}
