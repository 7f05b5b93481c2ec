package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/store"
)

// Ops is what the admin endpoints act on.
type Ops struct {
	Store *store.Store
	// DeadLetterStream is the dead-letter stream's key.
	DeadLetterStream string
	// PartnerOf names the partner of a handler.
	PartnerOf func(handler string) string
	// Breakers reads every breaker's state now: partner → operation → state.
	Breakers func() map[string]map[string]string
	// Paused tells whether a partner is paused, until when (zero: until resumed) and why.
	Paused func(partner string) (paused bool, until time.Time, reason string)
	// Pause and Resume switch a partner; Resume returns how many parked messages it released.
	Pause  func(ctx context.Context, partner string, until time.Time, actor, reason string) error
	Resume func(ctx context.Context, partner, actor, reason string) (int, error)
	// Partners is the closed set of partner names.
	Partners []string
}

// DeadLetterView is a dead letter as ops see it; personal data in the payload is masked.
type DeadLetterView struct {
	ID          string          `json:"id"`
	Topic       string          `json:"topic"`
	Handler     string          `json:"handler"`
	Partner     string          `json:"partner,omitempty"`
	Type        string          `json:"type,omitempty"`
	DossierCode string          `json:"dossier_code,omitempty"`
	EventID     string          `json:"event_id,omitempty"`
	Reason      string          `json:"reason"`
	Attempts    int             `json:"attempts"`
	LastError   string          `json:"last_error,omitempty"`
	At          time.Time       `json:"dead_lettered_at"`
	Payload     json.RawMessage `json:"payload,omitempty"`
}

func (o *Ops) view(d store.DeadLetter, withPayload bool) DeadLetterView {
	md := d.Metadata
	handler := baseHandler(md[middleware.PoisonedHandlerKey])
	attempts, _ := strconv.Atoi(md["attempt"])
	v := DeadLetterView{
		ID: d.ID, Topic: topicOfStream(md[middleware.PoisonedTopicKey]), Handler: handler, Partner: o.PartnerOf(handler),
		Type: md["type"], DossierCode: md["subject"], EventID: md["event_id"], Reason: md[middleware.ReasonForPoisonedKey],
		Attempts: attempts, LastError: md["last_error"], At: d.At,
	}
	if withPayload {
		v.Payload = MaskPersonalData(d.Payload)
	}
	return v
}

// baseHandler drops the consumer index ("name#2" → "name").
func baseHandler(h string) string {
	name, _, _ := strings.Cut(h, "#")
	return name
}

// topicOfStream reads the topic out of a stream key ("gw:{topic}" → "topic").
func topicOfStream(s string) string {
	_, rest, ok := strings.Cut(s, "{")
	if !ok {
		return s
	}
	topic, _, _ := strings.Cut(rest, "}")
	return topic
}

