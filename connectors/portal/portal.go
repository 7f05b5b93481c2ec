// Package portal is the gateway's side of the national public-service portal (DVCQG): the one
// small interface every portal dialect implements, and the domain types it speaks. Routing calls
// it; dialects (connectors/portal/dvcqg) translate it to a partner's wire format.
//
// The portal always receives the whole current state of a dossier, so ordering is the caller's
// concern: routing never sends an older version after a newer one (see routing/dossier_sync.go).
package portal

import (
	"context"
	"errors"
	"time"
)

// Portal is a national (or provincial) public-service portal that dossiers are synchronised to.
type Portal interface {
	// UpsertDossier sends the dossier's whole current state, creating it at the portal when the
	// portal does not know it yet and updating it otherwise.
	UpsertDossier(ctx context.Context, d Dossier) error
	// AddProgress appends one processing step to a dossier's history at the portal.
	AddProgress(ctx context.Context, s Step) error
}

// Updater is implemented by a portal that can take a dossier it already holds without the look-up
// UpsertDossier makes to choose between creating and updating. Routing uses it for a dossier it
// synced before; a bulk re-sync, which repairs a portal that may have lost the dossier, still
// upserts.
type Updater interface {
	UpdateDossier(ctx context.Context, d Dossier) error
}

// ErrRejected is wrapped by errors for requests the portal refused for their content; they are
// permanent.
var ErrRejected = errors.New("portal rejected the request")

// ErrUnknownDossier is wrapped by errors for calls about a dossier the portal does not hold. The
// dialects leave them transient (the dossier's own sync may still land); a caller that knows no
// sync of the dossier is on its way decides that the failure is permanent.
var ErrUnknownDossier = errors.New("the portal does not know the dossier")

// Status is the national dossier status code (TrangThaiHoSo), 1..10.
type Status int

// The national dossier statuses.
const (
	StatusSubmitted      Status = 1
	StatusReceived       Status = 2
	StatusRefused        Status = 3
	StatusProcessing     Status = 4
	StatusMoreDocuments  Status = 5
	StatusFeeRequested   Status = 6
	StatusWithdrawn      Status = 7
	StatusStopped        Status = 8
	StatusFinished       Status = 9
	StatusResultReturned Status = 10
)

// Valid reports whether s is one of the ten national statuses.
func (s Status) Valid() bool { return s >= 1 && s <= 10 }

// Fee is one line of a dossier's fees (DanhSachLePhi).
type Fee struct {
	Name          string // TenPhiLePhi
	Code          string // MaPhiLePhi
	PaymentMethod string // HinhThucThu
	Amount        int64  // Gia, whole VND
	Kind          string // LoaiPhiLePhi
}

// Document is one submitted or result document reference.
type Document struct {
	Code string `json:"code,omitempty"`
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Dossier is the whole current state of a dossier as the portal holds it. Personal data (Owner,
// OwnerID, Phone, Email) must never be logged.
type Dossier struct {
	Code          string    // MaHoSo
	ProcedureCode string    // MaTTHC
	ProcedureName string    // TenTTHC
	FieldCode     string    // MaLinhVuc
	FieldName     string    // TenLinhVuc
	Owner         string    // ChuHoSo
	OwnerKind     int       // LoaiDoiTuong: 1 citizen, 2 business
	OwnerID       string    // MaDoiTuong
	Phone         string    // SoDienThoai
	Email         string    // Email
	Summary       string    // TrichYeuHoSo
	ReceivedAt    time.Time // NgayTiepNhan
	DueAt         time.Time // NgayHenTra
	ReturnedAt    time.Time // NgayTra
	Status        Status    // TrangThaiHoSo
	Channel       int       // HinhThuc: 0 result in person, 1 by post
	Agency        string    // DonViXuLy
	Fees          []Fee
	Documents     []Document // TaiLieuNop
	Results       []Document // DanhSachGiayToKetQua
}

// Step is one processing step (CapNhatTienDoHoSoMC).
type Step struct {
	DossierCode string    // MaHoSo
	Handler     string    // NguoiXuLy (an official's name: personal data)
	Title       string    // ChucDanh
	At          time.Time // ThoiDiemXuLy
	Department  string    // PhongBanXuLy
	Content     string    // NoiDungXuLy
	Status      Status    // TrangThai
	StartedAt   time.Time // NgayBatDau
	DueAt       time.Time // NgayKetThucTheoQuyDinh
}
