package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

type ctxKey int

const clientKey ctxKey = 1

// tokenSet checks bearer tokens in constant time. Tokens are compared as SHA-256 digests, so the
// comparison time depends on neither the token's length nor its content.
type tokenSet struct {
	names   []string
	digests [][32]byte
}

func newTokenSet(byName map[string][]string) *tokenSet {
	ts := &tokenSet{}
	for name, tokens := range byName {
		for _, t := range tokens {
			ts.names = append(ts.names, name)
			ts.digests = append(ts.digests, sha256.Sum256([]byte(t)))
		}
	}
	return ts
}

// match returns the client whose token this is.
func (ts *tokenSet) match(token string) (string, bool) {
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range ts.digests {
		if subtle.ConstantTimeCompare(d[:], ts.digests[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 || token == "" {
		return "", false
	}
	return ts.names[found], true
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return ""
	}
	return strings.TrimSpace(h[7:])
}

// requireToken admits requests with a known bearer token and puts the client's name in the
// context.
func requireToken(ts *tokenSet, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := ts.match(bearer(r))
		if !ok {
			unauthorized(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey, name)))
	})
}

func clientFrom(ctx context.Context) string {
	s, _ := ctx.Value(clientKey).(string)
	return s
}
