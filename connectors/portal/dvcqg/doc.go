// Package dvcqg is the portal dialect of the National Public Service Portal (Cổng Dịch vụ công
// quốc gia, DVCQG) as reached through the national/provincial integration adapter. It implements
// portal.Portal with the adapter's JSON contract as documented in the gateway's domain reference
// (domain.md §1), which was reconstructed from VietOpenCPS/opencps-v2
// (DVCQGIntegrationActionImpl), the one public client of that adapter. VPCP's own onboarding
// document is not public: everything below marked [assumed] is an inference that a province must
// check against the contract it signs.
//
// # Transport
//
//   - Login: POST {AuthPath} with header dstcode and JSON {username, password}; the reply is
//     {session, error_code: 0}. The session is cached and shared by every caller; concurrent
//     callers that find no session wait for one login instead of each logging in.
//   - Every service: POST {IntegrationPath} with header dstcode and JSON
//     {session, madonvi, service, ...}. Success is error_code "00" or the integer 0 (both are seen
//     in the wild; any all-zero code counts).
//   - UpsertDossier: TraCuuHoSo {MaHoSo} (a non-empty result means the portal knows the dossier),
//     then DongBoHoSoMC {isUpdating: "True"|"False", data: [dossier]}.
//   - AddProgress: CapNhatTienDoHoSoMC {data: [step]}.
//   - LookupDossier (portal.Lookup, for the status reconciliation): TraCuuHoSo {MaHoSo}; the
//     result is read as the dossier in DongBoHoSoMC's field names [assumed] (see lookup.go).
//
// Operations reported to partnerhttp (metric labels, a closed set): login, lookup_dossier,
// sync_dossier, add_progress. The dialect never retries by itself except for the one re-login
// described below; every other retry belongs to routing.
//
// # Authentication errors [assumed]
//
// The adapter's session lifetime is not published, so the dialect keeps no clock of its own: it
// logs in again when a call answers HTTP 401 or error_code 01 ("session invalid or expired"),
// and retries that call once with the new session. A second authentication error in a row is
// returned as a transient error: the credentials or the adapter need an operator, and the message
// must survive until one acts.
//
// # Error codes [assumed beyond 00]
//
// Codes compare numerically when they are digits, so "01" and 1 are the same code.
//
//	code     meaning                                   verdict
//	00 / 0   success                                   -
//	01       session invalid or expired                re-login and retry once, then transient
//	02       wrong username or password (login)        transient: ops must fix the credentials
//	03       dstcode or madonvi not accepted           transient: ops must fix the configuration
//	10       data rejected (missing or invalid field)  permanent, wraps portal.ErrRejected
//	11       dossier unknown to the portal             transient (the dossier's sync may still land),
//	                                                   wraps portal.ErrUnknownDossier for callers to decide
//	other    adapter failure or unknown code           transient
//
// An HTTP 400 or 422 answer is a data rejection too (permanent, wraps portal.ErrRejected); every
// other non-2xx answer is classified by the shared failure package. A reply that is not the
// expected JSON (a proxy's HTML error page, say) is transient.
//
// # Wire format [assumed where marked]
//
//   - Dates are yyyyMMddHHmmss in Asia/Ho_Chi_Minh. The zone is fixed at UTC+07:00 (Vietnam has
//     no daylight saving time), which also spares the binary a tzdata dependency. A zero time is
//     omitted from the request.
//   - The code fields LoaiDoiTuong, TrangThaiHoSo, HinhThuc and TrangThai travel as decimal
//     strings, as OpenCPS sends them [assumed].
//   - HinhThuc is the way the result is returned: 0 in person, 1 by post [assumed]. It is not the
//     reception channel (1 in person, 2 online, 3 by post), which DongBoHoSoMC does not carry.
//   - Gia (a fee line's amount) is a JSON integer of whole VND [assumed].
//   - Documents: TaiLieuNop items carry MaThanhPhanHoSo, TenTepDinhKem, DuongDanTaiTepTin;
//     DanhSachGiayToKetQua items carry MaThanhPhanHoSo, TenGiayTo, DuongDanTepTinKetQua (field
//     names from OpenCPS; the mapping of our code/name/URL onto them is [assumed]).
//   - The lists TaiLieuNop, DanhSachLePhi and DanhSachGiayToKetQua are always sent, empty when
//     there is nothing, because the portal receives the whole current state: an omitted list
//     could be read as "unchanged".
//
// # Dossiers submitted on the portal [assumed]
//
// The services that hand the province the dossiers citizens submit on the portal are not public;
// the dialect assumes two, through the same session and envelope as every other service:
//
//   - FetchSubmissions: LayDanhSachHoSoDVCQG {TuSoThuTu, SoLuong} answers result: [element...],
//     the submissions for madonvi after sequence number TuSoThuTu, at most SoLuong (1..500), in
//     increasing SoThuTu. An element is a DongBoHoSoMC dossier plus SoThuTu and NgayNopHoSo
//     (yyyyMMddHHmmss); DonViXuLy names the agency that must handle it. The cursor the gateway
//     keeps is the last SoThuTu read. A page whose SoThuTu is missing or does not increase is
//     refused whole (the cursor stays); an element without MaHoSo, MaTTHC or DonViXuLy (or with
//     one that is not a plain code of letters, digits and . _ - /), with
//     LoaiDoiTuong outside 1|2, HinhThuc outside 0|1, a bad NgayNopHoSo or a negative Gia is
//     reported as invalid and skipped. The applicant's fields (ChuHoSo, MaDoiTuong, SoDienThoai,
//     Email, TrichYeuHoSo) are not decoded at all.
//   - AcknowledgeSubmission: XacNhanHoSoDVCQG {MaHoSo}, error_code 00; acknowledging twice is
//     harmless; 11 means the portal does not know the dossier.
//
// Operations: fetch_submissions, ack_submission.
//
// # Catalogues [assumed beyond the service names]
//
// LayDanhSachTTHC (procedures), LayDanhMucCoQuan (agencies) and LayDanhMucLinhVuc (fields) are
// named in public code; their shapes are assumed: the envelope alone as the request, and
// result: {TongSo, DanhSach: [element...]} as the whole catalogue of madonvi. Elements:
// {MaTTHC, TenTTHC, MaLinhVuc, MaCoQuanThucHien: [MaCoQuan], MucDo}, {MaCoQuan, TenCoQuan,
// MaCoQuanCha}, {MaLinhVuc, TenLinhVuc}. An answer that is not that object, has no TongSo, holds
// a number of elements other than TongSo (truncated), is empty, or has an element without code
// or name or a code twice wraps portal.ErrIncompleteCatalog, so the caller keeps its last good
// catalogue. LayThuTuc (one procedure's details) is not used. Operation: fetch_catalog.
//
// # Personal data
//
// ChuHoSo, MaDoiTuong, SoDienThoai, Email and NguoiXuLy are personal data. Errors from this package
// name the service, the operation and the partner's code only; the reply's message and body are
// never read into an error, since adapters are known to echo the request back. The package does not
// log.
package dvcqg
