// Package sandbox is a fake DVCQG integration adapter speaking the same wire format as the real
// one (see connectors/portal/dvcqg): the contract tests run every portal dialect against it, the
// gateway's dev profile mounts it at /sandbox/dvcqg/, and partnersim serves it standalone.
//
// Paths are relative to the mount point (mount it with http.StripPrefix):
//
//	POST /auth              login: {username, password} + header dstcode → {session, error_code: 0}
//	POST /integration       the services TraCuuHoSo, DongBoHoSoMC, CapNhatTienDoHoSoMC, and
//	                        LayDanhSachHoSoDVCQG, XacNhanHoSoDVCQG, LayDanhSachTTHC,
//	                        LayDanhMucCoQuan, LayDanhMucLinhVuc (national.go)
//	GET  /dossiers          the dossiers received: code and counts, and the number of logins
//	GET  /dossiers/{MaHoSo} {dossier: latest DongBoHoSoMC state as received, steps, upserts,
//	                        creates, updates}
//	POST /submissions       a citizen submits a dossier on the portal: one DongBoHoSoMC-like
//	                        object (MaHoSo required; SoThuTu assigned, NgayNopHoSo defaults to
//	                        now); the same MaHoSo twice is served twice
//	GET  /submissions       every entry: SoThuTu, MaHoSo, times served, acknowledgements
//	GET|PUT /catalogs/{procedures|agencies|fields}   a catalogue's wire elements; PUT replaces it
//	PUT  /catalogs/{name}/break  {"mode": "truncated" | "malformed" | ""} breaks its answers
//	GET|PUT /faults         fault injection (internal/faults); it applies to /auth and
//	                        /integration only, never to inspection
//	POST /sessions/expire   invalidates every session, so tests can prove a transparent re-login
//	GET|PUT /drop           {"dossiers": [MaHoSo...], "rate": 0..1, "next": N}: valid
//	                        DongBoHoSoMC updates matching it are answered "00" and not applied,
//	                        so the status reconciliation has drift to find (drop.go)
//
// The adapter's answers: HTTP 200 with error_code "00" on success (the login answers the integer
// 0, as the real one does), otherwise HTTP 200 with a non-zero code and a message naming the
// offending field, never its value:
//
//	01  session missing, unknown or expired (sessions live Config.SessionTTL)
//	02  wrong username or password
//	03  dstcode not accepted, or madonvi empty
//	04  unknown service
//	10  data rejected: a required field missing, a code out of range, a malformed date or amount
//	11  CapNhatTienDoHoSoMC for a dossier the sandbox has never received
//
// A body that is not JSON is answered HTTP 400. The checks follow the dvcqg dialect's documented
// assumptions: TrangThaiHoSo and TrangThai 1..10, LoaiDoiTuong 1|2, HinhThuc 0|1, dates
// yyyyMMddHHmmss, Gia a non-negative whole number of VND; MaHoSo and MaTTHC required, and
// ThoiDiemXuLy required on a step. Code fields are accepted as strings or numbers.
//
// Every step is recorded in arrival order, duplicates included, so a test can see a step sent
// twice. DongBoHoSoMC's isUpdating is recorded (creates for "False", updates for "True") but not
// enforced against what the sandbox holds, as a lenient portal would behave; tests assert on the
// counts. The Sandbox is safe for concurrent use.
package sandbox
