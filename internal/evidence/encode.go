package evidence

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/egov-vn/gateway/internal/jsonenc"
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

// appendJSONString appends s quoted exactly as encoding/json writes it (jsonenc.AppendString).
func appendJSONString(dst []byte, s string) []byte { return jsonenc.AppendString(dst, s) }
