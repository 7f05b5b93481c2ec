package evidence_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/evidence"
	"github.com/egov-vn/gateway/internal/testredis"
	"github.com/egov-vn/gateway/internal/vntime"
)

func newLog(t *testing.T, now time.Time) *evidence.Log {
	t.Helper()
	c := testredis.Client(t)
	return &evidence.Log{Client: c, Prefix: testredis.Prefix(t, c), Now: func() time.Time { return now }}
}

var day = time.Date(2026, 11, 26, 10, 0, 0, 0, vntime.Zone)

const date = "2026-11-26"

func TestAppendAndVerify(t *testing.T) {
	t.Parallel()
	l := newLog(t, day)
	var prev string
	for i := range 5 {
		r, err := l.Append(t.Context(), evidence.Entry{Endpoint: "vnpay_ipn", Method: "GET",
			Target: fmt.Sprintf("/v1/callbacks/vnpay/ipn?vnp_TxnRef=R%d", i), Verdict: evidence.Verdict{Status: 200, Answer: `{"RspCode":"00"}`}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && r.PrevHash != evidence.Genesis(date) {
			t.Fatalf("first record chains to %s, want the genesis", r.PrevHash)
		}
		if i > 0 && r.PrevHash != prev {
			t.Fatalf("record %d chains to %s, want %s", i, r.PrevHash, prev)
		}
		prev = r.Hash
	}
	v, err := l.Verify(t.Context(), date)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid || v.Records != 5 || v.FirstBroken != nil {
		t.Fatalf("verification %+v, want 5 valid records", v)
	}
	recs, err := l.List(t.Context(), date, "", 3)
	if err != nil || len(recs) != 3 {
		t.Fatalf("first page: %d records, %v", len(recs), err)
	}
	rest, err := l.List(t.Context(), date, recs[2].ID, 10)
	if err != nil || len(rest) != 2 || rest[1].Target != "/v1/callbacks/vnpay/ipn?vnp_TxnRef=R4" {
		t.Fatalf("second page: %+v, %v", rest, err)
	}
	empty, err := l.Verify(t.Context(), "2026-11-25")
	if err != nil || !empty.Valid || empty.Records != 0 {
		t.Fatalf("empty day: %+v, %v", empty, err)
	}
}

// rewrite replaces the stream with the same entries (same ids), field of entry index changed:
// what someone with write access to Redis could do.
func rewrite(t *testing.T, l *evidence.Log, index int, field, value string) string {
	t.Helper()
	ctx := t.Context()
	key := l.Key(date)
	msgs, err := l.Client.XRange(ctx, key, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Client.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		vals := map[string]any{}
		for k, v := range m.Values {
			vals[k] = v
		}
		if i == index {
			vals[field] = value
		}
		if err := l.Client.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: m.ID, Values: []any{
			"entry", vals["entry"], "prev_hash", vals["prev_hash"], "hash", vals["hash"]}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return msgs[index].ID
}

func TestTamperingIsDetectedAtTheRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, field string
		edit        func(entry string) string
	}{
		{"verdict changed", "entry", func(e string) string { return strings.Replace(e, "97", "00", 1) }},
		{"hash replaced", "hash", func(string) string { return strings.Repeat("0", 64) }},
		{"prev hash replaced", "prev_hash", func(string) string { return strings.Repeat("a", 64) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLog(t, day)
			for i := range 4 {
				code := "00"
				if i == 2 {
					code = "97"
				}
				if _, err := l.Append(t.Context(), evidence.Entry{Endpoint: "vnpay_ipn", Method: "GET", Target: fmt.Sprintf("/ipn?n=%d", i),
					Verdict: evidence.Verdict{Status: 200, Answer: `{"RspCode":"` + code + `"}`}}); err != nil {
					t.Fatal(err)
				}
			}
			msgs, _ := l.Client.XRange(t.Context(), l.Key(date), "-", "+").Result()
			old, _ := msgs[2].Values[tc.field].(string)
			edited := tc.edit(old)
			if edited == old {
				t.Fatal("the edit changed nothing")
			}
			id := rewrite(t, l, 2, tc.field, edited)
			v, err := l.Verify(t.Context(), date)
			if err != nil {
				t.Fatal(err)
			}
			if v.Valid || v.FirstBroken == nil || v.FirstBroken.ID != id || v.FirstBroken.Index != 2 || v.Records != 4 {
				t.Fatalf("verification %+v (broken %+v), want broken at record 2 (%s)", v, v.FirstBroken, id)
			}
		})
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	t.Parallel()
	l := newLog(t, day)
	const writers, each = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each writer is its own Log, as each replica is.
			replica := &evidence.Log{Client: l.Client, Prefix: l.Prefix, Now: l.Now}
			for i := range each {
				if _, err := replica.Append(t.Context(), evidence.Entry{Endpoint: "bank_transactions", Method: "POST",
					Target: fmt.Sprintf("/w%d/%d", w, i), Verdict: evidence.Verdict{Status: 200}}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, err := l.Verify(t.Context(), date)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid || v.Records != writers*each {
		t.Fatalf("verification %+v (broken %+v), want %d valid records", v, v.FirstBroken, writers*each)
	}
}

type counts struct {
	mu               sync.Mutex
	recorded, failed int
}

func (c *counts) EvidenceRecorded(string) { c.mu.Lock(); c.recorded++; c.mu.Unlock() }
func (c *counts) EvidenceFailed(string)   { c.mu.Lock(); c.failed++; c.mu.Unlock() }

func TestRecorderKeepsTheCallbackAndNoCredentials(t *testing.T) {
	t.Parallel()
	l := newLog(t, day)
	obs := &counts{}
	rec := &evidence.Recorder{Log: l, Observer: obs}
	h := rec.Middleware("bank_transactions", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1024)
		n, _ := r.Body.Read(buf)
		if !strings.Contains(string(buf[:n]), "TT123") {
			t.Errorf("the handler read %q", buf[:n])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"status":"rejected","reason":"bad_signature"}`))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/callbacks/bank/acb/transactions?x=1",
		strings.NewReader(`{"transactions":[{"transaction_id":"TT123","description":"HS001"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer very-secret-bearer")
	req.Header.Set("Cookie", "session=very-secret-cookie")
	req.Header.Set("X-Api-Key", "very-secret-key")
	req.Header.Set("X-Signature", "abc123")
	req.Header.Set("X-Timestamp", "1764126000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("answered %d", resp.StatusCode)
	}
	recs := waitRecords(t, l, 1)
	r := recs[0]
	if r.Verdict.Status != 401 || !strings.Contains(r.Verdict.Answer, "bad_signature") || r.Method != "POST" ||
		r.Target != "/v1/callbacks/bank/acb/transactions?x=1" || !strings.Contains(r.Body, "TT123") || r.BodyEncoding != "utf8" {
		t.Fatalf("record %+v", r)
	}
	if r.Headers["X-Signature"] != "abc123" || r.Headers["X-Timestamp"] != "1764126000" {
		t.Fatalf("signature headers not kept: %v", r.Headers)
	}
	raw, _ := l.Client.XRange(t.Context(), l.Key(date), "-", "+").Result()
	if s := fmt.Sprint(raw); strings.Contains(s, "very-secret") {
		t.Fatalf("a credential was recorded: %s", s)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.recorded != 1 || obs.failed != 0 {
		t.Fatalf("counted recorded %d, failed %d", obs.recorded, obs.failed)
	}
}

// waitRecords waits for n records of the day: the answer reaches the client before its record
// is appended.
func waitRecords(t *testing.T, l *evidence.Log, n int) []evidence.Record {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs, err := l.List(t.Context(), date, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) >= n || time.Now().After(deadline) {
			if len(recs) != n {
				t.Fatalf("%d records, want %d", len(recs), n)
			}
			return recs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRecorderFailureDoesNotFailTheCallback(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	obs := &counts{}
	rec := &evidence.Recorder{Log: &evidence.Log{Client: c, Prefix: "none"}, Observer: obs}
	h := rec.Middleware("vnpay_ipn", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"RspCode":"00","Message":"Confirm Success"}`))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/callbacks/vnpay/ipn?vnp_TxnRef=R1", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"00"`) {
		t.Fatalf("answered %d %s", w.Code, w.Body)
	}
	flush(t, rec.Log)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.failed != 1 || obs.recorded != 0 {
		t.Fatalf("counted %+v, want one failure", obs)
	}
}

func TestNonUTF8BodyIsBase64(t *testing.T) {
	t.Parallel()
	l := newLog(t, day)
	rec := &evidence.Recorder{Log: l}
	h := rec.Middleware("paygov_confirm", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 16)
		_, _ = r.Body.Read(buf)
		w.WriteHeader(http.StatusBadRequest)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/v1/callbacks/paygov/confirm", strings.NewReader("\xff\xfe\x00a")))
	flush(t, l)
	recs, err := l.List(t.Context(), date, "", 10)
	if err != nil || len(recs) != 1 || recs[0].BodyEncoding != "base64" || recs[0].Body != "//4AYQ==" || recs[0].Verdict.Status != 400 {
		t.Fatalf("records %+v, %v", recs, err)
	}
}

func TestRecordedReference(t *testing.T) {
	t.Parallel()
	l := newLog(t, day)
	rec := &evidence.Recorder{Log: l}
	for _, tc := range []struct {
		name, method, target, body, answer, want string
	}{
		{"vnpay query", http.MethodGet, "/v1/callbacks/vnpay/ipn?vnp_Amount=100&vnp_TxnRef=LS9X4T2B", "", `{"RspCode":"00"}`, "LS9X4T2B"},
		{"paygov body", http.MethodPost, "/v1/callbacks/paygov/confirm", `{"transaction_id":"LS3M8P1Q","trans_amount":"100"}`, `{"return_code":0}`, "LS3M8P1Q"},
		{"bank answer", http.MethodPost, "/v1/callbacks/bank/acb/transactions", `{"transactions":[{"transaction_id":"FT1","description":"LSAAAA LSBBBB"}]}`,
			`{"status":"ok","received":2,"results":[{"transaction_id":"FT1","result":"applied","reference":"LSAAAA"},{"transaction_id":"FT2","result":"unmatched"}]}`, "LSAAAA"},
		{"none", http.MethodPost, "/v1/callbacks/paygov/bill", `{"MaHoSo":"000.00.37.H37-251126-0042"}`, `{"error_code":"01"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := rec.Middleware("x", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				buf := make([]byte, 1024)
				_, _ = r.Body.Read(buf)
				_, _ = w.Write([]byte(tc.answer))
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body)))
			flush(t, l)
			recs, err := l.List(t.Context(), date, "", 100)
			if err != nil || len(recs) == 0 {
				t.Fatalf("records %v, %v", recs, err)
			}
			if got := recs[len(recs)-1].Reference; got != tc.want {
				t.Errorf("reference %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAnswerFieldsKeepOnlyTheCode(t *testing.T) {
	t.Parallel()
	l := newLog(t, day)
	rec := &evidence.Recorder{Log: l, AnswerFields: map[string][]string{"paygov_bill": {"error_code"}}}
	h := rec.Middleware("paygov_bill", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"error_code":0,"message":{"MaHoSo":"D-1","HoTenNguoiNop":"Nguyễn Văn A"}}`))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/v1/callbacks/paygov/bill", strings.NewReader(`{"MaHoSo":"D-1"}`)))
	flush(t, l)
	recs, err := l.List(t.Context(), date, "", 10)
	if err != nil || len(recs) != 1 || recs[0].Verdict.Answer != `{"error_code":0}` || recs[0].Body != `{"MaHoSo":"D-1"}` {
		t.Fatalf("records %+v, %v", recs, err)
	}
}

// flush waits for the records the Recorder queued: it answers before they are appended.
func flush(t *testing.T, l *evidence.Log) {
	t.Helper()
	if err := l.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}
