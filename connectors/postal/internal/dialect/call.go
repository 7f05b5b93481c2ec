package dialect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/connectors/postal/internal/token"
	"github.com/egov-vn/gateway/internal/partnerhttp"
)

// Defaults of the settings every dialect shares.
const (
	DefaultPageSize    = 100
	DefaultRenewBefore = 2 * time.Minute
	maxPageSize        = 1000
)

// CheckShared reports the problems of the settings every dialect shares (resolver, page size),
// each prefixed by the dialect's name.
func CheckShared(name string, r *address.Resolver, pageSize int) []error {
	var errs []error
	if r == nil {
		errs = append(errs, fmt.Errorf("%s: address resolver is nil", name))
	}
	if pageSize < 0 || pageSize > maxPageSize {
		errs = append(errs, fmt.Errorf("%s: page size must be within 0..%d", name, maxPageSize))
	}
	return errs
}

// Build finishes a dialect's construction: it joins the settings' problems (validate) with a nil
// partner client, and fills a zero page size and renewal margin with the defaults.
func Build(name string, validate error, c *partnerhttp.Client, pageSize *int, renewBefore *time.Duration) error {
	err := validate
	if c == nil {
		err = errors.Join(err, fmt.Errorf("%s: partner HTTP client is nil", name))
	}
	if err != nil {
		return err
	}
	if *pageSize == 0 {
		*pageSize = DefaultPageSize
	}
	if *renewBefore == 0 {
		*renewBefore = DefaultRenewBefore
	}
	return nil
}

// Caller runs a dialect's authenticated calls through partnerhttp.
type Caller struct {
	HTTP   *partnerhttp.Client
	Tokens *token.Cache
	// Login names the token step in errors ("logging in").
	Login string
	// Authorize adds the token to a request.
	Authorize func(r *resty.Request, tok string) *resty.Request
	// Refine, when set, reads a failed answer before Classify; a non-nil error it returns is the
	// call's error (a partner's own "no such order", for one).
	Refine func(resp *resty.Response, err error) error
	// Malformed is the dialect's error for a body that does not decode.
	Malformed error
}

// Call runs one authenticated call and decodes a 2xx body into out. A 401 renews the token and
// repeats the call once.
func (c *Caller) Call(ctx context.Context, op string, send func(*resty.Request) (*resty.Response, error), out any) error {
	for attempt := 1; ; attempt++ {
		tok, err := c.Tokens.Get(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Login, err)
		}
		resp, err := c.HTTP.Do(ctx, op, func(r *resty.Request) (*resty.Response, error) {
			return send(c.Authorize(r, tok).SetHeader("Accept", "application/json"))
		})
		if err != nil && c.Refine != nil {
			if rerr := c.Refine(resp, err); rerr != nil {
				return rerr
			}
		}
		err = Classify(err)
		if errors.Is(err, ErrAuth) && attempt == 1 {
			c.Tokens.Invalidate(tok)
			continue
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(resp.Body(), out); err != nil {
			return fmt.Errorf("decoding %s reply: %w", op, c.Malformed)
		}
		return nil
	}
}

// Operation names every dialect reports to partnerhttp (breakers and metrics), so that the
// postal board reads the same labels whichever dialect runs; a dialect adds its token step.
const (
	OpLookup   = "lookup_order"
	OpCreate   = "create_order"
	OpTracking = "tracking"
	OpCancel   = "cancel_order"
)

// Operations lists a dialect's closed set of operations, its token step first, for
// partnerhttp.Client.Prepare.
func Operations(tokenOp string) []string {
	return []string{tokenOp, OpLookup, OpCreate, OpTracking, OpCancel}
}
