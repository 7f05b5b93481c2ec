package payments

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank"
)

// keys builds the key names of the payments. Every key of a payment, the index keys and the
// outbox stream share one hash tag, the outbox topic's ({payment.settled}), so each script below
// touches a single hash slot and runs unchanged on Redis Cluster:
//
//	<prefix>:{payment.settled}                              the outbox stream (one entry per transition)
//	<prefix>:{payment.settled}:payment:<reference>          the payment (hash)
//	<prefix>:{payment.settled}:payment:<reference>:history  its transitions (list of JSON)
//	<prefix>:{payment.settled}:id:<payment_id>              payment id → reference (string)
//	<prefix>:{payment.settled}:dossier:<dossier_code>       the dossier's payment references (set)
//	<prefix>:{payment.settled}:idem:<sha256(client, key)>   an Idempotency-Key's reference and request hash (hash, TTL)
//	<prefix>:{payment.settled}:due                          references to look at again, by time (sorted set)
//	<prefix>:{payment.settled}:pending:<provider>           pending references by creation time, unix ms (sorted set)
//
// Payments are keyed by reference because that is all a provider's callback carries: a callback
// is one script, one round trip. The price of the single tag is that all payments live in one
// slot of a Cluster; a province's fee payments (thousands a day) are far below what one Redis
// master serves. Should that ever change, the way out is N outbox topics with the shard chosen by
// a character of the reference, so callbacks still find their slot.
type keys struct {
	base string // <prefix>:{topic}
}

func newKeys(prefix, topic string) keys { return keys{base: prefix + ":{" + topic + "}"} }

func (k keys) outbox() string             { return k.base }
func (k keys) payment(ref string) string  { return k.base + ":payment:" + ref }
func (k keys) history(ref string) string  { return k.base + ":payment:" + ref + ":history" }
func (k keys) id(paymentID string) string { return k.base + ":id:" + paymentID }
func (k keys) dossier(code string) string { return k.base + ":dossier:" + code }
func (k keys) due() string                { return k.base + ":due" }

// pending is the index of a provider's pending payments by creation time: it is read at scrape
// time (PendingByAge) without scanning any payment.
func (k keys) pending(provider string) string { return k.base + ":pending:" + provider }

// pendingAll lists every provider's pending index, in bank.Providers order.
func (k keys) pendingAll() []string {
	out := make([]string, len(bank.Providers))
	for i, p := range bank.Providers {
		out[i] = k.pending(p)
	}
	return out
}
func (k keys) idempotency(client, key string) string {
	h := sha256.Sum256([]byte(client + "\x00" + key))
	return k.base + ":idem:" + hex.EncodeToString(h[:16])
}

// createIntent stores a new payment intent with its Idempotency-Key, unless the key was used
// before (then it returns what the key holds) or the reference is taken (then the caller draws
// another).
//
// KEYS: 1 idempotency, 2 payment, 3 history, 4 id index, 5 dossier set, 6 due, 7 the provider's
// pending index.
// ARGV: 1 idempotency TTL (s), 2 request hash, 3 first look (unix ms), 4 history entry,
// 5 reference, 6 created (unix ms), 7.. payment field/value pairs.
// Returns {"created"}, {"exists", reference, request hash} or {"ref_taken"}.
var createIntent = redis.NewScript(`
local prev = redis.call('HMGET', KEYS[1], 'reference', 'request_hash')
if prev[1] then return {'exists', prev[1], prev[2]} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'ref_taken'} end
redis.call('HSET', KEYS[2], unpack(ARGV, 7))
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('SET', KEYS[4], ARGV[5])
redis.call('SADD', KEYS[5], ARGV[5])
redis.call('ZADD', KEYS[6], tonumber(ARGV[3]), ARGV[5])
redis.call('ZADD', KEYS[7], tonumber(ARGV[6]), ARGV[5])
redis.call('HSET', KEYS[1], 'reference', ARGV[5], 'request_hash', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return {'created'}
`)

