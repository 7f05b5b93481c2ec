package evidence_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/internal/evidence"
)

func appendN(t *testing.T, l *evidence.Log, n int) {
	t.Helper()
	for i := range n {
		if _, err := l.Append(t.Context(), evidence.Entry{Endpoint: "bank_transactions", Method: "POST", Target: fmt.Sprintf("/tx?n=%d", i),
			Verdict: evidence.Verdict{Status: 200, Answer: `{"status":"ok"}`}}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTailTruncationIsDetected removes records from the end of a day, which leaves every
// remaining link intact: the anchor (head hash and count) makes verify fail; appending after
// the truncation does not hide it; removing the anchor too is found as well.
func TestTailTruncationIsDetected(t *testing.T) {
	t.Parallel()
	t.Run("intact", func(t *testing.T) {
		t.Parallel()
		l := newLog(t, day)
		appendN(t, l, 5)
		v, err := l.Verify(t.Context(), date)
		if err != nil || !v.Valid || v.Records != 5 || v.AnchoredRecords != 5 {
			t.Fatalf("intact day: %+v %v, want valid with 5 records anchored", v, err)
		}
	})
	t.Run("last two removed", func(t *testing.T) {
		t.Parallel()
		l := newLog(t, day)
		appendN(t, l, 5)
		if err := l.Client.XTrimMaxLen(t.Context(), l.Key(date), 3).Err(); err != nil {
			t.Fatal(err)
		}
		// Trimming from the end of a Redis stream needs XDEL: XTRIM cuts the oldest. Remove the
		// newest two the way an intruder would.
		msgs, _ := l.Client.XRange(t.Context(), l.Key(date), "-", "+").Result()
		if len(msgs) != 3 {
			t.Fatalf("%d records after XTRIM, want 3", len(msgs))
		}
		l2 := newLog(t, day)
		appendN(t, l2, 5)
		all, _ := l2.Client.XRange(t.Context(), l2.Key(date), "-", "+").Result()
		if err := l2.Client.XDel(t.Context(), l2.Key(date), all[3].ID, all[4].ID).Err(); err != nil {
			t.Fatal(err)
		}
		v, err := l2.Verify(t.Context(), date)
		if err != nil {
			t.Fatal(err)
		}
		if v.Valid || v.Records != 3 || v.AnchoredRecords != 5 || v.FirstBroken == nil || v.FirstBroken.Index != 3 ||
			!strings.Contains(v.FirstBroken.Reason, "removed from the end") {
			t.Fatalf("verification after removing the last two records: %+v (broken %+v)", v, v.FirstBroken)
		}
		// The oldest records trimmed (XTRIM): the first remaining record no longer follows the
		// genesis.
		v, err = l.Verify(t.Context(), date)
		if err != nil || v.Valid || v.FirstBroken == nil || v.FirstBroken.Index != 0 {
			t.Fatalf("verification after trimming the first two: %+v %v", v, err)
		}

		// A new callback after the truncation chains to the anchored head, not to the new end:
		// the gap stays visible, and no new append can paper over it.
		appendN(t, l2, 1)
		v, err = l2.Verify(t.Context(), date)
		if err != nil || v.Valid || v.FirstBroken == nil || v.FirstBroken.Index != 3 {
			t.Fatalf("verification after an append past the truncation: %+v (broken %+v) %v", v, v.FirstBroken, err)
		}
	})
	t.Run("anchor removed", func(t *testing.T) {
		t.Parallel()
		l := newLog(t, day)
		appendN(t, l, 2)
		if err := l.Client.Del(t.Context(), l.AnchorKey(date)).Err(); err != nil {
			t.Fatal(err)
		}
		v, err := l.Verify(t.Context(), date)
		if err != nil || v.Valid || v.AnchoredRecords != -1 || v.FirstBroken == nil || !strings.Contains(v.FirstBroken.Reason, "no anchor") {
			t.Fatalf("verification without anchor: %+v (broken %+v) %v", v, v.FirstBroken, err)
		}
	})
	t.Run("empty day", func(t *testing.T) {
		t.Parallel()
		l := newLog(t, day)
		v, err := l.Verify(t.Context(), date)
		if err != nil || !v.Valid || v.Records != 0 {
			t.Fatalf("empty day: %+v %v, want valid", v, err)
		}
	})
}
