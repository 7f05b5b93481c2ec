package evidence

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBody bounds the part of a callback's body that is kept; a callback's body is a few KiB.
const MaxBody = 64 << 10

// maxAnswer bounds the part of the gateway's answer that is kept.
const maxAnswer = 4 << 10

// keptHeaders are the request headers kept, canonical names. Credentials (Authorization,
// Cookie, Proxy-Authorization) are never kept; the partners' signature and timestamp headers are
// (see isSignatureHeader).
var keptHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "User-Agent": true,
	"X-Forwarded-For": true, "X-Real-Ip": true, "X-Request-Id": true,
}

// neverKept are headers that carry credentials, whatever their name looks like.
var neverKept = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Api-Key": true, "X-Auth-Token": true,
}

// Observer counts the records appended and those lost.
type Observer interface {
	EvidenceRecorded(endpoint string)
	EvidenceFailed(endpoint string)
}

// Recorder is the middleware that appends every callback to the log after it is answered.
type Recorder struct {
	Log      *Log
	Observer Observer
	Logger   *slog.Logger
	// AnswerFields lists, for endpoints whose answer carries personal data (PayGov's bill
	// look-up answers the payer's name), the top-level fields of the JSON answer that are kept;
	// the answers of other endpoints are kept whole.
	AnswerFields map[string][]string
}

// Middleware records the requests next answers on endpoint (a closed-set name such as
// vnpay_ipn). The answer goes out first; a failed append is counted and logged, never answered.
func (rec *Recorder) Middleware(endpoint string, next http.Handler) http.Handler {
	if rec == nil || rec.Log == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := rec.Log.now()
		// The body is read up front (bounded), so a callback refused before its body is read
		// is kept whole too; the handler reads the same bytes, then the rest.
		var prefix []byte
		var rest *counter
		if r.Body != nil && r.Body != http.NoBody {
			orig := r.Body
			prefix, _ = io.ReadAll(io.LimitReader(orig, MaxBody+1))
			rest = &counter{r: orig}
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(prefix), rest), orig}
		}
		rw := &answer{ResponseWriter: w}
		next.ServeHTTP(rw, r)
		// The partner has its whole answer (with its length) before the record is written.
		rw.release()
		_ = http.NewResponseController(w).Flush()
		body, size, truncated := prefix, len(prefix), false
		if rest != nil {
			size += rest.n
		}
		if len(body) > MaxBody {
			body, truncated = body[:MaxBody], true
		}
		e := Entry{
			At: at, Endpoint: endpoint, Method: r.Method, Target: r.URL.RequestURI(), Remote: remoteHost(r.RemoteAddr),
			Headers: selectHeaders(r.Header), BodySize: size, BodyTruncated: truncated,
			Verdict:   Verdict{Status: rw.code(), Answer: rec.answer(endpoint, rw.buf.Bytes())},
			Reference: reference(r, body),
		}
		if e.Reference == "" {
			e.Reference = answered(rw.buf.Bytes())
		}
		if len(body) > 0 {
			if utf8.Valid(body) {
				e.Body, e.BodyEncoding = string(body), "utf8"
			} else {
				e.Body, e.BodyEncoding = base64.StdEncoding.EncodeToString(body), "base64"
			}
		}
		// Queued, not waited for: the handler returns and the connection serves the partner's
		// next request while the group holding this record is appended.
		rec.Log.AppendAsync(e, func(_ Record, err error) {
			if err != nil {
				if rec.Observer != nil {
					rec.Observer.EvidenceFailed(endpoint)
				}
				if rec.Logger != nil {
					rec.Logger.Warn("recording callback evidence", "endpoint", endpoint, "err", err)
				}
				return
			}
			if rec.Observer != nil {
				rec.Observer.EvidenceRecorded(endpoint)
			}
		})
	})
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// maxHeld bounds the answer held back until the handler returns: a callback's answer is a few
// hundred bytes; a longer one streams.
const maxHeld = 64 << 10

// answer keeps the response's status and the start of its body, and holds the whole answer
// back until the handler returns (release), so that it goes out with its Content-Length: a
// partner then has its complete answer before the record is appended, instead of waiting for the
// end of a chunked body, which comes only when the middleware returns. An answer longer than
// maxHeld, or one the handler flushes or hijacks, streams from then on.
type answer struct {
	http.ResponseWriter
	status    int
	buf       bytes.Buffer // the start of the body, for the record
	held      bytes.Buffer // the body not yet written
	streaming bool
}

func (a *answer) WriteHeader(code int) {
	if a.status != 0 {
		return
	}
	a.status = code
	if a.streaming {
		a.ResponseWriter.WriteHeader(code)
	}
}

func (a *answer) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if room := maxAnswer - a.buf.Len(); room > 0 {
		a.buf.Write(p[:min(len(p), room)])
	}
	if !a.streaming && a.held.Len()+len(p) <= maxHeld {
		return a.held.Write(p)
	}
	if err := a.stream(); err != nil {
		return 0, err
	}
	return a.ResponseWriter.Write(p)
}