func (o *Ops) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var bad events.FieldErrors
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			bad = append(bad, events.FieldError{Field: "limit", Message: "must be a whole number within 1..500"})
		}
		limit = n
	}
	cursor := q.Get("cursor")
	if cursor != "" && !validStreamID(cursor) {
		bad = append(bad, events.FieldError{Field: "cursor", Message: "must be a next_cursor this endpoint returned"})
	}
	if len(bad) > 0 {
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "Invalid query", "", bad)
		return
	}
	topic, partner, typ, dossier := q.Get("topic"), q.Get("partner"), q.Get("type"), q.Get("dossier_code")
	list, next, err := o.Store.DeadLetters(r.Context(), o.DeadLetterStream, cursor, limit, func(d store.DeadLetter) bool {
		v := o.view(d, false)
		return (topic == "" || v.Topic == topic) && (partner == "" || v.Partner == partner) &&
			(typ == "" || v.Type == typ) && (dossier == "" || v.DossierCode == dossier)
	})
	if err != nil {
		unavailable(w, r)
		return
	}
	items := make([]DeadLetterView, len(list))
	for i, d := range list {
		items[i] = o.view(d, false)
	}
	out := map[string]any{"items": items}
	if next != "" {
		out["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, out)
}

// deadLetter reads the dead letter the path names, answering the problem itself when it cannot.
func (o *Ops) deadLetter(w http.ResponseWriter, r *http.Request) (store.DeadLetter, bool) {
	id := r.PathValue("id")
	if !validStreamID(id) {
		writeProblem(w, r, http.StatusBadRequest, "invalid-input", "Invalid dead-letter id", "",
			[]events.FieldError{{Field: "id", Message: "must be a stream entry id like 1732600000000-0"}})
		return store.DeadLetter{}, false
	}
	d, err := o.Store.DeadLetter(r.Context(), o.DeadLetterStream, id)
	if errors.Is(err, store.ErrNotFound) {
		notFound(w, r, "Dead letter")
		return d, false
	}
	if err != nil {
		unavailable(w, r)
		return d, false
	}
	return d, true
}

func validStreamID(id string) bool {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok || len(id) > 41 {
		return false
	}
	for _, part := range []string{ms, seq} {
		if part == "" || strings.TrimLeft(part, "0123456789") != "" {
			return false
		}
		if _, err := strconv.ParseUint(part, 10, 64); err != nil {
			return false
		}
	}
	return true
}

func (o *Ops) getDeadLetter(w http.ResponseWriter, r *http.Request) {
	if d, ok := o.deadLetter(w, r); ok {
		writeJSON(w, http.StatusOK, o.view(d, true))
	}
}

// opsRequest is the optional body of an ops action.
type opsRequest struct {
	Reason string `json:"reason"`
	Actor  string `json:"actor"`
	Until  string `json:"until"`
}

// readOpsRequest reads the optional JSON body; reason may also come as ?reason=.
func readOpsRequest(w http.ResponseWriter, r *http.Request) (opsRequest, error) {
	var b opsRequest
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if err != nil {
		return b, events.FieldErrors{{Field: "body", Message: "at most 4096 bytes"}}
	}
	if len(strings.TrimSpace(string(raw))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			return b, events.FieldErrors{{Field: "body", Message: `must be {"reason", "actor"?, "until"?}`}}
		}
	}
	if b.Reason == "" {
		b.Reason = r.URL.Query().Get("reason")
	}
	if b.Actor == "" {
		b.Actor = "admin"
	}
	var bad events.FieldErrors
	if len(b.Reason) > 500 {
		bad = append(bad, events.FieldError{Field: "reason", Message: "at most 500 characters"})
	}
	if len(b.Actor) > 100 {
		bad = append(bad, events.FieldError{Field: "actor", Message: "at most 100 characters"})
	}
	if len(bad) > 0 {
		return b, bad
	}
	return b, nil
}

// replayDeadLetter puts the message back on its topic's stream with a fresh retry schedule. It
// keeps the message's id, so a consumer that already handled it skips it: a replay is idempotent.
// The dead letter is removed after the message is back on its stream, never before.
func (o *Ops) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	d, ok := o.deadLetter(w, r)
	if !ok {
		return
	}
	body, err := readOpsRequest(w, r)
	if err != nil {
		badRequest(w, r, err)
		return
	}
	md := map[string]string{}
	for k, v := range d.Metadata {
		switch k {
		case middleware.PoisonedHandlerKey, middleware.PoisonedSubscriberKey, middleware.PoisonedTopicKey,
			middleware.ReasonForPoisonedKey, "attempt", "last_error":
		default:
			md[k] = v
		}
	}
	md["replayed_from"] = d.ID
	fields, err := store.EncodeFields(d.UUID, d.Payload, md)
	if err != nil {
		unavailable(w, r)
		return
	}
	stream := d.Metadata[middleware.PoisonedTopicKey]
	ctx := context.WithoutCancel(r.Context())
	newID, err := o.Store.Client.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: fields}).Result()
	if err != nil {
		unavailable(w, r)
		return
	}
	if err := o.Store.DeleteDeadLetter(ctx, o.DeadLetterStream, d.ID); err != nil {
		unavailable(w, r)
		return
	}
	_ = o.Store.Audit(ctx, body.Actor, "deadletter.replay", d.ID, body.Reason)
	writeJSON(w, http.StatusAccepted, map[string]string{"id": d.ID, "topic": topicOfStream(stream), "status": "replayed", "stream_id": newID})
}

