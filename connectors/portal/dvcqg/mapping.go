package dvcqg

import (
	"errors"
	"fmt"
	"github.com/egov-vn/gateway/internal/vntime"
	"strconv"
	"time"

	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/failure"
)

// formatTime renders t as the adapter expects; the zero time is the empty string, which the
// wire structs omit.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return vntime.Format(t)
}

// reject marks a request the portal would refuse for its content: permanent, and recognisable by
// errors.Is(err, portal.ErrRejected).
func reject(action string, problems []error) error {
	return failure.MarkPermanent(fmt.Errorf("%s: %w: %w", action, portal.ErrRejected, errors.Join(problems...)))
}

// dossierToWire maps a dossier to its DongBoHoSoMC element. It refuses, before any call, what no
// portal could accept: a dossier without a code or with a status outside the national list. The
// rest is the portal's to judge.
func dossierToWire(d portal.Dossier) (dossierDTO, error) {
	var problems []error
	if d.Code == "" {
		problems = append(problems, errors.New("MaHoSo is empty"))
	}
	if !d.Status.Valid() {
		problems = append(problems, fmt.Errorf("TrangThaiHoSo %d is not a national status", int(d.Status)))
	}
	if len(problems) > 0 {
		return dossierDTO{}, reject("mapping dossier", problems)
	}
	dto := dossierDTO{
		MaHoSo:               d.Code,
		MaTTHC:               d.ProcedureCode,
		TenTTHC:              d.ProcedureName,
		MaLinhVuc:            d.FieldCode,
		TenLinhVuc:           d.FieldName,
		ChuHoSo:              d.Owner,
		LoaiDoiTuong:         strconv.Itoa(d.OwnerKind),
		MaDoiTuong:           d.OwnerID,
		SoDienThoai:          d.Phone,
		Email:                d.Email,
		TrichYeuHoSo:         d.Summary,
		NgayTiepNhan:         formatTime(d.ReceivedAt),
		NgayHenTra:           formatTime(d.DueAt),
		TrangThaiHoSo:        strconv.Itoa(int(d.Status)),
		NgayTra:              formatTime(d.ReturnedAt),
		HinhThuc:             strconv.Itoa(d.Channel),
		DonViXuLy:            d.Agency,
		TaiLieuNop:           make([]submittedDTO, 0, len(d.Documents)),
		DanhSachLePhi:        make([]feeDTO, 0, len(d.Fees)),
		DanhSachGiayToKetQua: make([]resultDTO, 0, len(d.Results)),
	}
	for _, doc := range d.Documents {
		dto.TaiLieuNop = append(dto.TaiLieuNop, submittedDTO{
			MaThanhPhanHoSo:   doc.Code,
			TenTepDinhKem:     doc.Name,
			DuongDanTaiTepTin: doc.URL,
		})
	}
	for _, f := range d.Fees {
		dto.DanhSachLePhi = append(dto.DanhSachLePhi, feeDTO{
			TenPhiLePhi:  f.Name,
			MaPhiLePhi:   f.Code,
			HinhThucThu:  f.PaymentMethod,
			Gia:          f.Amount,
			LoaiPhiLePhi: f.Kind,
		})
	}
	for _, doc := range d.Results {
		dto.DanhSachGiayToKetQua = append(dto.DanhSachGiayToKetQua, resultDTO{
			MaThanhPhanHoSo:      doc.Code,
			TenGiayTo:            doc.Name,
			DuongDanTepTinKetQua: doc.URL,
		})
	}
	return dto, nil
}

// stepToWire maps a processing step to its CapNhatTienDoHoSoMC element, refusing a step without
// its dossier's code, its time or a national status.
func stepToWire(s portal.Step) (stepDTO, error) {
	var problems []error
	if s.DossierCode == "" {
		problems = append(problems, errors.New("MaHoSo is empty"))
	}
	if s.At.IsZero() {
		problems = append(problems, errors.New("ThoiDiemXuLy is missing"))
	}
	if !s.Status.Valid() {
		problems = append(problems, fmt.Errorf("TrangThai %d is not a national status", int(s.Status)))
	}
	if len(problems) > 0 {
		return stepDTO{}, reject("mapping step", problems)
	}
	return stepDTO{
		MaHoSo:                 s.DossierCode,
		NguoiXuLy:              s.Handler,
		ChucDanh:               s.Title,
		ThoiDiemXuLy:           formatTime(s.At),
		PhongBanXuLy:           s.Department,
		NoiDungXuLy:            s.Content,
		TrangThai:              strconv.Itoa(int(s.Status)),
		NgayBatDau:             formatTime(s.StartedAt),
		NgayKetThucTheoQuyDinh: formatTime(s.DueAt),
	}, nil
}