// stream writes the status and the held body, and passes everything through from then on.
func (a *answer) stream() error {
	if a.streaming {
		return nil
	}
	a.streaming = true
	a.ResponseWriter.WriteHeader(a.code())
	if a.held.Len() > 0 {
		_, err := a.ResponseWriter.Write(a.held.Bytes())
		a.held.Reset()
		return err
	}
	return nil
}

// release sends the held answer with its Content-Length, once the handler has returned.
func (a *answer) release() {
	if a.streaming {
		return
	}
	a.streaming = true
	if a.held.Len() > 0 || bodyAllowed(a.code()) {
		a.ResponseWriter.Header().Set("Content-Length", strconv.Itoa(a.held.Len()))
	}
	a.ResponseWriter.WriteHeader(a.code())
	if a.held.Len() > 0 {
		_, _ = a.ResponseWriter.Write(a.held.Bytes())
	}
}

// bodyAllowed reports whether a response with this status may carry a body (and so a
// Content-Length).
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

func (a *answer) Flush() {
	_ = a.stream()
	if f, ok := a.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (a *answer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := a.ResponseWriter.(http.Hijacker); ok {
		a.streaming = true
		return h.Hijack()
	}
	return nil, nil, errors.New("hijacking not supported")
}

// Unwrap lets http.ResponseController reach the server's writer.
func (a *answer) Unwrap() http.ResponseWriter { return a.ResponseWriter }

func (a *answer) code() int {
	if a.status == 0 {
		return http.StatusOK
	}
	return a.status
}

// selectHeaders keeps the headers a dispute needs: content, origin, and the partners' signature
// and timestamp headers. Repeated values are joined with ", ".
func selectHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for name, vals := range h {
		name = http.CanonicalHeaderKey(name)
		if neverKept[name] {
			continue
		}
		if keptHeaders[name] || isSignatureHeader(name) {
			out[name] = strings.Join(vals, ", ")
		}
	}
	return out
}

func isSignatureHeader(name string) bool {
	n := strings.ToLower(name)
	if strings.Contains(n, "token") || strings.Contains(n, "secret") || strings.Contains(n, "key") {
		return false
	}
	for _, s := range []string{"signature", "sign", "checksum", "timestamp", "hmac"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// answer is the part of an answer that is kept.
func (rec *Recorder) answer(endpoint string, b []byte) string {
	fields, ok := rec.AnswerFields[endpoint]
	if !ok {
		return text(b)
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(b, &all) != nil {
		return ""
	}
	kept := map[string]json.RawMessage{}
	for _, f := range fields {
		if v, ok := all[f]; ok {
			kept[f] = v
		}
	}
	out, _ := json.Marshal(kept)
	return string(out)
}

// text is an answer as kept: as is when UTF-8, base64 otherwise.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// referenceFields are the fields that name the payment in the providers' callbacks: VNPay's
// vnp_TxnRef (query) and PayGov's transaction_id (the gateway's reference, JSON body). A bank
// notification names its payments in the answer (see answered).
var referenceFields = []string{"vnp_TxnRef", "transaction_id"}

// reference is the payment reference of a callback, when one can be read.
func reference(r *http.Request, body []byte) string {
	for _, f := range referenceFields {
		if v := queryGet(r.URL.RawQuery, f); v != "" {
			return bounded(v)
		}
	}
	if len(body) == 0 || body[0] != '{' {
		return ""
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return ""
	}
	for _, f := range referenceFields {
		var s string
		if raw, ok := fields[f]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
			return bounded(s)
		}
	}
	return ""
}

// answered reads the references a bank notification's answer names (one per transaction
// matched to a payment).
func answered(b []byte) string {
	var reply struct {
		Results []struct {
			Reference string `json:"reference"`
		} `json:"results"`
	}
	if json.Unmarshal(b, &reply) != nil {
		return ""
	}
	var refs []string
	for _, r := range reply.Results {
		if r.Reference != "" && !slices.Contains(refs, r.Reference) {
			refs = append(refs, r.Reference)
		}
	}
	return bounded(strings.Join(refs, ","))
}

// maxScannedParams bounds the parameters queryGet reads itself; a longer query is left to
// url.ParseQuery, whose own limit (GODEBUG urlmaxqueryparams, 10,000 by default) then applies.
const maxScannedParams = 1000

// queryGet is url.ParseQuery(raw).Get(key) without building the map: the first value of key
// among the pairs ParseQuery keeps (a pair with ';' or an invalid escape is skipped). It runs on
// every callback, and allocates only to unescape a key or value that has escapes.
func queryGet(raw, key string) string {
	if strings.Count(raw, "&") >= maxScannedParams {
		return parsedGet(raw, key)
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if k != key {
			if !strings.ContainsAny(k, "%+") {
				continue
			}
			uk, err := url.QueryUnescape(k)
			if err != nil || uk != key {
				continue
			}
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		return uv
	}
	return ""
}

// parsedGet is url.ParseQuery(raw).Get(key).
func parsedGet(raw, key string) string {
	q, _ := url.ParseQuery(raw)
	return q.Get(key)
}

func bounded(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
