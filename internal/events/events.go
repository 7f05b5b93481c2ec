// Package events is the inbound contract of the one-stop system: CloudEvents 1.0 (structured JSON,
// single or batch) carrying dossier status changes and delivery requests. Parse validates an event
// completely and names every bad field; the routing handlers read the same types back from the
// stream.
package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/egov-vn/gateway/connectors/portal"
)

// Event types accepted on /v1/events.
const (
	TypeDossierStatusChanged = "vn.gov.dossier.status_changed"
	TypeDeliveryRequested    = "vn.gov.delivery.requested"
)

// MaxBatch is the largest batch accepted.
const MaxBatch = 500

// Event is a validated CloudEvent. Raw is the event exactly as received, which is what goes onto
// the stream.
type Event struct {
	ID      string
	Source  string
	Type    string
	Subject string
	Time    time.Time
	Raw     json.RawMessage

	StatusChanged *StatusChanged
	Delivery      *DeliveryRequest
}

// StatusChanged is the data of vn.gov.dossier.status_changed.
type StatusChanged struct {
	Version int64
	Dossier portal.Dossier
	Step    *portal.Step
}

// DeliveryRequest is the data of vn.gov.delivery.requested.
type DeliveryRequest struct {
	DossierCode string    `json:"dossier_code"`
	Kind        string    `json:"kind"`
	Recipient   Recipient `json:"recipient"`
	Service     string    `json:"service"`
	CODAmount   int64     `json:"cod_amount,omitempty"`
	WeightGrams int64     `json:"weight_grams,omitempty"`
	Note        string    `json:"note,omitempty"`
}

// Recipient is a delivery's other party (personal data: never logged).
type Recipient struct {
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	Address      string `json:"address"`
	ProvinceCode string `json:"province_code"`
	CommuneCode  string `json:"commune_code"`
	DistrictCode string `json:"district_code,omitempty"`
}

// Parse validates one CloudEvent (structured JSON). On failure the error is FieldErrors naming
// every bad field; prefix is prepended to field names (used for batch positions).
//
// A valid event is read in one pass straight into its typed values. Anything else goes through
// the slower field-by-field walk, which names every problem.
func Parse(raw json.RawMessage, prefix string) (*Event, error) {
	if e := parseFast(raw); e != nil {
		return e, nil
	}
	return parseWalk(raw, prefix)
}

// parseFast is the one-pass decoder's answer for raw: the event, or nil where it declines.
func parseFast(raw []byte) *Event {
	r := newReader(bytes.TrimSpace(raw))
	e := r.event()
	if e == nil || !r.atEnd() {
		return nil
	}
	e.Raw = raw
	return e
}

// Delivery kinds and known VNPost service codes.
var (
	deliveryKinds  = map[string]bool{"deliver_result": true, "collect_dossier": true}
	postalServices = map[string]bool{"CTN001": true, "ETN011": true, "ETN013": true}
)

// IsVietnamesePhone accepts a Vietnamese mobile or landline number: 0 followed by 9 or 10 digits,
// or +84 followed by 9 or 10 digits without the leading 0.
func IsVietnamesePhone(s string) bool {
	digits := s
	switch {
	case len(s) > 3 && s[:3] == "+84":
		digits = s[3:]
		if len(digits) > 0 && digits[0] == '0' {
			return false
		}
	case len(s) > 0 && s[0] == '0':
		digits = s[1:]
	default:
		return false
	}
	if len(digits) < 9 || len(digits) > 10 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// ParseBatch validates a batch: an array of 1..MaxBatch events. Each event is judged on its own;
// the returned slices are aligned with the input (a nil event has its error). An event's Raw is
// a part of raw.
func ParseBatch(raw json.RawMessage) ([]*Event, []error, error) {
	if evs, errs, ok := parseBatchFast(raw); ok {
		return evs, errs, nil
	}
	return parseBatchWalk(raw)
}

// parseBatchFast reads a batch in one pass, each event with the one-pass decoder and those it
// declines with the walk. It declines (ok false) a batch that is not a well-formed array of
// 1..MaxBatch values, leaving the answer to parseBatchWalk.
func parseBatchFast(raw []byte) (evs []*Event, errs []error, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, nil, false
	}
	r := newReader(raw)
	r.open('[')
	var declined []int // starts and ends of the events the decoder declined, by pairs
	for i := 0; ; i++ {
		done, ok := r.element(i)
		if !ok || (done && i == 0) || (!done && i == MaxBatch) {
			return nil, nil, false
		}
		if done {
			break
		}
		start, depth := r.pos, r.depth
		e := r.event()
		if e == nil {
			r.pos, r.depth = start, depth
			if !r.skip() {
				return nil, nil, false
			}
			declined = append(declined, start, r.pos)
		}
		evs = append(evs, e)
	}
	if !r.atEnd() {
		return nil, nil, false
	}
	errs = make([]error, len(evs))
	for i, j := 0, 0; i < len(evs); i++ {
		if evs[i] != nil {
			continue
		}
		start, end := declined[j], declined[j+1]
		j += 2
		evs[i], errs[i] = parseWalk(raw[start:end:end], fmt.Sprintf("[%d]", i))
	}
	return evs, errs, true
}
