package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/jsonstrict"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/routing"
)

// Media types of /v1/events.
const (
	mediaCloudEvent      = "application/cloudevents+json"
	mediaCloudEventBatch = "application/cloudevents-batch+json"
)

// maxJSONDepth bounds the nesting of the JSON bodies the API accepts (objects and arrays): the
// deepest real document, a batch of events, is five levels deep.
const maxJSONDepth = 32

// Ingest serves POST /v1/events.
type Ingest struct {
	Store          *store.Store
	Metrics        *observability.Metrics
	Log            *slog.Logger
	MaxBodyBytes   int64
	IdempotencyTTL time.Duration
	// Appender, when set, writes the events of concurrent requests in shared pipelines (group
	// commit); otherwise each request makes its own round trip.
	Appender *store.GroupAppender
}

// EventResult is the answer for one event.
type EventResult struct {
	ID     string              `json:"id"`
	Status string              `json:"status"`
	Errors []events.FieldError `json:"errors,omitempty"`
}

// MessageUUID is the stable message id of an event: the same source+id always gives the same
// UUID, so consumers and replays recognise it.
func MessageUUID(source, id string) string {
	h := sha256.Sum256([]byte(source + "\x00" + id))
	return hex.EncodeToString(h[:16])
}

func (in *Ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != mediaCloudEvent && mt != mediaCloudEventBatch) {
		writeProblem(w, r, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported content type",
			"send "+mediaCloudEvent+" (one event) or "+mediaCloudEventBatch+" (a batch)", nil)
		return
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, in.MaxBodyBytes), min(r.ContentLength, in.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "too-large", "The body is too large",
				"at most "+strconv.FormatInt(in.MaxBodyBytes, 10)+" bytes", nil)
			return
		}
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "The body could not be read", "", nil)
		return
	}
	// JSON is UTF-8 (RFC 8259). Invalid bytes would be rewritten as U+FFFD by decoders along the
	// way (the retry schedule stores payloads as JSON strings), so they are refused at the door.
	if !utf8.Valid(body) {
		writeProblem(w, r, http.StatusBadRequest, "invalid-json", "The body is not valid UTF-8 JSON", "", nil)
		return
	}
	// A key given twice is read differently by different parsers; deep nesting only costs work.
	if err := jsonstrict.Check(body, maxJSONDepth); err != nil && !errors.Is(err, jsonstrict.ErrSyntax) {
		in.Metrics.EventsIngested.WithLabelValues("unknown", "rejected").Inc()
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "The body is ambiguous JSON", err.Error(), nil)
		return
	}
	correlation := r.Header.Get("X-Correlation-ID")
	if correlation == "" || len(correlation) > 128 || !events.IsCode(correlation) {
		correlation = watermill.NewULID()
	}
	if mt == mediaCloudEvent {
		ev, err := events.Parse(body, "")
		if err != nil {
			in.Metrics.EventsIngested.WithLabelValues("unknown", "rejected").Inc()
			rejectBody(w, r, body, err)
			return
		}
		res, err := in.store(r, []*events.Event{ev}, correlation)
		if err != nil || res[0].Err != nil {
			in.Log.Error("storing event", "err", errors.Join(err, firstErr(res)), "correlation_id", correlation)
			unavailable(w, r)
			return
		}
		status, code := "accepted", http.StatusAccepted
		if res[0].Duplicate {
			status, code = "duplicate", http.StatusOK
		}
		in.Metrics.EventsIngested.WithLabelValues(ev.Type, status).Inc()
		if in.Log.Enabled(r.Context(), slog.LevelDebug) { // spares building the attributes per event
			in.Log.Debug("event "+status, "correlation_id", correlation, "dossier_code", ev.Subject, "event_id", ev.ID,
				"type", ev.Type, "client", clientFrom(r.Context()))
		}
		w.Header().Set("X-Correlation-ID", correlation)
		writeJSON(w, code, EventResult{ID: ev.ID, Status: status})
		return
	}

	evs, errs, err := events.ParseBatch(body)
	if err != nil {
		rejectBody(w, r, body, err)
		return
	}
	valid := make([]*events.Event, 0, len(evs))
	for _, ev := range evs {
		if ev != nil {
			valid = append(valid, ev)
		}
	}
	results := make([]EventResult, len(evs))
	var stored []store.AppendResult
	if len(valid) > 0 {
		stored, err = in.store(r, valid, correlation)
		if err != nil {
			in.Log.Error("storing batch", "err", err, "correlation_id", correlation)
			unavailable(w, r)
			return
		}
	}
	var allErrors []events.FieldError
	var ids []string
	if len(valid) < len(evs) {
		ids = batchIDs(body, len(evs))
	}
	j := 0
	debug := in.Log.Enabled(r.Context(), slog.LevelDebug)
	for i, ev := range evs {
		if ev == nil {
			var fe events.FieldErrors
			errors.As(errs[i], &fe)
			results[i] = EventResult{ID: ids[i], Status: "rejected", Errors: fe}
			allErrors = append(allErrors, fe...)
			in.Metrics.EventsIngested.WithLabelValues("unknown", "rejected").Inc()
			continue
		}
		res := stored[j]
		j++
		switch {
		case res.Err != nil:
			// This one event was not stored: say so; the caller retries it alone.
			results[i] = EventResult{ID: ev.ID, Status: "unavailable"}
		case res.Duplicate:
			results[i] = EventResult{ID: ev.ID, Status: "duplicate"}
		default:
			results[i] = EventResult{ID: ev.ID, Status: "accepted"}
		}
		in.Metrics.EventsIngested.WithLabelValues(ev.Type, results[i].Status).Inc()
		if debug {
			in.Log.Debug("event "+results[i].Status, "correlation_id", correlation, "dossier_code", ev.Subject,
				"event_id", ev.ID, "type", ev.Type, "client", clientFrom(r.Context()), "batch_index", i)
		}
	}
	if len(valid) == 0 {
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "Every event of the batch is invalid", "", allErrors)
		return
	}
	w.Header().Set("X-Correlation-ID", correlation)
	writeJSON(w, http.StatusAccepted, map[string]any{"results": results})
}

