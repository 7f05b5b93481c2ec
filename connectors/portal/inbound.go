package portal

import (
	"context"
	"time"
)

// Inbox is a portal that citizens submit dossiers to, for the province to handle: the gateway
// polls it with a cursor and acknowledges each submission once the one-stop system has accepted
// it. It is separate from Portal so that dialects without submissions need not implement it.
type Inbox interface {
	// FetchSubmissions returns up to limit submissions after cursor ("" for the beginning), in
	// the portal's order. Page.Next is the cursor to ask with next time; it moves past the
	// invalid entries too, which are reported in Page.Invalid rather than dropped silently.
	FetchSubmissions(ctx context.Context, cursor string, limit int) (SubmissionPage, error)
	// AcknowledgeSubmission tells the portal that the province has taken the dossier over.
	// Acknowledging a dossier twice is harmless.
	AcknowledgeSubmission(ctx context.Context, code string) error
}

// SubmissionPage is one answer of FetchSubmissions.
type SubmissionPage struct {
	Submissions []Submission
	// Invalid are the entries of the page that cannot be delivered (a required field missing or
	// malformed); they are counted and logged by code, never delivered.
	Invalid []InvalidSubmission
	// Next is the cursor after this page; equal to the cursor asked with when the page is empty.
	Next string
	// More is true when the portal has more submissions after Next right now.
	More bool
}

// InvalidSubmission names an entry of a page that could not be read, and why (field names only,
// never values).
type InvalidSubmission struct {
	Code    string // MaHoSo, when present
	Problem string
}

// Submission is a dossier a citizen submitted on the national portal. The applicant's personal
// data stays at the portal: the one-stop system reads it there with the dossier code.
type Submission struct {
	Code          string    // MaHoSo, the national dossier code
	ProcedureCode string    // MaTTHC
	ProcedureName string    // TenTTHC
	FieldCode     string    // MaLinhVuc
	Agency        string    // DonViXuLy: the agency that must handle it
	OwnerKind     int       // LoaiDoiTuong: 1 citizen, 2 business
	SubmittedAt   time.Time // NgayNopHoSo
	Channel       int       // HinhThuc: 0 result in person, 1 by post
	Documents     []Document
	Fees          []Fee
}
