package ngsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/connectors/postal/internal/dialect"
	"github.com/egov-vn/gateway/connectors/postal/internal/token"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
	"github.com/egov-vn/gateway/internal/vntime"
)

// OpToken is the token step's operation name reported to partnerhttp; the others are the
// dialects' shared ones (dialect.OpCreate, ...).
const OpToken = "token"

// Operations lists every operation, for partnerhttp.Client.Prepare.
var Operations = dialect.Operations(OpToken)

// Paths relative to the partner client's base URL [assumed].
const (
	pathToken    = "/oauth/token"
	pathCreate   = "/api/Order/Create"
	pathGet      = "/api/Order/Get"
	pathTracking = "/api/Order/Tracking"
	pathCancel   = "/api/Order/Cancel"
)

// Config is the NGSP account of one province.
type Config struct {
	// ClientID and ClientSecret are the OAuth2 client; ClientSecret is a secret.
	ClientID     string
	ClientSecret string
	// CustomerCode is the province's VNPost customer code, sent with every order and query.
	CustomerCode string
	// Resolver maps the parties' GSO codes to postal codes.
	Resolver *address.Resolver
	// PageSize is the tracking pagesize; 100 when zero.
	PageSize int
	// RenewBefore is how long before its expiry the token is renewed; 2 minutes when zero.
	RenewBefore time.Duration
	// Now is the clock of the token cache; time.Now when nil.
	Now func() time.Time
}

// Validate reports every problem of the settings at once; it never echoes the secret.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct{ name, v string }{{"client id", c.ClientID}, {"client secret", c.ClientSecret}, {"customer code", c.CustomerCode}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("ngsp: %s is empty", f.name))
		}
	}
	errs = append(errs, dialect.CheckShared("ngsp", c.Resolver, c.PageSize)...)
	return errors.Join(errs...)
}

// Client is the NGSP dialect. It is safe for concurrent use.
type Client struct {
	cfg    Config
	caller dialect.Caller
}

var _ postal.Postal = (*Client)(nil)

// New builds the dialect on the partner's HTTP client, through which every call goes.
func New(cfg Config, c *partnerhttp.Client) (*Client, error) {
	if err := dialect.Build("ngsp", cfg.Validate(), c, &cfg.PageSize, &cfg.RenewBefore); err != nil {
		return nil, err
	}
	cl := &Client{cfg: cfg}
	cl.caller = dialect.Caller{
		HTTP: c, Tokens: token.New(cl.fetchToken, cfg.RenewBefore, cfg.Now), Login: "obtaining token",
		Authorize: func(r *resty.Request, tok string) *resty.Request { return r.SetHeader("Authorization", "Bearer "+tok) },
		Malformed: errMalformed,
	}
	return cl, nil
}

var errMalformed = errors.New("malformed reply")

// CreateOrder creates the order, or returns it when the partner has it already.
func (c *Client) CreateOrder(ctx context.Context, o postal.Order) (postal.Created, error) {
	p, err := dialect.Prepare(o, c.cfg.Resolver)
	if err != nil {
		return postal.Created{}, err
	}
	if found, err := c.lookup(ctx, p.Number); err == nil {
		return found, nil
	} else if !errors.Is(err, postal.ErrNotFound) {
		return postal.Created{}, fmt.Errorf("looking up order before creating it: %w", err)
	}
	payload, err := json.Marshal(c.toWire(p))
	if err != nil {
		return postal.Created{}, fmt.Errorf("encoding order: %w", err)
	}
	var rep reply
	err = c.call(ctx, dialect.OpCreate, func(r *resty.Request) (*resty.Response, error) {
		return r.SetHeader("Content-Type", "application/json").SetBody(payload).Post(pathCreate)
	}, &rep)
	if err != nil {
		return postal.Created{}, fmt.Errorf("creating order: %w", err)
	}
	switch *rep.Status {
	case statusOK:
		if rep.ItemCode == "" {
			return postal.Created{}, fmt.Errorf("creating order: ItemCode missing: %w", errMalformed)
		}
		return postal.Created{Number: p.Number, PartnerID: rep.ItemCode, Status: postal.StatusCreated}, nil
	case statusExists:
		found, err := c.lookup(ctx, p.Number)
		if err != nil {
			return postal.Created{}, fmt.Errorf("looking up order after the partner reported it exists: %w", err)
		}
		return found, nil
	default:
		return postal.Created{}, fmt.Errorf("creating order: %w", c.statusError(dialect.OpCreate, *rep.Status))
	}
}

func (c *Client) toWire(p dialect.Order) createRequest {
	side := func(pt dialect.Party) party {
		return party{Name: pt.Name, Address: pt.Address, Tel: pt.Phone, Province: pt.Codes.PostalProvince, District: pt.Codes.PostalArea}
	}
	return createRequest{
		CustomerCode: c.cfg.CustomerCode, OrderNumber: p.Number, CODAmount: p.CODAmount,
		Sender: side(p.From), Receiver: side(p.To), Description: p.Note,
		ServiceCode: p.Service, Weight: p.WeightGrams,
		IsSendDocument: p.Kind == postal.KindCollectDossier, IsReceiveResult: p.Kind == postal.KindDeliverResult,
	}
}

// statusError turns a reply Status other than success into a classified error.
func (c *Client) statusError(op string, status int) error {
	pe := &failure.ProtocolError{Partner: c.caller.HTTP.Partner(), Operation: op, Code: strconv.Itoa(status)}
	switch status {
	case statusNotFound:
		return failure.MarkPermanent(fmt.Errorf("%w: %w", postal.ErrNotFound, pe))
	case statusInvalid, statusNotCancellable, statusExists:
		return failure.MarkPermanent(fmt.Errorf("%w: %w", postal.ErrRejected, pe))
	default:
		pe.Retryable = true
		return pe
	}
}

