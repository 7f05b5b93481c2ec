package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/faults"
)

// Dialect names, as recorded on each order.
const (
	MyVNPost = "myvnpost"
	NGSP     = "ngsp"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// Config is the accounts the sandbox accepts; fields are compared as given.
type Config struct {
	MyVNPostUser, MyVNPostPassword                   string
	NGSPClientID, NGSPClientSecret, NGSPCustomerCode string
	// TokenTTL is how long a token stays valid; one hour when zero.
	TokenTTL time.Duration
	// Now is the sandbox's clock; time.Now when nil.
	Now func() time.Time
}

// Party is a sender or receiver as received.
type Party struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Address  string `json:"address"`
	Province string `json:"province"`
	District string `json:"district"`
	Commune  string `json:"commune,omitempty"`
}

// Addon is an add-on service as received.
type Addon struct {
	Code      string `json:"code"`
	PropValue string `json:"prop_value"`
}

// Change is one status an order went through.
type Change struct {
	Status postal.Status `json:"status"`
	At     time.Time     `json:"at"`
}

// Order is what the sandbox holds about one order.
type Order struct {
	Number    string        `json:"number"`
	Dialect   string        `json:"dialect"`
	PartnerID string        `json:"partner_id"`
	Status    postal.Status `json:"status"`
	Service   string        `json:"service,omitempty"`
	Weight    int           `json:"weight_grams,omitempty"`
	CODAmount int64         `json:"cod_amount"`
	Fee       int64         `json:"fee"`
	Addons    []Addon       `json:"addons"`
	// SendDocument and ReceiveResult are NGSP's IsSendDocument and IsReceiveResult.
	SendDocument  bool     `json:"send_document,omitempty"`
	ReceiveResult bool     `json:"receive_result,omitempty"`
	Creation      int      `json:"creation_status,omitempty"`
	Sender        Party    `json:"sender"`
	Receiver      Party    `json:"receiver"`
	Note          string   `json:"note,omitempty"`
	History       []Change `json:"history"`
}

// HasAddon reports whether the order carries the add-on code, and its value.
func (o Order) HasAddon(code string) (string, bool) {
	for _, a := range o.Addons {
		if a.Code == code {
			return a.PropValue, true
		}
	}
	return "", false
}

type record struct {
	id      int64
	number  string
	dialect string
	status  postal.Status
	at      time.Time
	office  string
}

type tokenInfo struct {
	dialect string
	expires time.Time
}

// Sandbox is the fake VNPost.
type Sandbox struct {
	cfg      Config
	faults   faults.Injector
	handler  http.Handler
	requests atomic.Int64

	mu      sync.Mutex
	tokens  map[string]tokenInfo
	orders  map[string]*Order
	records []record
	nextID  int64
	seq     int64
	logins  map[string]int
	// duplicates counts creates refused because the order number existed.
	duplicates int
	// created counts the orders created (Created); onCreate, when set, is told of each
	// (SetCreateHook).
	created  int
	onCreate func(number string)
}

// New builds a sandbox accepting the accounts of cfg.
func New(cfg Config) *Sandbox {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sandbox{cfg: cfg, tokens: map[string]tokenInfo{}, orders: map[string]*Order{}, logins: map[string]int{}}
	partner := http.NewServeMux()
	partner.HandleFunc("POST /myvnpost/api/auth/login", s.mvLogin)
	partner.HandleFunc("POST /myvnpost/api/orders", s.mvCreate)
	partner.HandleFunc("GET /myvnpost/api/orders/{number}", s.mvGet)
	partner.HandleFunc("POST /myvnpost/api/orders/{number}/cancel", s.mvCancel)
	partner.HandleFunc("GET /myvnpost/api/tracking", s.mvTracking)
	partner.HandleFunc("POST /ngsp/oauth/token", s.ngToken)
	partner.HandleFunc("POST /ngsp/api/Order/Create", s.ngCreate)
	partner.HandleFunc("GET /ngsp/api/Order/Get", s.ngGet)
	partner.HandleFunc("GET /ngsp/api/Order/Tracking", s.ngTracking)
	partner.HandleFunc("POST /ngsp/api/Order/Cancel", s.ngCancel)
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.faults.Wrap(partner).ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/myvnpost/", counted)
	mux.Handle("/ngsp/", counted)
	mux.HandleFunc("GET /orders", s.listOrders)
	mux.HandleFunc("GET /orders/{order}", s.getOrder)
	mux.HandleFunc("POST /orders/{order}/advance", s.advance)
	mux.Handle("/faults", &s.faults)
	mux.HandleFunc("POST /tokens/expire", func(w http.ResponseWriter, _ *http.Request) {
		answer(w, http.StatusOK, map[string]int{"expired": s.ExpireTokens()})
	})
	s.handler = mux
	return s
}

// Handler serves the sandbox's paths relative to its mount point.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Faults is the sandbox's fault injector.
func (s *Sandbox) Faults() *faults.Injector { return &s.faults }

