// Package jsonstrict refuses the JSON that decoders read differently: objects with a key given
// twice (encoding/json keeps the last, other parsers the first, so a proxy, an audit log and the
// gateway could each see another amount) and documents nested deeper than a bound (a cheap way to
// make a parser work hard). It checks a body that is otherwise valid JSON, in one pass and
// without decoding it; call it before decoding.
package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Errors returned, wrapped, by Check.
var (
	ErrDuplicateKey = errors.New("duplicate object key")
	ErrTooDeep      = errors.New("nested too deeply")
	ErrSyntax       = errors.New("not JSON")
)

type frame struct {
	object    bool
	expectKey bool
	// start is where this object's keys begin in the shared key list; set replaces the list
	// for an object with many keys.
	start int
	set   map[string]struct{}
}

// linearKeys is how many keys an object compares one by one before it switches to a map.
const linearKeys = 32

// Check reports the first duplicate key or a nesting deeper than maxDepth (objects and arrays
// count alike). Keys are compared as encoding/json matches them to struct fields: after
// unescaping and without regard to case, so "amount", "\u0061mount" and "AMOUNT" are one key.
// For bytes that are not JSON it may return ErrSyntax or nil; decode them to know. It allocates
// nothing for the usual body (unescaped keys, small objects).
func Check(data []byte, maxDepth int) error {
	var stackBuf [16]frame
	var keysBuf [64][]byte
	stack, keys := stackBuf[:0], keysBuf[:0]
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{', '[':
			if len(stack) >= maxDepth {
				return fmt.Errorf("%w: more than %d levels", ErrTooDeep, maxDepth)
			}
			stack = append(stack, frame{object: c == '{', expectKey: c == '{', start: len(keys)})
		case '}', ']':
			if len(stack) == 0 || stack[len(stack)-1].object != (c == '}') {
				return ErrSyntax
			}
			keys = keys[:stack[len(stack)-1].start]
			stack = stack[:len(stack)-1]
		case ',':
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expectKey = true
			}
		case '"':
			start, escaped := i, false
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					escaped = true
					i++
				}
			}
			if i >= len(data) {
				return ErrSyntax
			}
			if len(stack) == 0 || !stack[len(stack)-1].expectKey {
				continue
			}
			f := &stack[len(stack)-1]
			f.expectKey = false
			key := data[start+1 : i]
			if escaped {
				var k string
				if err := json.Unmarshal(data[start:i+1], &k); err != nil {
					return ErrSyntax
				}
				key = []byte(k)
			}
			dup := false
			keys, dup = f.add(keys, key)
			if dup {
				return fmt.Errorf("%w %s", ErrDuplicateKey, printable(string(key)))
			}
		}
	}
	return nil
}

// add records key in the object and reports whether the object already had it.
func (f *frame) add(keys [][]byte, key []byte) ([][]byte, bool) {
	if f.set != nil {
		k := fold(string(key))
		if _, ok := f.set[k]; ok {
			return keys, true
		}
		f.set[k] = struct{}{}
		return keys, false
	}
	for _, k := range keys[f.start:] {
		if bytes.EqualFold(k, key) {
			return keys, true
		}
	}
	keys = append(keys, key)
	if len(keys)-f.start > linearKeys {
		f.set = make(map[string]struct{}, 2*linearKeys)
		for _, k := range keys[f.start:] {
			f.set[fold(string(k))] = struct{}{}
		}
		keys = keys[:f.start]
	}
	return keys, false
}

// fold maps the keys bytes.EqualFold (and so encoding/json) takes for one another to one
// string: every rune becomes the smallest of its case-folding orbit ("K", "k" and the Kelvin sign
// become "K"; "S", "s" and the long s become "S").
func fold(key string) string {
	var b strings.Builder
	b.Grow(len(key))
	for _, r := range key {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// printable quotes a short plain key for an error message; any other key is not repeated.
func printable(key string) string {
	if len(key) > 40 {
		return "(long key)"
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "(key with special characters)"
		}
	}
	return fmt.Sprintf("%q", key)
}
