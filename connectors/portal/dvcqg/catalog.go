package dvcqg

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/egov-vn/gateway/connectors/portal"
)

// OpFetchCatalog is the operation of every catalogue call, reported to partnerhttp.
const OpFetchCatalog = "fetch_catalog"

// The adapter's catalogue services, named in domain.md §1; their request and answer shapes are
// [assumed] (see the package documentation).
const (
	serviceProcedures = "LayDanhSachTTHC"
	serviceAgencies   = "LayDanhMucCoQuan"
	serviceFields     = "LayDanhMucLinhVuc"
)

var _ portal.Catalogs = (*Client)(nil)

// catalogResult is the result of a catalogue service [assumed]: the whole list with its count,
// so a truncated answer can be told from a short catalogue.
type catalogResult[T any] struct {
	TongSo   *int `json:"TongSo"`
	DanhSach []T  `json:"DanhSach"`
}

// procedureDTO is one element of LayDanhSachTTHC's list [assumed].
type procedureDTO struct {
	MaTTHC           string   `json:"MaTTHC"`
	TenTTHC          string   `json:"TenTTHC"`
	MaLinhVuc        string   `json:"MaLinhVuc"`
	MaCoQuanThucHien []string `json:"MaCoQuanThucHien"`
	MucDo            *flexInt `json:"MucDo"`
}

// agencyDTO is one element of LayDanhMucCoQuan's list [assumed].
type agencyDTO struct {
	MaCoQuan    string `json:"MaCoQuan"`
	TenCoQuan   string `json:"TenCoQuan"`
	MaCoQuanCha string `json:"MaCoQuanCha"`
}

// fieldDTO is one element of LayDanhMucLinhVuc's list [assumed].
type fieldDTO struct {
	MaLinhVuc  string `json:"MaLinhVuc"`
	TenLinhVuc string `json:"TenLinhVuc"`
}

// Procedures reads the procedures catalogue with LayDanhSachTTHC.
func (c *Client) Procedures(ctx context.Context) ([]portal.Procedure, error) {
	items, err := fetchCatalog[procedureDTO](ctx, c, serviceProcedures)
	if err != nil {
		return nil, err
	}
	out := make([]portal.Procedure, 0, len(items))
	for _, d := range items {
		p := portal.Procedure{Code: strings.TrimSpace(d.MaTTHC), Name: strings.TrimSpace(d.TenTTHC), FieldCode: strings.TrimSpace(d.MaLinhVuc)}
		for _, a := range d.MaCoQuanThucHien {
			if a = strings.TrimSpace(a); a != "" {
				p.Agencies = append(p.Agencies, a)
			}
		}
		if d.MucDo != nil {
			p.Level = int(*d.MucDo)
		}
		out = append(out, p)
	}
	return out, checkCatalog(serviceProcedures, out, func(p portal.Procedure) (string, string) { return p.Code, p.Name })
}

// Agencies reads the agencies catalogue with LayDanhMucCoQuan.
func (c *Client) Agencies(ctx context.Context) ([]portal.Agency, error) {
	items, err := fetchCatalog[agencyDTO](ctx, c, serviceAgencies)
	if err != nil {
		return nil, err
	}
	out := make([]portal.Agency, 0, len(items))
	for _, d := range items {
		out = append(out, portal.Agency{Code: strings.TrimSpace(d.MaCoQuan), Name: strings.TrimSpace(d.TenCoQuan), Parent: strings.TrimSpace(d.MaCoQuanCha)})
	}
	return out, checkCatalog(serviceAgencies, out, func(a portal.Agency) (string, string) { return a.Code, a.Name })
}

// Fields reads the fields catalogue with LayDanhMucLinhVuc.
func (c *Client) Fields(ctx context.Context) ([]portal.Field, error) {
	items, err := fetchCatalog[fieldDTO](ctx, c, serviceFields)
	if err != nil {
		return nil, err
	}
	out := make([]portal.Field, 0, len(items))
	for _, d := range items {
		out = append(out, portal.Field{Code: strings.TrimSpace(d.MaLinhVuc), Name: strings.TrimSpace(d.TenLinhVuc)})
	}
	return out, checkCatalog(serviceFields, out, func(f portal.Field) (string, string) { return f.Code, f.Name })
}

// fetchCatalog calls one catalogue service and decodes its whole list. An answer that is not the
// expected object, has no count, is empty or holds fewer or more elements than its count wraps
// portal.ErrIncompleteCatalog.
func fetchCatalog[T any](ctx context.Context, c *Client, service string) ([]T, error) {
	var rep reply
	err := c.integrate(ctx, OpFetchCatalog, service, func(env envelope) any { return env }, &rep)
	if err != nil {
		return nil, fmt.Errorf("fetching catalogue with %s: %w", service, err)
	}
	var res catalogResult[T]
	if err := json.Unmarshal(rep.Result, &res); err != nil {
		return nil, fmt.Errorf("decoding %s: result is not the catalogue object: %w", service, portal.ErrIncompleteCatalog)
	}
	switch {
	case res.TongSo == nil:
		return nil, fmt.Errorf("decoding %s: TongSo is missing: %w", service, portal.ErrIncompleteCatalog)
	case len(res.DanhSach) == 0:
		return nil, fmt.Errorf("decoding %s: the list is empty: %w", service, portal.ErrIncompleteCatalog)
	case len(res.DanhSach) != *res.TongSo:
		return nil, fmt.Errorf("decoding %s: %d elements, TongSo says %d: %w", service, len(res.DanhSach), *res.TongSo, portal.ErrIncompleteCatalog)
	}
	return res.DanhSach, nil
}

// checkCatalog refuses a list with an element without code or name, or a code twice.
func checkCatalog[T any](service string, items []T, key func(T) (code, name string)) error {
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		code, name := key(it)
		if code == "" || name == "" {
			return fmt.Errorf("decoding %s: element %d has no code or no name: %w", service, i, portal.ErrIncompleteCatalog)
		}
		if seen[code] {
			return fmt.Errorf("decoding %s: element %d repeats a code: %w", service, i, portal.ErrIncompleteCatalog)
		}
		seen[code] = true
	}
	return nil
}
