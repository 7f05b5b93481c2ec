package jsonstrict_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/internal/jsonstrict"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`, nil},
		{`{"a":1,"a":2}`, jsonstrict.ErrDuplicateKey},
		{`{"id":"x","\u0069d":"y"}`, jsonstrict.ErrDuplicateKey},
		{`{"amount":1,"AMOUNT":150000}`, jsonstrict.ErrDuplicateKey},
		{`{"task":1,"tas\u212a":2}`, jsonstrict.ErrDuplicateKey},
		{`{"status":1,"\u017ftatus":2}`, jsonstrict.ErrDuplicateKey},
		{`{"amount":1,"amounts":2}`, nil},
		{`{"a":{"b":1,"b":1}}`, jsonstrict.ErrDuplicateKey},
		{`[{"k":"a,\"k\":"},{"k":1}]`, nil},
		{`{"k":"\"","v":"}","k2":"{"}`, nil},
		{`{"a":[1,2,{"x":"a"}],"x":3}`, nil},
		{strings.Repeat("[", 32) + strings.Repeat("]", 32), nil},
		{strings.Repeat("[", 33) + strings.Repeat("]", 33), jsonstrict.ErrTooDeep},
		{`{"a":` + strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 41), jsonstrict.ErrTooDeep},
		{`}`, jsonstrict.ErrSyntax},
		{`{"a`, jsonstrict.ErrSyntax},
	} {
		if err := jsonstrict.Check([]byte(tc.in), 32); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Check(%.60q) = %v, want %v", tc.in, err, tc.want)
		}
	}
	keys := `{` + strings.Repeat(`"k":1,`, 0)
	for i := 0; i < 40; i++ {
		keys += `"k` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1,`
	}
	if err := jsonstrict.Check([]byte(keys+`"kab":2}`), 32); !errors.Is(err, jsonstrict.ErrDuplicateKey) {
		t.Errorf("a duplicate past the thirty-second key: %v", err)
	}
	if err := jsonstrict.Check([]byte(keys+`"KAB":2}`), 32); !errors.Is(err, jsonstrict.ErrDuplicateKey) {
		t.Errorf("a duplicate in another case past the thirty-second key: %v", err)
	}
	if err := jsonstrict.Check([]byte(keys+`"\u212azz":2,"ka\u017f":3}`), 32); err != nil {
		t.Errorf("distinct keys past the thirty-second key: %v", err)
	}
	if err := jsonstrict.Check([]byte(keys+`"\u212aab":2}`), 32); !errors.Is(err, jsonstrict.ErrDuplicateKey) {
		t.Errorf("the Kelvin sign past the thirty-second key: %v", err)
	}
	nested := `{"a":{"a":1},"b":{"a":2},"a2":[{"a":1,"b":2},{"a":1}]}`
	if err := jsonstrict.Check([]byte(nested), 32); err != nil {
		t.Errorf("the same key in sibling objects: %v", err)
	}
}

// duplicateByTokens is the reference: encoding/json's tokenizer, and keys compared pairwise with
// strings.EqualFold, as encoding/json matches them to fields.
func duplicateByTokens(data []byte) (dup bool, depth int, ok bool) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	type obj struct {
		keys      []string
		expectKey bool
	}
	var stack []*obj
	max := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return dup, max, true
		}
		if err != nil {
			return false, 0, false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if len(stack) > 0 && stack[len(stack)-1] != nil {
					stack[len(stack)-1].expectKey = true
				}
				if v == '{' {
					stack = append(stack, &obj{expectKey: true})
				} else {
					stack = append(stack, nil)
				}
				max = maxInt(max, len(stack))
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1] != nil {
					stack[len(stack)-1].expectKey = true
				}
			}
		case string:
			if len(stack) > 0 && stack[len(stack)-1] != nil {
				o := stack[len(stack)-1]
				if o.expectKey {
					for _, k := range o.keys {
						if strings.EqualFold(k, v) {
							dup = true
						}
					}
					o.keys = append(o.keys, v)
					o.expectKey = false
					continue
				}
				o.expectKey = true
			}
		default:
			if len(stack) > 0 && stack[len(stack)-1] != nil {
				stack[len(stack)-1].expectKey = true
			}
		}
	}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// FuzzCheck: Check never panics, and on valid JSON it agrees with encoding/json's tokenizer on
// duplicate keys (compared without case) and depth. Seeds live in testdata/fuzz/FuzzCheck.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`{"a":{"b":[1,{"c":"\"}"}]},"\u0061":1}`))
	f.Add([]byte(`[[[[[[[[[[]]]]]]]]]]`))
	f.Add([]byte(`{"transactions":[{"amount":1,"amount":50000}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := jsonstrict.Check(data, 8)
		if !json.Valid(data) {
			return
		}
		dup, depth, ok := duplicateByTokens(data)
		if !ok {
			t.Fatalf("the tokenizer refused valid JSON %q", data)
		}
		switch {
		case depth > 8:
			if !errors.Is(err, jsonstrict.ErrTooDeep) && !errors.Is(err, jsonstrict.ErrDuplicateKey) {
				t.Fatalf("depth %d of %q: %v", depth, data, err)
			}
		case dup:
			if !errors.Is(err, jsonstrict.ErrDuplicateKey) {
				t.Fatalf("duplicate in %q missed: %v", data, err)
			}
		case err != nil:
			t.Fatalf("valid JSON %q without duplicates refused: %v", data, err)
		}
	})
}
