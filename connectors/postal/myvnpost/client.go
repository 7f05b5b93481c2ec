package myvnpost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
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

// OpLogin is the token step's operation name reported to partnerhttp; the others are the
// dialects' shared ones (dialect.OpCreate, ...).
const OpLogin = "login"

// Operations lists every operation, for partnerhttp.Client.Prepare.
var Operations = dialect.Operations(OpLogin)

// Paths relative to the partner client's base URL [assumed].
const (
	pathLogin    = "/api/auth/login"
	pathOrders   = "/api/orders"
	pathTracking = "/api/tracking"
)

// Config is the MyVNPost account of one province.
type Config struct {
	// Username and Password are the partner account; Password is a secret.
	Username string
	Password string
	// Resolver maps the parties' GSO codes to postal codes (address.Default() for the embedded
	// data).
	Resolver *address.Resolver
	// PageSize is how many tracking records one Track call asks for; 100 when zero.
	PageSize int
	// RenewBefore is how long before its expiry the token is renewed; 2 minutes when zero.
	RenewBefore time.Duration
	// Now is the clock of the token cache; time.Now when nil.
	Now func() time.Time
}

// Validate reports every problem of the settings at once; it never echoes the password.
func (c Config) Validate() error {
	var errs []error
	if c.Username == "" {
		errs = append(errs, errors.New("myvnpost: username is empty"))
	}
	if c.Password == "" {
		errs = append(errs, errors.New("myvnpost: password is empty"))
	}
	errs = append(errs, dialect.CheckShared("myvnpost", c.Resolver, c.PageSize)...)
	return errors.Join(errs...)
}

// Client is the MyVNPost dialect. It is safe for concurrent use.
type Client struct {
	cfg    Config
	caller dialect.Caller
}

var _ postal.Postal = (*Client)(nil)

// New builds the dialect on the partner's HTTP client, through which every call goes.
func New(cfg Config, c *partnerhttp.Client) (*Client, error) {
	if err := dialect.Build("myvnpost", cfg.Validate(), c, &cfg.PageSize, &cfg.RenewBefore); err != nil {
		return nil, err
	}
	cl := &Client{cfg: cfg}
	cl.caller = dialect.Caller{
		HTTP: c, Tokens: token.New(cl.login, cfg.RenewBefore, cfg.Now), Login: "logging in",
		Authorize: func(r *resty.Request, tok string) *resty.Request { return r.SetHeader("token", tok) },
		Refine:    unknownOrder, Malformed: errMalformed,
	}
	return cl, nil
}

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
	payload, err := json.Marshal(toWire(p))
	if err != nil {
		return postal.Created{}, fmt.Errorf("encoding order: %w", err)
	}
	var rep orderReply
	err = c.call(ctx, dialect.OpCreate, func(r *resty.Request) (*resty.Response, error) {
		return r.SetHeader("Content-Type", "application/json").SetBody(payload).Post(pathOrders)
	}, &rep)
	if dialect.Status(err) == http.StatusConflict {
		// Another create of the same number won the race: the order exists.
		found, lerr := c.lookup(ctx, p.Number)
		if lerr != nil {
			return postal.Created{}, fmt.Errorf("looking up order after the partner reported it exists: %w", lerr)
		}
		return found, nil
	}
	if err != nil {
		return postal.Created{}, fmt.Errorf("creating order: %w", err)
	}
	created, err := fromReply(p.Number, rep)
	if err != nil {
		return postal.Created{}, fmt.Errorf("creating order: %w", err)
	}
	return created, nil
}

