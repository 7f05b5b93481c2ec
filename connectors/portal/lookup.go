package portal

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/egov-vn/gateway/internal/vntime"
)

// Lookup reads the portal's own view of a dossier. The status reconciliation compares it with
// what the gateway last sent (internal/portalsync). A dialect implements it next to Portal.
type Lookup interface {
	// LookupDossier returns the dossier as the portal holds it; found is false when the portal
	// does not know the code. Fields the portal does not return stay zero.
	LookupDossier(ctx context.Context, code string) (d Dossier, found bool, err error)
}

// Comparable is what the status reconciliation compares of a dossier: no personal data.
type Comparable struct {
	Status     Status
	FeeTotal   int64  // sum of the fee lines, whole VND
	Fees       string // the fee lines as "code=amount" joined by ";", in order
	DueAt      string // NgayHenTra, yyyyMMddHHmmss in Vietnam's time, "" when absent
	ReturnedAt string // NgayTra, likewise
}

// ComparableOf extracts the compared fields of d.
func ComparableOf(d Dossier) Comparable {
	c := Comparable{Status: d.Status, DueAt: stamp(d.DueAt), ReturnedAt: stamp(d.ReturnedAt)}
	lines := make([]string, 0, len(d.Fees))
	for _, f := range d.Fees {
		c.FeeTotal += f.Amount
		lines = append(lines, f.Code+"="+strconv.FormatInt(f.Amount, 10))
	}
	c.Fees = strings.Join(lines, ";")
	return c
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return vntime.Format(t)
}
