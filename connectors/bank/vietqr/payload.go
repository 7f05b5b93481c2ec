package vietqr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/egov-vn/gateway/internal/failure"
)

// Service is NAPAS's service code (field 38, subfield 02).
type Service string

// The two VietQR transfer services.
const (
	ServiceAccount Service = "QRIBFTTA" // transfer to an account number
	ServiceCard    Service = "QRIBFTTC" // transfer to a card number
)

// Fixed values of a VietQR payload.
const (
	napasGUID       = "A000000727"
	currencyVND     = "704"
	countryVN       = "VN"
	initStatic      = "11"
	initDynamic     = "12"
	payloadFormat   = "01"
	maxPayloadLen   = 512
	maxAccountLen   = 19
	maxTextLen      = 25
	maxAmountDigits = 13
)

// MaxAmount is the largest amount field 54 can carry: 13 characters, whole VND.
const MaxAmount int64 = 9_999_999_999_999

// Payload is what a VietQR code says: pay this bank account, optionally this amount, with this
// reference.
type Payload struct {
	// BankBIN is the beneficiary bank's 6-digit NAPAS BIN (38-01-00), e.g. 970436.
	BankBIN string
	// AccountNumber is the beneficiary account, or card number for ServiceCard (38-01-01):
	// 1 to 19 letters or digits.
	AccountNumber string
	// Service is 38-02; Build writes ServiceAccount when it is empty.
	Service Service
	// Amount is field 54 in whole VND. Zero makes a static QR (initiation 11) the payer fills
	// in; a positive amount makes a dynamic QR (initiation 12).
	Amount int64
	// BillNumber is 62-01 and Purpose 62-08: each at most 25 printable ASCII characters, so
	// no diacritics. Either carries the payment reference used to match the transfer.
	BillNumber string
	Purpose    string
}

// Dynamic reports whether p carries an amount (initiation method 12).
func (p Payload) Dynamic() bool { return p.Amount > 0 }

// ErrInvalidPayload is wrapped by every validation error of Build.
var ErrInvalidPayload = errors.New("invalid VietQR payload")

// FieldError names one Payload field that failed validation and why; Build and Parse join
// one per bad field.
type FieldError struct {
	Field  string // Go field name of Payload
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func (p Payload) validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if len(p.BankBIN) != 6 || !isDigits(p.BankBIN) {
		bad("BankBIN", "must be 6 digits, got %q", p.BankBIN)
	}
	if p.AccountNumber == "" || len(p.AccountNumber) > maxAccountLen || !isAlnum(p.AccountNumber) {
		bad("AccountNumber", "must be 1 to %d letters or digits", maxAccountLen)
	}
	switch p.Service {
	case "", ServiceAccount, ServiceCard:
	default:
		bad("Service", "must be %s or %s, got %q", ServiceAccount, ServiceCard, p.Service)
	}
	if p.Amount < 0 || p.Amount > MaxAmount {
		bad("Amount", "must be 0 (static QR) to %d VND, got %d", MaxAmount, p.Amount)
	}
	if reason := checkText(p.BillNumber); reason != "" {
		bad("BillNumber", "%s", reason)
	}
	if reason := checkText(p.Purpose); reason != "" {
		bad("Purpose", "%s", reason)
	}
	return errs
}

func checkText(s string) string {
	if j := firstNonPrintable(s); j >= 0 {
		if s[j] >= 0x80 {
			return "must be printable ASCII: remove diacritics first"
		}
		return fmt.Sprintf("byte %d is %q, want printable ASCII", j, s[j])
	}
	if len(s) > maxTextLen {
		return fmt.Sprintf("must be at most %d characters, got %d", maxTextLen, len(s))
	}
	return ""
}

