package events

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting the reader follows. encoding/json allows 10000 levels; deeper than
// maxDepth the reader declines and the walk, which uses encoding/json, decides.
const maxDepth = 512

// reader reads one JSON text in a single pass, checking its syntax as it goes. It never reports
// why something is wrong: every method returns false for anything that is not valid JSON of the
// expected kind, and the caller then declines the input (see Parse). Its syntax is RFC 8259's,
// which encoding/json also follows, so that valid for the reader is valid for the walk too.
type reader struct {
	data  []byte
	src   string // data as a string: a string value without escapes is a substring of it, not a copy
	pos   int
	depth int
}

func newReader(data []byte) *reader {
	return &reader{data: data, src: string(data)}
}

// plain marks the bytes a string value can hold that need no further look: printable ASCII but
// the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (r *reader) peek() byte {
	if r.pos < len(r.data) {
		return r.data[r.pos]
	}
	return 0
}

// ws skips JSON whitespace (only these four bytes: Unicode spaces are not JSON whitespace).
func (r *reader) ws() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// atEnd reports whether only whitespace is left.
func (r *reader) atEnd() bool {
	r.ws()
	return r.pos == len(r.data)
}

// open consumes the opening '{' or '[' of a container.
func (r *reader) open(c byte) bool {
	if r.peek() != c || r.depth >= maxDepth {
		return false
	}
	r.pos++
	r.depth++
	return true
}

// member moves to member i of the object being read (after open): it reads the member's key and
// the colon, leaving the reader at the value, or consumes the closing '}' and reports done. The
// value of the previous member must have been consumed.
func (r *reader) member(i int) (key []byte, done, ok bool) {
	r.ws()
	switch c := r.peek(); {
	case c == '}':
		r.pos++
		r.depth--
		return nil, true, true
	case i == 0:
	case c == ',':
		r.pos++
		r.ws()
	default:
		return nil, false, false
	}
	key, ok = r.key()
	if !ok {
		return nil, false, false
	}
	r.ws()
	if r.peek() != ':' {
		return nil, false, false
	}
	r.pos++
	r.ws()
	return key, false, true
}

// element moves to element i of the array being read (after open), or consumes the closing ']'
// and reports done.
func (r *reader) element(i int) (done, ok bool) {
	r.ws()
	switch c := r.peek(); {
	case c == ']':
		r.pos++
		r.depth--
		return true, true
	case i == 0:
	case c == ',':
		r.pos++
		r.ws()
	default:
		return false, false
	}
	return false, true
}

// scanString checks the string whose opening quote is at r.pos and returns the index of its
// closing quote. escaped reports a backslash escape; ascii that every byte is printable ASCII.
func (r *reader) scanString() (end int, escaped, ascii, ok bool) {
	data := r.data
	i := r.pos + 1
	for i < len(data) && plain[data[i]] {
		i++
	}
	ascii = true
	for i < len(data) {
		switch c := data[i]; {
		case c == '"':
			return i, escaped, ascii, true
		case c == '\\':
			escaped, ascii = true, false
			if i+1 >= len(data) {
				return 0, false, false, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(data) || hex4(data[i+2:i+6]) < 0 {
					return 0, false, false, false
				}
				i += 6
			default:
				return 0, false, false, false
			}
		case c < 0x20:
			return 0, false, false, false
		case plain[c]:
			i++
		default: // DEL, or a byte of a multi-byte sequence
			ascii = false
			i++
		}
	}
	return 0, false, false, false
}

// str reads a string value the way encoding/json decodes it into a Go string.
func (r *reader) str() (s string, ascii, ok bool) {
	if r.peek() != '"' {
		return "", false, false
	}
	start := r.pos + 1
	end, escaped, ascii, ok := r.scanString()
	if !ok {
		return "", false, false
	}
	r.pos = end + 1
	if !escaped && (ascii || utf8.Valid(r.data[start:end])) {
		return r.src[start:end], ascii, true
	}
	return string(unquote(r.data[start:end])), false, true
}

// key reads an object key. A key without escapes is returned as it is written: one holding bytes
// that are not valid UTF-8 then differs from its decoded form, but neither can equal a key the
// contract knows, which are all ASCII.
func (r *reader) key() ([]byte, bool) {
	if r.peek() != '"' {
		return nil, false
	}
	start := r.pos + 1
	end, escaped, _, ok := r.scanString()
	if !ok {
		return nil, false
	}
	r.pos = end + 1
	if escaped {
		return unquote(r.data[start:end]), true
	}
	return r.data[start:end], true
}

// null consumes a null literal.
func (r *reader) null() bool { return r.literal("null") }

func (r *reader) literal(lit string) bool {
	if len(r.data)-r.pos < len(lit) || string(r.data[r.pos:r.pos+len(lit)]) != lit {
		return false
	}
	r.pos += len(lit)
	return true
}

// number consumes a number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?. integer
// reports that it has neither fraction nor exponent.
func (r *reader) number() (integer, ok bool) {
	data, i := r.data, r.pos
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data):
		return false, false
	case data[i] == '0':
		i++
	case data[i] >= '1' && data[i] <= '9':
		i = digits(data, i)
	default:
		return false, false
	}
	integer = true
	if i < len(data) && data[i] == '.' {
		integer = false
		j := digits(data, i+1)
		if j == i+1 {
			return false, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		integer = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return false, false
		}
		i = j
	}
	r.pos = i
	return integer, true
}

func digits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

// skip consumes any value, checking its syntax.
func (r *reader) skip() bool {
	switch c := r.peek(); {
	case c == '"':
		end, _, _, ok := r.scanString()
		r.pos = end + 1
		return ok
	case c == '{':
		if !r.open('{') {
			return false
		}
		for i := 0; ; i++ {
			_, done, ok := r.member(i)
			if !ok {
				return false
			}
			if done {
				return true
			}
			if !r.skip() {
				return false
			}
		}
	case c == '[':
		if !r.open('[') {
			return false
		}
		for i := 0; ; i++ {
			done, ok := r.element(i)
			if !ok {
				return false
			}
			if done {
				return true
			}
			if !r.skip() {
				return false
			}
		}
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.null()
	case c == '-' || (c >= '0' && c <= '9'):
		_, ok := r.number()
		return ok
	}
	return false
}

// hex4 reads four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// unquote decodes the inside of a string that scanString accepted, exactly as encoding/json does:
// a lone or unpaired UTF-16 surrogate escape and every byte that is not part of valid UTF-8
// become U+FFFD.
func unquote(s []byte) []byte {
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(rr) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[i+2:])); dec != unicode.ReplacementChar {
							b = utf8.AppendRune(b, dec)
							i += 6
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\' and '/' stand for themselves
				b = append(b, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			rr, size := utf8.DecodeRune(s[i:])
			b = utf8.AppendRune(b, rr)
			i += size
		}
	}
	return b
}
