package sandbox

import (
	"net/http"
	"strconv"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/internal/vntime"
)

// The MyVNPost wire, as the sandbox reads and writes it.

type mvAddon struct {
	Code      string `json:"code"`
	PropValue string `json:"propValue"`
}

type mvInformationOrder struct {
	OrderNumber          string    `json:"orderNumber"`
	SenderName           string    `json:"senderName"`
	SenderPhone          string    `json:"senderPhone"`
	SenderAddress        string    `json:"senderAddress"`
	SenderProvinceCode   string    `json:"senderProvinceCode"`
	SenderDistrictCode   string    `json:"senderDistrictCode"`
	SenderCommuneCode    string    `json:"senderCommuneCode"`
	ReceiverName         string    `json:"receiverName"`
	ReceiverPhone        string    `json:"receiverPhone"`
	ReceiverAddress      string    `json:"receiverAddress"`
	ReceiverProvinceCode string    `json:"receiverProvinceCode"`
	ReceiverDistrictCode string    `json:"receiverDistrictCode"`
	ReceiverCommuneCode  string    `json:"receiverCommuneCode"`
	ServiceCode          string    `json:"serviceCode"`
	Weight               int       `json:"weight"`
	ContentNote          string    `json:"contentNote"`
	AddonService         []mvAddon `json:"addonService"`
}

type mvCreateRequest struct {
	OrderCreationStatus *int               `json:"orderCreationStatus"`
	InformationOrder    mvInformationOrder `json:"informationOrder"`
}

type mvOrderReply struct {
	OrderNumber string `json:"orderNumber,omitempty"`
	OriginalID  string `json:"originalID"`
	TotalFee    int64  `json:"totalFee"`
	Status      int    `json:"status"`
}

func mvError(w http.ResponseWriter, status int, code, message string) {
	answer(w, status, map[string]string{"code": code, "message": message})
}

func (s *Sandbox) mvLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !decode(r, w, &req) {
		mvError(w, http.StatusBadRequest, "INVALID", "body is not a JSON object")
		return
	}
	userOK, passOK := equal(req.Username, s.cfg.MyVNPostUser), equal(req.Password, s.cfg.MyVNPostPassword)
	if !userOK || !passOK || req.Username == "" {
		mvError(w, http.StatusUnauthorized, "LOGIN_FAILED", "wrong username or password")
		return
	}
	answer(w, http.StatusOK, map[string]any{"token": s.issue(MyVNPost), "expiresIn": int64(s.cfg.TokenTTL.Seconds())})
}

func (s *Sandbox) mvAuth(w http.ResponseWriter, r *http.Request) bool {
	if !s.tokenOK(MyVNPost, r.Header.Get("token")) {
		mvError(w, http.StatusUnauthorized, "TOKEN_INVALID", "token missing, unknown or expired")
		return false
	}
	return true
}

func (s *Sandbox) mvCreate(w http.ResponseWriter, r *http.Request) {
	if !s.mvAuth(w, r) {
		return
	}
	var req mvCreateRequest
	if !decode(r, w, &req) {
		mvError(w, http.StatusBadRequest, "INVALID", "body is not a create order request")
		return
	}
	in := req.InformationOrder
	o := &Order{
		Number: in.OrderNumber, Dialect: MyVNPost, Service: in.ServiceCode, Weight: in.Weight, Note: in.ContentNote,
		Sender: Party{Name: in.SenderName, Phone: in.SenderPhone, Address: in.SenderAddress,
			Province: in.SenderProvinceCode, District: in.SenderDistrictCode, Commune: in.SenderCommuneCode},
		Receiver: Party{Name: in.ReceiverName, Phone: in.ReceiverPhone, Address: in.ReceiverAddress,
			Province: in.ReceiverProvinceCode, District: in.ReceiverDistrictCode, Commune: in.ReceiverCommuneCode},
	}
	if req.OrderCreationStatus == nil || (*req.OrderCreationStatus != 0 && *req.OrderCreationStatus != 1) {
		mvError(w, http.StatusBadRequest, "INVALID", "orderCreationStatus must be 0 or 1")
		return
	}
	o.Creation = *req.OrderCreationStatus
	if field := checkMV(in); field != "" {
		mvError(w, http.StatusBadRequest, "INVALID", field+" is missing or invalid")
		return
	}
	for _, a := range in.AddonService {
		o.Addons = append(o.Addons, Addon{Code: a.Code, PropValue: a.PropValue})
		if a.Code == postal.AddonCOD {
			o.CODAmount, _ = strconv.ParseInt(a.PropValue, 10, 64)
		}
	}
	created, ok := s.create(o)
	if !ok {
		mvError(w, http.StatusConflict, "ORDER_EXISTS", "an order with this orderNumber exists")
		return
	}
	answer(w, http.StatusOK, mvOrderReply{OriginalID: created.PartnerID, TotalFee: created.Fee, Status: int(created.Status)})
}