// discardDeadLetter removes a dead letter for good; the reason is required and audited.
func (o *Ops) discardDeadLetter(w http.ResponseWriter, r *http.Request) {
	d, ok := o.deadLetter(w, r)
	if !ok {
		return
	}
	body, err := readOpsRequest(w, r)
	if err == nil && strings.TrimSpace(body.Reason) == "" {
		err = events.FieldErrors{{Field: "reason", Message: "is required to discard a dead letter"}}
	}
	if err != nil {
		badRequest(w, r, err)
		return
	}
	ctx := context.WithoutCancel(r.Context())
	if err := o.Store.DeleteDeadLetter(ctx, o.DeadLetterStream, d.ID); err != nil {
		unavailable(w, r)
		return
	}
	_ = o.Store.Audit(ctx, body.Actor, "deadletter.discard", d.ID, body.Reason)
	w.WriteHeader(http.StatusNoContent)
}

func (o *Ops) breakers(w http.ResponseWriter, r *http.Request) {
	type row struct {
		Partner   string `json:"partner"`
		Operation string `json:"operation"`
		State     string `json:"state"`
		Paused    bool   `json:"paused"`
	}
	rows := []row{}
	for p, ops := range o.Breakers() {
		paused, _, _ := o.Paused(p)
		for op, st := range ops {
			rows = append(rows, row{p, op, st, paused})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Partner != rows[j].Partner {
			return rows[i].Partner < rows[j].Partner
		}
		return rows[i].Operation < rows[j].Operation
	})
	writeJSON(w, http.StatusOK, map[string]any{"breakers": rows})
}

func (o *Ops) partner(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	for _, p := range o.Partners {
		if p == name {
			return name, true
		}
	}
	notFound(w, r, "Partner")
	return "", false
}

// partnerState is the PartnerState answer.
func (o *Ops) partnerState(name string) map[string]any {
	paused, until, reason := o.Paused(name)
	out := map[string]any{"partner": name, "paused": paused}
	if paused && reason != "" {
		out["reason"] = reason
	}
	if paused && !until.IsZero() {
		out["until"] = until.UTC().Format(time.RFC3339)
	}
	return out
}

func (o *Ops) pause(w http.ResponseWriter, r *http.Request) {
	name, ok := o.partner(w, r)
	if !ok {
		return
	}
	body, err := readOpsRequest(w, r)
	var until time.Time
	if err == nil && body.Until != "" {
		until, err = time.Parse(time.RFC3339, body.Until)
		if err != nil || !until.After(time.Now()) {
			err = events.FieldErrors{{Field: "until", Message: "must be a future RFC 3339 time"}}
		}
	}
	if err != nil {
		badRequest(w, r, err)
		return
	}
	if err := o.Pause(context.WithoutCancel(r.Context()), name, until, body.Actor, body.Reason); err != nil {
		unavailable(w, r)
		return
	}
	writeJSON(w, http.StatusOK, o.partnerState(name))
}

func (o *Ops) resume(w http.ResponseWriter, r *http.Request) {
	name, ok := o.partner(w, r)
	if !ok {
		return
	}
	body, err := readOpsRequest(w, r)
	if err != nil {
		badRequest(w, r, err)
		return
	}
	n, err := o.Resume(context.WithoutCancel(r.Context()), name, body.Actor, body.Reason)
	if err != nil {
		unavailable(w, r)
		return
	}
	out := o.partnerState(name)
	out["released"] = n
	writeJSON(w, http.StatusOK, out)
}
