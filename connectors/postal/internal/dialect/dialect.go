// Package dialect holds what every postal dialect does the same way before and after the wire:
// checking and normalising an order before any call (phones, order number, administrative codes
// resolved to postal codes), settings, the authenticated call with its token and tracking
// cursor, and reading partnerhttp's errors.
package dialect

import (
	"errors"
	"fmt"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/internal/failure"
)

// DefaultWeightGrams is the weight sent when an order gives none: a dossier or a result in an
// envelope.
const DefaultWeightGrams = 500

// Limits of the fields the gateway sends.
const (
	maxNumber  = 64
	maxText    = 250
	maxWeight  = 30000 // grams: a parcel post item
	maxCOD     = 100_000_000
	maxNoteLen = 500
)

// Party is a sender or receiver ready for the wire: phone normalised, postal codes resolved.
type Party struct {
	Name    string
	Phone   string
	Address string
	Codes   address.Codes
}

// Order is a postal.Order checked and completed for the wire.
type Order struct {
	postal.Order
	From, To Party
}

// Prepare checks o and resolves its parties' codes. Every refusal is permanent and names the
// field, never a citizen's value; administrative codes (not personal data) are named.
func Prepare(o postal.Order, r *address.Resolver) (Order, error) {
	if r == nil {
		return Order{}, errors.New("postal dialect: no address resolver")
	}
	var errs []error
	if err := CheckNumber(o.Number); err != nil {
		errs = append(errs, err)
	}
	if !o.Kind.Valid() {
		errs = append(errs, fmt.Errorf("kind %q: want deliver_result or collect_dossier: %w", o.Kind, postal.ErrInvalidOrder))
	}
	switch o.Service {
	case "":
		o.Service = postal.ServiceEconomy
	case postal.ServiceEconomy, postal.ServiceExpress, postal.ServiceSameDay:
	default:
		errs = append(errs, fmt.Errorf("service %q: want CTN001, ETN011 or ETN013: %w", o.Service, postal.ErrInvalidOrder))
	}
	switch {
	case o.WeightGrams == 0:
		o.WeightGrams = DefaultWeightGrams
	case o.WeightGrams < 0 || o.WeightGrams > maxWeight:
		errs = append(errs, fmt.Errorf("weight: want 1..%d grams: %w", maxWeight, postal.ErrInvalidOrder))
	}
	if o.CODAmount < 0 || o.CODAmount > maxCOD {
		errs = append(errs, fmt.Errorf("COD amount: want 0..%d VND: %w", maxCOD, postal.ErrInvalidOrder))
	}
	if !utf8.ValidString(o.Note) || utf8.RuneCountInString(o.Note) > maxNoteLen || hasControl(o.Note) {
		errs = append(errs, fmt.Errorf("note: want at most %d printable characters: %w", maxNoteLen, postal.ErrInvalidOrder))
	}
	from, err := party("sender", o.Sender, r)
	errs = append(errs, err)
	to, err := party("receiver", o.Receiver, r)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return Order{}, failure.MarkPermanent(err)
	}
	return Order{Order: o, From: from, To: to}, nil
}

// CheckNumber accepts an order number of 1..64 characters from A-Z a-z 0-9 . _ - (the dossier
// code and a kind suffix), safe in a URL path and a query.
func CheckNumber(n string) error {
	if n == "" || len(n) > maxNumber {
		return failure.MarkPermanent(fmt.Errorf("order number: want 1..%d characters: %w", maxNumber, postal.ErrInvalidOrder))
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return failure.MarkPermanent(fmt.Errorf("order number: character %d is not A-Z a-z 0-9 . _ -: %w", i+1, postal.ErrInvalidOrder))
		}
	}
	return nil
}

func party(role string, p postal.Party, r *address.Resolver) (Party, error) {
	var errs []error
	phone, err := postal.NormalizePhone(p.Phone)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s %w", role, err))
	}
	for _, f := range []struct{ name, v string }{{"name", p.Name}, {"address", p.Address}} {
		if !text(f.v) {
			errs = append(errs, fmt.Errorf("%s %s: want 1..%d printable characters: %w", role, f.name, maxText, postal.ErrInvalidOrder))
		}
	}
	codes, err := r.ResolveParty(p)
	if err != nil {
		if !errors.Is(err, postal.ErrNoMapping) {
			err = fmt.Errorf("%w: %w", err, postal.ErrInvalidOrder)
		}
		errs = append(errs, fmt.Errorf("%s address: %w", role, err))
	}
	if err := errors.Join(errs...); err != nil {
		return Party{}, err
	}
	return Party{Name: p.Name, Phone: phone, Address: p.Address, Codes: codes}, nil
}

func text(s string) bool {
	n := utf8.RuneCountInString(s)
	return utf8.ValidString(s) && n > 0 && n <= maxText && !hasControl(s) && !allSpace(s)
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

func allSpace(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// Status is the HTTP status of a partner answer that partnerhttp turned into an error, or 0.
func Status(err error) int {
	var se *failure.StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// ErrAuth marks an answer meaning the token was refused; the dialect renews it and repeats the
// call once (a refused call was not carried out).
var ErrAuth = errors.New("postal partner refused the token")

// Classify reads a partnerhttp error: 401 → ErrAuth (transient if it persists); 404 → transient,
// since a dialect recognises the partner's own "no such order" before calling this and any other
// 404 means a wrong base URL, which ops must fix without losing the shipments; other 4xx except
// those the classifier keeps transient (408, 409, 423, 425, 429) → postal.ErrRejected
// (permanent); anything else (5xx, timeouts, a connection dropped) unchanged, hence transient.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	switch code := Status(err); {
	case code == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrAuth, err)
	case code == http.StatusNotFound:
		return failure.MarkTransient(fmt.Errorf("partner endpoint not found (check the base URL): %w", err))
	case code >= 400 && code < 500 && failure.Classify(err) == failure.Permanent:
		return failure.MarkPermanent(fmt.Errorf("%w: %w", postal.ErrRejected, err))
	}
	return err
}