// Build validates p and writes its VietQR string: 00 01 38 53 54 58 62 63, in that order,
// with the CRC over everything before it including "6304". Validation failures name every
// bad field, wrap ErrInvalidPayload and are marked permanent.
func Build(p Payload) (string, error) {
	if errs := p.validate(); len(errs) > 0 {
		return "", failure.MarkPermanent(fmt.Errorf("building VietQR: %w: %w", ErrInvalidPayload, errors.Join(errs...)))
	}
	service := p.Service
	if service == "" {
		service = ServiceAccount
	}
	var beneficiary, account, additional, out strings.Builder
	appendTLV(&beneficiary, "00", p.BankBIN)
	appendTLV(&beneficiary, "01", p.AccountNumber)
	appendTLV(&account, "00", napasGUID)
	appendTLV(&account, "01", beneficiary.String())
	appendTLV(&account, "02", string(service))
	if p.BillNumber != "" {
		appendTLV(&additional, "01", p.BillNumber)
	}
	if p.Purpose != "" {
		appendTLV(&additional, "08", p.Purpose)
	}

	appendTLV(&out, "00", payloadFormat)
	if p.Dynamic() {
		appendTLV(&out, "01", initDynamic)
	} else {
		appendTLV(&out, "01", initStatic)
	}
	appendTLV(&out, "38", account.String())
	appendTLV(&out, "53", currencyVND)
	if p.Dynamic() {
		appendTLV(&out, "54", strconv.FormatInt(p.Amount, 10))
	}
	appendTLV(&out, "58", countryVN)
	if additional.Len() > 0 {
		appendTLV(&out, "62", additional.String())
	}
	out.WriteString("6304")
	return out.String() + crcHex(out.String()), nil
}

func crcHex(s string) string {
	return fmt.Sprintf("%04X", CRC16CCITTFalse([]byte(s)))
}

// Parse reads a VietQR string. It checks, in order: length (at most 512) and printable
// ASCII; field 63 last with a CRC that matches (hex in either case); the TLV framing; no field
// repeated; 00 first and equal to 01; initiation 11 or 12 when present; field 38 a NAPAS
// template (GUID A000000727) with BIN, account and service; currency 704 and country VN;
// an amount, when present, of whole VND; and the Payload rules of Build. It refuses tip and
// convenience-fee fields (55–57), which would change the amount paid. Other fields that
// carry no payment instruction for a bank transfer (52 merchant category, 59–61 merchant
// name, city and postal code, 64 language template, 80–99 unreserved, other schemes'
// templates 02–51 besides 38) are skipped, and so are unknown subfields of 38 and 62.
// Initiation 11 with an amount, or 12 without one, is accepted: the amount decides.
//
// Parse never panics. Its errors wrap ErrMalformed and are marked permanent.
func Parse(s string) (Payload, error) {
	p, err := parse(s)
	if err != nil {
		return Payload{}, failure.MarkPermanent(fmt.Errorf("parsing VietQR: %w", err))
	}
	return p, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func parse(s string) (Payload, error) {
	if len(s) > maxPayloadLen {
		return Payload{}, malformed("%d characters, at most %d allowed", len(s), maxPayloadLen)
	}
	if j := firstNonPrintable(s); j >= 0 {
		return Payload{}, malformed("byte %d is %q, want printable ASCII", j, s[j])
	}
	if len(s) < 8 || s[len(s)-8:len(s)-4] != "6304" {
		return Payload{}, malformed("must end with field 63, the CRC (6304 and four hex digits)")
	}
	stated, err := strconv.ParseUint(s[len(s)-4:], 16, 16)
	if err != nil {
		return Payload{}, malformed("CRC %q is not four hex digits", s[len(s)-4:])
	}
	if computed := CRC16CCITTFalse([]byte(s[:len(s)-4])); uint16(stated) != computed {
		return Payload{}, malformed("CRC mismatch: field 63 says %04X, the content gives %04X", stated, computed)
	}
	fields, err := DecodeTLV(s)
	if err != nil {
		return Payload{}, err
	}
	if err := checkUnique("", fields); err != nil {
		return Payload{}, err
	}
	if fields[0].ID != "00" || fields[0].Value != payloadFormat {
		return Payload{}, malformed("must start with field 00 (payload format indicator) equal to 01")
	}
	if fields[len(fields)-1].ID != "63" {
		return Payload{}, malformed("field 63 (CRC) must be the last field")
	}

	var p Payload
	seen := map[string]bool{}
	for _, f := range fields[1 : len(fields)-1] {
		seen[f.ID] = true
		switch f.ID {
		case "01":
			if f.Value != initStatic && f.Value != initDynamic {
				return Payload{}, malformed("field 01 (initiation method) must be 11 or 12, got %q", f.Value)
			}
		case "38":
			if err := parseAccount(f.Value, &p); err != nil {
				return Payload{}, err
			}
		case "53":
			if f.Value != currencyVND {
				return Payload{}, malformed("field 53 (currency) must be 704 (VND), got %q", f.Value)
			}
		case "54":
			amount, err := parseAmount(f.Value)
			if err != nil {
				return Payload{}, err
			}
			p.Amount = amount
		case "55", "56", "57":
			return Payload{}, malformed("field %s (tip or convenience fee) is not supported: the amount paid must be the amount asked", f.ID)
		case "58":
			if f.Value != countryVN {
				return Payload{}, malformed("field 58 (country) must be VN, got %q", f.Value)
			}
		case "62":
			if err := parseAdditional(f.Value, &p); err != nil {
				return Payload{}, err
			}
		}
	}
	for _, req := range []struct{ id, name string }{{"38", "NAPAS account information"}, {"53", "currency"}, {"58", "country"}} {
		if !seen[req.id] {
			return Payload{}, malformed("field %s (%s) is missing", req.id, req.name)
		}
	}
	if errs := p.validate(); len(errs) > 0 {
		return Payload{}, fmt.Errorf("%w: %w", ErrMalformed, errors.Join(errs...))
	}
	return p, nil
}

func checkUnique(parent string, fields []TLV) error {
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if seen[f.ID] {
			return malformed("field %s%s appears more than once", parent, f.ID)
		}
		seen[f.ID] = true
	}
	return nil
}

