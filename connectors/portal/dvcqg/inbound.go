package dvcqg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/vntime"
)

// Operations of the portal-to-province direction, reported to partnerhttp (metric labels).
const (
	OpFetchSubmissions = "fetch_submissions"
	OpAckSubmission    = "ack_submission"
)

// The adapter's services for dossiers submitted on the portal [assumed]: their names and shapes
// are not public (see the package documentation).
const (
	serviceSubmissions    = "LayDanhSachHoSoDVCQG"
	serviceAckSubmission  = "XacNhanHoSoDVCQG"
	maxSubmissionsPerPage = 500
)

var _ portal.Inbox = (*Client)(nil)

// submissionsRequest asks for the submissions after a sequence number [assumed].
type submissionsRequest struct {
	envelope
	TuSoThuTu int64 `json:"TuSoThuTu"`
	SoLuong   int   `json:"SoLuong"`
}

// ackRequest acknowledges one submission [assumed].
type ackRequest struct {
	envelope
	MaHoSo string `json:"MaHoSo"`
}

// submissionDTO is one element of the submissions' result [assumed]. The applicant's fields
// (ChuHoSo, MaDoiTuong, SoDienThoai, Email, TrichYeuHoSo) are deliberately not decoded.
type submissionDTO struct {
	SoThuTu       *flexInt       `json:"SoThuTu"`
	MaHoSo        string         `json:"MaHoSo"`
	MaTTHC        string         `json:"MaTTHC"`
	TenTTHC       string         `json:"TenTTHC"`
	MaLinhVuc     string         `json:"MaLinhVuc"`
	DonViXuLy     string         `json:"DonViXuLy"`
	LoaiDoiTuong  *flexInt       `json:"LoaiDoiTuong"`
	NgayNopHoSo   string         `json:"NgayNopHoSo"`
	HinhThuc      *flexInt       `json:"HinhThuc"`
	TaiLieuNop    []submittedDTO `json:"TaiLieuNop"`
	DanhSachLePhi []feeDTO       `json:"DanhSachLePhi"`
}

