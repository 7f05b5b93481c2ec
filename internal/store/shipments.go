package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Shipment keys. A shipment lives under its dossier's hash tag, next to the dossier's sync state
// and timeline, so the script that records a status touches one slot:
//
//	<prefix>:dossier:{<code>}:shipment:<kind>           hash: the shipment record
//	<prefix>:dossier:{<code>}:shipment:<kind>:history   list: one JSON entry per status, in order
//	<prefix>:shipment:order:<number>                    string: "<kind>|<dossier code>" (tracking index)
//	<prefix>:delivery:tracking:cursor                   string: the postal partner's tracking cursor
//	<prefix>:delivery:tracking:lock                     string: the poller's lock (one replica polls)
//
// The shipment record holds no personal data: the recipient's name, phone and address travel only
// in the delivery request on its stream and in the call to the postal partner.

// Shipment is the shipment hash of a dossier and kind.
func (k Keys) Shipment(code, kind string) string {
	return k.Prefix + ":dossier:{" + code + "}:shipment:" + kind
}

// ShipmentHistory is the list of a shipment's statuses, oldest first.
func (k Keys) ShipmentHistory(code, kind string) string { return k.Shipment(code, kind) + ":history" }

// ShipmentOrder maps an order number to its dossier and kind.
func (k Keys) ShipmentOrder(number string) string { return k.Prefix + ":shipment:order:" + number }

// DeliveryCursor is the postal tracking cursor.
func (k Keys) DeliveryCursor() string { return k.Prefix + ":delivery:tracking:cursor" }

// DeliveryPollLock makes one replica at a time poll the postal partner.
func (k Keys) DeliveryPollLock() string { return k.Prefix + ":delivery:tracking:lock" }

// ShipmentKinds are the kinds a dossier's shipments are read under, in this order.
var ShipmentKinds = []string{"collect_dossier", "deliver_result"}

// Shipment is a postal shipment as the gateway records it. No personal data.
type Shipment struct {
	DossierCode string           `json:"dossier_code"`
	Number      string           `json:"order_number"`
	Kind        string           `json:"kind"`
	PartnerID   string           `json:"partner_id,omitempty"`
	Service     string           `json:"service,omitempty"`
	Status      int              `json:"status"`
	CODAmount   int64            `json:"cod_amount"`
	Fee         int64            `json:"fee"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	DeliveredAt time.Time        `json:"delivered_at,omitzero"`
	History     []ShipmentStatus `json:"history"`
}

// ShipmentStatus is one status of a shipment's history.
type ShipmentStatus struct {
	Status int       `json:"status"`
	At     time.Time `json:"at"`
	Office string    `json:"office,omitempty"` // the post office (POSID)
}

// saveShipment creates the shipment record unless it exists, and refreshes what the partner
// said (partner id, fee). KEYS[1] shipment hash. ARGV: number, kind, partner_id, service, cod,
// fee, created_at ms. Returns 1 when created.
var saveShipment = redis.NewScript(`
local created = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'number', ARGV[1], 'kind', ARGV[2], 'service', ARGV[4], 'cod', ARGV[5],
    'created_at', ARGV[7], 'updated_at', ARGV[7], 'status', '-1')
  created = 1
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'partner_id', ARGV[3]) end
if ARGV[6] ~= '0' then redis.call('HSET', KEYS[1], 'fee', ARGV[6]) end
return created
`)

// SaveShipment records a created (or found) order: the order index first, so tracking records
// find it, then the shipment hash. Repeating it changes nothing but the partner's id and fee.
func (s *Store) SaveShipment(ctx context.Context, code string, sh Shipment) (bool, error) {
	if err := s.Client.Set(ctx, s.Keys.ShipmentOrder(sh.Number), sh.Kind+"|"+code, 0).Err(); err != nil {
		return false, fmt.Errorf("indexing order %s: %w", sh.Number, err)
	}
	n, err := saveShipment.Run(ctx, s.Client, []string{s.Keys.Shipment(code, sh.Kind)},
		sh.Number, sh.Kind, sh.PartnerID, sh.Service, sh.CODAmount, sh.Fee, sh.CreatedAt.UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("saving shipment %s: %w", sh.Number, err)
	}
	return n == 1, nil
}

// ShipmentByOrder finds the dossier and kind of an order number.
func (s *Store) ShipmentByOrder(ctx context.Context, number string) (code, kind string, ok bool, err error) {
	v, err := s.Client.Get(ctx, s.Keys.ShipmentOrder(number)).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("looking up order %s: %w", number, err)
	}
	kind, code, ok = strings.Cut(v, "|")
	return code, kind, ok, nil
}

// Results of ApplyShipmentStatus.
const (
	StatusApplied    = "applied"
	StatusDuplicate  = "duplicate"
	StatusAfterFinal = "after_final"
	StatusNoShipment = "no_shipment"
)

// applyStatus records a new status of a shipment once, in order. KEYS[1] shipment hash, KEYS[2]
// history list. ARGV: status, at ms, history entry (JSON), final statuses (comma separated),
// delivered statuses (comma separated). A status already recorded, or any status after a final
// one, changes nothing.
var applyStatus = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'no_shipment' end
if redis.call('HEXISTS', KEYS[1], 's:' .. ARGV[1]) == 1 then return 'duplicate' end
local cur = redis.call('HGET', KEYS[1], 'status')
for f in string.gmatch(ARGV[4], '[^,]+') do
  if cur == f then return 'after_final' end
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[2], 's:' .. ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[3])
for f in string.gmatch(ARGV[5], '[^,]+') do
  if ARGV[1] == f then redis.call('HSETNX', KEYS[1], 'delivered_at', ARGV[2]) end
end
return 'applied'
`)

