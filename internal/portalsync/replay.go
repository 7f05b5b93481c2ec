package portalsync

// # Bulk re-sync
//
// A job re-sends the last synced state of many dossiers (store.LastSynced, the whole event as
// received) through the normal path: each becomes a message on the portal sync's topic marked
// routing.MetaResync, so the per-dossier lock, ordering (never an older version), in-process
// retries, the retry schedule and dead letters all apply, and the portal sync sends it even
// though its version was synced before. Messages are written at the portal's bulk rate.
//
// A job is resumable and never sends a dossier twice:
//   - its dossier codes are fixed when it is created (a list in Redis), and a cursor in the job's
//     hash says how far it got; a restarted gateway resumes every unfinished job (Resume), and
//     repeating the same request answers the unfinished job and resumes it;
//   - each message is written with the same atomic check as inbound events (store.AppendOnce),
//     under the id job/code: if a crash fell between the write and the cursor's move, the write
//     is answered "duplicate" and nothing is sent again.
//
// A request naming dossiers the gateway never synced (or whose last state expired) is refused
// whole, listing the unknown codes; nothing is created or sent.
//
// Keys (a job's keys share its hash tag): <prefix>:resync:{<job>} (hash), :codes (list), :lock;
// <prefix>:resync:active (set of unfinished jobs), <prefix>:resync:request:<hash> (the job of a
// request), <prefix>:resync:seq (numbers the jobs: rs-<yyyymmdd>-<n>). A finished job is kept
// JobRetention.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/vntime"
	"github.com/egov-vn/gateway/routing"
)

// Job statuses.
const (
	JobRunning = "running"
	JobDone    = "done"
)

// Re-sync results (metric labels).
const (
	ResyncSent        = "sent"
	ResyncDuplicate   = "duplicate"
	ResyncUnavailable = "unavailable"
)

// ResyncResults is the closed set of re-sync results.
var ResyncResults = []string{ResyncSent, ResyncDuplicate, ResyncUnavailable}

// Limits of a request.
const (
	MaxDossiers  = 100000
	JobRetention = 30 * 24 * time.Hour
	// resyncSource is the source of the messages a job writes (their idempotency key).
	resyncSource = "gateway/resync"
)

// ErrNoJob: no job has the id.
var ErrNoJob = errors.New("no re-sync job with this id")

// RequestError is a request refused for its content; nothing was created or sent.
type RequestError struct {
	Field, Message string
	// Unknown lists the dossier codes the gateway holds no synced state of.
	Unknown []string
}

func (e *RequestError) Error() string { return e.Field + ": " + e.Message }

// Request selects the dossiers to re-send: those synced since a time (RFC 3339, or a day
// yyyy-mm-dd meaning its start in Vietnam), or a list of codes. Exactly one is given.
type Request struct {
	Since    string   `json:"since,omitempty"`
	Dossiers []string `json:"dossiers,omitempty"`
}

