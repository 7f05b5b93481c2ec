package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/egov-vn/gateway/connectors/bank/paygov"
	"github.com/egov-vn/gateway/internal/faults"
	"github.com/egov-vn/gateway/internal/vntime"
)

// PayGovConfig is the gateway's account at the fake platform.
type PayGovConfig struct {
	ClientID string
	Key1     string
	Key2     string
	// PublicURL is where the sandbox itself is reached (payment URLs point there).
	PublicURL string
	// ConfirmURL and BillURL are the gateway's confirmation and bill look-up endpoints.
	ConfirmURL string
	BillURL    string
	Retry      Retry
}

// PayGov is the fake national payment platform. Paths, relative to its mount point:
//
//	POST /transactions                 create transaction (check_sum under key 1)
//	GET  /checkout?transaction_id=     the citizen's payment page
//	POST /pay                          the citizen pays (or fails): the confirmation callback
//	POST /transactions/detail          detail query [assumed wire format, see paygov/detail.go]
//	POST /bill-lookup {"MaHoSo"}       the platform asks the gateway for a dossier's bill
//	GET  /transactions?date=yyyy-mm-dd the day's transactions with their callback attempts
//	GET|PUT /faults                    fault settings (create and detail misbehave)
type PayGov struct {
	cfg    PayGovConfig
	faults *faults.Injector
	send   *sender
	client *http.Client

	mu   sync.Mutex
	txns map[string]*PayGovTransaction
	seq  int64
}

// PayGovTransaction is one transaction as the sandbox holds it.
type PayGovTransaction struct {
	TransactionID   string    `json:"transaction_id"`
	TransactionCode string    `json:"transaction_code,omitempty"`
	Amount          int64     `json:"trans_amount"`
	AdditionFee     string    `json:"addition_fee"`
	MaHoSo          string    `json:"MaHoSo"`
	Status          string    `json:"status"` // created, paid, failed
	PaidAt          time.Time `json:"paid_at,omitzero"`
	Callbacks       []Attempt `json:"callback_attempts"`
}

// NewPayGov builds the PayGov sandbox.
func NewPayGov(cfg PayGovConfig) *PayGov {
	return &PayGov{cfg: cfg, faults: &faults.Injector{}, send: newSender(cfg.Retry), client: &http.Client{Timeout: 10 * time.Second},
		txns: map[string]*PayGovTransaction{}, seq: 2501101452110000}
}

// Handler serves the sandbox's paths relative to its mount point.
func (p *PayGov) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /transactions", p.faults.Wrap(http.HandlerFunc(p.create)))
	mux.HandleFunc("GET /checkout", p.checkout)
	mux.HandleFunc("POST /pay", payHandler(p.Pay))
	mux.Handle("POST /transactions/detail", p.faults.Wrap(http.HandlerFunc(p.detail)))
	mux.HandleFunc("POST /bill-lookup", p.billLookup)
	mux.HandleFunc("GET /transactions", p.list)
	mux.Handle("/faults", p.faults)
	return mux
}

// Faults is the sandbox's fault injector.
func (p *PayGov) Faults() *faults.Injector { return p.faults }

// Close stops the callback retries under way.
func (p *PayGov) Close() { p.send.close() }

func (p *PayGov) create(w http.ResponseWriter, r *http.Request) {
	var req paygov.CreateTransactionRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 256<<10)).Decode(&req); err != nil {
		writeJSON(w, http.StatusOK, paygov.CreateTransactionReply{Error: "1", Msg: "Invalid request"})
		return
	}
	switch {
	case req.ClientID != p.cfg.ClientID || !req.VerifyChecksum(p.cfg.Key1):
		writeJSON(w, http.StatusOK, paygov.CreateTransactionReply{Error: "2", Msg: "Invalid checksum"})
		return
	case req.Validate() != nil:
		writeJSON(w, http.StatusOK, paygov.CreateTransactionReply{Error: "1", Msg: "Invalid request"})
		return
	}
	amount, _ := paygov.ParseAmount(req.TransAmount)
	p.mu.Lock()
	t, ok := p.txns[req.TransactionID]
	switch {
	case ok && t.Amount != amount:
		p.mu.Unlock()
		writeJSON(w, http.StatusOK, paygov.CreateTransactionReply{Error: "3", Msg: "Duplicate transaction_id"})
		return
	case !ok:
		p.txns[req.TransactionID] = &PayGovTransaction{TransactionID: req.TransactionID, Amount: amount, AdditionFee: req.AdditionFee,
			MaHoSo: req.BillInfo.MaHoSo, Status: "created", Callbacks: []Attempt{}}
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, paygov.CreateTransactionReply{Error: paygov.CreateOK, Msg: "Success",
		PaymentURL: p.cfg.PublicURL + "/checkout?transaction_id=" + url.QueryEscape(req.TransactionID)})
}