// checkMV names the first invalid field of a create, or "".
func checkMV(in mvInformationOrder) string {
	switch {
	case !validNumber(in.OrderNumber):
		return "orderNumber"
	case in.SenderName == "":
		return "senderName"
	case !validPhone(in.SenderPhone):
		return "senderPhone"
	case in.SenderAddress == "":
		return "senderAddress"
	case len(in.SenderProvinceCode) != 2 || !digits(in.SenderProvinceCode):
		return "senderProvinceCode"
	case len(in.SenderDistrictCode) != 4 || !digits(in.SenderDistrictCode):
		return "senderDistrictCode"
	case in.ReceiverName == "":
		return "receiverName"
	case !validPhone(in.ReceiverPhone):
		return "receiverPhone"
	case in.ReceiverAddress == "":
		return "receiverAddress"
	case len(in.ReceiverProvinceCode) != 2 || !digits(in.ReceiverProvinceCode):
		return "receiverProvinceCode"
	case len(in.ReceiverDistrictCode) != 4 || !digits(in.ReceiverDistrictCode):
		return "receiverDistrictCode"
	case in.ServiceCode != postal.ServiceEconomy && in.ServiceCode != postal.ServiceExpress && in.ServiceCode != postal.ServiceSameDay:
		return "serviceCode"
	case in.Weight <= 0:
		return "weight"
	}
	for _, a := range in.AddonService {
		switch a.Code {
		case postal.AddonCOD:
			if n, err := strconv.ParseInt(a.PropValue, 10, 64); err != nil || n <= 0 {
				return "addonService GTG021 propValue"
			}
		case postal.AddonPickup:
		default:
			return "addonService code"
		}
	}
	return ""
}

func (s *Sandbox) mvGet(w http.ResponseWriter, r *http.Request) {
	if !s.mvAuth(w, r) {
		return
	}
	o, ok := s.lookup(MyVNPost, r.PathValue("number"))
	if !ok {
		mvError(w, http.StatusNotFound, "NOT_FOUND", "no order with this number")
		return
	}
	answer(w, http.StatusOK, mvOrderReply{OrderNumber: o.Number, OriginalID: o.PartnerID, TotalFee: o.Fee, Status: int(o.Status)})
}

func (s *Sandbox) mvCancel(w http.ResponseWriter, r *http.Request) {
	if !s.mvAuth(w, r) {
		return
	}
	found, cancelled := s.cancel(MyVNPost, r.PathValue("number"))
	switch {
	case !found:
		mvError(w, http.StatusNotFound, "NOT_FOUND", "no order with this number")
	case !cancelled:
		mvError(w, http.StatusBadRequest, "NOT_CANCELLABLE", "the order can no longer be cancelled")
	default:
		answer(w, http.StatusOK, map[string]int{"status": int(postal.StatusDeliveryCanceled)})
	}
}

type mvTrackingItem struct {
	ID             int64  `json:"id"`
	OrderNumber    string `json:"orderNumber"`
	OriginalID     string `json:"originalID"`
	Status         int    `json:"status"`
	StatusName     string `json:"statusName"`
	Time           string `json:"time"`
	PostOfficeCode string `json:"postOfficeCode"`
}

func (s *Sandbox) mvTracking(w http.ResponseWriter, r *http.Request) {
	if !s.mvAuth(w, r) {
		return
	}
	after, ok1 := queryInt(r, "lastId", 0)
	size, ok2 := queryInt(r, "pageSize", 100)
	if !ok1 || !ok2 || size == 0 || size > 1000 {
		mvError(w, http.StatusBadRequest, "INVALID", "lastId and pageSize must be whole numbers, pageSize 1..1000")
		return
	}
	s.mu.Lock()
	recs := s.recordsAfter(MyVNPost, after, int(size))
	items := make([]mvTrackingItem, 0, len(recs))
	for _, rec := range recs {
		items = append(items, mvTrackingItem{ID: rec.id, OrderNumber: rec.number, OriginalID: s.orders[rec.number].PartnerID,
			Status: int(rec.status), StatusName: statusNames[rec.status], Time: vntime.Format(rec.at), PostOfficeCode: rec.office})
	}
	s.mu.Unlock()
	answer(w, http.StatusOK, map[string]any{"items": items})
}
