package vnpay

import (
	"encoding/json"
	"net/url"
	"sync"
)

// sigKey is the start of a verified IPN's signature: 128 bits of an HMAC-SHA512 that only VNPay
// and the gateway can compute, so two IPNs with the same key carry the same signed fields.
type sigKey [16]byte

// signatureKey reads the key of params' vnp_SecureHash; call it only once Verify accepted them.
func signatureKey(params url.Values) (sigKey, bool) {
	var k sigKey
	hashes := params[ParamSecureHash]
	if len(hashes) != 1 || len(hashes[0]) < 2*len(k) {
		return k, false
	}
	return k, decodeHex(k[:], hashes[0][:2*len(k)])
}

// settledGeneration bounds each of the two generations of settledSet: 2 × 32,768 keys, about
// 2 MiB at most, hold the repeats of a day's IPNs many times over.
const settledGeneration = 1 << 15

// settledSet remembers the verified IPNs whose payment the state machine settled as they say
// (applied, or already settled so): a repeat with the same signature carries the same signed
// fields, so it would reach the same payment with the same amount, and find it in the same final
// state (paid and failed never change). It is answered 02 at once, with the answer and the
// evidence of any other repeat, without the state machine's round trip. The set forgets: the
// older of two generations is dropped when the newer fills, and a forgotten or never-seen repeat
// (another replica, a restart) simply goes to the state machine, which answers it the same way.
// The zero value is ready to use.
type settledSet struct {
	mu       sync.Mutex
	cur, old map[sigKey]struct{}
}

func (s *settledSet) seen(k sigKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[k]; ok {
		return true
	}
	_, ok := s.old[k]
	return ok
}

func (s *settledSet) add(k sigKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Each generation is sized once, so that adding never grows a map on the IPN's path.
	if s.cur == nil {
		s.cur = make(map[sigKey]struct{}, settledGeneration)
	}
	if len(s.cur) >= settledGeneration {
		s.old, s.cur = s.cur, make(map[sigKey]struct{}, settledGeneration)
	}
	s.cur[k] = struct{}{}
}

// replyBodies are the handler's answers, encoded once: the JSON json.Encoder writes for Reply(code).
var replyBodies = func() map[string][]byte {
	out := make(map[string][]byte, len(replyMessages))
	for code := range replyMessages {
		b, _ := json.Marshal(Reply(code))
		out[code] = append(b, '\n')
	}
	return out
}()

// replyBody is the encoded Reply(code).
func replyBody(code string) []byte {
	if b, ok := replyBodies[code]; ok {
		return b
	}
	return replyBodies[RspUnknownError]
}
