package vnpay

import (
	"net/url"
	"strings"
)

// maxParsedParams bounds the parameters parseQuery splits itself; a query with more is left to
// url.ParseQuery, whose own limit (GODEBUG urlmaxqueryparams) then applies. The IPN handler
// refuses queries longer than maxIPNQuery before, so this is a guard, not a path IPNs take.
const maxParsedParams = 1000

// parseQuery is url.ParseQuery(raw), the same values and the same error, in fewer allocations:
// the values of all keys share one backing array (a key given twice gets its own slice on the
// second append, as three-index slices make append copy), and a key or value without escapes is
// a substring of raw. An IPN's ~13 parameters cost the map and one slice instead of the map and
// a slice per parameter.
func parseQuery(raw string) (url.Values, error) {
	n := strings.Count(raw, "&") + 1
	if n > maxParsedParams {
		return url.ParseQuery(raw)
	}
	m := make(url.Values, n)
	backing := make([]string, n)
	used := 0
	var err error
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if strings.Contains(pair, ";") {
			err = errSemicolon // url.ParseQuery too lets this error replace an earlier one
			continue
		}
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		if err1 != nil {
			if err == nil {
				err = err1
			}
			continue
		}
		v, err1 = url.QueryUnescape(v)
		if err1 != nil {
			if err == nil {
				err = err1
			}
			continue
		}
		if vs, ok := m[k]; ok {
			m[k] = append(vs, v)
			continue
		}
		backing[used] = v
		m[k] = backing[used : used+1 : used+1]
		used++
	}
	return m, err
}

// errSemicolon is url.ParseQuery's error for a pair holding ';'.
var errSemicolon = func() error {
	_, err := url.ParseQuery(";")
	return err
}()