// Job is a re-sync job's progress (api/openapi.yaml ResyncJob).
type Job struct {
	ID     string `json:"job"`
	Status string `json:"status"`
	Since  string `json:"since,omitempty"`
	// Total dossiers; Done of them handled so far (Sent written to the topic, Duplicates found
	// already written by this job, Unavailable whose last state expired meanwhile).
	Total       int    `json:"total"`
	Done        int    `json:"done"`
	Sent        int    `json:"sent"`
	Duplicates  int    `json:"duplicates"`
	Unavailable int    `json:"unavailable"`
	Actor       string `json:"actor,omitempty"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
	FinishedAt  string `json:"finished_at,omitempty"`
}

// Replayer creates, runs and reports re-sync jobs.
type Replayer struct {
	Store   *store.Store
	Limiter Limiter
	Metrics *observability.PortalSyncMetrics
	Log     *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Lease is how long a replica holds a job between progress marks (30 s when zero).
	Lease time.Duration
	// ctx bounds the jobs started later (the gateway's lifetime); set by Resume.
	mu  sync.Mutex
	ctx context.Context
	wg  sync.WaitGroup
}

func (r *Replayer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Replayer) jobKey(id string) string    { return r.Store.Keys.Prefix + ":resync:{" + id + "}" }
func (r *Replayer) codesKey(id string) string  { return r.jobKey(id) + ":codes" }
func (r *Replayer) lockKey(id string) string   { return r.jobKey(id) + ":lock" }
func (r *Replayer) activeKey() string          { return r.Store.Keys.Prefix + ":resync:active" }
func (r *Replayer) requestKey(h string) string { return r.Store.Keys.Prefix + ":resync:request:" + h }

// Create validates a request, resolves its dossiers and creates its job, or answers the
// unfinished job of the same request. The job is not started: call Start.
func (r *Replayer) Create(ctx context.Context, req Request, actor string) (Job, bool, error) {
	codes, since, err := r.resolve(ctx, req)
	if err != nil {
		return Job{}, false, err
	}
	h := requestHash(since, codes)
	if id, err := r.Store.Client.Get(ctx, r.requestKey(h)).Result(); err == nil {
		job, err := r.Get(ctx, id)
		if err == nil && job.Status != JobDone {
			return job, false, nil
		}
	} else if !errors.Is(err, redis.Nil) {
		return Job{}, false, fmt.Errorf("reading re-sync request: %w", err)
	}
	now := r.now()
	seq, err := r.Store.Client.Incr(ctx, r.Store.Keys.Prefix+":resync:seq").Result()
	if err != nil {
		return Job{}, false, fmt.Errorf("numbering re-sync job: %w", err)
	}
	id := "rs-" + now.In(vntime.Zone).Format("20060102") + "-" + strconv.FormatInt(seq, 10)
	at := now.UTC().Format(time.RFC3339)
	_, err = r.Store.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for chunk := range slices.Chunk(codes, 1000) {
			args := make([]any, len(chunk))
			for i, c := range chunk {
				args[i] = c
			}
			p.RPush(ctx, r.codesKey(id), args...)
		}
		p.HSet(ctx, r.jobKey(id), "status", JobRunning, "since", since, "total", len(codes), "cursor", 0,
			"sent", 0, "duplicates", 0, "unavailable", 0, "actor", actor, "created_at", at, "updated_at", at)
		p.SAdd(ctx, r.activeKey(), id)
		p.Set(ctx, r.requestKey(h), id, JobRetention)
		return nil
	})
	if err != nil {
		return Job{}, false, fmt.Errorf("creating re-sync job: %w", err)
	}
	if err := r.Store.Audit(ctx, actor, "resync", id, fmt.Sprintf("%d dossiers %s", len(codes), describe(since))); err != nil && r.Log != nil {
		r.Log.Warn("auditing a re-sync job", "job", id, "err", err)
	}
	job, err := r.Get(ctx, id)
	return job, true, err
}

func describe(since string) string {
	if since != "" {
		return "synced since " + since
	}
	return "listed by ops"
}

func requestHash(since string, codes []string) string {
	h := sha256.New()
	h.Write([]byte(since + "\x00"))
	for _, c := range codes {
		h.Write([]byte(c + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// resolve turns a request into its dossier codes (sorted, unique).
func (r *Replayer) resolve(ctx context.Context, req Request) ([]string, string, error) {
	switch {
	case req.Since != "" && len(req.Dossiers) > 0:
		return nil, "", &RequestError{Field: "since", Message: "give either since or dossiers, not both"}
	case req.Since != "":
		from, err := r.parseSince(req.Since)
		if err != nil {
			return nil, "", err
		}
		codes, err := r.syncedSince(ctx, from)
		if err != nil {
			return nil, "", err
		}
		if len(codes) == 0 {
			return nil, "", &RequestError{Field: "since", Message: "no dossier was synced since then"}
		}
		return codes, from.Format(time.RFC3339), nil
	case len(req.Dossiers) > 0:
		codes, err := r.checkCodes(ctx, req.Dossiers)
		return codes, "", err
	default:
		return nil, "", &RequestError{Field: "since", Message: "give since (RFC 3339 or yyyy-mm-dd) or dossiers"}
	}
}

func (r *Replayer) parseSince(s string) (time.Time, error) {
	var from time.Time
	if d, err := ParseDay(s); err == nil {
		from = d
	} else if t, err := time.Parse(time.RFC3339, s); err == nil {
		from = t.In(vntime.Zone)
	} else {
		return time.Time{}, &RequestError{Field: "since", Message: "must be an RFC 3339 time or a day yyyy-mm-dd"}
	}
	now := r.now()
	if from.After(now) {
		return time.Time{}, &RequestError{Field: "since", Message: "is in the future"}
	}
	if now.Sub(from) > store.SyncedDayTTL-24*time.Hour {
		return time.Time{}, &RequestError{Field: "since", Message: fmt.Sprintf(
			"the index of synced dossiers reaches back %d days; list older dossiers with dossiers", int((store.SyncedDayTTL-24*time.Hour).Hours()/24))}
	}
	return from, nil
}

// syncedSince reads the day indexes from the day of from to today and keeps the dossiers whose
// last sync is not before from.
func (r *Replayer) syncedSince(ctx context.Context, from time.Time) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	last := r.now().In(vntime.Zone).Format(time.DateOnly)
	for day := from.In(vntime.Zone); day.Format(time.DateOnly) <= last; day = day.AddDate(0, 0, 1) {
		codes, err := r.Store.SyncedOn(ctx, day.Format(time.DateOnly))
		if err != nil {
			return nil, err
		}
		var fresh []string
		for _, c := range codes {
			if !seen[c] {
				seen[c] = true
				fresh = append(fresh, c)
			}
		}
		for chunk := range slices.Chunk(fresh, 500) {
			cmds := make([]*redis.SliceCmd, len(chunk))
			_, err := r.Store.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, c := range chunk {
					cmds[i] = p.HMGet(ctx, r.Store.Keys.Dossier(c), "last_at")
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("reading when dossiers were synced: %w", err)
			}
			for i, cmd := range cmds {
				v := cmd.Val()
				if len(v) == 0 || v[0] == nil {
					continue
				}
				ms, err := strconv.ParseInt(fmt.Sprint(v[0]), 10, 64)
				if err == nil && !time.UnixMilli(ms).Before(from) {
					out = append(out, chunk[i])
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// checkCodes validates listed codes and refuses the request when any is unknown.
func (r *Replayer) checkCodes(ctx context.Context, in []string) ([]string, error) {
	if len(in) > MaxDossiers {
		return nil, &RequestError{Field: "dossiers", Message: fmt.Sprintf("at most %d dossiers per job", MaxDossiers)}
	}
	var bad []string
	codes := make([]string, 0, len(in))
	for i, c := range in {
		c = strings.TrimSpace(c)
		if c == "" || len(c) > 64 || !events.IsCode(c) {
			bad = append(bad, strconv.Itoa(i))
			continue
		}
		codes = append(codes, c)
	}
	if len(bad) > 0 {
		if len(bad) > 20 {
			bad = append(bad[:20], "...")
		}
		return nil, &RequestError{Field: "dossiers", Message: "entries " + strings.Join(bad, ", ") +
			" are not dossier codes (ASCII letters, digits, '.', '_', '-'; at most 64)"}
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	var unknown []string
	for chunk := range slices.Chunk(codes, 500) {
		keys := make([]string, len(chunk))
		cmds := make([]*redis.IntCmd, len(chunk))
		_, err := r.Store.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range chunk {
				keys[i] = r.Store.Keys.LastSynced(c)
				cmds[i] = p.Exists(ctx, keys[i])
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("checking dossiers: %w", err)
		}
		for i, cmd := range cmds {
			if cmd.Val() == 0 {
				unknown = append(unknown, chunk[i])
			}
		}
	}
	if len(unknown) > 0 {
		return nil, &RequestError{Field: "dossiers", Unknown: unknown,
			Message: fmt.Sprintf("%d of the dossiers have no synced state here (never synced, or older than %d days); nothing was sent",
				len(unknown), int(store.LastStateTTL.Hours()/24))}
	}
	return codes, nil
}

// Get reads a job's progress.
func (r *Replayer) Get(ctx context.Context, id string) (Job, error) {
	h, err := r.Store.Client.HGetAll(ctx, r.jobKey(id)).Result()
	if err != nil {
		return Job{}, fmt.Errorf("reading re-sync job: %w", err)
	}
	if len(h) == 0 {
		return Job{}, ErrNoJob
	}
	n := func(k string) int { v, _ := strconv.Atoi(h[k]); return v }
	return Job{ID: id, Status: h["status"], Since: h["since"], Total: n("total"), Done: n("cursor"), Sent: n("sent"),
		Duplicates: n("duplicates"), Unavailable: n("unavailable"), Actor: h["actor"], CreatedAt: h["created_at"],
		UpdatedAt: h["updated_at"], FinishedAt: h["finished_at"]}, nil
}

// Start runs a job in the background, bounded by the context given to Resume (or ctx when Resume
// has not run). A job another replica runs is left to it.
func (r *Replayer) Start(ctx context.Context, id string) {
	r.mu.Lock()
	base := r.ctx
	r.mu.Unlock()
	if base == nil {
		base = context.WithoutCancel(ctx)
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.Run(base, id); err != nil && !errors.Is(err, store.ErrLockHeld) && base.Err() == nil && r.Log != nil {
			r.Log.Warn("running a re-sync job", "job", id, "err", err)
		}
	}()
}

// Wait waits for the jobs started to stop (their context ended, or they finished).
func (r *Replayer) Wait() { r.wg.Wait() }

// Resume starts every unfinished job (after a restart), and keeps ctx as the bound of the jobs
// started later. It returns the ids started.
func (r *Replayer) Resume(ctx context.Context) ([]string, error) {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	ids, err := r.Store.Client.SMembers(ctx, r.activeKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("reading unfinished re-sync jobs: %w", err)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r.Start(ctx, id)
	}
	return ids, nil
}

func (r *Replayer) lease() time.Duration {
	if r.Lease > 0 {
		return r.Lease
	}
	return 30 * time.Second
}

// Run carries a job on from its cursor until it is done or ctx ends. It returns
// store.ErrLockHeld when another replica (or goroutine) runs the job.
func (r *Replayer) Run(ctx context.Context, id string) error {
	token := strconv.FormatInt(time.Now().UnixNano(), 36)
	release, err := r.Store.Lock(ctx, r.lockKey(id), token, r.lease())
	if err != nil {
		return err
	}
	defer release(context.WithoutCancel(ctx))
	job, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	if job.Status == JobDone {
		return nil
	}
	for cursor := job.Done; cursor < job.Total; {
		codes, err := r.Store.Client.LRange(ctx, r.codesKey(id), int64(cursor), int64(cursor+99)).Result()
		if err != nil {
			return fmt.Errorf("reading re-sync job's dossiers: %w", err)
		}
		if len(codes) == 0 {
			break
		}
		for _, code := range codes {
			result, err := r.send(ctx, id, code)
			if err != nil {
				return err
			}
			cursor++
			if err := r.advance(ctx, id, cursor, result); err != nil {
				return err
			}
		}
	}
	return r.finish(ctx, id)
}

// send writes one dossier's last synced state to the portal sync's topic, once per job.
func (r *Replayer) send(ctx context.Context, id, code string) (string, error) {
	payload, found, err := r.Store.LastSynced(ctx, code)
	if err != nil {
		return "", err
	}
	if !found {
		return ResyncUnavailable, nil
	}
	ev, err := events.Parse(payload, "")
	if err != nil || ev.StatusChanged == nil {
		// What the portal sync once accepted no longer parses: nothing sensible to send.
		return ResyncUnavailable, nil
	}
	if err := r.Limiter.Wait(ctx); err != nil {
		return "", err
	}
	md := message.Metadata{
		routing.MetaType: ev.Type, routing.MetaSource: ev.Source, routing.MetaEventID: ev.ID,
		routing.MetaSubject: code, routing.MetaClient: "resync", routing.MetaReceivedAt: r.now().UTC().Format(time.RFC3339Nano),
		routing.MetaCorrelationID: id, routing.MetaResync: id,
	}
	sum := sha256.Sum256([]byte(resyncSource + "\x00" + id + "\x00" + code))
	fields, err := store.EncodeFields(hex.EncodeToString(sum[:16]), payload, md)
	if err != nil {
		return "", err
	}
	res, err := r.Store.AppendOnce(ctx, JobRetention, []store.Append{{
		Topic: routing.TopicDossierStatusChanged, Source: resyncSource, ID: id + "/" + code, Fields: fields,
	}})
	if err != nil {
		return "", err
	}
	if res[0].Err != nil {
		return "", res[0].Err
	}
	if res[0].Duplicate {
		return ResyncDuplicate, nil
	}
	return ResyncSent, nil
}

// advance records one dossier handled and extends the job's lease.
func (r *Replayer) advance(ctx context.Context, id string, cursor int, result string) error {
	field := map[string]string{ResyncSent: "sent", ResyncDuplicate: "duplicates", ResyncUnavailable: "unavailable"}[result]
	_, err := r.Store.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.jobKey(id), "cursor", cursor, "updated_at", r.now().UTC().Format(time.RFC3339))
		p.HIncrBy(ctx, r.jobKey(id), field, 1)
		p.PExpire(ctx, r.lockKey(id), r.lease())
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording re-sync progress: %w", err)
	}
	if r.Metrics != nil {
		r.Metrics.Resyncs.WithLabelValues(result).Inc()
	}
	return nil
}

func (r *Replayer) finish(ctx context.Context, id string) error {
	_, err := r.Store.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		at := r.now().UTC().Format(time.RFC3339)
		p.HSet(ctx, r.jobKey(id), "status", JobDone, "finished_at", at, "updated_at", at)
		p.Expire(ctx, r.jobKey(id), JobRetention)
		p.Expire(ctx, r.codesKey(id), JobRetention)
		p.SRem(ctx, r.activeKey(), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("finishing re-sync job: %w", err)
	}
	if r.Log != nil {
		if job, err := r.Get(ctx, id); err == nil {
			r.Log.Info("re-sync job done", "job", id, "total", job.Total, "sent", job.Sent,
				"duplicates", job.Duplicates, "unavailable", job.Unavailable)
		}
	}
	return nil
}
