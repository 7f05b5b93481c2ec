package vnpay

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Parameter names that the signature scheme treats specially.
const (
	// ParamPrefix starts every parameter that VNPay signs; others are ignored.
	ParamPrefix = "vnp_"
	// ParamSecureHash carries the signature itself.
	ParamSecureHash = "vnp_SecureHash"
	// ParamSecureHashType named the hash algorithm before version 2.1.0; 2.1.0 does not send it.
	ParamSecureHashType = "vnp_SecureHashType"
)

// SignedData returns the exact string that Sign feeds to HMAC-SHA512: every vnp_* parameter
// except vnp_SecureHash and vnp_SecureHashType, empty values dropped, keys sorted ascending
// (byte order, as PHP's ksort does for these keys), each written as key=value with both sides
// form-encoded like PHP's urlencode, joined with '&'. A parameter given several times is
// taken with its first value; Verify refuses such input altogether.
func SignedData(params url.Values) string {
	return string(appendSignedData(nil, params))
}

// appendSignedData appends SignedData(params) to dst. With a dst of enough capacity (an IPN's
// signed data is a few hundred bytes) it allocates nothing but the key list of an unusually
// long query.
func appendSignedData(dst []byte, params url.Values) []byte {
	var keyBuf [24]string // VNPay sends about a dozen vnp_* fields
	keys := keyBuf[:0]
	for k, v := range params {
		if !strings.HasPrefix(k, ParamPrefix) || k == ParamSecureHash || k == ParamSecureHashType {
			continue
		}
		if len(v) == 0 || v[0] == "" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = appendFormEncode(dst, k)
		dst = append(dst, '=')
		dst = appendFormEncode(dst, params[k][0])
	}
	return dst
}

// Sign returns the lowercase hex HMAC-SHA512 of SignedData(params) keyed with the merchant
// secret: the value of vnp_SecureHash.
func Sign(secret string, params url.Values) string {
	sum := macOf(secret, params)
	return hex.EncodeToString(sum[:])
}

// Verify reports whether params carry a valid vnp_SecureHash for secret. The comparison is
// constant-time and accepts hex in either case. It refuses an empty secret (a misconfigured
// gateway must not accept anything), a missing or repeated vnp_SecureHash, any vnp_* parameter
// given more than once (the signer and this side could read different values), and a
// vnp_SecureHashType naming another algorithm than HMAC-SHA512 (a pre-2.1.0 signature).
//
// It runs on every IPN, forged ones included, so it allocates nothing of its own: the signed
// data is built in a reused buffer and the HMAC state is reused.
func Verify(secret string, params url.Values) bool {
	if secret == "" {
		return false
	}
	hashes := params[ParamSecureHash]
	if len(hashes) != 1 {
		return false
	}
	var got [sha512.Size]byte
	if !decodeHex(got[:], hashes[0]) {
		return false
	}
	if types, ok := params[ParamSecureHashType]; ok {
		if len(types) != 1 || !acceptedHashType(types[0]) {
			return false
		}
	}
	for k, v := range params {
		if strings.HasPrefix(k, ParamPrefix) && len(v) > 1 {
			return false
		}
	}
	sum := macOf(secret, params)
	return hmac.Equal(got[:], sum[:])
}

// decodeHex decodes s, hex in either case, into dst, which it must fill exactly.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func acceptedHashType(t string) bool {
	return t == "" || strings.EqualFold(t, "HmacSHA512") || strings.EqualFold(t, "SHA512")
}

// macs keeps, per secret, HMAC-SHA512 states and buffers to reuse: building a state (two SHA-512
// states and the padded key) costs more than hashing an IPN. Secrets come from the configuration
// only, so the map stays as small as the set of configured terminals.
var macs sync.Map // secret → *sync.Pool of *macState

type macState struct {
	h    hash.Hash
	data []byte // the signed data
	sum  [sha512.Size]byte
}

func getMAC(secret string) (*sync.Pool, *macState) {
	p, ok := macs.Load(secret)
	if !ok {
		p, _ = macs.LoadOrStore(secret, &sync.Pool{New: func() any {
			return &macState{h: hmac.New(sha512.New, []byte(secret)), data: make([]byte, 0, 512)}
		}})
	}
	pool := p.(*sync.Pool)
	st := pool.Get().(*macState)
	st.h.Reset()
	return pool, st
}

// macOf returns the HMAC-SHA512 of params' signed data keyed with secret.
func macOf(secret string, params url.Values) [sha512.Size]byte {
	pool, st := getMAC(secret)
	st.data = appendSignedData(st.data[:0], params)
	st.h.Write(st.data)
	st.h.Sum(st.sum[:0])
	out := st.sum
	if cap(st.data) <= 4096 { // an oversized query's buffer is not kept
		pool.Put(st)
	}
	return out
}

// mac appends the HMAC-SHA512 of data keyed with secret to out.
func mac(secret string, data, out []byte) []byte {
	pool, st := getMAC(secret)
	st.h.Write(data)
	out = st.h.Sum(out)
	pool.Put(st)
	return out
}

const upperHex = "0123456789ABCDEF"

// FormEncode encodes s exactly like PHP's urlencode, which VNPay's reference code uses to
// build the signed string: ASCII letters, digits, '-', '_' and '.' stay; a space becomes '+';
// every other byte becomes %XX with uppercase hex. It differs from url.QueryEscape, which
// leaves '~' unescaped (PHP writes %7E). Note that '*' becomes %2A here while VNPay's Java and
// .NET samples and the WHATWG URLSearchParams leave it as is, so text meant for VNPay should
// avoid '*' (PaymentURL removes it from vnp_OrderInfo).
func FormEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && s[i] != ' ' {
			n++
		}
	}
	if n == 0 {
		return strings.ReplaceAll(s, " ", "+")
	}
	return string(appendFormEncode(make([]byte, 0, len(s)+2*n), s))
}

// appendFormEncode appends FormEncode(s) to dst.
func appendFormEncode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case unreserved(c):
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0x0f])
		}
	}
	return dst
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}
