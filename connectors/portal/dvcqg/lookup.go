package dvcqg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/vntime"
)

var _ portal.Lookup = (*Client)(nil)

// LookupDossier reads the portal's state of a dossier with TraCuuHoSo {MaHoSo}.
//
// [assumed] The public material says only that a non-empty result means the portal knows the
// dossier. The dialect assumes the result is the dossier as DongBoHoSoMC carries it (the same
// field names), either a list holding it or the object itself; codes and amounts may arrive as
// strings or numbers, dates as yyyyMMddHHmmss. A result that is not such an object (or a list
// of several dossiers, none with the code asked) is a transient malformed-reply error, never
// "not found": the reconciliation must not report a dossier missing on a reply it cannot read.
// Only the fields the reconciliation compares and the dossier's identity are read: MaHoSo,
// MaTTHC, TrangThaiHoSo, NgayTiepNhan, NgayHenTra, NgayTra, DonViXuLy, DanhSachLePhi. Personal
// data in the result is never decoded.
func (c *Client) LookupDossier(ctx context.Context, code string) (portal.Dossier, bool, error) {
	if strings.TrimSpace(code) == "" {
		return portal.Dossier{}, false, reject("looking up dossier", []error{errors.New("MaHoSo is empty")})
	}
	var rep reply
	err := c.integrate(ctx, opLookup, serviceLookup, func(env envelope) any {
		return lookupRequest{envelope: env, MaHoSo: code}
	}, &rep)
	if err != nil {
		return portal.Dossier{}, false, fmt.Errorf("looking up dossier with %s: %w", serviceLookup, err)
	}
	if !nonEmpty(rep.Result) {
		return portal.Dossier{}, false, nil
	}
	dto, err := lookedUp(rep.Result, code)
	if err != nil {
		return portal.Dossier{}, false, fmt.Errorf("reading %s result: %w", serviceLookup, err)
	}
	d, err := dto.dossier()
	if err != nil {
		return portal.Dossier{}, false, fmt.Errorf("reading %s result: %w", serviceLookup, err)
	}
	return d, true, nil
}

// lookupDTO is the part of TraCuuHoSo's result the dialect reads [assumed].
type lookupDTO struct {
	MaHoSo        flexText `json:"MaHoSo"`
	MaTTHC        flexText `json:"MaTTHC"`
	TrangThaiHoSo flexText `json:"TrangThaiHoSo"`
	NgayTiepNhan  flexText `json:"NgayTiepNhan"`
	NgayHenTra    flexText `json:"NgayHenTra"`
	NgayTra       flexText `json:"NgayTra"`
	DonViXuLy     flexText `json:"DonViXuLy"`
	DanhSachLePhi []struct {
		MaPhiLePhi   flexText `json:"MaPhiLePhi"`
		HinhThucThu  flexText `json:"HinhThucThu"`
		Gia          flexText `json:"Gia"`
		LoaiPhiLePhi flexText `json:"LoaiPhiLePhi"`
	} `json:"DanhSachLePhi"`
}

// lookedUp picks the dossier out of the result: the object itself, or the list element with the
// code asked (a list of one is taken as it is).
func lookedUp(raw json.RawMessage, code string) (lookupDTO, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var d lookupDTO
		if err := json.Unmarshal(raw, &d); err != nil {
			return lookupDTO{}, errMalformedReply
		}
		return d, nil
	}
	var list []lookupDTO
	if err := json.Unmarshal(raw, &list); err != nil {
		return lookupDTO{}, errMalformedReply
	}
	for _, d := range list {
		if string(d.MaHoSo) == code {
			return d, nil
		}
	}
	if len(list) == 1 && list[0].MaHoSo == "" {
		return list[0], nil
	}
	return lookupDTO{}, fmt.Errorf("no element for the dossier asked: %w", errMalformedReply)
}

func (d lookupDTO) dossier() (portal.Dossier, error) {
	var problems []error
	out := portal.Dossier{Code: string(d.MaHoSo), ProcedureCode: string(d.MaTTHC), Agency: string(d.DonViXuLy)}
	if st, err := strconv.Atoi(string(d.TrangThaiHoSo)); err == nil && portal.Status(st).Valid() {
		out.Status = portal.Status(st)
	} else {
		problems = append(problems, errors.New("TrangThaiHoSo is not a national status"))
	}
	for _, f := range []struct {
		name string
		v    flexText
		to   *time.Time
	}{{"NgayTiepNhan", d.NgayTiepNhan, &out.ReceivedAt}, {"NgayHenTra", d.NgayHenTra, &out.DueAt}, {"NgayTra", d.NgayTra, &out.ReturnedAt}} {
		if f.v == "" {
			continue
		}
		t, err := vntime.Parse(string(f.v))
		if err != nil {
			problems = append(problems, fmt.Errorf("%s is not a date yyyyMMddHHmmss", f.name))
			continue
		}
		*f.to = t
	}
	for i, fee := range d.DanhSachLePhi {
		amount, err := strconv.ParseInt(string(fee.Gia), 10, 64)
		if err != nil || amount < 0 {
			problems = append(problems, fmt.Errorf("DanhSachLePhi[%d].Gia is not a whole number of VND", i))
			continue
		}
		out.Fees = append(out.Fees, portal.Fee{Code: string(fee.MaPhiLePhi), PaymentMethod: string(fee.HinhThucThu),
			Amount: amount, Kind: string(fee.LoaiPhiLePhi)})
	}
	if len(problems) > 0 {
		return portal.Dossier{}, fmt.Errorf("%w: %w", errMalformedReply, errors.Join(problems...))
	}
	return out, nil
}

// flexText is a field the adapter may send as a string or a number; null and absent are "".
type flexText string

// UnmarshalJSON accepts a string or a number literal.
func (f *flexText) UnmarshalJSON(b []byte) error {
	s, err := textOrNumber(b, errNotTextOrNumber)
	if err != nil {
		return err
	}
	*f = flexText(s)
	return nil
}

var errNotTextOrNumber = errors.New("neither a string nor a number")