func (p *PayGov) checkout(w http.ResponseWriter, r *http.Request) {
	t, ok := p.Transaction(r.URL.Query().Get("transaction_id"))
	if !ok {
		writeError(w, http.StatusNotFound, "unknown transaction")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// Pay completes a transaction as the citizen would and sends the confirmation callback.
func (p *PayGov) Pay(a PayAction) (PayResult, error) {
	ref := a.Reference
	if a.PaymentURL != "" {
		u, err := url.Parse(a.PaymentURL)
		if err != nil {
			return PayResult{}, fmt.Errorf("not a URL")
		}
		ref = u.Query().Get("transaction_id")
	}
	p.mu.Lock()
	t := p.txns[ref]
	if t == nil {
		p.mu.Unlock()
		return PayResult{}, fmt.Errorf("no transaction %q was created here", ref)
	}
	if t.Status != "created" {
		p.mu.Unlock()
		return PayResult{}, fmt.Errorf("transaction %s is already %s", ref, t.Status)
	}
	p.seq++
	t.TransactionCode, t.PaidAt = "PG"+strconv.FormatInt(p.seq, 10), time.Now()
	status := paygov.StatusPaid
	t.Status = "paid"
	if a.Outcome != "success" {
		status, t.Status = "1", "failed"
	}
	c := paygov.ConfirmationCallback{
		ClientID: paygov.Text(p.cfg.ClientID), TransactionID: paygov.Text(t.TransactionID), TransactionCode: paygov.Text(t.TransactionCode),
		TransAmount: paygov.Text(paygov.FormatAmount(t.Amount)), PaymentFee: "0", Command: paygov.CommandPay,
		AdditionFee: paygov.Text(t.AdditionFee), Version: paygov.Version, Status: paygov.Text(status),
	}
	res := PayResult{Reference: ref, TransactionNo: t.TransactionCode, Outcome: t.Status}
	p.mu.Unlock()
	res.Callback = p.SendConfirmation(c)
	if p.faults.Get().DuplicateCallbacks {
		p.SendConfirmation(c)
	}
	return res, nil
}

// SendConfirmation signs c under key 2 and sends it, repeating it until the gateway answers a
// return_code.
func (p *PayGov) SendConfirmation(c paygov.ConfirmationCallback) Attempt {
	c.Sign(p.cfg.Key2, p.cfg.ClientID)
	body, _ := json.Marshal(c)
	req := request{method: http.MethodPost, url: p.cfg.ConfirmURL, header: http.Header{"Content-Type": {"application/json"}}, body: body}
	return p.send.deliver(req, func(status int, body []byte) bool {
		var rep struct {
			ReturnCode *int `json:"return_code"`
		}
		return status == http.StatusOK && json.Unmarshal(body, &rep) == nil && rep.ReturnCode != nil
	}, func(a Attempt) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if t := p.txns[string(c.TransactionID)]; t != nil {
			t.Callbacks = append(t.Callbacks, a)
		}
	})
}

func (p *PayGov) detail(w http.ResponseWriter, r *http.Request) {
	var req paygov.DetailRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		writeJSON(w, http.StatusOK, paygov.DetailReply{Error: "9", Msg: "Invalid request"})
		return
	}
	if req.ClientID != p.cfg.ClientID || req.Command != paygov.CommandDetail || !req.VerifyChecksum(p.cfg.Key1) {
		writeJSON(w, http.StatusOK, paygov.DetailReply{Error: "2", Msg: "Invalid checksum"})
		return
	}
	p.mu.Lock()
	t := p.txns[req.TransactionID]
	var rep paygov.DetailReply
	if t == nil {
		rep = paygov.DetailReply{Error: paygov.DetailNotFound, Msg: "Transaction not found"}
	} else {
		status := paygov.DetailStatusPending
		switch t.Status {
		case "paid":
			status = paygov.DetailStatusPaid
		case "failed":
			status = paygov.DetailStatusFailed
		}
		d := &paygov.DetailData{TransactionID: paygov.Text(t.TransactionID), TransactionCode: paygov.Text(t.TransactionCode),
			TransAmount: paygov.Text(paygov.FormatAmount(t.Amount)), AdditionFee: paygov.Text(t.AdditionFee), Status: paygov.Text(status)}
		if !t.PaidAt.IsZero() {
			d.PaidAt = vntime.Format(t.PaidAt)
		}
		rep = paygov.DetailReply{Error: paygov.DetailOK, Msg: "Success", Data: d}
		rep.Sign(p.cfg.Key2, p.cfg.ClientID, req.Version)
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, rep)
}

// LookupBill asks the gateway which bill a dossier has, as the platform does.
func (p *PayGov) LookupBill(maHoSo string) (int, []byte, error) {
	body, _ := json.Marshal(paygov.BillLookupRequest{MaHoSo: maHoSo})
	resp, err := p.client.Post(p.cfg.BillURL, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("asking the gateway for a bill: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	return resp.StatusCode, b, err
}

func (p *PayGov) billLookup(w http.ResponseWriter, r *http.Request) {
	var req paygov.BillLookupRequest
	if !decodeAction(w, r, &req) {
		return
	}
	status, body, err := p.LookupBill(req.MaHoSo)
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": status, "answer": json.RawMessage(body)})
}

// Transaction returns one transaction by id.
func (p *PayGov) Transaction(id string) (PayGovTransaction, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.txns[id]
	if !ok {
		return PayGovTransaction{}, false
	}
	c := *t
	c.Callbacks = slices.Clone(t.Callbacks)
	return c, true
}

// Transactions returns the transactions paid or failed on day (Vietnam's calendar).
func (p *PayGov) Transactions(day time.Time) []PayGovTransaction {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []PayGovTransaction
	for _, t := range p.txns {
		if t.Status != "created" && sameDay(t.PaidAt, day) {
			c := *t
			c.Callbacks = slices.Clone(t.Callbacks)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b PayGovTransaction) int { return strings.Compare(a.TransactionID, b.TransactionID) })
	return out
}

func (p *PayGov) list(w http.ResponseWriter, r *http.Request) {
	day, ok := dayParam(w, r)
	if !ok {
		return
	}
	txns := p.Transactions(day)
	if txns == nil {
		txns = []PayGovTransaction{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": day.Format(time.DateOnly), "transactions": txns})
}