// lookup finds an order by its number; postal.ErrNotFound when the partner does not know it.
func (c *Client) lookup(ctx context.Context, number string) (postal.Created, error) {
	var rep reply
	err := c.call(ctx, dialect.OpLookup, func(r *resty.Request) (*resty.Response, error) {
		return r.SetQueryParams(map[string]string{"CustomerCode": c.cfg.CustomerCode, "OrderNumber": number}).Get(pathGet)
	}, &rep)
	if err != nil {
		return postal.Created{}, err
	}
	switch *rep.Status {
	case statusOK:
	case statusNotFound:
		return postal.Created{}, postal.ErrNotFound
	default:
		return postal.Created{}, c.statusError(dialect.OpLookup, *rep.Status)
	}
	if rep.Data == nil || rep.Data.OrderNumber != number || rep.Data.ItemCode == "" {
		return postal.Created{}, fmt.Errorf("look-up answer does not hold the order: %w", errMalformed)
	}
	st, ok := StatusOf(rep.Data.StatusCode)
	if !ok {
		return postal.Created{}, fmt.Errorf("look-up answer: unknown StatusCode: %w", errMalformed)
	}
	return postal.Created{Number: number, PartnerID: rep.Data.ItemCode, Status: st, AlreadyHad: true}, nil
}

// Track returns the tracking records after cursor (a record Id; empty: from the start).
// Records that cannot be read (an unknown StatusCode, a bad EventTime, no OrderNumber) are
// skipped; the cursor still moves past them.
func (c *Client) Track(ctx context.Context, cursor string) ([]postal.Event, string, error) {
	after, err := dialect.ParseCursor(cursor)
	if err != nil {
		return nil, cursor, err
	}
	var recs []record
	err = c.call(ctx, dialect.OpTracking, func(r *resty.Request) (*resty.Response, error) {
		return r.SetQueryParams(map[string]string{
			"CustomerCode": c.cfg.CustomerCode, "pagesize": strconv.Itoa(c.cfg.PageSize), "lastId": strconv.FormatInt(after, 10),
		}).Get(pathTracking)
	}, &recs)
	if err != nil {
		return nil, cursor, fmt.Errorf("polling tracking: %w", err)
	}
	events, next := dialect.Events(recs, cursor, after, func(rec record) int64 { return rec.ID }, toEvent)
	return events, next, nil
}

func toEvent(rec record) (postal.Event, bool) {
	st, ok := StatusOf(rec.StatusCode)
	if !ok || dialect.CheckNumber(rec.OrderNumber) != nil {
		return postal.Event{}, false
	}
	at, err := time.ParseInLocation(timeLayout, rec.EventTime, vntime.Zone)
	if err != nil {
		return postal.Event{}, false
	}
	return postal.Event{Number: rec.OrderNumber, PartnerID: rec.ItemCode, Status: st, Message: rec.StatusMessage,
		At: at, Office: rec.POSID, Cursor: strconv.FormatInt(rec.ID, 10)}, true
}

// Cancel cancels an order by its number.
func (c *Client) Cancel(ctx context.Context, number string) error {
	if err := dialect.CheckNumber(number); err != nil {
		return err
	}
	payload, err := json.Marshal(cancelRequest{CustomerCode: c.cfg.CustomerCode, OrderNumber: number})
	if err != nil {
		return err
	}
	var rep reply
	err = c.call(ctx, dialect.OpCancel, func(r *resty.Request) (*resty.Response, error) {
		return r.SetHeader("Content-Type", "application/json").SetBody(payload).Post(pathCancel)
	}, &rep)
	if err != nil {
		return fmt.Errorf("cancelling order: %w", err)
	}
	if *rep.Status != statusOK {
		return fmt.Errorf("cancelling order: %w", c.statusError(dialect.OpCancel, *rep.Status))
	}
	return nil
}

// call runs one authenticated call and decodes a 2xx body into out (dialect.Caller); a reply
// object must carry a Status.
func (c *Client) call(ctx context.Context, op string, send func(*resty.Request) (*resty.Response, error), out any) error {
	if err := c.caller.Call(ctx, op, send, out); err != nil {
		return err
	}
	if rep, ok := out.(*reply); ok && rep.Status == nil {
		return fmt.Errorf("decoding %s reply: Status missing: %w", op, errMalformed)
	}
	return nil
}

// fetchToken runs the client credentials grant. Every refusal stays transient: an operator must
// fix the client, and the shipments waiting must survive until then.
func (c *Client) fetchToken(ctx context.Context) (token.Token, error) {
	resp, err := c.caller.HTTP.Do(ctx, OpToken, func(r *resty.Request) (*resty.Response, error) {
		return r.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret).
			SetFormData(map[string]string{"grant_type": "client_credentials"}).
			SetHeader("Accept", "application/json").
			Post(pathToken)
	})
	if err != nil {
		return token.Token{}, failure.MarkTransient(err)
	}
	var rep tokenReply
	if err := json.Unmarshal(resp.Body(), &rep); err != nil || rep.AccessToken == "" || rep.ExpiresIn <= 0 {
		return token.Token{}, fmt.Errorf("decoding token reply: %w", errMalformed)
	}
	if rep.TokenType != "" && !strings.EqualFold(rep.TokenType, "Bearer") {
		return token.Token{}, fmt.Errorf("token reply: token_type is not Bearer: %w", errMalformed)
	}
	return token.Token{Value: rep.AccessToken, Lifetime: time.Duration(rep.ExpiresIn) * time.Second}, nil
}
