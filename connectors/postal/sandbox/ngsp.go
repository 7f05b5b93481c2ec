package sandbox

import (
	"net/http"
	"strings"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/vntime"
)

// The NGSP wire, as the sandbox reads and writes it.

// NGSP reply Status values [assumed] (connectors/postal/ngsp).
const (
	ngOK             = 1
	ngExists         = 2
	ngInvalid        = 3
	ngNotFound       = 4
	ngNotCancellable = 5
)

// NGSPStatusCodes maps the shipment statuses to the NGSP tracking StatusCode [assumed]; the ngsp
// dialect maps them back.
var NGSPStatusCodes = map[postal.Status]string{
	postal.StatusDraft: "00", postal.StatusCreated: "01", postal.StatusPickingUp: "02", postal.StatusPickupFailed: "03",
	postal.StatusPickedUp: "04", postal.StatusAtPostOffice: "05", postal.StatusInTransit: "06",
	postal.StatusDelivering: "07", postal.StatusDelivered: "08", postal.StatusDeliveryFailed: "09",
	postal.StatusReturning: "10", postal.StatusCompleted: "11", postal.StatusDeliveryCanceled: "12",
}

// NGSPTimeLayout is the layout of EventTime, in Asia/Ho_Chi_Minh [assumed].
const NGSPTimeLayout = "02/01/2006 15:04:05"

type ngParty struct {
	Name     string `json:"Name"`
	Address  string `json:"Address"`
	Tel      string `json:"Tel"`
	Province string `json:"Province"`
	District string `json:"District"`
}

type ngCreateRequest struct {
	CustomerCode    string  `json:"CustomerCode"`
	OrderNumber     string  `json:"OrderNumber"`
	CODAmount       int64   `json:"CODAmount"`
	Sender          ngParty `json:"Sender"`
	Receiver        ngParty `json:"Receiver"`
	Description     string  `json:"Description"`
	ServiceCode     string  `json:"ServiceCode"`
	Weight          int     `json:"Weight"`
	IsSendDocument  bool    `json:"IsSendDocument"`
	IsReceiveResult bool    `json:"IsReceiveResult"`
}

func ngReply(w http.ResponseWriter, status int, message string, extra map[string]any) {
	body := map[string]any{"Status": status, "Message": message}
	for k, v := range extra {
		body[k] = v
	}
	answer(w, http.StatusOK, body)
}

func (s *Sandbox) ngToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id == "" || !equal(id, s.cfg.NGSPClientID) || !equal(secret, s.cfg.NGSPClientSecret) {
		w.Header().Set("WWW-Authenticate", `Basic realm="ngsp"`)
		answer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		answer(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	answer(w, http.StatusOK, map[string]any{"access_token": s.issue(NGSP), "token_type": "Bearer",
		"expires_in": int64(s.cfg.TokenTTL.Seconds())})
}

func (s *Sandbox) ngAuth(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || !s.tokenOK(NGSP, tok) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		answer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return false
	}
	return true
}

func (s *Sandbox) ngCustomer(code string) bool {
	return code != "" && equal(code, s.cfg.NGSPCustomerCode)
}

func (s *Sandbox) ngCreate(w http.ResponseWriter, r *http.Request) {
	if !s.ngAuth(w, r) {
		return
	}
	var req ngCreateRequest
	if !decode(r, w, &req) {
		answer(w, http.StatusBadRequest, map[string]any{"Status": ngInvalid, "Message": "body is not a JSON order"})
		return
	}
	if field := s.checkNG(req); field != "" {
		ngReply(w, ngInvalid, field+" is missing or invalid", nil)
		return
	}
	o := &Order{
		Number: req.OrderNumber, Dialect: NGSP, Service: req.ServiceCode, Weight: req.Weight, CODAmount: req.CODAmount,
		SendDocument: req.IsSendDocument, ReceiveResult: req.IsReceiveResult, Note: req.Description,
		Sender:   Party{Name: req.Sender.Name, Phone: req.Sender.Tel, Address: req.Sender.Address, Province: req.Sender.Province, District: req.Sender.District},
		Receiver: Party{Name: req.Receiver.Name, Phone: req.Receiver.Tel, Address: req.Receiver.Address, Province: req.Receiver.Province, District: req.Receiver.District},
	}
	created, ok := s.create(o)
	if !ok {
		ngReply(w, ngExists, "OrderNumber already exists", nil)
		return
	}
	ngReply(w, ngOK, "OK", map[string]any{"ItemCode": created.PartnerID})
}

