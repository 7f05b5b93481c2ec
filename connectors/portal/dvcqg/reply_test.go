package dvcqg

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// referenceTextOrNumber is textOrNumber as it was before its fast paths: every string and number
// through the JSON decoder. The fast paths must agree with it on every input.
func referenceTextOrNumber(b []byte, notEither error) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return "", nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	default:
		return "", notEither
	}
}

// referenceNonEmpty is nonEmpty as it was before its fast paths: every value decoded.
func referenceNonEmpty(raw json.RawMessage) bool {
	var v any
	if len(bytes.TrimSpace(raw)) == 0 || json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	default:
		return true
	}
}

// replyValues are JSON values (and near misses) as an adapter might send them.
var replyValues = []string{
	`null`, `0`, `00`, `"0"`, `"00"`, `" 00 "`, `"01"`, `1`, `10`, `"10"`, `"11"`, `-1`, `-0`, `1.5`, `1e3`,
	`1e400`, `-`, `01`, `"E_SESSION"`, `""`, `" "`, `"\u0030\u0030"`, `"0\n"`, "\"0\t\"", `"\"0\""`, `"Thành công"`,
	"\"\xff\xfe\"", "\"0\x01\"", `"\u00a0 0"`, "\"\u00a00\u00a0\"", "\"\u20280\"", `"`, `"0`, `0"`, `true`, `false`,
	`{}`, `[]`, ` [ ] `, "{\n}", `[0]`, `[[]]`, `{"a":1}`, `{"a":1e400}`, `[1e400]`, `[{"MaHoSo":"X"}]`, `{"code":0}`,
	`[`, `{`, `nul`, ``, ` `, `"\ud800"`,
}

// TestTextOrNumberAgreesWithTheDecoder: on the adapter's usual values, their near misses and
// random concatenations of them, the fast paths give what the JSON decoder gives.
func TestTextOrNumberAgreesWithTheDecoder(t *testing.T) {
	t.Parallel()
	inputs := append([]string(nil), replyValues...)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		inputs = append(inputs, replyValues[rng.IntN(len(replyValues))]+replyValues[rng.IntN(len(replyValues))])
	}
	for _, in := range inputs {
		for _, padded := range []string{in, " " + in + "\n"} {
			got, gotErr := textOrNumber([]byte(padded), errInvalidCode)
			want, wantErr := referenceTextOrNumber([]byte(padded), errInvalidCode)
			if got != want || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("textOrNumber(%q) = %q, %v; the decoder gives %q, %v", padded, got, gotErr, want, wantErr)
			}
			// Through encoding/json, as the adapter's answers arrive.
			var c, ref resultCode
			err := json.Unmarshal([]byte(padded), &c)
			refErr := func() error {
				var raw json.RawMessage
				if err := json.Unmarshal([]byte(padded), &raw); err != nil {
					return err
				}
				s, err := referenceTextOrNumber(raw, errInvalidCode)
				ref = resultCode(s)
				return err
			}()
			if (err == nil) != (refErr == nil) || (err == nil && c != ref) {
				t.Errorf("decoding %q: %q, %v; before: %q, %v", padded, c, err, ref, refErr)
			}
		}
	}
}

// TestNonEmptyAgreesWithTheDecoder: the shortcuts for empty results say what decoding says.
func TestNonEmptyAgreesWithTheDecoder(t *testing.T) {
	t.Parallel()
	inputs := append([]string(nil), replyValues...)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		inputs = append(inputs, replyValues[rng.IntN(len(replyValues))]+replyValues[rng.IntN(len(replyValues))])
	}
	for _, in := range inputs {
		for _, padded := range []string{in, "\t" + in + " "} {
			if got, want := nonEmpty(json.RawMessage(padded)), referenceNonEmpty(json.RawMessage(padded)); got != want {
				t.Errorf("nonEmpty(%q) = %v; decoding says %v", padded, got, want)
			}
		}
	}
}
