// Package submissions brings the dossiers citizens submit on the national portal to the
// one-stop system, exactly once, and acknowledges each to the portal only after the one-stop
// system accepted it.
//
// # Flow
//
//  1. The poller (one replica at a time, under a Redis lock) reads the portal's submissions
//     after its cursor, page by page. The cursor lives in Redis and is moved only after the
//     page's notifications are stored, so a restart or a crash re-reads at most one page.
//  2. A submission for a served agency (config portal.agencies, compared with DonViXuLy) becomes
//     a dossier.submitted_national notification, appended to the notification stream at most
//     once per portal dossier code (an idempotency key kept for DedupTTL): the portal serving the
//     same dossier twice, or the poller re-reading a page, adds nothing. Its webhook-id is derived
//     from the dossier code, so even a repeated delivery is one notification to the receiver.
//  3. The notification goes through the normal notification path (routing's notify handler, its
//     retries, parking and dead letters, and the Standard Webhooks dialect). The Notifier wrapper
//     of this package records, after the one-stop system answered 2xx, that the dossier awaits
//     its acknowledgement.
//  4. The poller acknowledges every recorded dossier to the portal (on its next run, woken at
//     once by the delivery) and forgets it once the portal confirmed. While the one-stop system
//     is down nothing is recorded, so nothing is acknowledged.
//
// After that the dossier is the one-stop system's: its status changes come back as ordinary
// dossier.status_changed events and reach the portal through the dossier sync.
//
// # Submissions not delivered
//
// A submission for an agency the gateway does not serve is neither delivered nor acknowledged:
// acknowledging would tell the portal that this province took over a dossier nobody here will
// handle, while an unacknowledged one stays pending at the portal, where its own agency's
// connection (or the portal's operators) can pick it up. It is counted
// (gateway_portal_submissions_total{outcome="ignored_agency"}), logged with its code and agency,
// and recorded in the dossier's timeline (gatewayctl dossier show CODE). An entry the dialect
// could not read (a required field missing) is counted as ignored_invalid and logged the same way.
//
// # Personal data
//
// The notification carries the national codes, the documents' links and the fees, not the
// applicant: the one-stop system reads the applicant at the portal with the dossier code.
package submissions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/connectors/portal"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/observability"
	"github.com/egov-vn/gateway/internal/store"
	"github.com/egov-vn/gateway/internal/vntime"
	"github.com/egov-vn/gateway/routing"
)

// Source is the idempotency source of the notifications made from portal submissions.
const Source = "dvcqg-submission"

// ErrBusy is returned by Poll when another replica is polling.
var ErrBusy = errors.New("another replica is polling the portal's submissions")

// SubmittedNational is the data of a dossier.submitted_national notification.
type SubmittedNational struct {
	DossierCode   string            `json:"dossier_code"`
	ProcedureCode string            `json:"procedure_code"`
	ProcedureName string            `json:"procedure_name,omitempty"`
	FieldCode     string            `json:"field_code,omitempty"`
	AgencyCode    string            `json:"agency_code"`
	OwnerKind     int               `json:"owner_kind"`
	SubmittedAt   string            `json:"submitted_at"`
	ResultChannel int               `json:"result_channel"`
	Documents     []portal.Document `json:"documents"`
	Fees          []Fee             `json:"fees"`
	Portal        string            `json:"portal"`
}

// Fee is one fee line of a submission, in whole VND.
type Fee struct {
	Code          string `json:"code,omitempty"`
	Name          string `json:"name,omitempty"`
	Kind          string `json:"kind,omitempty"`
	PaymentMethod string `json:"payment_method,omitempty"`
	Amount        int64  `json:"amount"`
}

// Poller reads the portal's submissions and acknowledges the delivered ones.
type Poller struct {
	Inbox   portal.Inbox
	Store   *store.Store
	Metrics *observability.NationalMetrics
	Log     *slog.Logger
	// Agencies are the agency codes (DonViXuLy) this gateway serves.
	Agencies []string
	// Interval between runs; Batch submissions per page, at most MaxPages pages per run.
	Interval time.Duration
	Batch    int
	MaxPages int
	// DedupTTL is how long a dossier code delivered is remembered (longer than the portal may
	// keep serving an unacknowledged submission).
	DedupTTL time.Duration
	// LockLease bounds one run.
	LockLease time.Duration
	Replica   string

	once sync.Once
	wake chan struct{}
}

func (p *Poller) key(name string) string { return p.Store.Keys.Prefix + ":{submissions}:" + name }

func (p *Poller) wakeChan() chan struct{} {
	p.once.Do(func() { p.wake = make(chan struct{}, 1) })
	return p.wake
}

