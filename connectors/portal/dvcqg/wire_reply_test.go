package dvcqg

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestScanReplyAgreesWithUnmarshal: on answers built from the adapter's keys and values, case
// and escape variants of the keys, nested results holding braces, quotes and escapes, duplicate
// keys, random whitespace, cut-off and non-object bodies, scanReply either leaves the answer to
// encoding/json or yields exactly what json.Unmarshal into reply yields.
func TestScanReplyAgreesWithUnmarshal(t *testing.T) {
	t.Parallel()
	keys := []string{`"error_code"`, `"result"`, `"message"`, `"session"`, `"ERROR_CODE"`, `"Result"`, `"error_cod"`,
		`"error\u005fcode"`, `"résult"`, `"error_codé"`, `""`, `"data"`}
	values := append([]string{`{"MaHoSo":"H37-0001","x":[1,2,{"y":"}]\"{"}]}`, `[{"MaHoSo":"X"}]`, `"a\"b\\c}"`,
		`"Thành công"`, `{"error_code":"10"}`, `[[],{}]`, `" } "`}, replyValues...)
	rng := rand.New(rand.NewPCG(5, 9))
	ws := func() string { return []string{"", "", " ", "\n\t", "\r\n  "}[rng.IntN(5)] }
	handled := 0
	const n = 20000
	for range n {
		var sb strings.Builder
		sb.WriteString(ws() + "{" + ws())
		for m := range rng.IntN(5) {
			if m > 0 {
				sb.WriteString(ws() + "," + ws())
			}
			sb.WriteString(keys[rng.IntN(len(keys))] + ws() + ":" + ws() + values[rng.IntN(len(values))])
		}
		sb.WriteString(ws() + "}" + ws())
		body := sb.String()
		switch rng.IntN(10) {
		case 0:
			body = body[:rng.IntN(len(body)+1)]
		case 1:
			body = values[rng.IntN(len(values))]
		}
		if compareScan(t, []byte(body)) {
			handled++
		}
	}
	if handled < n/4 {
		t.Errorf("scanReply handled %d of %d answers; the plain ones must not all fall back", handled, n)
	}
	for _, plain := range []string{`{"error_code":"00","message":"Thành công","result":[]}`, `{"error_code":0}`,
		`{"error_code":"11","message":"Không tìm thấy hồ sơ","result":null}`,
		`{ "error_code" : "00", "result" : [ { "MaHoSo" : "H37-1", "TrangThaiHoSo" : 4 } ] }`} {
		if !compareScan(t, []byte(plain)) {
			t.Errorf("scanReply left %s to encoding/json", plain)
		}
	}
}

// compareScan checks scanReply against json.Unmarshal on body and reports whether it handled it.
func compareScan(t *testing.T, body []byte) bool {
	t.Helper()
	code, hasCode, result, handled, err := scanReply(body, true)
	if !handled {
		return false
	}
	var rep reply
	refErr := json.Unmarshal(body, &rep)
	refMalformed := refErr != nil || rep.ErrorCode == nil
	if malformed := err != nil || !hasCode; malformed != refMalformed {
		t.Errorf("%s: malformed %v (err %v), json.Unmarshal says %v (err %v)", body, malformed, err, refMalformed, refErr)
		return true
	}
	if refMalformed {
		return true
	}
	if code != *rep.ErrorCode || !bytes.Equal(result, rep.Result) || (result == nil) != (rep.Result == nil) {
		t.Errorf("%s: code %q result %q; json.Unmarshal gives %q %q", body, code, result, *rep.ErrorCode, rep.Result)
	}
	return true
}
