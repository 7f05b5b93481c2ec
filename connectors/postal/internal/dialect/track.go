package dialect

import (
	"fmt"
	"strconv"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/failure"
)

// ParseCursor reads a tracking cursor: a record id, or empty for the start (0). Anything else is
// a permanent error.
func ParseCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != cursor {
		return 0, failure.MarkPermanent(fmt.Errorf("tracking cursor %q: want a non-negative record id", cursor))
	}
	return n, nil
}

// Events reads a page of tracking records after the record id after: records out of order or
// repeated are passed over (never go back), those toEvent cannot read are skipped, and the cursor
// still moves past them, so one bad record never blocks the others. next is cursor when nothing
// new came.
func Events[R any](recs []R, cursor string, after int64, id func(R) int64, toEvent func(R) (postal.Event, bool)) (events []postal.Event, next string) {
	events = make([]postal.Event, 0, len(recs))
	last := after
	for _, rec := range recs {
		if id(rec) <= last {
			continue
		}
		last = id(rec)
		if ev, ok := toEvent(rec); ok {
			events = append(events, ev)
		}
	}
	next = cursor
	if last > after {
		next = strconv.FormatInt(last, 10)
	}
	return events, next
}