func (s *Sandbox) checkNG(req ngCreateRequest) string {
	switch {
	case !s.ngCustomer(req.CustomerCode):
		return "CustomerCode"
	case !validNumber(req.OrderNumber):
		return "OrderNumber"
	case req.CODAmount < 0:
		return "CODAmount"
	case !req.IsSendDocument && !req.IsReceiveResult:
		return "IsSendDocument/IsReceiveResult"
	case req.Weight < 0:
		return "Weight"
	}
	for role, p := range map[string]ngParty{"Sender": req.Sender, "Receiver": req.Receiver} {
		switch {
		case p.Name == "":
			return role + ".Name"
		case p.Address == "":
			return role + ".Address"
		case !validPhone(p.Tel):
			return role + ".Tel"
		case len(p.Province) != 2 || !digits(p.Province):
			return role + ".Province"
		case len(p.District) != 4 || !digits(p.District):
			return role + ".District"
		}
	}
	return ""
}

func (s *Sandbox) ngGet(w http.ResponseWriter, r *http.Request) {
	if !s.ngAuth(w, r) {
		return
	}
	q := r.URL.Query()
	if !s.ngCustomer(q.Get("CustomerCode")) {
		ngReply(w, ngInvalid, "CustomerCode is missing or invalid", nil)
		return
	}
	o, ok := s.lookup(NGSP, q.Get("OrderNumber"))
	if !ok {
		ngReply(w, ngNotFound, "order not found", nil)
		return
	}
	ngReply(w, ngOK, "OK", map[string]any{"Data": map[string]any{
		"OrderNumber": o.Number, "ItemCode": o.PartnerID, "StatusCode": NGSPStatusCodes[o.Status], "CODAmount": o.CODAmount,
	}})
}

func (s *Sandbox) ngCancel(w http.ResponseWriter, r *http.Request) {
	if !s.ngAuth(w, r) {
		return
	}
	var req struct {
		CustomerCode string `json:"CustomerCode"`
		OrderNumber  string `json:"OrderNumber"`
	}
	if !decode(r, w, &req) {
		answer(w, http.StatusBadRequest, map[string]any{"Status": ngInvalid, "Message": "body is not a JSON object"})
		return
	}
	if !s.ngCustomer(req.CustomerCode) {
		ngReply(w, ngInvalid, "CustomerCode is missing or invalid", nil)
		return
	}
	found, cancelled := s.cancel(NGSP, req.OrderNumber)
	switch {
	case !found:
		ngReply(w, ngNotFound, "order not found", nil)
	case !cancelled:
		ngReply(w, ngNotCancellable, "the order can no longer be cancelled", nil)
	default:
		ngReply(w, ngOK, "OK", nil)
	}
}

type ngRecord struct {
	ID            int64  `json:"Id"`
	OrderNumber   string `json:"OrderNumber"`
	ItemCode      string `json:"ItemCode"`
	StatusCode    string `json:"StatusCode"`
	StatusMessage string `json:"StatusMessage"`
	EventTime     string `json:"EventTime"`
	POSID         string `json:"POSID"`
}

func (s *Sandbox) ngTracking(w http.ResponseWriter, r *http.Request) {
	if !s.ngAuth(w, r) {
		return
	}
	if !s.ngCustomer(r.URL.Query().Get("CustomerCode")) {
		answer(w, http.StatusBadRequest, map[string]any{"Status": ngInvalid, "Message": "CustomerCode is missing or invalid"})
		return
	}
	after, ok1 := queryInt(r, "lastId", 0)
	size, ok2 := queryInt(r, "pagesize", 100)
	if !ok1 || !ok2 || size == 0 || size > 1000 {
		answer(w, http.StatusBadRequest, map[string]any{"Status": ngInvalid, "Message": "lastId and pagesize must be whole numbers, pagesize 1..1000"})
		return
	}
	s.mu.Lock()
	recs := s.recordsAfter(NGSP, after, int(size))
	out := make([]ngRecord, 0, len(recs))
	for _, rec := range recs {
		out = append(out, ngRecord{ID: rec.id, OrderNumber: rec.number, ItemCode: s.orders[rec.number].PartnerID,
			StatusCode: NGSPStatusCodes[rec.status], StatusMessage: statusNames[rec.status],
			EventTime: rec.at.In(vntime.Zone).Format(NGSPTimeLayout), POSID: rec.office})
	}
	s.mu.Unlock()
	answer(w, http.StatusOK, out)
}
