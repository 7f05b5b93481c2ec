package evidence

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// encodeEntry is json.Marshal(e), byte for byte, written without reflection: every callback's
// entry is encoded on the request's goroutine, and reflection over Entry, its map and its time
// cost more than the rest of the Recorder. TestEncodeEntry and FuzzEncodeEntry hold it to
// json.Marshal; a time json.Marshal refuses (a year outside 0..9999, a zone 24 hours or more
// away) goes to json.Marshal, so the error is its own.
func encodeEntry(e *Entry) ([]byte, error) {
	_, offset := e.At.Zone()
	if y := e.At.Year(); y < 0 || y > 9999 || offset <= -24*3600 || offset >= 24*3600 {
		return json.Marshal(*e)
	}
	// The field names and numbers take less than 192 bytes; escapes (a JSON answer's quotes) get
	// an eighth more room, so that the buffer is usually allocated once.
	size := len(e.Endpoint) + len(e.Method) + len(e.Target) + len(e.Remote) + len(e.Body) +
		len(e.BodyEncoding) + len(e.Verdict.Answer) + len(e.Reference)
	for k, v := range e.Headers {
		size += len(k) + len(v) + 6
	}
	b := make([]byte, 0, 192+size+size/8)
	b = append(b, `{"at":"`...)
	b = e.At.AppendFormat(b, "2006-01-02T15:04:05.999999999Z07:00")
	b = append(b, `","endpoint":`...)
	b = appendJSONString(b, e.Endpoint)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.Method)
	b = append(b, `,"target":`...)
	b = appendJSONString(b, e.Target)
	if e.Remote != "" {
		b = append(b, `,"remote":`...)
		b = appendJSONString(b, e.Remote)
	}
	if len(e.Headers) > 0 {
		b = append(b, `,"headers":{`...)
		var buf [16]string
		keys := buf[:0]
		for k := range e.Headers {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, e.Headers[k])
		}
		b = append(b, '}')
	}
	if e.Body != "" {
		b = append(b, `,"body":`...)
		b = appendJSONString(b, e.Body)
	}
	if e.BodyEncoding != "" {
		b = append(b, `,"body_encoding":`...)
		b = appendJSONString(b, e.BodyEncoding)
	}
	b = append(b, `,"body_size":`...)
	b = strconv.AppendInt(b, int64(e.BodySize), 10)
	if e.BodyTruncated {
		b = append(b, `,"body_truncated":true`...)
	}
	b = append(b, `,"verdict":{"status":`...)
	b = strconv.AppendInt(b, int64(e.Verdict.Status), 10)
	if e.Verdict.Answer != "" {
		b = append(b, `,"answer":`...)
		b = appendJSONString(b, e.Verdict.Answer)
	}
	b = append(b, '}')
	if e.Reference != "" {
		b = append(b, `,"reference":`...)
		b = appendJSONString(b, e.Reference)
	}
	return append(b, '}'), nil
}

const jsonHex = "0123456789abcdef"

// jsonSafe marks the ASCII bytes a JSON string holds as they are (encoding/json's htmlSafeSet).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json writes a string with HTML escaping (its
// default): '"' and '\\' escaped, control characters as \b \f \n \r \t or \u00XX, '<', '>'
// and '&' as \u003c \u003e \u0026, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', jsonHex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
