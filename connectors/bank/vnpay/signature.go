package vnpay

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
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
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if !strings.HasPrefix(k, ParamPrefix) || k == ParamSecureHash || k == ParamSecureHashType {
			continue
		}
		if len(v) == 0 || v[0] == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(FormEncode(k))
		b.WriteByte('=')
		b.WriteString(FormEncode(params[k][0]))
	}
	return b.String()
}

// Sign returns the lowercase hex HMAC-SHA512 of SignedData(params) keyed with the merchant
// secret: the value of vnp_SecureHash.
func Sign(secret string, params url.Values) string {
	return hex.EncodeToString(mac(secret, SignedData(params)))
}

// Verify reports whether params carry a valid vnp_SecureHash for secret. The comparison is
// constant-time and accepts hex in either case. It refuses an empty secret (a misconfigured
// gateway must not accept anything), a missing or repeated vnp_SecureHash, any vnp_* parameter
// given more than once (the signer and this side could read different values), and a
// vnp_SecureHashType naming another algorithm than HMAC-SHA512 (a pre-2.1.0 signature).
func Verify(secret string, params url.Values) bool {
	if secret == "" {
		return false
	}
	hashes := params[ParamSecureHash]
	if len(hashes) != 1 {
		return false
	}
	got, err := hex.DecodeString(hashes[0])
	if err != nil || len(got) != sha512.Size {
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
	return hmac.Equal(got, mac(secret, SignedData(params)))
}

func acceptedHashType(t string) bool {
	return t == "" || strings.EqualFold(t, "HmacSHA512") || strings.EqualFold(t, "SHA512")
}

func mac(secret, data string) []byte {
	h := hmac.New(sha512.New, []byte(secret))
	h.Write([]byte(data))
	return h.Sum(nil)
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
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case unreserved(c):
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&0x0f])
		}
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}
