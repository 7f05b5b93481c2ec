// Package webhook is the one-stop notifier dialect that delivers notifications as Standard
// Webhooks (https://www.standardwebhooks.com, spec v1): a JSON POST of `{"type", "data"}` to the
// configured URL with the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers
// (api.md, "Gateway → one-stop system").
//
// The `webhook-id` is the notification's ID, the same on every retry, so the receiver can
// deduplicate; the timestamp and signature are those of each attempt, so a retry after hours is
// not refused as a replay. Every call goes through the partner's partnerhttp client (operation
// "notify"), which turns a non-2xx answer into a *failure.StatusError for the shared classifier:
// 410 Gone and the other 4xx are permanent, 401, 429, 5xx and network failures transient.
//
// Redirects are not followed: a POST redirected by 301/302/303 becomes a body-less GET that could
// answer 2xx and be taken for a delivery, so a 3xx is reported as the answer it is (transient:
// the URL must be fixed and the notification must survive until it is). Errors carry the
// notification's ID and type, never its body or the receiver's answer, which may hold personal
// data.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/egov-vn/gateway/connectors/onestop"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
	"github.com/egov-vn/gateway/internal/signing/webhooks"
)

// Operation is the partnerhttp operation name of a delivery (metrics and breaker key).
const Operation = "notify"

// maxDrainBytes is how much of a receiver's answer is read, and discarded, so the connection can
// be reused; receivers are expected to answer with an empty body.
const maxDrainBytes = 64 << 10

// ErrInvalidNotification is wrapped by errors for notifications that can never be delivered as
// they are (no ID, no type, data that is not JSON); such errors are permanent.
var ErrInvalidNotification = errors.New("invalid notification")

// Config is the one-stop webhook endpoint.
type Config struct {
	// URL is the absolute http(s) URL notifications are POSTed to.
	URL string
	// Secrets sign every notification (`whsec_` + base64). During a rotation list the old and the
	// new secret: each notification then carries both signatures.
	Secrets []string
}

// Validate reports every problem of the settings at once. It never includes a secret.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("onestop webhook: URL is empty"))
	} else if u, err := url.Parse(c.URL); err != nil {
		errs = append(errs, errors.New("onestop webhook: URL does not parse"))
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("onestop webhook: URL must be an absolute http or https URL"))
	}
	if _, err := webhooks.NewSigner(c.Secrets...); err != nil {
		errs = append(errs, fmt.Errorf("onestop webhook: %w", err))
	}
	return errors.Join(errs...)
}

// Notifier delivers notifications to the one-stop system's webhook endpoint.
type Notifier struct {
	url    string
	signer *webhooks.Signer
	client *partnerhttp.Client
}

var _ onestop.Notifier = (*Notifier)(nil)

// New builds the notifier. It sets c's redirect policy so that redirects are not followed (see
// the package documentation); c should be the one-stop partner's own client.
func New(cfg Config, c *partnerhttp.Client) (*Notifier, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c == nil {
		errs = append(errs, errors.New("onestop webhook: partner HTTP client is nil"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("building onestop webhook notifier: %w", err)
	}
	signer, err := webhooks.NewSigner(cfg.Secrets...)
	if err != nil {
		return nil, fmt.Errorf("building onestop webhook notifier: %w", err)
	}
	c.Resty().SetRedirectPolicy(resty.RedirectPolicyFunc(func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}))
	return &Notifier{url: cfg.URL, signer: signer, client: c}, nil
}

// payload is the wire body of a notification.
type payload struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// Notify delivers notif once. A nil error means the receiver answered 2xx.
func (n *Notifier) Notify(ctx context.Context, notif onestop.Notification) error {
	body, err := encode(notif)
	if err != nil {
		return err
	}
	// The time of this attempt: a retry is signed afresh and is not refused as a replay.
	ts := time.Now()
	sig, err := n.signer.Sign(notif.ID, ts, body)
	if err != nil {
		return fmt.Errorf("sending notification %s (%s): %w", notif.ID, notif.Type, err)
	}
	resp, err := n.client.Do(ctx, Operation, func(r *resty.Request) (*resty.Response, error) {
		return r.
			SetDoNotParseResponse(true).
			SetHeader("Content-Type", "application/json").
			SetHeader(webhooks.HeaderID, notif.ID).
			SetHeader(webhooks.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10)).
			SetHeader(webhooks.HeaderSignature, sig).
			SetBody(body).
			Post(n.url)
	})
	discard(resp)
	if err != nil {
		return fmt.Errorf("sending notification %s (%s): %w", notif.ID, notif.Type, err)
	}
	return nil
}

// encode builds the wire body, refusing what no retry could fix. Errors name the problem, never
// the data.
func encode(notif onestop.Notification) ([]byte, error) {
	var problems []error
	if notif.ID == "" {
		problems = append(problems, errors.New("ID is empty"))
	} else if !validHeaderValue(notif.ID) {
		problems = append(problems, errors.New("ID holds characters a header cannot carry"))
	}
	if notif.Type == "" {
		problems = append(problems, errors.New("type is empty"))
	}
	data := notif.Data
	if len(data) == 0 {
		data = nil // sent as null
	} else if !json.Valid(data) {
		problems = append(problems, errors.New("data is not valid JSON"))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, failure.MarkPermanent(fmt.Errorf("encoding notification %s (%s): %w: %w", notif.ID, notif.Type, ErrInvalidNotification, err))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// The body is signed as sent; keep '<', '>' and '&' as they are rather than \u-escaped.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(payload{Type: notif.Type, Data: data}); err != nil {
		return nil, failure.MarkPermanent(fmt.Errorf("encoding notification %s (%s): %w", notif.ID, notif.Type, ErrInvalidNotification))
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// validHeaderValue reports whether s can be sent as a header value unchanged: printable ASCII
// only, so the ID the receiver sees is byte for byte the one that was signed.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// discard reads a bounded part of the answer and closes it, so the connection can be reused
// without ever holding a large answer in memory.
func discard(resp *resty.Response) {
	if resp == nil || resp.RawResponse == nil || resp.RawResponse.Body == nil {
		return
	}
	body := resp.RawResponse.Body
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrainBytes))
	_ = body.Close()
}