// Run polls at once and then every Interval (or sooner when a delivery wakes it) until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	wake := p.wakeChan()
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		switch _, err := p.Poll(ctx); {
		case err == nil, errors.Is(err, ErrBusy), ctx.Err() != nil:
		case errors.Is(err, failure.ErrPartnerPaused):
			p.Log.Debug("portal paused: submissions not polled", "partner", routing.PartnerPortal)
		default:
			p.Log.Warn("polling the portal's submissions", "partner", routing.PartnerPortal, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// Stats is what one run did.
type Stats struct {
	Fetched, Queued, Duplicates, Ignored, Acknowledged int
	Cursor                                             string
}

// Poll runs once: acknowledgements first, then new submissions. ErrBusy when another replica
// holds the lock.
func (p *Poller) Poll(ctx context.Context) (Stats, error) {
	var st Stats
	release, err := p.Store.Lock(ctx, p.key("lock"), p.Replica+"-"+strconv.FormatInt(time.Now().UnixNano(), 36), p.LockLease)
	if errors.Is(err, store.ErrLockHeld) {
		return st, ErrBusy
	}
	if err != nil {
		return st, err
	}
	defer release(context.WithoutCancel(ctx))
	ctx, cancel := context.WithTimeout(ctx, p.LockLease)
	defer cancel()
	ackErr := p.acknowledge(ctx, &st)
	fetchErr := p.fetch(ctx, &st)
	return st, errors.Join(ackErr, fetchErr)
}

// acknowledge confirms to the portal every dossier the one-stop system accepted.
func (p *Poller) acknowledge(ctx context.Context, st *Stats) error {
	codes, err := p.Store.Client.HKeys(ctx, p.key("acks")).Result()
	if err != nil {
		return fmt.Errorf("reading pending acknowledgements: %w", err)
	}
	slices.Sort(codes)
	var errs []error
	for _, code := range codes {
		if err := p.Inbox.AcknowledgeSubmission(ctx, code); err != nil {
			errs = append(errs, fmt.Errorf("acknowledging %s: %w", code, err))
			continue
		}
		if err := p.Store.Client.HDel(ctx, p.key("acks"), code).Err(); err != nil {
			errs = append(errs, fmt.Errorf("forgetting the acknowledgement of %s: %w", code, err))
			continue
		}
		st.Acknowledged++
		p.Metrics.Submissions.WithLabelValues(observability.SubmissionAcknowledged).Inc()
		p.timeline(ctx, code, "submission_acknowledged", "acknowledged to the national portal")
	}
	return errors.Join(errs...)
}

func (p *Poller) fetch(ctx context.Context, st *Stats) error {
	cursor, err := p.Store.Client.Get(ctx, p.key("cursor")).Result()
	if err != nil && !isNil(err) {
		return fmt.Errorf("reading cursor: %w", err)
	}
	for range max(p.MaxPages, 1) {
		page, err := p.Inbox.FetchSubmissions(ctx, cursor, p.Batch)
		if err != nil {
			return err
		}
		if err := p.handlePage(ctx, page, st); err != nil {
			return err
		}
		if page.Next != cursor {
			if err := p.Store.Client.Set(ctx, p.key("cursor"), page.Next, 0).Err(); err != nil {
				return fmt.Errorf("storing cursor: %w", err)
			}
			cursor = page.Next
		}
		st.Cursor = cursor
		if !page.More {
			break
		}
	}
	return nil
}

// handlePage stores the page's notifications; it fails (and the cursor stays) unless every one
// is stored.
func (p *Poller) handlePage(ctx context.Context, page portal.SubmissionPage, st *Stats) error {
	for _, inv := range page.Invalid {
		st.Ignored++
		p.Metrics.Submissions.WithLabelValues(observability.SubmissionInvalidIgnored).Inc()
		p.Log.Warn("portal submission not readable; not delivered", "partner", routing.PartnerPortal, "dossier_code", inv.Code, "problem", inv.Problem)
		if inv.Code != "" {
			p.timeline(ctx, inv.Code, "submission_ignored", "not readable: "+inv.Problem)
		}
	}
	var appends []store.Append
	var codes []string
	for _, s := range page.Submissions {
		st.Fetched++
		p.Metrics.Submissions.WithLabelValues(observability.SubmissionFetched).Inc()
		if !slices.Contains(p.Agencies, s.Agency) {
			st.Ignored++
			p.Metrics.Submissions.WithLabelValues(observability.SubmissionAgencyIgnored).Inc()
			p.Log.Warn("portal submission for an agency this gateway does not serve; not delivered, not acknowledged",
				"partner", routing.PartnerPortal, "dossier_code", s.Code, "agency", s.Agency)
			p.timeline(ctx, s.Code, "submission_ignored", "agency "+s.Agency+" is not served by this gateway: not delivered, not acknowledged")
			continue
		}
		msg, err := routing.NewNotification(onestop.TypeDossierSubmittedNational, s.Code, notificationData(s))
		if err != nil {
			return err
		}
		msg.Metadata.Set(routing.MetaSubject, s.Code)
		msg.Metadata.Set(routing.MetaSource, Source)
		msg.Metadata.Set(routing.MetaEventID, s.Code)
		msg.Metadata.Set(routing.MetaReceivedAt, time.Now().UTC().Format(time.RFC3339Nano))
		msg.Metadata.Set(routing.MetaCorrelationID, msg.UUID)
		fields, err := store.EncodeFields(msg.UUID, msg.Payload, msg.Metadata)
		if err != nil {
			return err
		}
		appends = append(appends, store.Append{Topic: routing.TopicNotificationRequested, Source: Source, ID: s.Code, Fields: fields})
		codes = append(codes, s.Code)
	}
	if len(appends) == 0 {
		return nil
	}
	results, err := p.Store.AppendOnce(ctx, p.DedupTTL, appends)
	if err != nil {
		return err
	}
	var errs []error
	for i, r := range results {
		switch {
		case r.Err != nil:
			errs = append(errs, r.Err)
		case r.Duplicate:
			st.Duplicates++
			p.Metrics.Submissions.WithLabelValues(observability.SubmissionDuplicate).Inc()
		default:
			st.Queued++
			p.Metrics.Submissions.WithLabelValues(observability.SubmissionQueued).Inc()
			p.timeline(ctx, codes[i], "submission_received", "submitted on the national portal; queued for the one-stop system")
		}
	}
	return errors.Join(errs...)
}

func notificationData(s portal.Submission) SubmittedNational {
	d := SubmittedNational{
		DossierCode: s.Code, ProcedureCode: s.ProcedureCode, ProcedureName: s.ProcedureName, FieldCode: s.FieldCode,
		AgencyCode: s.Agency, OwnerKind: s.OwnerKind, SubmittedAt: s.SubmittedAt.In(vntime.Zone).Format(time.RFC3339),
		ResultChannel: s.Channel, Documents: s.Documents, Fees: make([]Fee, 0, len(s.Fees)), Portal: routing.PartnerPortal,
	}
	if d.Documents == nil {
		d.Documents = []portal.Document{}
	}
	for _, f := range s.Fees {
		d.Fees = append(d.Fees, Fee{Code: f.Code, Name: f.Name, Kind: f.Kind, PaymentMethod: f.PaymentMethod, Amount: f.Amount})
	}
	return d
}

func (p *Poller) timeline(ctx context.Context, code, kind, detail string) {
	_ = p.Store.AddTimeline(context.WithoutCancel(ctx), code, store.TimelineEntry{Kind: kind, Detail: detail})
}

// Pending lists the dossier codes delivered to the one-stop system and not yet acknowledged to
// the portal.
func (p *Poller) Pending(ctx context.Context) ([]string, error) {
	codes, err := p.Store.Client.HKeys(ctx, p.key("acks")).Result()
	slices.Sort(codes)
	return codes, err
}

// Notifier wraps the one-stop notifier: after the one-stop system accepted a
// dossier.submitted_national notification, it records that the dossier awaits its
// acknowledgement to the portal and wakes the poller. A failure to record is returned, so the
// notification is retried (the receiver deduplicates it by its webhook-id).
func (p *Poller) Notifier(next onestop.Notifier) onestop.Notifier {
	return notifier{next: next, p: p}
}

type notifier struct {
	next onestop.Notifier
	p    *Poller
}

func (n notifier) Notify(ctx context.Context, note onestop.Notification) error {
	if err := n.next.Notify(ctx, note); err != nil {
		return err
	}
	if note.Type != onestop.TypeDossierSubmittedNational {
		return nil
	}
	var d struct {
		DossierCode string `json:"dossier_code"`
	}
	if err := json.Unmarshal(note.Data, &d); err != nil || d.DossierCode == "" {
		return nil
	}
	if err := n.p.Store.Client.HSet(ctx, n.p.key("acks"), d.DossierCode, time.Now().UnixMilli()).Err(); err != nil {
		return fmt.Errorf("recording the delivery of %s for its acknowledgement: %w", d.DossierCode, err)
	}
	n.p.Metrics.Submissions.WithLabelValues(observability.SubmissionDelivered).Inc()
	select {
	case n.p.wakeChan() <- struct{}{}:
	default:
	}
	return nil
}

func isNil(err error) bool { return errors.Is(err, redis.Nil) }
