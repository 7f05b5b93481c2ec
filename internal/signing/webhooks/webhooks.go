// Package webhooks signs and verifies Standard Webhooks (https://www.standardwebhooks.com, spec
// v1, "v1" symmetric signatures): HMAC-SHA256 over `webhook-id.webhook-timestamp.body`, base64,
// carried in the `webhook-signature` header as space-separated `v1,<signature>` entries. The
// HMAC itself is the official library's (github.com/standard-webhooks/standard-webhooks/libraries,
// v0.0.1); this package adds what the gateway needs around it:
//
//   - secrets are strictly `whsec_` + standard base64 of at least 24 bytes (the spec's lower
//     bound), and a bad secret is an error at start-up, never a silent weak key;
//   - secret rotation: a Signer holding several secrets emits one signature per secret, so a
//     receiver that knows either the old or the new one verifies; a Verifier accepts a message
//     signed with any of its secrets;
//   - the replay window is checked here, with a configurable tolerance (5 minutes by default) and
//     an injectable clock, because the library's window is a fixed package variable read from the
//     wall clock. Signatures are compared in constant time (hmac.Equal, inside the library).
package webhooks

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Header names of a Standard Webhooks message.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

// SecretPrefix starts every secret; the rest is the standard base64 of the key.
const SecretPrefix = "whsec_"

// MinSecretBytes is the shortest key accepted, the lower bound the specification sets.
const MinSecretBytes = 24

// DefaultTolerance is how far a message's timestamp may be from the receiver's clock, either way.
const DefaultTolerance = 5 * time.Minute

// Errors returned, wrapped, by Verify and the constructors.
var (
	ErrInvalidSecret       = errors.New("invalid webhook secret")
	ErrMissingHeaders      = errors.New("missing webhook headers")
	ErrInvalidTimestamp    = errors.New("invalid webhook timestamp")
	ErrTimestampTooOld     = errors.New("webhook timestamp too old")
	ErrTimestampTooNew     = errors.New("webhook timestamp too new")
	ErrNoMatchingSignature = errors.New("no matching webhook signature")
)

// ParseSecret decodes a `whsec_` secret into its key. Errors name the problem, never the secret.
func ParseSecret(secret string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: missing %q prefix", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("%w: decoding base64: %w", ErrInvalidSecret, err)
	}
	if len(key) < MinSecretBytes {
		return nil, fmt.Errorf("%w: key is %d bytes, at least %d required", ErrInvalidSecret, len(key), MinSecretBytes)
	}
	return key, nil
}

// parseSecrets builds one library webhook per secret, reporting every bad secret by position.
func parseSecrets(secrets []string) ([]*standardwebhooks.Webhook, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: no secret given", ErrInvalidSecret)
	}
	hooks := make([]*standardwebhooks.Webhook, 0, len(secrets))
	var errs []error
	for i, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("secret %d: %w", i+1, err))
			continue
		}
		wh, err := standardwebhooks.NewWebhookRaw(key)
		if err != nil {
			errs = append(errs, fmt.Errorf("secret %d: %w", i+1, err))
			continue
		}
		hooks = append(hooks, wh)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return hooks, nil
}

// Signer signs outgoing messages with one or more secrets.
type Signer struct {
	hooks []*standardwebhooks.Webhook
}

// NewSigner builds a signer. During a rotation give both the old and the new secret: every
// message then carries a signature for each, so receivers can switch over at their own pace.
func NewSigner(secrets ...string) (*Signer, error) {
	hooks, err := parseSecrets(secrets)
	if err != nil {
		return nil, fmt.Errorf("building webhook signer: %w", err)
	}
	return &Signer{hooks: hooks}, nil
}

// Sign returns the `webhook-signature` header value for the message: one `v1,<base64>` entry
// per secret, separated by spaces, in the order the secrets were given. timestamp is truncated to
// whole seconds, as the `webhook-timestamp` header carries it.
func (s *Signer) Sign(id string, timestamp time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(s.hooks))
	for _, wh := range s.hooks {
		sig, err := wh.Sign(id, timestamp, body)
		if err != nil {
			return "", fmt.Errorf("signing webhook %s: %w", id, err)
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Headers returns the three Standard Webhooks headers for the message.
func (s *Signer) Headers(id string, timestamp time.Time, body []byte) (http.Header, error) {
	sig, err := s.Sign(id, timestamp, body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(timestamp.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h, nil
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Secrets are the secrets a message may be signed with; any one matching is enough.
	Secrets []string
	// Tolerance is how far the message timestamp may be from Now, either way; DefaultTolerance
	// when zero.
	Tolerance time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (c *VerifierConfig) setDefaults() {
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every problem of the settings at once.
func (c *VerifierConfig) Validate() error {
	var errs []error
	if _, err := parseSecrets(c.Secrets); err != nil {
		errs = append(errs, err)
	}
	if c.Tolerance < 0 {
		errs = append(errs, errors.New("tolerance must not be negative"))
	}
	return errors.Join(errs...)
}

// Verifier checks incoming messages.
type Verifier struct {
	hooks     []*standardwebhooks.Webhook
	tolerance time.Duration
	now       func() time.Time
}

// NewVerifier builds a verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("building webhook verifier: %w", err)
	}
	hooks, err := parseSecrets(cfg.Secrets)
	if err != nil {
		return nil, fmt.Errorf("building webhook verifier: %w", err)
	}
	return &Verifier{hooks: hooks, tolerance: cfg.Tolerance, now: cfg.Now}, nil
}

// Verify checks that the headers carry a `v1` signature of body made with one of the verifier's
// secrets, and that the timestamp is within the tolerance. Entries of other versions and
// malformed entries are skipped, as the specification asks, so a sender may add schemes later.
func (v *Verifier) Verify(header http.Header, body []byte) error {
	id := header.Get(HeaderID)
	ts := header.Get(HeaderTimestamp)
	sig := header.Get(HeaderSignature)
	if id == "" || ts == "" || sig == "" {
		return fmt.Errorf("verifying webhook: %w", ErrMissingHeaders)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("verifying webhook %s: %w", id, ErrInvalidTimestamp)
	}
	// Compare in whole seconds: the header has no finer precision, and converting an arbitrary
	// int64 to a time.Duration could overflow.
	now := v.now().Unix()
	tol := int64(v.tolerance / time.Second)
	switch {
	case unix < now-tol:
		return fmt.Errorf("verifying webhook %s: %w", id, ErrTimestampTooOld)
	case unix > now+tol:
		return fmt.Errorf("verifying webhook %s: %w", id, ErrTimestampTooNew)
	}
	for _, wh := range v.hooks {
		// The timestamp window was checked above with our own clock and tolerance.
		err := wh.VerifyIgnoringTimestamp(body, header)
		if err == nil {
			return nil
		}
		if !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			return fmt.Errorf("verifying webhook %s: %w", id, err)
		}
	}
	return fmt.Errorf("verifying webhook %s: %w", id, ErrNoMatchingSignature)
}