// toWire builds the create request.
func toWire(p dialect.Order) createRequest {
	addons := []addon{}
	if p.CODAmount > 0 {
		addons = append(addons, addon{Code: postal.AddonCOD, PropValue: strconv.FormatInt(p.CODAmount, 10)})
	}
	if p.Kind == postal.KindCollectDossier {
		addons = append(addons, addon{Code: postal.AddonPickup, PropValue: "1"})
	}
	return createRequest{
		OrderCreationStatus: creationPending,
		InformationOrder: informationOrder{
			OrderNumber:          p.Number,
			SenderName:           p.From.Name,
			SenderPhone:          p.From.Phone,
			SenderAddress:        p.From.Address,
			SenderProvinceCode:   p.From.Codes.PostalProvince,
			SenderDistrictCode:   p.From.Codes.PostalArea,
			SenderCommuneCode:    p.From.Codes.Commune,
			ReceiverName:         p.To.Name,
			ReceiverPhone:        p.To.Phone,
			ReceiverAddress:      p.To.Address,
			ReceiverProvinceCode: p.To.Codes.PostalProvince,
			ReceiverDistrictCode: p.To.Codes.PostalArea,
			ReceiverCommuneCode:  p.To.Codes.Commune,
			ServiceCode:          p.Service,
			Weight:               p.WeightGrams,
			ContentNote:          p.Note,
			AddonService:         addons,
		},
	}
}

// lookup finds an order by its number; postal.ErrNotFound when the partner does not know it.
func (c *Client) lookup(ctx context.Context, number string) (postal.Created, error) {
	var rep orderReply
	err := c.call(ctx, dialect.OpLookup, func(r *resty.Request) (*resty.Response, error) {
		return r.Get(pathOrders + "/" + url.PathEscape(number))
	}, &rep)
	if errors.Is(err, errUnknownOrder) {
		return postal.Created{}, postal.ErrNotFound
	}
	if err != nil {
		return postal.Created{}, err
	}
	if rep.OrderNumber != "" && rep.OrderNumber != number {
		return postal.Created{}, fmt.Errorf("look-up answered another order: %w", errMalformed)
	}
	created, err := fromReply(number, rep)
	if err != nil {
		return postal.Created{}, err
	}
	created.AlreadyHad = true
	return created, nil
}

var errMalformed = errors.New("malformed reply")

// errUnknownOrder is the partner's own answer that it has no order of that number: HTTP 404 with
// code NOT_FOUND [assumed]. Any other 404 is a wrong endpoint (dialect.Classify).
var errUnknownOrder = errors.New("partner has no such order")

// codeNotFound is the partner's code of errUnknownOrder.
const codeNotFound = "NOT_FOUND"

func fromReply(number string, rep orderReply) (postal.Created, error) {
	if rep.OriginalID == "" || rep.Status == nil || *rep.Status < 0 {
		return postal.Created{}, fmt.Errorf("originalID or status missing: %w", errMalformed)
	}
	out := postal.Created{Number: number, PartnerID: rep.OriginalID, Status: postal.Status(*rep.Status)}
	if rep.TotalFee != nil {
		if *rep.TotalFee < 0 {
			return postal.Created{}, fmt.Errorf("negative totalFee: %w", errMalformed)
		}
		out.Fee = *rep.TotalFee
	}
	return out, nil
}

// Track returns the tracking records after cursor (a record id; empty: from the start).
// Records that cannot be read (an unknown status, a bad time, no order number) are skipped; the
// cursor still moves past them, so one bad record never blocks the others.
func (c *Client) Track(ctx context.Context, cursor string) ([]postal.Event, string, error) {
	after, err := dialect.ParseCursor(cursor)
	if err != nil {
		return nil, cursor, err
	}
	var rep trackingReply
	err = c.call(ctx, dialect.OpTracking, func(r *resty.Request) (*resty.Response, error) {
		return r.SetQueryParams(map[string]string{
			"lastId": strconv.FormatInt(after, 10), "pageSize": strconv.Itoa(c.cfg.PageSize),
		}).Get(pathTracking)
	}, &rep)
	if err != nil {
		return nil, cursor, fmt.Errorf("polling tracking: %w", err)
	}
	events, next := dialect.Events(rep.Items, cursor, after, func(it trackingItem) int64 { return it.ID }, toEvent)
	return events, next, nil
}