// ApplyShipmentStatus records status as the shipment's new status unless it was recorded before
// or the shipment is already final. final and delivered list the final and delivered statuses.
func (s *Store) ApplyShipmentStatus(ctx context.Context, code, kind string, st ShipmentStatus, final, delivered []int) (string, error) {
	entry, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encoding status: %w", err)
	}
	res, err := applyStatus.Run(ctx, s.Client, []string{s.Keys.Shipment(code, kind), s.Keys.ShipmentHistory(code, kind)},
		st.Status, st.At.UnixMilli(), string(entry), joinInts(final), joinInts(delivered)).Text()
	if err != nil {
		return "", fmt.Errorf("recording shipment status: %w", err)
	}
	return res, nil
}

// ShipmentOf reads one shipment (ok false when there is none): its hash and its history in one
// round trip.
func (s *Store) ShipmentOf(ctx context.Context, code, kind string) (Shipment, bool, error) {
	var hash *redis.MapStringStringCmd
	var history *redis.StringSliceCmd
	if _, err := s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		hash = p.HGetAll(ctx, s.Keys.Shipment(code, kind))
		history = p.LRange(ctx, s.Keys.ShipmentHistory(code, kind), 0, -1)
		return nil
	}); err != nil {
		return Shipment{}, false, fmt.Errorf("reading shipment: %w", err)
	}
	h := hash.Val()
	if len(h) == 0 {
		return Shipment{}, false, nil
	}
	sh := Shipment{DossierCode: code, Number: h["number"], Kind: h["kind"], PartnerID: h["partner_id"], Service: h["service"]}
	sh.Status, _ = strconv.Atoi(h["status"])
	sh.CODAmount, _ = strconv.ParseInt(h["cod"], 10, 64)
	sh.Fee, _ = strconv.ParseInt(h["fee"], 10, 64)
	sh.CreatedAt = msTime(h["created_at"])
	sh.UpdatedAt = msTime(h["updated_at"])
	sh.DeliveredAt = msTime(h["delivered_at"])
	items := history.Val()
	sh.History = make([]ShipmentStatus, 0, len(items))
	for _, it := range items {
		var e ShipmentStatus
		if json.Unmarshal([]byte(it), &e) == nil {
			e.At = e.At.UTC()
			sh.History = append(sh.History, e)
		}
	}
	return sh, true, nil
}

// Shipments reads every shipment of a dossier, oldest first.
func (s *Store) Shipments(ctx context.Context, code string) ([]Shipment, error) {
	out := []Shipment{}
	for _, kind := range ShipmentKinds {
		sh, ok, err := s.ShipmentOf(ctx, code, kind)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, sh)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

func msTime(v string) time.Time {
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

// raiseNotified raises a shipment's count of statuses notified to seq. KEYS[1] shipment hash.
// ARGV[1] seq. Returns 1 when raised.
var raiseNotified = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'notified') or '0')
if tonumber(ARGV[1]) <= cur then return 0 end
redis.call('HSET', KEYS[1], 'notified', ARGV[1])
return 1
`)

// ShipmentNotified is how many of a shipment's statuses, in history order, reached the one-stop
// system.
func (s *Store) ShipmentNotified(ctx context.Context, code, kind string) (int, error) {
	v, err := s.Client.HGet(ctx, s.Keys.Shipment(code, kind), "notified").Int()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading notified statuses: %w", err)
	}
	return v, nil
}

// RaiseShipmentNotified records that the shipment's statuses up to seq reached the one-stop
// system (never lowered).
func (s *Store) RaiseShipmentNotified(ctx context.Context, code, kind string, seq int) error {
	if err := raiseNotified.Run(ctx, s.Client, []string{s.Keys.Shipment(code, kind)}, seq).Err(); err != nil {
		return fmt.Errorf("recording notified status: %w", err)
	}
	return nil
}
