package dialect

import (
	"testing"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/failure"
)

func TestParseCursor(t *testing.T) {
	t.Parallel()
	if n, err := ParseCursor(""); n != 0 || err != nil {
		t.Fatalf("empty cursor = %d, %v", n, err)
	}
	if n, err := ParseCursor("42"); n != 42 || err != nil {
		t.Fatalf("42 = %d, %v", n, err)
	}
	for _, bad := range []string{"-1", "007", "x", "1e3", "99999999999999999999"} {
		if _, err := ParseCursor(bad); !failure.IsPermanent(err) {
			t.Errorf("%q: %v, want a permanent error", bad, err)
		}
	}
}

func TestEventsMovesPastUnreadableAndRepeated(t *testing.T) {
	t.Parallel()
	type rec struct {
		id int64
		ok bool
	}
	read := func(r rec) (postal.Event, bool) { return postal.Event{Number: "n", Cursor: "c"}, r.ok }
	id := func(r rec) int64 { return r.id }
	evs, next := Events([]rec{{5, true}, {4, true}, {7, false}, {7, true}, {9, true}}, "3", 3, id, read)
	if len(evs) != 2 || next != "9" {
		t.Fatalf("events = %d, next = %q; want 2 (5 and 9), 9", len(evs), next)
	}
	if evs, next := Events([]rec{{2, true}}, "3", 3, id, read); len(evs) != 0 || next != "3" {
		t.Fatalf("nothing new: %d events, next %q; want none, 3", len(evs), next)
	}
}

func TestCheckShared(t *testing.T) {
	t.Parallel()
	if errs := CheckShared("x", nil, 1001); len(errs) != 2 {
		t.Fatalf("nil resolver and page size 1001: %v, want two problems", errs)
	}
	ps, rb := 0, DefaultRenewBefore*0
	if err := Build("x", nil, nil, &ps, &rb); err == nil {
		t.Fatal("nil partner client accepted")
	}
}