// recordInstructions stores what the provider said the citizen must do, unless it is stored
// already (a concurrent repeat of the request got there first). KEYS: 1 payment.
// ARGV: field/value pairs. Returns 1 when stored.
var recordInstructions = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'instructed_at') == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`)

// transition is the state machine's one step: it checks a settlement against the payment, in
// VNPay's order (exists for this provider and account → amount → still pending), and only then
// changes the state, appends the history entry, stops the status checks and writes the event to
// the outbox stream, all at once. A crash can come before it (nothing happened: the provider
// sends again) or after it (everything happened: the repeat is answered "already settled"),
// never in the middle.
//
// KEYS: 1 payment, 2 history, 3 outbox stream, 4 due, 5.. every provider's pending index.
// ARGV: 1 provider ("" any), 2 new state, 3 amount ("-1" none stated), 4 provider transaction id,
// 5 account ("" none), 6 reason, 7 now (RFC 3339), 8 paid at (RFC 3339, "" for now),
// 9 outbox topic.
// Returns {verdict, state before, payment id} with verdict one of applied, not_found,
// amount_mismatch, already, conflict, closed; applied adds the provider and the amount.
var transition = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'provider', 'status', 'amount', 'account', 'provider_txn_id',
  'payment_id', 'dossier_code', 'reference', 'procedure_code', 'agency_code')
if not f[1] then return {'not_found', '', ''} end
if ARGV[1] ~= '' and f[1] ~= ARGV[1] then return {'not_found', '', ''} end
if ARGV[5] ~= '' and f[4] and f[4] ~= '' and f[4] ~= ARGV[5] then return {'not_found', '', ''} end
if ARGV[3] ~= '-1' and ARGV[3] ~= f[3] then return {'amount_mismatch', f[2], f[6]} end
if f[2] ~= 'pending' then
  if f[2] == ARGV[2] and (ARGV[4] == '' or not f[5] or f[5] == '' or f[5] == ARGV[4]) then
    return {'already', f[2], f[6]}
  end
  if f[2] == 'expired' or f[2] == 'cancelled' then return {'closed', f[2], f[6]} end
  return {'conflict', f[2], f[6]}
end
local upd = {'status', ARGV[2], 'updated_at', ARGV[7], 'settled_reason', ARGV[6]}
local txn = f[5]
if ARGV[4] ~= '' then
  txn = ARGV[4]
  table.insert(upd, 'provider_txn_id')
  table.insert(upd, ARGV[4])
end
local paid_at = nil
if ARGV[2] == 'paid' then
  paid_at = ARGV[7]
  if ARGV[8] ~= '' then paid_at = ARGV[8] end
  table.insert(upd, 'paid_at')
  table.insert(upd, paid_at)
end
redis.call('HSET', KEYS[1], unpack(upd))
redis.call('RPUSH', KEYS[2], cjson.encode({at = ARGV[7], from = 'pending', to = ARGV[2], reason = ARGV[6]}))
redis.call('ZREM', KEYS[4], f[8])
for i = 5, #KEYS do redis.call('ZREM', KEYS[i], f[8]) end
local ev = {payment_id = f[6], reference = f[8], dossier_code = f[7], procedure_code = f[9] or '',
  agency_code = f[10] or '', provider = f[1], amount = tonumber(f[3]), from = 'pending', to = ARGV[2],
  at = ARGV[7], reason = ARGV[6], paid_at = paid_at}
if txn and txn ~= '' then ev.provider_transaction_id = txn end
local md = cjson.encode({type = ARGV[9], subject = f[7], payment_id = f[6]})
redis.call('XADD', KEYS[3], '*', 'uuid', f[6] .. '/' .. ARGV[2], 'payload', cjson.encode(ev), 'metadata', md)
return {'applied', 'pending', f[6], f[1], f[3]}
`)

// claimDue takes up to ARGV[3] references due at ARGV[1] (unix ms) and pushes them ARGV[2] ms
// ahead, so another replica's sweeper does not take them too. KEYS: 1 due.
var claimDue = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), m) end
return due
`)