func parseAccount(value string, p *Payload) error {
	sub, err := DecodeTLV(value)
	if err != nil {
		return fmt.Errorf("field 38 (NAPAS account information): %w", err)
	}
	if err := checkUnique("38-", sub); err != nil {
		return err
	}
	var guid, beneficiary, service string
	var hasBeneficiary bool
	for _, f := range sub {
		switch f.ID {
		case "00":
			guid = f.Value
		case "01":
			beneficiary, hasBeneficiary = f.Value, true
		case "02":
			service = f.Value
		}
	}
	if guid != napasGUID {
		return malformed("field 38 is not a NAPAS VietQR template: GUID %q, want %s", guid, napasGUID)
	}
	if !hasBeneficiary {
		return malformed("field 38-01 (beneficiary) is missing")
	}
	if service == "" {
		return malformed("field 38-02 (service code) is missing")
	}
	p.Service = Service(service)
	ben, err := DecodeTLV(beneficiary)
	if err != nil {
		return fmt.Errorf("field 38-01 (beneficiary): %w", err)
	}
	if err := checkUnique("38-01-", ben); err != nil {
		return err
	}
	for _, f := range ben {
		switch f.ID {
		case "00":
			p.BankBIN = f.Value
		case "01":
			p.AccountNumber = f.Value
		}
	}
	return nil
}

func parseAmount(v string) (int64, error) {
	switch {
	case strings.Contains(v, "."):
		return 0, malformed("field 54 (amount) %q must be whole VND without a decimal point", v)
	case !isDigits(v):
		return 0, malformed("field 54 (amount) %q is not a decimal number", v)
	case len(v) > maxAmountDigits:
		return 0, malformed("field 54 (amount) has %d digits, at most %d", len(v), maxAmountDigits)
	}
	amount, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, malformed("field 54 (amount) %q: %v", v, err)
	}
	if amount == 0 {
		return 0, malformed("field 54 (amount) must be positive; leave it out for a static QR")
	}
	return amount, nil
}

func parseAdditional(value string, p *Payload) error {
	sub, err := DecodeTLV(value)
	if err != nil {
		return fmt.Errorf("field 62 (additional data): %w", err)
	}
	if err := checkUnique("62-", sub); err != nil {
		return err
	}
	for _, f := range sub {
		switch f.ID {
		case "01":
			p.BillNumber = f.Value
		case "08":
			p.Purpose = f.Value
		}
	}
	return nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