func toEvent(it trackingItem) (postal.Event, bool) {
	if dialect.CheckNumber(it.OrderNumber) != nil || !knownStatus(it.Status) {
		return postal.Event{}, false
	}
	at, err := vntime.Parse(it.Time)
	if err != nil {
		return postal.Event{}, false
	}
	return postal.Event{
		Number: it.OrderNumber, PartnerID: it.OriginalID, Status: postal.Status(it.Status),
		Message: it.StatusName, At: at, Office: it.PostOfficeCode, Cursor: strconv.FormatInt(it.ID, 10),
	}, true
}

func knownStatus(s int) bool {
	switch postal.Status(s) {
	case postal.StatusDraft, postal.StatusCreated, postal.StatusPickingUp, postal.StatusPickupFailed,
		postal.StatusPickedUp, postal.StatusAtPostOffice, postal.StatusInTransit, postal.StatusDelivering,
		postal.StatusDelivered, postal.StatusDeliveryFailed, postal.StatusReturning, postal.StatusCompleted,
		postal.StatusDeliveryCanceled:
		return true
	}
	return false
}

// Cancel cancels an order by its number. An order the partner does not know is
// postal.ErrNotFound (permanent); one it can no longer cancel is postal.ErrRejected.
func (c *Client) Cancel(ctx context.Context, number string) error {
	if err := dialect.CheckNumber(number); err != nil {
		return err
	}
	var rep cancelReply
	err := c.call(ctx, dialect.OpCancel, func(r *resty.Request) (*resty.Response, error) {
		return r.Post(pathOrders + "/" + url.PathEscape(number) + "/cancel")
	}, &rep)
	if errors.Is(err, errUnknownOrder) {
		return failure.MarkPermanent(fmt.Errorf("cancelling order: %w", postal.ErrNotFound))
	}
	if err != nil {
		return fmt.Errorf("cancelling order: %w", err)
	}
	if rep.Status == nil || postal.Status(*rep.Status) != postal.StatusDeliveryCanceled {
		return fmt.Errorf("cancelling order: status is not 22: %w", errMalformed)
	}
	return nil
}

// call runs one authenticated call and decodes a 2xx body into out (dialect.Caller).
func (c *Client) call(ctx context.Context, op string, send func(*resty.Request) (*resty.Response, error), out any) error {
	return c.caller.Call(ctx, op, send, out)
}

// unknownOrder recognises the partner's own "no such order" in a 404 answer.
func unknownOrder(resp *resty.Response, err error) error {
	if dialect.Status(err) != http.StatusNotFound || resp == nil {
		return nil
	}
	var body struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(resp.Body(), &body) == nil && body.Code == codeNotFound {
		return fmt.Errorf("%w: %w", errUnknownOrder, err)
	}
	return nil
}

// login obtains a token. Every refusal stays transient (401 and 403 included): an operator must
// fix the account, and the shipments waiting must survive until then.
func (c *Client) login(ctx context.Context) (token.Token, error) {
	payload, err := json.Marshal(loginRequest{Username: c.cfg.Username, Password: c.cfg.Password})
	if err != nil {
		return token.Token{}, err
	}
	resp, err := c.caller.HTTP.Do(ctx, OpLogin, func(r *resty.Request) (*resty.Response, error) {
		return r.SetHeader("Content-Type", "application/json").SetBody(payload).Post(pathLogin)
	})
	if err != nil {
		return token.Token{}, failure.MarkTransient(err)
	}
	var rep loginReply
	if err := json.Unmarshal(resp.Body(), &rep); err != nil || rep.Token == "" || rep.ExpiresIn <= 0 {
		return token.Token{}, fmt.Errorf("decoding login reply: %w", errMalformed)
	}
	return token.Token{Value: rep.Token, Lifetime: time.Duration(rep.ExpiresIn) * time.Second}, nil
}
