package portal

import (
	"context"
	"errors"
)

// Catalogs is a portal that publishes the national catalogues: administrative procedures,
// agencies and fields. Like Inbox, it is an interface of its own, apart from Portal.
type Catalogs interface {
	Procedures(ctx context.Context) ([]Procedure, error)
	Agencies(ctx context.Context) ([]Agency, error)
	Fields(ctx context.Context) ([]Field, error)
}

// ErrIncompleteCatalog is wrapped by errors for a catalogue answer that is truncated or malformed:
// the caller must keep the last good catalogue.
var ErrIncompleteCatalog = errors.New("catalogue answer incomplete or malformed")

// Procedure is one national administrative procedure (thủ tục hành chính).
type Procedure struct {
	Code      string   `json:"code"`               // MaTTHC, e.g. 1.011442
	Name      string   `json:"name"`               // TenTTHC
	FieldCode string   `json:"field_code"`         // MaLinhVuc
	Agencies  []string `json:"agencies,omitempty"` // agencies that carry it out (MaCoQuan)
	Level     int      `json:"level,omitempty"`    // online service level, 2..4, 0 when unknown
}

// Agency is one agency of the national catalogue.
type Agency struct {
	Code   string `json:"code"`             // MaCoQuan, e.g. 000.00.00.H37
	Name   string `json:"name"`             // TenCoQuan
	Parent string `json:"parent,omitempty"` // MaCoQuanCha
}

// Field is one field (lĩnh vực) of procedures.
type Field struct {
	Code string `json:"code"` // MaLinhVuc
	Name string `json:"name"` // TenLinhVuc
}