// Requests counts the requests that reached the partner paths (logins included).
func (s *Sandbox) Requests() int { return int(s.requests.Load()) }

// Logins counts the tokens issued to a dialect.
func (s *Sandbox) Logins(dialect string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins[dialect]
}

// DuplicateCreates counts the creates refused because their order number existed: a dialect
// that looks an order up before creating it again causes none when it retries alone.
func (s *Sandbox) DuplicateCreates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.duplicates
}

// ExpireTokens invalidates every token, as the partner does when they expire.
func (s *Sandbox) ExpireTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.tokens)
	clear(s.tokens)
	return n
}

// Created counts the orders created since the sandbox was built or reset: what a load run polls
// to know how many requests have reached the post, without Orders' copy and sort.
func (s *Sandbox) Created() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created
}

// SetCreateHook makes the sandbox call fn with the order number of each order it creates; a load
// run times requests end to end with it. fn runs under the sandbox's lock: it must be quick and
// must not call the sandbox. nil removes the hook; Reset removes it too.
func (s *Sandbox) SetCreateHook(fn func(number string)) {
	s.mu.Lock()
	s.onCreate = fn
	s.mu.Unlock()
}

// Orders lists the orders received, by number.
func (s *Sandbox) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orders))
	for _, o := range s.orders {
		out = append(out, o.clone())
	}
	slices.SortFunc(out, func(a, b Order) int { return strings.Compare(a.Number, b.Number) })
	return out
}

// Order returns one order.
func (s *Sandbox) Order(number string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[number]
	if !ok {
		return Order{}, false
	}
	return o.clone(), true
}

// Reset forgets every order, record, token and login and clears the faults.
func (s *Sandbox) Reset() {
	s.mu.Lock()
	clear(s.tokens)
	clear(s.orders)
	s.records = nil
	clear(s.logins)
	s.duplicates = 0
	s.created = 0
	s.onCreate = nil
	s.mu.Unlock()
	s.requests.Store(0)
	s.faults.Set(faults.Settings{})
}

func (o *Order) clone() Order {
	c := *o
	c.Addons = slices.Clone(o.Addons)
	if c.Addons == nil {
		c.Addons = []Addon{}
	}
	c.History = slices.Clone(o.History)
	return c
}

// normalPath is the normal life of a shipment (a draft, orderCreationStatus 0, is confirmed first).
var normalPath = []postal.Status{
	postal.StatusDraft, postal.StatusCreated, postal.StatusPickingUp, postal.StatusPickedUp, postal.StatusAtPostOffice,
	postal.StatusInTransit, postal.StatusDelivering, postal.StatusDelivered,
}

// statusNames are the status texts of the tracking records.
var statusNames = map[postal.Status]string{
	postal.StatusDraft: "Đơn nháp", postal.StatusCreated: "Tạo đơn thành công",
	postal.StatusPickingUp: "Đang lấy hàng", postal.StatusPickupFailed: "Lấy hàng không thành công",
	postal.StatusPickedUp: "Đã lấy hàng", postal.StatusAtPostOffice: "Đã nhận tại bưu cục",
	postal.StatusInTransit: "Đang vận chuyển", postal.StatusDelivering: "Đang phát",
	postal.StatusDelivered: "Phát thành công", postal.StatusDeliveryFailed: "Phát không thành công",
	postal.StatusReturning: "Đang chuyển hoàn", postal.StatusCompleted: "Hoàn tất",
	postal.StatusDeliveryCanceled: "Đã hủy",
}

// ErrNoNext: the order is final or off the normal path, and no status was given.
var ErrNoNext = errors.New("no next status on the normal path")

// Advance moves an order to the next status of the normal path, or to *to, and records a
// tracking record for it.
func (s *Sandbox) Advance(number string, to *postal.Status) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[number]
	if !ok {
		return Order{}, postal.ErrNotFound
	}
	if o.Status.Final() {
		return Order{}, fmt.Errorf("order is final (status %d): %w", o.Status, ErrNoNext)
	}
	var next postal.Status
	if to != nil {
		if _, known := statusNames[*to]; !known {
			return Order{}, fmt.Errorf("status %d is not a shipment status", *to)
		}
		next = *to
	} else {
		i := slices.Index(normalPath, o.Status)
		if i < 0 || i == len(normalPath)-1 {
			return Order{}, fmt.Errorf("status %d: %w; give one in the body", o.Status, ErrNoNext)
		}
		next = normalPath[i+1]
	}
	s.setStatus(o, next)
	return o.clone(), nil
}

// setStatus records a status change and its tracking record; s.mu is held.
func (s *Sandbox) setStatus(o *Order, st postal.Status) {
	now := s.cfg.Now()
	o.Status = st
	o.History = append(o.History, Change{Status: st, At: now})
	s.nextID++
	s.records = append(s.records, record{id: s.nextID, number: o.Number, dialect: o.Dialect, status: st, at: now, office: "250000"})
}