func (in *Ingest) store(r *http.Request, evs []*events.Event, correlation string) ([]store.AppendResult, error) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	client := clientFrom(r.Context())
	appends := make([]store.Append, len(evs))
	for i, ev := range evs {
		md := message.Metadata{
			routing.MetaType: ev.Type, routing.MetaSource: ev.Source, routing.MetaEventID: ev.ID,
			routing.MetaSubject: ev.Subject, routing.MetaClient: client, routing.MetaReceivedAt: now,
			routing.MetaCorrelationID: correlation,
		}
		fields, err := store.EncodeFields(MessageUUID(ev.Source, ev.ID), ev.Raw, md)
		if err != nil {
			return nil, err
		}
		appends[i] = store.Append{Topic: routing.TopicForEventType(ev.Type), Source: ev.Source, ID: ev.ID, Fields: fields}
	}
	if in.Appender != nil {
		return in.Appender.Append(r.Context(), appends)
	}
	return in.Store.AppendOnce(r.Context(), in.IdempotencyTTL, appends)
}

// readBody reads all of body. Given the request's Content-Length as sizeHint, it allocates the
// buffer once at its final size, where io.ReadAll starts small and grows it several times.
func readBody(body io.Reader, sizeHint int64) ([]byte, error) {
	if sizeHint <= 0 {
		return io.ReadAll(body)
	}
	b := make([]byte, 0, sizeHint+1) // one byte more, so that the read that meets EOF needs no growth
	for {
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// rejectBody answers a body that did not parse. Telling malformed JSON apart costs one more scan,
// so it is done here, on the failure path, and not for every accepted event.
func rejectBody(w http.ResponseWriter, r *http.Request, body []byte, err error) {
	if !json.Valid(body) {
		writeProblem(w, r, http.StatusBadRequest, "invalid-json", "The body is not valid JSON", "", nil)
		return
	}
	badRequest(w, r, err)
}

func firstErr(res []store.AppendResult) error {
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// batchIDs reads the ids of a batch's events, "" where an event has no usable one.
func batchIDs(body []byte, n int) []string {
	ids := make([]string, n)
	var items []struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(body, &items) != nil {
		return ids
	}
	for i := range min(n, len(items)) {
		if s, ok := items[i].ID.(string); ok && len(s) <= 128 {
			ids[i] = s
		}
	}
	return ids
}
