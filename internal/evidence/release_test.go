package evidence_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/evidence"
)

// silentRedis accepts connections and never answers, until closed: an append to it cannot
// finish while the test runs.
func silentRedis(t *testing.T) (addr string, dialed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), ch
}

// TestAnswerIsCompleteBeforeTheRecord: a callback's answer goes out whole, with its
// Content-Length, before its record is appended, so the partner (and its connection) does not
// wait for the store. Here the store never answers: the client still reads the whole answer.
func TestAnswerIsCompleteBeforeTheRecord(t *testing.T) {
	t.Parallel()
	addr, dialed := silentRedis(t)
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	defer c.Close()
	rec := &evidence.Recorder{Log: &evidence.Log{Client: c, Prefix: "silent"}}
	const body = `{"RspCode":"00","Message":"Confirm Success"}`
	h := rec.Middleware("vnpay_ipn", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body[:10])
		_, _ = io.WriteString(w, body[10:])
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/callbacks/vnpay/ipn?vnp_TxnRef=A1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(got) != body {
		t.Fatalf("answer %q %v, want %q", got, err, body)
	}
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Fatalf("answer sent with Content-Length %d and transfer encoding %v, want %d and none", resp.ContentLength, resp.TransferEncoding, len(body))
	}
	select {
	case <-dialed: // the append had begun; the store has not answered it
	case <-time.After(10 * time.Second):
		t.Fatal("the record was never attempted")
	}
	c.Close() // the append fails now, and the server can shut down
}

// TestLongAnswerStreams: an answer longer than what is held back streams (chunked), reaches the
// client whole, and its start is recorded.
func TestLongAnswerStreams(t *testing.T) {
	t.Parallel()
	l := newLog(t, day)
	rec := &evidence.Recorder{Log: l}
	long := strings.Repeat("x", 70<<10)
	h := rec.Middleware("paygov_confirm", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		for i := 0; i < len(long); i += 1000 {
			_, _ = io.WriteString(w, long[i:min(i+1000, len(long))])
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/confirm", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || string(got) != long || resp.ContentLength != -1 {
		t.Fatalf("answer %d of %d bytes, Content-Length %d; want 202, %d bytes, streamed", resp.StatusCode, len(got), resp.ContentLength, len(long))
	}
	r := waitRecords(t, l, 1)[0]
	if r.Verdict.Status != http.StatusAccepted || len(r.Verdict.Answer) != 4<<10 {
		t.Fatalf("record verdict %d with %d bytes of answer, want 202 and "+strconv.Itoa(4<<10), r.Verdict.Status, len(r.Verdict.Answer))
	}
}

// TestQueueIsBounded: with the store not answering, records wait in memory up to a bound; the
// next one is refused at once (the Recorder counts and logs it) instead of growing the queue.
func TestQueueIsBounded(t *testing.T) {
	t.Parallel()
	addr, _ := silentRedis(t)
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	l := &evidence.Log{Client: c, Prefix: "silent"}
	refused := make(chan error, 1)
	var n int
	for n = 0; n < 20000; n++ {
		stop := false
		l.AppendAsync(evidence.Entry{Endpoint: "vnpay_ipn", Method: "GET", Target: "/ipn?n=" + strconv.Itoa(n)}, func(_ evidence.Record, err error) {
			if errors.Is(err, evidence.ErrQueueFull) {
				refused <- err
			}
		})
		select {
		case <-refused:
			stop = true
		default:
		}
		if stop {
			break
		}
	}
	if n == 20000 {
		t.Fatal("20000 records queued for a store that does not answer; want a bound")
	}
	c.Close() // the waiting records fail now
	if err := l.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}
