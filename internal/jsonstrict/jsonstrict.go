// Package jsonstrict refuses the JSON that decoders read differently: objects with a key given
// twice (encoding/json keeps the last, other parsers the first, so a proxy, an audit log and the
// gateway could each see another amount) and documents nested deeper than a bound (a cheap way to
// make a parser work hard). It checks a body that is otherwise valid JSON, in one pass and
// without decoding it; call it before decoding.
package jsonstrict

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	keys      []string
	set       map[string]struct{}
}

// Check reports the first duplicate key or a nesting deeper than maxDepth (objects and arrays
// count alike). Keys are compared as encoding/json matches them to struct fields: after
// unescaping and without regard to case, so "amount", "\u0061mount" and "AMOUNT" are one key.
// For bytes that are not JSON it may return ErrSyntax or nil; decode them to know.
func Check(data []byte, maxDepth int) error {
	var stack []frame
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{', '[':
			if len(stack) >= maxDepth {
				return fmt.Errorf("%w: more than %d levels", ErrTooDeep, maxDepth)
			}
			stack = append(stack, frame{object: c == '{', expectKey: c == '{'})
		case '}', ']':
			if len(stack) == 0 || stack[len(stack)-1].object != (c == '}') {
				return ErrSyntax
			}
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
			key := string(data[start+1 : i])
			if escaped {
				if err := json.Unmarshal(data[start:i+1], &key); err != nil {
					return ErrSyntax
				}
			}
			if f.seen(fold(key)) {
				return fmt.Errorf("%w %s", ErrDuplicateKey, printable(key))
			}
		}
	}
	return nil
}

// seen records key and reports whether the object already had it: a slice for the usual few
// keys, a map past sixteen.
func (f *frame) seen(key string) bool {
	if f.set != nil {
		if _, ok := f.set[key]; ok {
			return true
		}
		f.set[key] = struct{}{}
		return false
	}
	for _, k := range f.keys {
		if k == key {
			return true
		}
	}
	f.keys = append(f.keys, key)
	if len(f.keys) > 16 {
		f.set = make(map[string]struct{}, 32)
		for _, k := range f.keys {
			f.set[k] = struct{}{}
		}
		f.keys = nil
	}
	return false
}

// fold maps the keys encoding/json takes for the same field to one string: upper-casing first
// brings the long s (U+017F) to S, lower-casing then brings the Kelvin sign (U+212A) to k.
func fold(key string) string {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return strings.ToLower(strings.ToUpper(key))
		}
	}
	return key
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