// plainCode is what a dossier, procedure or agency code may hold.
var plainCode = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._/-]{0,63}$`)

// flexInt is an integer sent as a JSON number or as a decimal string, as the adapter's code
// fields are.
type flexInt int64

// UnmarshalJSON accepts 12 and "12".
func (n *flexInt) UnmarshalJSON(b []byte) error {
	var c resultCode
	if err := c.UnmarshalJSON(b); err != nil {
		return err
	}
	v, err := strconv.ParseInt(string(c), 10, 64)
	if err != nil {
		return errors.New("not an integer")
	}
	*n = flexInt(v)
	return nil
}

// FetchSubmissions reads the submissions after cursor with LayDanhSachHoSoDVCQG. The cursor is
// the last sequence number (SoThuTu) read, in decimal; "" is the beginning.
func (c *Client) FetchSubmissions(ctx context.Context, cursor string, limit int) (portal.SubmissionPage, error) {
	var after int64
	if cursor != "" {
		v, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || v < 0 {
			return portal.SubmissionPage{}, fmt.Errorf("reading cursor: %q is not a sequence number", cursor)
		}
		after = v
	}
	if limit <= 0 || limit > maxSubmissionsPerPage {
		limit = maxSubmissionsPerPage
	}
	var rep reply
	err := c.integrate(ctx, OpFetchSubmissions, serviceSubmissions, func(env envelope) any {
		return submissionsRequest{envelope: env, TuSoThuTu: after, SoLuong: limit}
	}, &rep)
	if err != nil {
		return portal.SubmissionPage{}, fmt.Errorf("fetching submissions with %s: %w", serviceSubmissions, err)
	}
	return submissionsFromWire(rep.Result, after, limit)
}

// submissionsFromWire reads a page. The page as a whole must be a list whose elements carry an
// increasing SoThuTu after the cursor; otherwise it is refused and the cursor stays. An element
// that is readable that far but lacks a field the province needs is reported as invalid.
func submissionsFromWire(raw json.RawMessage, after int64, limit int) (portal.SubmissionPage, error) {
	page := portal.SubmissionPage{Next: strconv.FormatInt(after, 10)}
	if !nonEmpty(raw) {
		if after == 0 {
			page.Next = ""
		}
		return page, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return portal.SubmissionPage{}, fmt.Errorf("decoding submissions: result is not a list: %w", errMalformedReply)
	}
	last := after
	for i, item := range items {
		var d submissionDTO
		if err := json.Unmarshal(item, &d); err != nil || d.SoThuTu == nil {
			return portal.SubmissionPage{}, fmt.Errorf("decoding submissions: element %d has no readable SoThuTu: %w", i, errMalformedReply)
		}
		seq := int64(*d.SoThuTu)
		if seq <= last {
			return portal.SubmissionPage{}, fmt.Errorf("decoding submissions: element %d: SoThuTu does not increase: %w", i, errMalformedReply)
		}
		last = seq
		s, problems := submissionFromWire(d)
		if len(problems) > 0 {
			page.Invalid = append(page.Invalid, portal.InvalidSubmission{Code: s.Code, Problem: strings.Join(problems, "; ")})
			continue
		}
		page.Submissions = append(page.Submissions, s)
	}
	page.Next = strconv.FormatInt(last, 10)
	page.More = len(items) >= limit
	return page, nil
}

func submissionFromWire(d submissionDTO) (portal.Submission, []string) {
	var problems []string
	s := portal.Submission{
		Code: strings.TrimSpace(d.MaHoSo), ProcedureCode: strings.TrimSpace(d.MaTTHC), ProcedureName: d.TenTTHC,
		FieldCode: d.MaLinhVuc, Agency: strings.TrimSpace(d.DonViXuLy),
	}
	for _, f := range []struct {
		name  string
		value *string
	}{{"MaHoSo", &s.Code}, {"MaTTHC", &s.ProcedureCode}, {"DonViXuLy", &s.Agency}} {
		switch {
		case *f.value == "":
			problems = append(problems, f.name+" is required")
		case !plainCode.MatchString(*f.value):
			// A code is used in keys, logs and the timeline: nothing but a plain code gets there.
			problems = append(problems, f.name+" must be 1..64 letters, digits or . _ - /")
			*f.value = ""
		}
	}
	if d.LoaiDoiTuong == nil || (*d.LoaiDoiTuong != 1 && *d.LoaiDoiTuong != 2) {
		problems = append(problems, "LoaiDoiTuong must be 1 or 2")
	} else {
		s.OwnerKind = int(*d.LoaiDoiTuong)
	}
	if d.HinhThuc != nil {
		if *d.HinhThuc != 0 && *d.HinhThuc != 1 {
			problems = append(problems, "HinhThuc must be 0 or 1")
		}
		s.Channel = int(*d.HinhThuc)
	}
	at, err := vntime.Parse(d.NgayNopHoSo)
	if err != nil {
		problems = append(problems, "NgayNopHoSo must be a date yyyyMMddHHmmss")
	}
	s.SubmittedAt = at
	for _, doc := range d.TaiLieuNop {
		s.Documents = append(s.Documents, portal.Document{Code: doc.MaThanhPhanHoSo, Name: doc.TenTepDinhKem, URL: doc.DuongDanTaiTepTin})
	}
	for i, f := range d.DanhSachLePhi {
		if f.Gia < 0 {
			problems = append(problems, fmt.Sprintf("DanhSachLePhi[%d].Gia must not be negative", i))
		}
		s.Fees = append(s.Fees, portal.Fee{Name: f.TenPhiLePhi, Code: f.MaPhiLePhi, PaymentMethod: f.HinhThucThu, Amount: f.Gia, Kind: f.LoaiPhiLePhi})
	}
	return s, problems
}

// AcknowledgeSubmission confirms with XacNhanHoSoDVCQG that the province took the dossier over.
func (c *Client) AcknowledgeSubmission(ctx context.Context, code string) error {
	if strings.TrimSpace(code) == "" {
		return reject("acknowledging submission", []error{errors.New("MaHoSo is empty")})
	}
	err := c.integrate(ctx, OpAckSubmission, serviceAckSubmission, func(env envelope) any {
		return ackRequest{envelope: env, MaHoSo: code}
	}, nil)
	if err != nil {
		return fmt.Errorf("acknowledging submission with %s: %w", serviceAckSubmission, err)
	}
	return nil
}
