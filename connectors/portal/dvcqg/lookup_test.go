package dvcqg_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/connectors/portal/dvcqg"
	"github.com/egov-vn/gateway/connectors/portal/portaltest"
	"github.com/egov-vn/gateway/internal/failure"
)

// TestLookupReadsWhatWasSynced: the sandbox answers TraCuuHoSo with what DongBoHoSoMC sent, and
// the dialect reads back the compared fields; an unknown code is "not found", not an error.
func TestLookupReadsWhatWasSynced(t *testing.T) {
	t.Parallel()
	p, _ := newDialect(t)
	c := p.(*dvcqg.Client)
	d := portaltest.Dossier("H37-LK-0001")
	d.Fees = append(d.Fees, portal.Fee{Code: "P-TD", Amount: 25000, Kind: "1"})
	if err := c.UpsertDossier(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	got, found, err := c.LookupDossier(t.Context(), d.Code)
	if err != nil || !found {
		t.Fatalf("lookup: %v, found %v", err, found)
	}
	if want, have := portal.ComparableOf(d), portal.ComparableOf(got); want != have {
		t.Fatalf("compared fields %+v, want %+v", have, want)
	}
	if got.Code != d.Code || got.Owner != "" || got.OwnerID != "" {
		t.Fatalf("dossier %+v: want the code and no personal data decoded", got)
	}
	_, found, err = c.LookupDossier(t.Context(), "H37-LK-UNKNOWN")
	if err != nil || found {
		t.Fatalf("unknown dossier: %v, found %v; want not found", err, found)
	}
}

// TestLookupReplyShapes: the assumed shapes are read (object or list, numbers or strings); a
// result it cannot read is a transient error, never "not found".
func TestLookupReplyShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, result string
		status       portal.Status
		fees         int64
		due          string
		err          bool
	}{
		{"list of one", `[{"MaHoSo":"C1","TrangThaiHoSo":"4","NgayHenTra":"20261130170000","DanhSachLePhi":[{"MaPhiLePhi":"A","Gia":"1000"},{"MaPhiLePhi":"B","Gia":500}]}]`, 4, 1500, "20261130170000", false},
		{"object with numbers", `{"MaHoSo":"C1","TrangThaiHoSo":9,"DanhSachLePhi":[]}`, 9, 0, "", false},
		{"list holding others", `[{"MaHoSo":"X9","TrangThaiHoSo":"2"},{"MaHoSo":"C1","TrangThaiHoSo":"6"}]`, 6, 0, "", false},
		{"only other dossiers", `[{"MaHoSo":"X9","TrangThaiHoSo":"2"}]`, 0, 0, "", true},
		{"status out of range", `[{"MaHoSo":"C1","TrangThaiHoSo":"12"}]`, 0, 0, "", true},
		{"bad date", `[{"MaHoSo":"C1","TrangThaiHoSo":"2","NgayHenTra":"30/11/2026"}]`, 0, 0, "", true},
		{"negative fee", `[{"MaHoSo":"C1","TrangThaiHoSo":"2","DanhSachLePhi":[{"Gia":-5}]}]`, 0, 0, "", true},
		{"text", `"found"`, 0, 0, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeAdapter{integrate: func(int, captured) (int, string) {
				return http.StatusOK, `{"error_code":"00","result":` + tc.result + `}`
			}}
			c := newClient(t, f.start(t))
			d, found, err := c.LookupDossier(t.Context(), "C1")
			if tc.err {
				if err == nil || found || failure.IsPermanent(err) {
					t.Fatalf("lookup: %v, found %v; want a transient error", err, found)
				}
				if strings.Contains(err.Error(), "30/11/2026") {
					t.Fatalf("error %q quotes the reply", err)
				}
				return
			}
			cmp := portal.ComparableOf(d)
			if err != nil || !found || cmp.Status != tc.status || cmp.FeeTotal != tc.fees || cmp.DueAt != tc.due {
				t.Fatalf("lookup: %v, found %v, %+v; want status %d, fees %d, due %q", err, found, cmp, tc.status, tc.fees, tc.due)
			}
		})
	}
	f := &fakeAdapter{}
	c := newClient(t, f.start(t))
	if _, _, err := c.LookupDossier(t.Context(), " "); !errors.Is(err, portal.ErrRejected) {
		t.Fatalf("empty code: %v, want a rejection before any call", err)
	}
	if _, calls := f.snapshot(); len(calls) != 0 {
		t.Fatalf("%d calls for an empty code", len(calls))
	}
}