// recordsAfter returns up to limit records of a dialect after id, in id order; s.mu is held.
func (s *Sandbox) recordsAfter(dialect string, after int64, limit int) []record {
	var out []record
	for _, r := range s.records {
		if r.id > after && r.dialect == dialect {
			out = append(out, r)
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

// create stores a new order; false when its number exists. s.mu is not held.
func (s *Sandbox) create(o *Order) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.orders[o.Number]; exists {
		s.duplicates++
		return Order{}, false
	}
	s.seq++
	prefix := "EV"
	if o.Dialect == NGSP {
		prefix = "EN"
	}
	o.PartnerID = fmt.Sprintf("%s%09dVN", prefix, s.seq)
	o.Fee = fee(o)
	s.orders[o.Number] = o
	first := postal.StatusCreated
	if o.Dialect == MyVNPost && o.Creation == 0 {
		first = postal.StatusDraft
	}
	s.setStatus(o, first)
	s.created++
	if s.onCreate != nil {
		s.onCreate(o.Number)
	}
	return o.clone(), true
}

// fee is the sandbox's tariff: a base per service, 5,000 VND per started 500 g above the first,
// and 1% of a COD amount (at least 10,000 VND).
func fee(o *Order) int64 {
	base := map[string]int64{postal.ServiceEconomy: 18000, postal.ServiceExpress: 28000, postal.ServiceSameDay: 45000}[o.Service]
	if base == 0 {
		base = 18000
	}
	if o.Weight > 500 {
		base += int64((o.Weight-500+499)/500) * 5000
	}
	if o.CODAmount > 0 {
		base += max(o.CODAmount/100, 10000)
	}
	return base
}

// cancel sets an order to cancelled; s.mu is not held.
func (s *Sandbox) cancel(dialect, number string) (found, cancellable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[number]
	if !ok || o.Dialect != dialect {
		return false, false
	}
	if o.Status.Final() {
		return true, false
	}
	s.setStatus(o, postal.StatusDeliveryCanceled)
	return true, true
}

func (s *Sandbox) lookup(dialect, number string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[number]
	if !ok || o.Dialect != dialect {
		return Order{}, false
	}
	return o.clone(), true
}

// issue creates a token for a dialect.
func (s *Sandbox) issue(dialect string) string {
	tok := rand.Text()
	now := s.cfg.Now()
	s.mu.Lock()
	for k, t := range s.tokens {
		if !now.Before(t.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[tok] = tokenInfo{dialect: dialect, expires: now.Add(s.cfg.TokenTTL)}
	s.logins[dialect]++
	s.mu.Unlock()
	return tok
}

func (s *Sandbox) tokenOK(dialect, tok string) bool {
	if tok == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	return ok && t.dialect == dialect && s.cfg.Now().Before(t.expires)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// validPhone is the partner's own check: 0 and nine digits.
func validPhone(p string) bool {
	if len(p) != 10 || p[0] != '0' || p[1] == '0' {
		return false
	}
	return digits(p)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validNumber accepts what a partner order number may hold.
func validNumber(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body strictly; false when it is not one object of the expected shape.
func decode(r *http.Request, w http.ResponseWriter, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		return false
	}
	_, err := dec.Token()
	return errors.Is(err, io.EOF)
}

// Inspection.

func (s *Sandbox) listOrders(w http.ResponseWriter, _ *http.Request) {
	answer(w, http.StatusOK, map[string]any{"orders": s.Orders()})
}

func (s *Sandbox) getOrder(w http.ResponseWriter, r *http.Request) {
	o, ok := s.Order(r.PathValue("order"))
	if !ok {
		answer(w, http.StatusNotFound, map[string]string{"error": "no such order"})
		return
	}
	answer(w, http.StatusOK, o)
}

func (s *Sandbox) advance(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Status *int `json:"status"`
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if err != nil {
		answer(w, http.StatusBadRequest, map[string]string{"error": "body too large"})
		return
	}
	if len(strings.TrimSpace(string(raw))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			answer(w, http.StatusBadRequest, map[string]string{"error": `body must be empty or {"status": N}`})
			return
		}
	}
	var to *postal.Status
	if body.Status != nil {
		st := postal.Status(*body.Status)
		to = &st
	}
	o, err := s.Advance(r.PathValue("order"), to)
	switch {
	case errors.Is(err, postal.ErrNotFound):
		answer(w, http.StatusNotFound, map[string]string{"error": "no such order"})
	case errors.Is(err, ErrNoNext):
		answer(w, http.StatusConflict, map[string]string{"error": err.Error()})
	case err != nil:
		answer(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	default:
		answer(w, http.StatusOK, o)
	}
}

// queryInt reads a non-negative integer query parameter; def when absent.
func queryInt(r *http.Request, name string, def int64) (int64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

// Pickup reports whether the order asks the post to collect at the sender's address (MyVNPost
// add-on GTG026, NGSP IsSendDocument).
func (o Order) Pickup() bool {
	_, addon := o.HasAddon(postal.AddonPickup)
	return addon || o.SendDocument
}
